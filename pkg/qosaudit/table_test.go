package qosaudit

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/ktriage/ktriage/internal/golden"
	"github.com/ktriage/ktriage/pkg/printers"
	"github.com/ktriage/ktriage/pkg/qosaudit/qosaudittest"
)

func TestGolden(t *testing.T) {
	inputs := []struct {
		name string
		rep  func() *Result
	}{
		{"files", func() *Result {
			return AnalyzeFiles(qosaudittest.Manifests(t), AnalysisOptions{}, "test")
		}},
		{"live", func() *Result {
			return AnalyzeLive(qosaudittest.LiveSnapshot(), AnalysisOptions{LimitRangesKnown: true}, "test")
		}},
	}
	for _, in := range inputs {
		for _, format := range []string{"table", "wide", "json", "yaml", "sarif", "junit"} {
			t.Run(in.name+"-"+format, func(t *testing.T) {
				rep := in.rep()
				rep.Finalize(nil)
				var buf bytes.Buffer
				if err := printers.Print(&buf, format, rep, printers.Options{}); err != nil {
					t.Fatal(err)
				}
				golden.Assert(t, filepath.Join("testdata", in.name+"-"+format+".golden"), buf.Bytes())
				if format == "sarif" {
					golden.SARIF(t, buf.Bytes())
				}
			})
		}
	}
}

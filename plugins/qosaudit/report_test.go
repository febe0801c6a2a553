package qosaudit

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"

	"github.com/ktriage/ktriage/pkg/printers"
	"github.com/ktriage/ktriage/pkg/qosaudit"
	"github.com/ktriage/ktriage/pkg/qosaudit/qosaudittest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func TestGolden(t *testing.T) {
	files := func() *Report {
		return &Report{qosaudit.AnalyzeFiles(qosaudittest.Manifests(t), qosaudit.AnalysisOptions{}, "test")}
	}
	live := func() *Report {
		return &Report{qosaudit.AnalyzeLive(qosaudittest.LiveSnapshot(), qosaudit.AnalysisOptions{LimitRangesKnown: true}, "test")}
	}
	cases := []struct {
		name   string
		format string
		rep    func() *Report
	}{
		{"files-table", "table", files},
		{"files-wide", "wide", files},
		{"files-json", "json", files},
		{"files-sarif", "sarif", files},
		{"live-table", "table", live},
		{"live-wide", "wide", live},
		{"live-json", "json", live},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rep := tc.rep()
			rep.Finalize(nil)
			var buf bytes.Buffer
			if err := printers.Print(&buf, tc.format, rep, printers.Options{}); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tc.name+".golden")
			if *update {
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("output differs from %s (go test -update to accept):\n%s", path, buf.String())
			}
			if tc.format == "sarif" {
				log, err := sarif.FromBytes(want)
				if err != nil {
					t.Fatal(err)
				}
				if err := log.Validate(); err != nil {
					t.Errorf("%s is not valid SARIF 2.1.0: %v", path, err)
				}
			}
		})
	}
}

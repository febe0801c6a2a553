package qosaudit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/ktriage/ktriage/pkg/printers"
	"github.com/ktriage/ktriage/test/bench/bigcluster"
)

// TestPrintedLikeWholeDocument: -o json and -o yaml of qos-audit -A on
// generated clusters (random shapes, metrics for some pods) are the bytes of
// the whole document encoded at once, although the printers write it element
// by element.
func TestPrintedLikeWholeDocument(t *testing.T) {
	for seed := range uint64(3) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 3))
			nodes := 20 + r.IntN(20)
			c := bigcluster.Generate(bigcluster.Config{Seed: seed + 1, Nodes: nodes, Running: nodes * (5 + r.IntN(10)), Pending: 14, Namespaces: 5 + r.IntN(20)})
			usage := map[string]int64{}
			for _, p := range c.Pods {
				if r.IntN(3) == 0 {
					usage[podKey(p)] = r.Int64N(8 << 30)
				}
			}
			rep := AnalyzeLive(c.Snapshot, AnalysisOptions{Usage: usage, LimitRangesKnown: true}, "test")
			rep.Finalize(nil)
			rep.CountClasses()
			if len(rep.Pods) < 100 || len(rep.Nodes) < 20 {
				t.Fatalf("%d pods, %d nodes: too few for lists to be written element by element", len(rep.Pods), len(rep.Nodes))
			}

			var got, want bytes.Buffer
			if err := printers.Print(&got, "json", rep, printers.Options{}); err != nil {
				t.Fatal(err)
			}
			enc := json.NewEncoder(&want)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(rep); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want.Bytes()) {
				t.Errorf("-o json differs from the whole document encoded at once (%d and %d bytes)", got.Len(), want.Len())
			}

			got.Reset()
			if err := printers.Print(&got, "yaml", rep, printers.Options{}); err != nil {
				t.Fatal(err)
			}
			y, err := yaml.Marshal(rep)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), y) {
				t.Errorf("-o yaml differs from sigs.k8s.io/yaml.Marshal of the whole document (%d and %d bytes)", got.Len(), len(y))
			}
		})
	}
}

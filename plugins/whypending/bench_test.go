package whypending

import (
	"testing"

	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/pkg/pending"
	"github.com/ktriage/ktriage/pkg/printers"
	"github.com/ktriage/ktriage/test/bench/bigcluster"
)

// BenchmarkAfterLoad is what `why-pending -A` does once its LISTs have
// returned (bigcluster.PendingScale): merging the loaded objects into one
// snapshot, explaining every Pending pod, and printing the report as a table
// and as JSON. test/bench compares the analysis alone with the LIST.
func BenchmarkAfterLoad(b *testing.B) {
	c := bigcluster.Generate(bigcluster.PendingScale())
	subjects := make([]pending.Subject, len(c.PendingPods))
	for i, p := range c.PendingPods {
		subjects[i] = pending.Subject{Pod: p}
	}
	opts := pending.Options{Now: bigcluster.Now}

	b.Run("merge", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if s := cluster.Merge(c.Snapshot, nil); len(s.Pods) != len(c.Pods) {
				b.Fatalf("%d pods after merging %d", len(s.Pods), len(c.Pods))
			}
		}
	})

	res := pending.Explain(cluster.Merge(c.Snapshot, nil), subjects, nil, opts)
	rep := pending.NewReport("bench")
	rep.Pods = res.Pods
	for _, f := range res.Findings {
		rep.Add(f)
	}
	rep.Finalize(nil)
	for _, format := range []string{"table", "wide", "json"} {
		b.Run("print-"+format, func(b *testing.B) {
			var w countingWriter
			b.ReportAllocs()
			for b.Loop() {
				w = 0
				if err := printers.Print(&w, format, rep, printers.Options{}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(w), "output-B")
		})
	}
}

// countingWriter counts what is printed, to report the output's size.
type countingWriter int64

func (w *countingWriter) Write(p []byte) (int, error) {
	*w += countingWriter(len(p))
	return len(p), nil
}

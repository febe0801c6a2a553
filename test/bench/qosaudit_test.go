package bench

import (
	"testing"

	"github.com/ktriage/ktriage/pkg/printers"
	"github.com/ktriage/ktriage/pkg/qosaudit"
	"github.com/ktriage/ktriage/test/bench/bigcluster"
)

// BenchmarkQOSAudit is `kubectl qos-audit -A` on 5,000 nodes and 50,000
// running pods, from the loaded snapshot to the report: every pod's class
// and findings, and per node the eviction order and OOM score adjustments.
func BenchmarkQOSAudit(b *testing.B) {
	c := bigcluster.Generate(bigcluster.Large)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r := qosaudit.AnalyzeLive(c.Snapshot, qosaudit.AnalysisOptions{}, "bench")
		if len(r.Pods) != len(c.Pods) || len(r.Nodes) == 0 {
			b.Fatalf("%d pods and %d nodes in the report", len(r.Pods), len(r.Nodes))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(c.Pods)), "ns/pod")
}

// BenchmarkQOSAuditOutput is what `qos-audit -A -o json|yaml|wide` prints
// for the whole cluster (Medium, Large with KTRIAGE_BENCH_SCALE=large):
// output-B is its size, B/op what printing it allocates.
func BenchmarkQOSAuditOutput(b *testing.B) {
	c := bigcluster.Generate(bigcluster.PendingScale())
	r := qosaudit.AnalyzeLive(c.Snapshot, qosaudit.AnalysisOptions{}, "bench")
	r.Finalize(nil)
	r.CountClasses()
	for _, format := range []string{"json", "yaml", "wide"} {
		b.Run(format, func(b *testing.B) {
			var w countingWriter
			b.ReportAllocs()
			for b.Loop() {
				w = 0
				if err := printers.Print(&w, format, r, printers.Options{}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(w), "output-B")
			b.ReportMetric(float64(w)/float64(len(r.Pods)), "B/pod")
		})
	}
}

package pending

import (
	"testing"

	"github.com/ktriage/ktriage/test/bench/bigcluster"
)

// BenchmarkExplainByCause explains the Pending pods of one cause at a time
// (bigcluster.PendingScale: 500 nodes and 5,000 running pods, or 5,000 and
// 50,000 with KTRIAGE_BENCH_SCALE=large), so that a slow
// path shows up by name (ns/pending-pod); test/bench measures all of them
// together against the cost of the LIST.
func BenchmarkExplainByCause(b *testing.B) {
	c := bigcluster.Generate(bigcluster.PendingScale())
	byCause := map[bigcluster.Cause][]Subject{}
	for _, p := range c.PendingPods {
		cause := c.CauseOf[p.Namespace+"/"+p.Name]
		byCause[cause] = append(byCause[cause], Subject{Pod: p})
	}
	opts := Options{Now: bigcluster.Now}
	for _, cause := range bigcluster.Causes {
		subjects := byCause[cause]
		b.Run(string(cause), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if res := Explain(c.Snapshot, subjects, nil, opts); len(res.Pods) != len(subjects) {
					b.Fatalf("%d explanations for %d pods", len(res.Pods), len(subjects))
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(subjects)), "ns/pending-pod")
		})
	}
}

package certs

import (
	"testing"
	"time"

	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/test/bench/bigcluster"
)

// BenchmarkSecrets is cert-expiry over 2,000 TLS Secrets (leaf and
// intermediate in tls.crt, root in ca.crt): "parse" decodes every PEM chain,
// "analyze" extracts the inputs from the snapshot and runs the whole
// analysis (expiry, chains, keys, signatures).
func BenchmarkSecrets(b *testing.B) {
	const n = 2000
	snap := &cluster.Snapshot{Secrets: bigcluster.TLSSecrets(1, n, 100), Loaded: map[cluster.Kind]bool{cluster.KindSecret: true}}

	b.Run("parse", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			certs := 0
			for _, s := range snap.Secrets {
				for _, k := range []string{"tls.crt", "ca.crt"} {
					cs, err := Parse(s.Data[k])
					if err != nil {
						b.Fatal(err)
					}
					certs += len(cs)
				}
			}
			if certs != 3*n {
				b.Fatalf("parsed %d certificates from %d secrets", certs, n)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/secret")
	})

	b.Run("analyze", func(b *testing.B) {
		opts := Options{Now: bigcluster.Now, Fail: 7 * 24 * time.Hour, Warn: 30 * 24 * time.Hour}
		b.ReportAllocs()
		for b.Loop() {
			res := Analyze(FromSnapshot(snap).Inputs, opts)
			// 2,000 leaves, 20 intermediates and 5 roots, each once.
			if len(res.Certificates) != n+25 {
				b.Fatalf("%d certificates", len(res.Certificates))
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/secret")
	})
}

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
		checks := 0
		for b.Loop() {
			res, a := analyze(FromSnapshot(snap).Inputs, opts)
			// 2,000 leaves, 20 intermediates and 5 roots, each once.
			if len(res.Certificates) != n+25 {
				b.Fatalf("%d certificates", len(res.Certificates))
			}
			checks = a.checks
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/secret")
		// The signature checks dominate the CPU time: one per distinct
		// (certificate, issuer) pair, however often a CA is published.
		b.ReportMetric(float64(checks)/n, "signatures/secret")
	})
}

// Every TLS Secret of the benchmark cluster repeats its intermediate (in
// tls.crt) and root (ca.crt): each leaf's signature is checked against its
// intermediate, each intermediate's against its root and each root's
// self-signature once, not once per Secret.
func TestSignaturesCheckedOncePerPair(t *testing.T) {
	const n = 300
	snap := &cluster.Snapshot{Secrets: bigcluster.TLSSecrets(1, n, 10), Loaded: map[cluster.Kind]bool{cluster.KindSecret: true}}
	opts := Options{Now: bigcluster.Now, Fail: 7 * 24 * time.Hour, Warn: 30 * 24 * time.Hour}
	res, a := analyze(FromSnapshot(snap).Inputs, opts)
	if len(res.Certificates) != n+25 {
		t.Fatalf("%d certificates, want %d leaves, 20 intermediates and 5 roots", len(res.Certificates), n)
	}
	failed, caFirst := 0, 0
	for k, err := range a.signatures {
		if err != nil {
			failed++
			t.Errorf("%s does not verify against %s: %v", k.child.Subject, k.parent.Subject, err)
		}
	}
	for _, f := range res.Findings {
		if f.RuleID == RuleCAExpiresFirst {
			caFirst++
		}
	}
	// Each leaf checked against the intermediate published with it, and
	// nothing more than once.
	if got, most := a.checks, n+20+5; got < n || got > most {
		t.Errorf("%d signature checks for %d Secrets, want between %d and %d (one per distinct pair)", got, n, n, most)
	}
	if caFirst == 0 {
		t.Error("no CA expires before what it signed: the issuer checks were skipped")
	}
}

package cli

import (
	"strings"
	"testing"

	"github.com/ktriage/ktriage/pkg/cluster"
)

// FuzzParseTarget: any argument is either refused as a one-line usage error
// (exit 2), or names a target kind and a valid object name, which reads
// back the same when written as kind/name. Seeds:
// testdata/fuzz/FuzzParseTarget.
func FuzzParseTarget(f *testing.F) {
	f.Fuzz(func(t *testing.T, arg string) {
		kind, name, err := ParseTarget(arg)
		if err != nil {
			if !IsUsageError(err) || ExitCode(err) != ExitFailure || strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("%q: want a one-line usage error with exit 2, got %q (exit %d)", arg, err, ExitCode(err))
			}
			return
		}
		if k, _, ok := cluster.ParseType(kind); !ok || string(k) != kind || k == cluster.KindService || checkName(kind, name) != nil || strings.Contains(name, "/") {
			t.Fatalf("%q accepted as %q %q", arg, kind, name)
		}
		if !strings.Contains(arg, "/") && (kind != "Pod" || name != arg) {
			t.Fatalf("%q without a type must be the pod %q, got %q %q", arg, arg, kind, name)
		}
		k2, n2, err := ParseTarget(strings.ToLower(kind) + "/" + name)
		if err != nil || k2 != kind || n2 != name {
			t.Fatalf("%q gave %s/%s, which reads back as %q %q %v", arg, kind, name, k2, n2, err)
		}
	})
}

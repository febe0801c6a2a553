package certexpiry

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ktriage/ktriage/pkg/certs"
	"github.com/ktriage/ktriage/pkg/certs/certtest"
)

// stalledKubeconfig is a kubeconfig with one context per server of s: API
// servers that accept the connection and never answer the handshake.
func stalledKubeconfig(t *testing.T, s *certtest.Stallers) string {
	t.Helper()
	var clusters, contexts strings.Builder
	for i, addr := range s.Addrs {
		fmt.Fprintf(&clusters, "- name: c%d\n  cluster: {server: \"https://%s\"}\n", i, addr)
		fmt.Fprintf(&contexts, "- name: c%d\n  context: {cluster: c%d, user: u}\n", i, i)
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	data := "apiVersion: v1\nkind: Config\nclusters:\n" + clusters.String() + "users: [{name: u, user: {token: x}}]\ncontexts:\n" + contexts.String() + "current-context: c0\n"
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func unreachable(d reportDoc) []string {
	var out []string
	for _, f := range d.Findings {
		if f.RuleID == certs.RuleUnreachable {
			out = append(out, f.Message)
		}
	}
	return out
}

// More stalled servers than --concurrency, each allowed a minute: --deadline
// ends the run on time with the report, each server a CE115 warning and one
// warning line naming them, and no server dialed beyond the concurrency.
func TestStalledServersEndWithTheDeadline(t *testing.T) {
	s := certtest.StartStallers(t, 12)
	start := time.Now()
	out, errOut, code := run(t, "--kubeconfig", stalledKubeconfig(t, s), "--sources", "served",
		"--concurrency", "3", "--dial-timeout", "1m", "--deadline", "1s", "-o", "json")
	took := time.Since(start)
	if took > 4*time.Second {
		t.Errorf("took %s with --deadline 1s", took)
	}
	if code != 0 {
		t.Errorf("exit %d, want 0 (unanswered servers are warnings)\n%s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	want := "Warning: 12 TLS handshake(s) did not answer before the run ended: https://" + s.Addrs[0] + ", "
	if len(lines) != 1 || !strings.HasPrefix(lines[0], want) || !strings.HasSuffix(lines[0], " and 7 more; their served certificates are not in the report") {
		t.Errorf("want one warning line naming the servers, got\n%s", errOut)
	}
	msgs := unreachable(decode(t, out))
	if len(msgs) != 12 {
		t.Fatalf("%d CE115 findings, want 12: %v", len(msgs), msgs)
	}
	for _, m := range msgs {
		if !strings.HasSuffix(m, "failed: no answer before the run's deadline") {
			t.Errorf("finding %q", m)
		}
	}
	if got := s.Accepted(); got != 3 {
		t.Errorf("%d servers dialed, want 3 (--concurrency)", got)
	}
}

// Without a deadline in the way, each stalled server costs one handshake
// timeout, --request-timeout when it is shorter than --dial-timeout, and
// the run takes as many rounds as --concurrency makes.
func TestStalledServersCostTheirTimeoutInRounds(t *testing.T) {
	s := certtest.StartStallers(t, 6)
	start := time.Now()
	out, errOut, code := run(t, "--kubeconfig", stalledKubeconfig(t, s), "--sources", "served",
		"--concurrency", "2", "--dial-timeout", "1m", "--request-timeout", "400ms", "-o", "json")
	took := time.Since(start)
	if code != 0 || errOut != "" {
		t.Errorf("exit %d, want 0 and no warning\n%s", code, errOut)
	}
	if took < 1200*time.Millisecond || took > 5*time.Second {
		t.Errorf("took %s: want 3 rounds of 400ms", took)
	}
	msgs := unreachable(decode(t, out))
	if len(msgs) != 6 {
		t.Fatalf("%d CE115 findings, want 6: %v", len(msgs), msgs)
	}
	for _, m := range msgs {
		if !strings.HasSuffix(m, "failed: no answer within 400ms") {
			t.Errorf("finding %q", m)
		}
	}
}

func TestConcurrencyMustBePositive(t *testing.T) {
	_, errOut, code := run(t, "-f", fixtures, "--concurrency", "0")
	if code != 2 || !strings.HasPrefix(errOut, "error: --concurrency must be at least 1\n") {
		t.Errorf("exit %d\n%s", code, errOut)
	}
}

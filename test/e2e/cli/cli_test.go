// Package cli_test checks the contracts every plugin keeps, on the real
// binaries: help names the kubectl command, --version, flag errors, and one
// line plus exit code 2 when the cluster cannot be used.
package cli_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ktriage/ktriage/test/e2e/framework"
)

func TestMain(m *testing.M) { framework.Main(m, framework.Options{Name: "e2e-cli", Nodes: 1}) }

type plugin struct {
	binary, display string
	// args make the plugin read the cluster (nil: it only works with extra
	// input, so the cluster checks are skipped for it).
	args []string
}

var plugins = []plugin{
	{"kubectl-why_pending", "kubectl why-pending", []string{"-A"}},
	{"kubectl-qos_audit", "kubectl qos-audit", []string{"-A"}},
	// By default the other sources' report comes first, then the error.
	{"kubectl-cert_expiry", "kubectl cert-expiry", []string{"--pki-dir", "/nonexistent-ktriage"}},
	{"kubectl-netcheck", "kubectl netcheck", []string{"--no-probe", "default/a", "default/b"}},
	{"kubectl-drain_preflight", "kubectl drain-preflight", nil},
}

func TestHelpNamesTheKubectlCommand(t *testing.T) {
	c := framework.Get(t)
	for _, p := range plugins {
		res := c.Run(t, p.binary, "--help")
		if res.Code != 0 || !strings.Contains(res.Stdout, p.display) {
			t.Errorf("%s --help: want exit 0 and %q in the help\n%s", p.binary, p.display, res)
		}
	}
}

func TestVersionFlag(t *testing.T) {
	c := framework.Get(t)
	for _, p := range plugins {
		res := c.Run(t, p.binary, "--version")
		if res.Code != 0 || !strings.HasPrefix(res.Stdout, p.display+" ") {
			t.Errorf("%s --version: want exit 0 and %q\n%s", p.binary, p.display+" <version>", res)
		}
	}
}

func TestUnknownFlagIsAUsageError(t *testing.T) {
	c := framework.Get(t)
	for _, p := range plugins {
		res := c.Run(t, p.binary, "--no-such-flag")
		if res.Code != 2 || !strings.HasPrefix(res.Stderr, "error: unknown flag: --no-such-flag\n") || strings.Contains(res.Stderr, "Usage:") {
			t.Errorf("%s --no-such-flag: want exit 2 and one error line without usage\n%s", p.binary, res)
		}
	}
}

func TestUnknownOutputFormatIsAUsageError(t *testing.T) {
	c := framework.Get(t)
	for _, p := range plugins {
		if p.args == nil {
			continue
		}
		res := c.Run(t, p.binary, append([]string{"-o", "xml"}, p.args...)...)
		if res.Code != 2 || !strings.Contains(res.Stderr, `unknown output format "xml"`) {
			t.Errorf("%s -o xml: want exit 2 naming the format\n%s", p.binary, res)
		}
	}
}

// An API server that is not there must give one line and exit 2, quickly.
func TestUnreachableClusterIsOneLineAndExit2(t *testing.T) {
	c := framework.Get(t)
	kubeconfig := framework.WriteKubeconfig(t, framework.Kubeconfig{Server: "https://127.0.0.1:1", User: "u", Token: "x"})
	for _, p := range plugins {
		if p.args == nil {
			continue
		}
		start := time.Now()
		res := c.RunWith(t, framework.RunOptions{Env: []string{"KUBECONFIG=" + kubeconfig}, Timeout: time.Minute}, p.binary, p.args...)
		lines := strings.Split(strings.TrimSpace(res.Stderr), "\n")
		if res.Code != 2 || !strings.Contains(res.Stderr, "cannot reach the cluster") || strings.Contains(res.Stderr, "goroutine") {
			t.Errorf("%s against a dead server: want exit 2 and 'cannot reach the cluster'\n%s", p.binary, res)
		}
		if last := lines[len(lines)-1]; !strings.HasPrefix(last, "error: ") {
			t.Errorf("%s: the last stderr line should be the error, got %q", p.binary, last)
		}
		if d := time.Since(start); d > 30*time.Second {
			t.Errorf("%s took %s to give up on a refused connection", p.binary, d)
		}
	}
}

// A user who may not list pods learns which verb on which resource to ask for.
func TestMissingRBACNamesVerbAndResource(t *testing.T) {
	c := framework.Get(t)
	ns := c.Namespace(t, "rbac", nil)
	kubeconfig := c.ServiceAccountKubeconfig(t, ns, "nobody")
	for _, p := range plugins[:2] { // the plugins whose first read is a pod list
		res := c.RunWith(t, framework.RunOptions{Env: []string{"KUBECONFIG=" + kubeconfig}}, p.binary, "-n", ns)
		if res.Code != 2 || !strings.Contains(res.Stderr, "forbidden") || !strings.Contains(res.Stderr, "grant get,list on pods") {
			t.Errorf("%s as a ServiceAccount without RBAC: want exit 2 naming 'grant get,list on pods'\n%s", p.binary, res)
		}
	}
}

// --deadline bounds a whole run, not only each request: against an API
// server that accepts requests and never answers, with a request timeout
// longer than the deadline, every plugin stops at the deadline with one
// line naming what it was still waiting for, and exit 2.
func TestDeadlineBoundsTheWholeRun(t *testing.T) {
	c := framework.Get(t)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer srv.Close()
	kubeconfig := framework.WriteKubeconfig(t, framework.Kubeconfig{Server: srv.URL, User: "u", Token: "x"})
	for _, p := range append(plugins[:len(plugins)-1:len(plugins)-1], plugin{"kubectl-drain_preflight", "kubectl drain-preflight", []string{"node-1"}}) {
		start := time.Now()
		args := append([]string{"--request-timeout", "1m", "--deadline", "3s"}, p.args...)
		res := c.RunWith(t, framework.RunOptions{Env: []string{"KUBECONFIG=" + kubeconfig}, Timeout: time.Minute}, p.binary, args...)
		took := time.Since(start)
		lines := strings.Split(strings.TrimSpace(res.Stderr), "\n")
		last := lines[len(lines)-1]
		if res.Code != 2 || !strings.HasPrefix(last, "error: no result within --deadline 3s; still waiting for: ") || !strings.Contains(last, "; check that the cluster is healthy, or raise --deadline") {
			t.Errorf("%s: want exit 2 and one line naming what was pending at the deadline\n%s", p.binary, res)
		}
		if took > 10*time.Second {
			t.Errorf("%s took %s with --deadline 3s", p.binary, took)
		}
	}
}

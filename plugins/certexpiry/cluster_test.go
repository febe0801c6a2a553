package certexpiry

import (
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ktriage/ktriage/pkg/certs"
)

type reportDoc struct {
	Metadata struct {
		Warnings []string `json:"warnings"`
	} `json:"metadata"`
	Findings []struct {
		RuleID   string `json:"ruleID"`
		Severity string `json:"severity"`
		Message  string `json:"message"`
	} `json:"findings"`
	Certificates []struct {
		Source   string   `json:"source"`
		AlsoIn   []string `json:"alsoIn"`
		Severity string   `json:"severity"`
		Rules    []string `json:"rules"`
	} `json:"certificates"`
}

func (d reportDoc) has(rule string) bool {
	for _, f := range d.Findings {
		if f.RuleID == rule {
			return true
		}
	}
	return false
}

func (d reportDoc) source(prefix string) bool {
	for _, c := range d.Certificates {
		for _, s := range append([]string{c.Source}, c.AlsoIn...) {
			if strings.HasPrefix(s, prefix) {
				return true
			}
		}
	}
	return false
}

// pkiDirs lays out a PKI directory with one certificate and empty kubeconfig
// and kubelet directories, and returns the flags that point at them.
func pkiDirs(t *testing.T) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	data, err := os.ReadFile(filepath.Join(fixtures, "in-20-days.der"))
	if err != nil {
		t.Fatal(err)
	}
	pki := filepath.Join(dir, "pki")
	for _, d := range []string{pki, filepath.Join(dir, "kubernetes"), filepath.Join(dir, "kubelet")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(pki, "apiserver.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: data}), 0o644); err != nil {
		t.Fatal(err)
	}
	return pki, []string{"--pki-dir", pki, "--kubernetes-dir", filepath.Join(dir, "kubernetes"), "--kubelet-pki-dir", filepath.Join(dir, "kubelet")}
}

func decode(t *testing.T, out string) reportDoc {
	t.Helper()
	var d reportDoc
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return d
}

// An API server that rejects the client's credentials (an expired client
// certificate) must not throw away the kubeconfig, served chain and PKI
// results when the cluster comes with the default sources.
// TestClusterThatRejectsTheCredentialsGivesAReport: an expired client
// certificate is exactly when the other sources' report matters.
func TestClusterThatRejectsTheCredentialsGivesAReport(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}`))
	}))
	defer srv.Close()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "`+srv.URL+`", certificate-authority-data: `+base64.StdEncoding.EncodeToString(ca)+`}}]
users: [{name: u, user: {token: expired}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`), 0o600); err != nil {
		t.Fatal(err)
	}
	pki, dirs := pkiDirs(t)
	args := append([]string{"--kubeconfig", kubeconfig, "-o", "json", "--request-timeout", "5s", "--now", fixedNow}, dirs...)

	out, errOut, code := run(t, args...)
	// A refused client certificate is a certificate outage: the findings
	// (CE116 among them) decide the exit code.
	if code != 1 {
		t.Errorf("exit %d, want 1 (the cluster could not be read)\n%s", code, errOut)
	}
	d := decode(t, out)
	if !d.has(certs.RuleClusterUnread) {
		t.Errorf("no %s finding: %+v", certs.RuleClusterUnread, d.Findings)
	}
	if !d.source(pki) || !d.source(srv.URL) || !d.source("kubeconfig/c:certificate-authority") {
		t.Errorf("the PKI, served and kubeconfig certificates are missing: %+v", d.Certificates)
	}
	if len(d.Metadata.Warnings) == 0 || !strings.Contains(errOut, "in-cluster certificates are not in the report") {
		t.Errorf("want a warning that the cluster was not read\n%s", errOut)
	}

	// Asked for by name, the cluster stays a run that could not be done.
	out, errOut, code = run(t, append(args, "--sources", "cluster")...)
	if code != 2 || out != "" {
		t.Errorf("--sources cluster: exit %d, want 2 and no report\n%s%s", code, out, errOut)
	}
}

// A control-plane node without a kubeconfig still gets its PKI checked.
func TestNoKubeconfigStillReportsThePKI(t *testing.T) {
	pki, dirs := pkiDirs(t)
	out, errOut, code := run(t, append([]string{"-o", "json", "--now", fixedNow}, dirs...)...)
	if code == 2 {
		t.Fatalf("exit 2\n%s", errOut)
	}
	d := decode(t, out)
	if !d.source(pki) || !d.has(certs.RuleClusterUnread) {
		t.Errorf("want the PKI certificate and a %s finding: %s", certs.RuleClusterUnread, out)
	}
}

// A server that never answers is bounded by --request-timeout.
func TestClusterThatHangsGivesAReport(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(block)
	_, dirs := pkiDirs(t)
	out, errOut, code := run(t, append([]string{"--server", srv.URL, "--insecure-skip-tls-verify", "--token", "x", "-o", "json", "--request-timeout", "1s", "--now", fixedNow}, dirs...)...)
	// A server that does not answer ends the run as in every plugin: the
	// report of the other sources, then one error line and exit 2.
	if lines := strings.Split(strings.TrimSpace(errOut), "\n"); code != 2 || !strings.HasPrefix(lines[len(lines)-1], "error: ") {
		t.Errorf("exit %d, want 2 with the error as the last line\n%s", code, errOut)
	}
	if d := decode(t, out); !d.has(certs.RuleClusterUnread) {
		t.Errorf("no %s finding: %s", certs.RuleClusterUnread, out)
	}
}

package cli_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ktriage/ktriage/test/e2e/framework"
)

// clientCert writes a client certificate for cn, valid from notBefore to
// notAfter and signed by the local cluster's client CA, and its key; it
// returns their paths.
func clientCert(t *testing.T, c *framework.Cluster, cn string, notBefore, notAfter time.Time) (certFile, keyFile string) {
	t.Helper()
	ca, err := tls.LoadX509KeyPair(filepath.Join(c.Dir, "pki", "client-ca.crt"), filepath.Join(c.Dir, "pki", "client-ca.key"))
	if err != nil {
		t.Fatalf("the local cluster's client CA: %v", err)
	}
	caCert, err := x509.ParseCertificate(ca.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    notBefore, NotAfter: notAfter,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, ca.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "client.crt"), filepath.Join(dir, "client.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// clusterPlugins are the plugins with the arguments that make them read
// the cluster.
func clusterPlugins() []plugin {
	out := []plugin{{"kubectl-drain_preflight", "kubectl drain-preflight", []string{"node-1"}}}
	for _, p := range plugins {
		if p.args != nil {
			out = append(out, p)
		}
	}
	return out
}

// errorLine checks a run ended with exit 2 and one error line (the last
// line of stderr, no stack trace) containing every part of want, and
// returns that line.
func errorLine(t *testing.T, res framework.Result, want ...string) string {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(res.Stderr), "\n")
	last := lines[len(lines)-1]
	ok := res.Code == 2 && strings.HasPrefix(last, "error: ") && !strings.Contains(res.Stderr, "goroutine ")
	for _, w := range want {
		ok = ok && strings.Contains(last, w)
	}
	if !ok {
		t.Errorf("want exit 2 and a last stderr line with %q\n%s", want, res)
	}
	return last
}

// The API server rejects a client certificate past its NotAfter (signed by
// its own client CA): each plugin ends with one line saying the credentials
// were rejected because the certificate expired, and exit 2. The same CA
// with valid dates authenticates (the user then has no rights), so it is
// the expiry the server refused.
func TestExpiredClientCertificate(t *testing.T) {
	c := framework.Get(t)
	now := time.Now()
	expiredCert, expiredKey := clientCert(t, c, "ktriage-expired", now.Add(-48*time.Hour), now.Add(-24*time.Hour))
	expired := framework.WriteKubeconfig(t, framework.Kubeconfig{Server: c.APIServer, CAFile: c.CAFile, User: "expired", ClientCert: expiredCert, ClientKey: expiredKey})
	validCert, validKey := clientCert(t, c, "ktriage-valid", now.Add(-time.Hour), now.Add(24*time.Hour))
	valid := framework.WriteKubeconfig(t, framework.Kubeconfig{Server: c.APIServer, CAFile: c.CAFile, User: "valid", ClientCert: validCert, ClientKey: validKey})

	control := c.RunWith(t, framework.RunOptions{Env: []string{"KUBECONFIG=" + valid}}, "kubectl-why_pending", "-A")
	if control.Code != 2 || !strings.Contains(control.Stderr, "forbidden") {
		t.Fatalf("a valid certificate from the same CA should authenticate (and be forbidden to list): \n%s", control)
	}
	for _, p := range clusterPlugins() {
		t.Run(p.binary, func(t *testing.T) {
			res := c.RunWith(t, framework.RunOptions{Env: []string{"KUBECONFIG=" + expired}, Timeout: time.Minute}, p.binary, p.args...)
			if p.binary == "kubectl-cert_expiry" {
				// Its partial result: the report on what it could read (the
				// expired certificate first of all) and a warning that the
				// cluster refused the rest.
				if res.Code != 1 || !strings.Contains(res.Stdout, "CE101") || !strings.Contains(res.Stdout, "CN=ktriage-expired") ||
					!strings.HasPrefix(res.Stderr, "Warning: ") || !strings.Contains(res.Stderr, "the cluster rejected the credentials") {
					t.Errorf("want exit 1, a report naming the expired certificate (CE101) and a warning that the cluster rejected it\n%s", res)
				}
				return
			}
			errorLine(t, res, "the cluster rejected the credentials: the kubeconfig's client certificate ("+expiredCert+", CN=ktriage-expired) expired on ", "renew it")
		})
	}
}

// A kubeconfig exec credential plugin that fails (exit 1, a message on
// stderr) ends each plugin at once with one line naming the exec plugin,
// and exit 2.
func TestFailingExecCredentialPlugin(t *testing.T) {
	c := framework.Get(t)
	script := writeScript(t, "failing-login", "echo 'login expired: run failing-login --refresh' >&2\nexit 1\n")
	kubeconfig := framework.WriteKubeconfig(t, framework.Kubeconfig{Server: c.APIServer, CAFile: c.CAFile, User: "exec", ExecCommand: script})
	for _, p := range clusterPlugins() {
		t.Run(p.binary, func(t *testing.T) {
			start := time.Now()
			res := c.RunWith(t, framework.RunOptions{Env: []string{"KUBECONFIG=" + kubeconfig}, Timeout: time.Minute}, p.binary, p.args...)
			errorLine(t, res, "exec credential plugin "+script+" gave no credentials", "failed with exit code 1")
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %s to report a failed credential plugin", d)
			}
		})
	}
}

// A kubeconfig exec credential plugin that never exits (client-go waits for
// it with no time limit) costs each plugin --request-timeout and one line
// naming the exec plugin, and exit 2.
func TestHangingExecCredentialPlugin(t *testing.T) {
	c := framework.Get(t)
	pids := t.TempDir()
	script := writeScript(t, "hanging-login", "echo $$ > "+pids+"/$$\nexec sleep 300\n")
	t.Cleanup(func() { killAll(pids) })
	kubeconfig := framework.WriteKubeconfig(t, framework.Kubeconfig{Server: c.APIServer, CAFile: c.CAFile, User: "exec", ExecCommand: script})
	for _, p := range clusterPlugins() {
		t.Run(p.binary, func(t *testing.T) {
			start := time.Now()
			res := c.RunWith(t, framework.RunOptions{Env: []string{"KUBECONFIG=" + kubeconfig}, Timeout: time.Minute}, p.binary, append([]string{"--request-timeout", "3s"}, p.args...)...)
			errorLine(t, res, "exec credential plugin "+script+" did not answer within 3s")
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %s with --request-timeout 3s", d)
			}
		})
	}
	// With a deadline shorter than the request timeout, the deadline ends
	// the wait and names the plugin.
	res := c.RunWith(t, framework.RunOptions{Env: []string{"KUBECONFIG=" + kubeconfig}, Timeout: time.Minute}, "kubectl-why_pending", "-A", "--deadline", "2s")
	errorLine(t, res, "no result within --deadline 2s; still waiting for: credentials from the exec plugin "+script)
}

func writeScript(t *testing.T, name, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// killAll ends the processes whose pids name the files in dir.
func killAll(dir string) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil && pid > 0 {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

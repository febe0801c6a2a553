package cli

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

func selfSigned(t *testing.T, cn string, notAfter time.Time) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: notAfter.Add(-24 * time.Hour), NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func TestExpiredClientCert(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	expired := selfSigned(t, "alice", time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC))
	file := filepath.Join(t.TempDir(), "client.crt")
	if err := os.WriteFile(file, expired, 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		cfg  rest.Config
		want string
	}{
		{"an expired certificate inline", rest.Config{TLSClientConfig: rest.TLSClientConfig{CertData: expired}},
			"the kubeconfig's client certificate (client-certificate-data, CN=alice) expired on 2025-01-02T03:04:05Z; renew it or get a new kubeconfig, or pick another context (kubectl config use-context)"},
		{"an expired certificate in a file", rest.Config{TLSClientConfig: rest.TLSClientConfig{CertFile: file}},
			"the kubeconfig's client certificate (" + file + ", CN=alice) expired on 2025-01-02T03:04:05Z; renew it or get a new kubeconfig, or pick another context (kubectl config use-context)"},
		{"a valid certificate", rest.Config{TLSClientConfig: rest.TLSClientConfig{CertData: selfSigned(t, "bob", now.Add(time.Hour))}}, ""},
		{"no certificate", rest.Config{BearerToken: "x"}, ""},
		{"a certificate that is not PEM", rest.Config{TLSClientConfig: rest.TLSClientConfig{CertData: []byte("garbage")}}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := expiredClientCert(&tc.cfg, now); got != tc.want {
				t.Errorf("got %q\nwant %q", got, tc.want)
			}
		})
	}
}

// plugin writes an executable shell script and returns its path.
func plugin(t *testing.T, name, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func execConfig(cmd string) *rest.Config {
	return &rest.Config{Host: "https://127.0.0.1:1", ExecProvider: &clientcmdapi.ExecConfig{
		Command: cmd, APIVersion: "client.authentication.k8s.io/v1", InteractiveMode: clientcmdapi.NeverExecInteractiveMode,
	}}
}

func TestFetchExecCredentials(t *testing.T) {
	ok := plugin(t, "ok", `echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"t"}}'`)
	if err := fetchExecCredentials(context.Background(), execConfig(ok), 10*time.Second); err != nil {
		t.Errorf("a working plugin: %v", err)
	}

	fails := plugin(t, "fails", "echo 'token expired, run login' >&2\nexit 3\n")
	err := fetchExecCredentials(context.Background(), execConfig(fails), 10*time.Second)
	want := "the kubeconfig's exec credential plugin " + fails + " gave no credentials: exec: executable " + fails + " failed with exit code 3; run it by hand to see why, log in again, or pick another context (kubectl config use-context)"
	if err == nil || err.Error() != want {
		t.Errorf("a failing plugin: got %v\nwant %s", err, want)
	}

	pidFile := filepath.Join(t.TempDir(), "pid")
	hangs := plugin(t, "hangs", "echo $$ > "+pidFile+"\nexec sleep 60\n")
	t.Cleanup(func() { killPidFile(pidFile) })
	start := time.Now()
	err = fetchExecCredentials(context.Background(), execConfig(hangs), 500*time.Millisecond)
	want = "the kubeconfig's exec credential plugin " + hangs + " did not answer within 500ms (--request-timeout); check that it can run without a prompt, or raise --request-timeout"
	if err == nil || err.Error() != want {
		t.Errorf("a plugin that never exits: got %v\nwant %s", err, want)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("a plugin that never exits held the fetch for %s", d)
	}
	if runtime.GOOS == "linux" {
		pid := strings.TrimSpace(readFile(t, pidFile))
		deadline := time.Now().Add(5 * time.Second)
		for alive(pid) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if alive(pid) {
			t.Errorf("the plugin that never exits (pid %s) is still running", pid)
		}
	}

	if err := fetchExecCredentials(context.Background(), &rest.Config{Host: "https://x", BearerToken: "t"}, time.Second); err != nil {
		t.Errorf("no exec plugin: %v", err)
	}
}

func killPidFile(path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	var pid int
	for _, r := range strings.TrimSpace(string(b)) {
		pid = pid*10 + int(r-'0')
	}
	if p, err := os.FindProcess(pid); err == nil && pid > 0 {
		_ = p.Kill()
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// alive says whether the process pid runs (a zombie, killed and not yet
// reaped, does not).
func alive(pid string) bool {
	stat, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(stat), ')')
	return i < 0 || i+2 >= len(stat) || stat[i+2] != 'Z'
}

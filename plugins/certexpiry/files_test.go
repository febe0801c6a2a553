package certexpiry

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/ktriage/ktriage/pkg/certs/certtest"
)

type jsonReport struct {
	Findings []struct {
		RuleID string `json:"ruleID"`
		Object struct {
			Path string `json:"path"`
		} `json:"object"`
		Message string `json:"message"`
	} `json:"findings"`
	Certificates []struct {
		Source string `json:"source"`
	} `json:"certificates"`
}

func runJSON(t *testing.T, args ...string) jsonReport {
	t.Helper()
	out, errOut, code := run(t, append(args, "-o", "json")...)
	if code == 2 {
		t.Fatalf("exit 2: %s", errOut)
	}
	var r jsonReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return r
}

func (r jsonReport) paths(rule string) []string {
	var out []string
	for _, f := range r.Findings {
		if f.RuleID == rule {
			out = append(out, f.Object.Path)
		}
	}
	sort.Strings(out)
	return out
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// A directory of certificates, laid out as a mounted Secret volume, with
// the files that usually sit next to certificates: only what claims to be a
// certificate and cannot be read is reported.
func TestDirectoryReadsOnlyCertificateFiles(t *testing.T) {
	now := time.Now()
	pair := certtest.Must(certtest.Spec{CommonName: "mounted", NotBefore: now.Add(-time.Hour), NotAfter: now.Add(400 * 24 * time.Hour)})
	loose := certtest.Must(certtest.Spec{CommonName: "loose", NotBefore: now.Add(-time.Hour), NotAfter: now.Add(400 * 24 * time.Hour)})
	dir := t.TempDir()
	stamped := filepath.Join(dir, "..2026_01_01_00_00_00.000000001")
	writeFile(t, filepath.Join(stamped, "tls.crt"), pair.CertPEM)
	writeFile(t, filepath.Join(stamped, "tls.key"), pair.KeyPEM)
	writeFile(t, filepath.Join(stamped, "token"), []byte("not a certificate"))
	if err := os.Symlink(filepath.Base(stamped), filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"tls.crt", "tls.key", "token"} {
		if err := os.Symlink(filepath.Join("..data", key), filepath.Join(dir, key)); err != nil {
			t.Fatal(err)
		}
	}
	csr := []byte("-----BEGIN CERTIFICATE REQUEST-----\nMIIBAA==\n-----END CERTIFICATE REQUEST-----\n")
	writeFile(t, filepath.Join(dir, "loose.pem"), loose.CertPEM)
	writeFile(t, filepath.Join(dir, "key.pem"), loose.KeyPEM)
	writeFile(t, filepath.Join(dir, "server.csr.pem"), csr)
	writeFile(t, filepath.Join(dir, "README.md"), []byte("# Certificates\n\nRenew them yearly.\n"))
	writeFile(t, filepath.Join(dir, "values.yaml"), []byte("replicaCount: 2\nimage:\n  tag: v1\n"))
	writeFile(t, filepath.Join(dir, ".git", "config"), []byte("[core]\n"))
	writeFile(t, filepath.Join(dir, "broken.crt"), []byte("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"))
	writeFile(t, filepath.Join(dir, "empty.der"), nil)

	for _, recursive := range []bool{false, true} {
		args := []string{"-f", dir}
		if recursive {
			args = append(args, "-R")
		}
		r := runJSON(t, args...)
		got := r.paths("CE113")
		want := []string{filepath.Join(dir, "broken.crt"), filepath.Join(dir, "empty.der")}
		if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
			t.Errorf("recursive=%v: CE113 on %v, want %v", recursive, got, want)
		}
		var sources []string
		for _, c := range r.Certificates {
			sources = append(sources, c.Source)
		}
		sort.Strings(sources)
		if len(sources) != 2 || sources[0] != filepath.Join(dir, "loose.pem") || sources[1] != filepath.Join(dir, "tls.crt") {
			t.Errorf("recursive=%v: certificates from %v, want loose.pem and tls.crt once", recursive, sources)
		}
	}

	// Named explicitly, a file that holds no certificate could not be
	// checked: one line FILE:LINE: why, and exit 2.
	for name, want := range map[string]string{
		"README.md":   "README.md:1: holds no certificate: neither PEM, DER, a kubeconfig nor a manifest",
		"values.yaml": "values.yaml:1: holds no certificate: neither PEM, DER, a kubeconfig nor a manifest",
		"key.pem":     "key.pem:1: holds no readable certificate: PEM data holds no CERTIFICATE block",
		"broken.crt":  "broken.crt:1: holds no readable certificate: PEM block 1 is malformed (bad base64 or headers)",
		"empty.der":   "empty.der:1: holds no certificate: neither PEM, DER, a kubeconfig nor a manifest",
	} {
		_, errOut, code := run(t, "-f", filepath.Join(dir, name))
		if code != 2 || errOut != "error: "+filepath.Join(dir, want)+"\n" {
			t.Errorf("-f %s: exit %d\n%s\nwant exit 2 and error: %s", name, code, errOut, filepath.Join(dir, want))
		}
	}
}

// Every certificate of a kubeadm layout is reported under the source the
// layout names, kubelet.conf's client certificate file included.
func TestKubeadmLayoutSources(t *testing.T) {
	dir := t.TempDir()
	gen, err := certtest.KubeadmPKI(dir, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	out, errOut, code := run(t, "--sources", "pki", "--pki-dir", filepath.Join(dir, "pki"), "--kubernetes-dir", dir,
		"--kubelet-pki-dir", filepath.Join(dir, "kubelet", "pki"), "-o", "json")
	if code == 2 {
		t.Fatalf("exit 2: %s", errOut)
	}
	var doc struct {
		Certificates []struct {
			Source   string    `json:"source"`
			AlsoIn   []string  `json:"alsoIn"`
			NotAfter time.Time `json:"notAfter"`
		} `json:"certificates"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	found := map[string]time.Time{}
	for _, c := range doc.Certificates {
		found[c.Source] = c.NotAfter
		for _, a := range c.AlsoIn {
			found[a] = c.NotAfter
		}
	}
	for _, src := range gen.Sources() {
		if got, ok := found[src]; !ok || !got.Equal(gen[src]) {
			t.Errorf("%s: notAfter %s (found %v), generated %s", src, got, ok, gen[src])
		}
	}
}

// -f reads a kubeconfig as a whole: a user no context names, whose client
// certificate file is missing, is reported.
func TestFileKubeconfigUnreferencedUser(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ci.kubeconfig")
	writeFile(t, path, []byte(`apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster: {server: "https://10.0.0.1:6443"}
users:
- name: alice
  user: {token: x}
- name: deploy
  user: {client-certificate: deploy.crt, client-key: deploy.key}
contexts:
- name: prod
  context: {cluster: prod, user: alice}
current-context: prod
`))
	r := runJSON(t, "-f", path)
	want := path + ":user/deploy -> " + filepath.Join(dir, "deploy.crt")
	if got := r.paths("CE113"); len(got) != 1 || got[0] != want {
		t.Errorf("CE113 on %q, want %q", got, want)
	}
}

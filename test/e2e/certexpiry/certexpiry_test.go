package certexpiry

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	"github.com/ktriage/ktriage/pkg/certs/certtest"
	"github.com/ktriage/ktriage/test/e2e/framework"
)

const binary = "kubectl-cert_expiry"

type certificate struct {
	Source     string    `json:"source"`
	AlsoIn     []string  `json:"alsoIn"`
	Subject    string    `json:"subject"`
	Issuer     string    `json:"issuer"`
	SANs       []string  `json:"sans"`
	Serial     string    `json:"serial"`
	NotBefore  time.Time `json:"notBefore"`
	NotAfter   time.Time `json:"notAfter"`
	DaysLeft   int       `json:"daysLeft"`
	ChainRole  string    `json:"chainRole"`
	ChainIndex int       `json:"chainIndex"`
	Severity   string    `json:"severity"`
	Rules      []string  `json:"rules"`
}

type finding struct {
	RuleID   string `json:"ruleID"`
	Severity string `json:"severity"`
	Object   struct {
		Kind, Namespace, Name, Path string
	} `json:"object"`
	Message string `json:"message"`
}

type doc struct {
	Kind         string        `json:"kind"`
	Certificates []certificate `json:"certificates"`
	Findings     []finding     `json:"findings"`
	Metadata     struct {
		Warnings []string `json:"warnings"`
	} `json:"metadata"`
}

var once sync.Once

func cluster(t *testing.T) *framework.Cluster {
	t.Helper()
	c := framework.Get(t)
	// hack/local-cluster copied the generated chain into its state dir.
	once.Do(func() { _ = os.RemoveAll(servingDir) })
	return c
}

func run(t *testing.T, c *framework.Cluster, env []string, args ...string) (doc, framework.Result) {
	t.Helper()
	res := c.RunWith(t, framework.RunOptions{Env: env, Timeout: time.Minute}, binary, append(args, "-o", "json")...)
	var d doc
	res.DecodeJSON(t, &d)
	if d.Kind != "CertExpiryReport" {
		t.Fatalf("kind %q\n%s", d.Kind, res)
	}
	return d, res
}

// find returns the certificate reported for source (as its source or one of
// its other places).
func (d doc) find(t *testing.T, source string) certificate {
	t.Helper()
	for _, c := range d.Certificates {
		if c.Source == source {
			return c
		}
		for _, a := range c.AlsoIn {
			if a == source {
				return c
			}
		}
	}
	var have []string
	for _, c := range d.Certificates {
		have = append(have, c.Source)
	}
	t.Fatalf("no certificate from %s; sources: %s", source, strings.Join(have, ", "))
	return certificate{}
}

func (d doc) has(rule, objectName string) bool {
	for _, f := range d.Findings {
		if f.RuleID == rule && (f.Object.Name == objectName || f.Object.Path == objectName) {
			return true
		}
	}
	return false
}

func (d doc) rules() []string {
	var out []string
	for _, f := range d.Findings {
		out = append(out, f.RuleID+"@"+f.Object.Name+f.Object.Path)
	}
	return out
}

func readChain(t *testing.T, path string) []*x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []*x509.Certificate
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return out
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
}

// daysLeftOK accepts the whole days left at any moment of the run.
func daysLeftOK(got int, notAfter, before, after time.Time) bool {
	return got == int(notAfter.Sub(before)/(24*time.Hour)) || got == int(notAfter.Sub(after)/(24*time.Hour))
}

func TestServedChainOfTheAPIServer(t *testing.T) {
	c := cluster(t)
	generated := readChain(t, filepath.Join(c.Dir, "pki", "serving", "tls.crt"))
	root := readChain(t, filepath.Join(c.Dir, "pki", "serving", "ca.crt"))[0]
	if len(generated) != 2 {
		t.Fatalf("the generated tls.crt holds %d certificates, want serving + intermediate", len(generated))
	}
	before := time.Now()
	d, res := run(t, c, nil, "--sources", "kubeconfig,served")
	after := time.Now()

	// openssl s_client is the reference for what the server sends.
	u, _ := url.Parse(c.APIServer)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "openssl", "s_client", "-connect", u.Host, "-showcerts").CombinedOutput()
	if err != nil && !strings.Contains(string(out), "BEGIN CERTIFICATE") {
		t.Fatalf("openssl s_client: %v\n%s", err, out)
	}
	served := 0
	for rest := out; ; served++ {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
	}
	if served != len(generated) {
		t.Fatalf("openssl s_client saw %d certificates, the generated chain has %d", served, len(generated))
	}

	for i, want := range generated {
		var got *certificate
		for _, cert := range d.Certificates {
			if cert.Source == c.APIServer && cert.Subject == "CN="+want.Subject.CommonName {
				got = &cert
			}
		}
		if got == nil {
			t.Fatalf("served certificate %q not reported\n%s", want.Subject.CommonName, res)
		}
		if !got.NotAfter.Equal(want.NotAfter) || !got.NotBefore.Equal(want.NotBefore) {
			t.Errorf("%s: notBefore/notAfter %s/%s, generated %s/%s", want.Subject.CommonName, got.NotBefore, got.NotAfter, want.NotBefore, want.NotAfter)
		}
		if !daysLeftOK(got.DaysLeft, want.NotAfter, before, after) {
			t.Errorf("%s: daysLeft %d for notAfter %s", want.Subject.CommonName, got.DaysLeft, want.NotAfter)
		}
		if wantRole := []string{"leaf", "intermediate"}[i]; got.ChainRole != wantRole || got.ChainIndex != i {
			t.Errorf("%s: chain position %d/%s, want %d/%s", want.Subject.CommonName, got.ChainIndex, got.ChainRole, i, wantRole)
		}
	}
	var leaf certificate
	for _, cert := range d.Certificates {
		if cert.Source == c.APIServer && cert.ChainRole == "leaf" {
			leaf = cert
		}
	}
	if !strings.Contains(strings.Join(leaf.SANs, ","), "127.0.0.1") {
		t.Errorf("SANs %v lack 127.0.0.1", leaf.SANs)
	}
	ca := d.find(t, "kubeconfig/"+c.Name+":certificate-authority")
	if !ca.NotAfter.Equal(root.NotAfter) || ca.ChainRole != "root" {
		t.Errorf("kubeconfig CA: notAfter %s role %s, generated %s", ca.NotAfter, ca.ChainRole, root.NotAfter)
	}
	// The chain verifies against the kubeconfig CA and matches the host; the
	// intermediate (25 days) expires before the serving certificate (60 days).
	for _, r := range d.rules() {
		if strings.HasPrefix(r, "CE106") || strings.HasPrefix(r, "CE107") || strings.HasPrefix(r, "CE115") {
			t.Errorf("unexpected finding %s\n%s", r, res)
		}
	}
	inter := generated[1]
	var interCert certificate
	for _, cert := range d.Certificates {
		if cert.Subject == "CN="+inter.Subject.CommonName {
			interCert = cert
		}
	}
	if interCert.Severity != "warning" || !slices.Contains(interCert.Rules, "CE103") || !slices.Contains(interCert.Rules, "CE105") {
		t.Errorf("intermediate: severity %s rules %v, want warning with CE103 and CE105", interCert.Severity, interCert.Rules)
	}
	if res.Code != 0 {
		t.Errorf("exit %d, want 0: nothing expires within 7 days\n%s", res.Code, res)
	}

	// A tighter --warn turns nothing into an error; a wider --fail does.
	_, res = run(t, c, nil, "--sources", "served", "--fail", "30d", "--warn", "90d")
	if res.Code != 1 {
		t.Errorf("--fail 30d: exit %d, want 1 (the intermediate expires in 25 days)\n%s", res.Code, res)
	}
}

func TestKubeconfigContextsWithEmbeddedAndFileCertificates(t *testing.T) {
	c := cluster(t)
	now := time.Now()
	dir := t.TempDir()
	ca, err := os.ReadFile(c.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	clientCA := certtest.Must(certtest.Spec{CommonName: "e2e-client-ca", IsCA: true, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(certtest.Days(3650))})
	embedded := certtest.Must(certtest.Spec{CommonName: "embedded-user", Client: true, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(certtest.Days(3)), Parent: clientCA})
	onDisk := certtest.Must(certtest.Spec{CommonName: "file-user", Client: true, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(certtest.Days(20)), Parent: clientCA})
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("file-user.crt", onDisk.CertPEM)
	write("file-user.key", onDisk.KeyPEM)
	write("ca.crt", ca)
	kubeconfig := write("kubeconfig", []byte(`apiVersion: v1
kind: Config
clusters:
- name: embedded
  cluster:
    server: `+c.APIServer+`
    certificate-authority-data: `+base64.StdEncoding.EncodeToString(ca)+`
- name: files
  cluster:
    server: `+c.APIServer+`
    certificate-authority: ca.crt
- name: down
  cluster:
    server: https://127.0.0.1:1
    certificate-authority: ca.crt
users:
- name: embedded
  user:
    client-certificate-data: `+base64.StdEncoding.EncodeToString(embedded.CertPEM)+`
    client-key-data: `+base64.StdEncoding.EncodeToString(embedded.KeyPEM)+`
- name: files
  user:
    client-certificate: file-user.crt
    client-key: file-user.key
contexts:
- name: embedded
  context: {cluster: embedded, user: embedded}
- name: files
  context: {cluster: files, user: files}
- name: down
  context: {cluster: down, user: files}
current-context: embedded
`))
	env := []string{"KUBECONFIG=" + kubeconfig}

	d, res := run(t, c, env, "--sources", "kubeconfig,served")
	got := d.find(t, "kubeconfig/embedded:client-certificate")
	if !got.NotAfter.Equal(embedded.Cert.NotAfter) || got.Severity != "error" || !slices.Contains(got.Rules, "CE102") {
		t.Errorf("embedded client certificate: %+v, generated notAfter %s", got, embedded.Cert.NotAfter)
	}
	got = d.find(t, "kubeconfig/files:client-certificate")
	if !got.NotAfter.Equal(onDisk.Cert.NotAfter) || got.Severity != "warning" || !slices.Contains(got.Rules, "CE103") {
		t.Errorf("file client certificate: %+v, generated notAfter %s", got, onDisk.Cert.NotAfter)
	}
	d.find(t, "kubeconfig/files:certificate-authority")
	if !d.has("CE115", "https://127.0.0.1:1") {
		t.Errorf("the unreachable server of context down is not reported: %v", d.rules())
	}
	if res.Code != 1 {
		t.Errorf("exit %d, want 1 (a client certificate expires in 3 days)\n%s", res.Code, res)
	}

	// --context limits the scan to one context.
	d, res = run(t, c, env, "--sources", "kubeconfig,served", "--context", "files")
	for _, cert := range d.Certificates {
		if strings.HasPrefix(cert.Source, "kubeconfig/embedded") || strings.HasPrefix(cert.Source, "kubeconfig/down") {
			t.Errorf("--context files reported %s", cert.Source)
		}
	}
	if res.Code != 0 {
		t.Errorf("--context files: exit %d, want 0\n%s", res.Code, res)
	}
	res = c.RunWith(t, framework.RunOptions{Env: env}, binary, "--context", "nope")
	if res.Code != 2 || !strings.Contains(res.Stderr, `"nope"`) {
		t.Errorf("--context nope: want exit 2 naming it\n%s", res)
	}
}

func TestCertificatesInClusterObjects(t *testing.T) {
	c := cluster(t)
	ns := c.Namespace(t, "certs", nil)
	before := time.Now()
	manifests, gen, err := certtest.Manifests(ns, before)
	if err != nil {
		t.Fatal(err)
	}
	c.Apply(t, "", manifests)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = c.Client.AdmissionregistrationV1().ValidatingWebhookConfigurations().Delete(ctx, ns+"-certs", metav1.DeleteOptions{})
	})
	d, res := run(t, c, nil, "--sources", "cluster")
	after := time.Now()
	for _, src := range gen.Sources() {
		got := d.find(t, src)
		if !got.NotAfter.Equal(gen[src]) {
			t.Errorf("%s: notAfter %s, generated %s", src, got.NotAfter.Format(time.RFC3339), gen[src].Format(time.RFC3339))
		}
		if !daysLeftOK(got.DaysLeft, gen[src], before, after) {
			t.Errorf("%s: daysLeft %d for notAfter %s", src, got.DaysLeft, gen[src])
		}
	}
	cases := []struct {
		name, source, severity, rule string
	}{
		{"an expired certificate is an error", "secret/" + ns + "/expired:tls.crt", "error", "CE101"},
		{"a certificate expiring in 3 days is an error", "secret/" + ns + "/expires-3d:tls.crt", "error", "CE102"},
		{"a certificate expiring in 20 days is a warning", "secret/" + ns + "/expires-20d:tls.crt", "warning", "CE103"},
		{"a certificate expiring in 400 days is fine", "secret/" + ns + "/expires-400d:server.pem", "none", ""},
		{"a certificate not yet valid is an error", "secret/" + ns + "/not-yet-valid:tls.crt", "error", "CE104"},
		{"a CA expiring before its leaf is reported on the CA", "secret/" + ns + "/ca-before-leaf:ca.crt", "warning", "CE105"},
		{"an expired CA in a ConfigMap is an error", "configmap/" + ns + "/legacy-ca:ca.crt", "error", "CE101"},
		{"an intermediate in a ConfigMap bundle expiring in 20 days is a warning", "configmap/" + ns + "/trust-bundle:bundle.pem", "warning", "CE103"},
		{"a webhook caBundle expiring in 3 days is an error", "validatingwebhookconfiguration/" + ns + "-certs:webhooks[validate.certs.ktriage.io].clientConfig.caBundle", "error", "CE102"},
		{"a 1024-bit SHA-1 certificate is weak", "secret/" + ns + "/weak:tls.crt", "warning", "CE108"},
		{"a tls.crt not issued by its ca.crt does not verify", "secret/" + ns + "/wrong-ca:tls.crt", "warning", "CE106"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := d.find(t, tc.source)
			if got.Severity != tc.severity || (tc.rule != "" && !slices.Contains(got.Rules, tc.rule)) || (tc.rule == "" && len(got.Rules) > 0) {
				t.Errorf("severity %s rules %v, want %s with %q", got.Severity, got.Rules, tc.severity, tc.rule)
			}
		})
	}
	d.find(t, "configmap/"+ns+"/kube-root-ca.crt:ca.crt")
	for _, want := range []struct{ rule, name string }{{"CE113", "broken"}, {"CE109", "weak"}, {"CE114", ns + "-certs"}} {
		if !d.has(want.rule, want.name) {
			t.Errorf("no %s finding on %s: %v", want.rule, want.name, d.rules())
		}
	}
	// Sorted by time left.
	for i := 1; i < len(d.Certificates); i++ {
		if d.Certificates[i].NotAfter.Before(d.Certificates[i-1].NotAfter) {
			t.Errorf("certificates not sorted by notAfter at %d: %s after %s", i, d.Certificates[i].NotAfter, d.Certificates[i-1].NotAfter)
		}
	}
	if res.Code != 1 {
		t.Errorf("exit %d, want 1\n%s", res.Code, res)
	}
	if _, res := run(t, c, nil, "--sources", "cluster", "--fail-on", "never"); res.Code != 0 {
		t.Errorf("--fail-on never: exit %d\n%s", res.Code, res)
	}
	// The table colors nothing without a terminal and shows days left first.
	table := c.Run(t, binary, "--sources", "cluster", "-n", ns)
	if !strings.Contains(table.Stdout, "DAYS LEFT") || !strings.Contains(table.Stdout, "(expired)") {
		t.Errorf("table output:\n%s", table)
	}
}

func TestForbiddenSecretsGiveAPartialReport(t *testing.T) {
	c := cluster(t)
	ns := c.Namespace(t, "rbac", nil)
	c.Apply(t, ns, `apiVersion: v1
kind: ServiceAccount
metadata: {name: reader}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: configmaps}
rules:
- apiGroups: [""]
  resources: [configmaps]
  verbs: [get, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: configmaps}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: configmaps}
subjects:
- {kind: ServiceAccount, name: reader, namespace: `+ns+`}
`)
	d, res := run(t, c, nil, "--sources", "cluster", "-n", ns, "--as", "system:serviceaccount:"+ns+":reader")
	if res.Code == 2 {
		t.Fatalf("a forbidden Secret list must not stop the run\n%s", res)
	}
	if !strings.Contains(res.Stderr, "secrets") || len(d.Metadata.Warnings) == 0 {
		t.Errorf("want a warning naming secrets\n%s", res)
	}
	d.find(t, "configmap/"+ns+"/kube-root-ca.crt:ca.crt")
}

func TestKubeadmPKIDirectory(t *testing.T) {
	c := cluster(t)
	dir := t.TempDir()
	before := time.Now()
	gen, err := certtest.KubeadmPKI(dir, before)
	if err != nil {
		t.Fatal(err)
	}
	d, res := run(t, c, nil, "--sources", "pki", "--pki-dir", filepath.Join(dir, "pki"), "--kubernetes-dir", dir, "--kubelet-pki-dir", filepath.Join(dir, "kubelet", "pki"))
	after := time.Now()
	for _, src := range gen.Sources() {
		got := d.find(t, src)
		if !got.NotAfter.Equal(gen[src]) || !daysLeftOK(got.DaysLeft, gen[src], before, after) {
			t.Errorf("%s: notAfter %s daysLeft %d, generated %s", src, got.NotAfter, got.DaysLeft, gen[src])
		}
	}
	for _, cert := range d.Certificates {
		if strings.Contains(cert.Source, "kubelet-client-2020") {
			t.Errorf("a rotated-out kubelet certificate was reported: %s", cert.Source)
		}
		if strings.HasSuffix(cert.Source, "sa.pub") || strings.HasSuffix(cert.Source, ".key") {
			t.Errorf("a key was read as a certificate: %s", cert.Source)
		}
	}
	if got := d.find(t, filepath.Join(dir, "pki", "front-proxy-client.crt")); got.Severity != "error" || !slices.Contains(got.Rules, "CE101") {
		t.Errorf("expired front-proxy-client: %+v", got)
	}
	if got := d.find(t, filepath.Join(dir, "pki", "apiserver.crt")); got.Severity != "error" || !slices.Contains(got.Rules, "CE102") {
		t.Errorf("apiserver.crt expiring in 3 days: %+v", got)
	}
	if res.Code != 1 {
		t.Errorf("exit %d, want 1\n%s", res.Code, res)
	}
	// An explicit directory that cannot be read is a finding, not a crash.
	d, res = run(t, c, nil, "--sources", "pki", "--pki-dir", filepath.Join(dir, "missing"), "--kubernetes-dir", dir+"/none", "--kubelet-pki-dir", dir+"/none")
	if !d.has("CE113", filepath.Join(dir, "missing")) || res.Code != 0 {
		t.Errorf("missing --pki-dir: %v\n%s", d.rules(), res)
	}
}

func TestFilesGivenWithF(t *testing.T) {
	c := cluster(t)
	now := time.Now()
	dir := t.TempDir()
	p := certtest.Must(certtest.Spec{CommonName: "from-file", NotBefore: now.Add(-time.Hour), NotAfter: now.Add(certtest.Days(3))})
	q := certtest.Must(certtest.Spec{CommonName: "from-der", NotBefore: now.Add(-time.Hour), NotAfter: now.Add(certtest.Days(400))})
	files := map[string][]byte{"a.pem": p.CertPEM, "b.der": q.Cert.Raw, "garbage.crt": []byte("-----BEGIN CERTIFICATE-----\n!!!\n")}
	manifests, gen, err := certtest.Manifests("ci", now)
	if err != nil {
		t.Fatal(err)
	}
	files["secrets.yaml"] = []byte(manifests)
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	d, res := run(t, c, []string{"KUBECONFIG=/nonexistent"}, "-f", dir)
	if got := d.find(t, filepath.Join(dir, "a.pem")); !got.NotAfter.Equal(p.Cert.NotAfter) {
		t.Errorf("a.pem notAfter %s, generated %s", got.NotAfter, p.Cert.NotAfter)
	}
	if got := d.find(t, filepath.Join(dir, "b.der")); !got.NotAfter.Equal(q.Cert.NotAfter) {
		t.Errorf("b.der notAfter %s, generated %s", got.NotAfter, q.Cert.NotAfter)
	}
	for _, src := range gen.Sources() {
		if got := d.find(t, src); !got.NotAfter.Equal(gen[src]) {
			t.Errorf("%s: notAfter %s, generated %s", src, got.NotAfter, gen[src])
		}
	}
	if !d.has("CE113", filepath.Join(dir, "garbage.crt")) {
		t.Errorf("garbage PEM not reported with its path: %v", d.rules())
	}
	if res.Code != 1 {
		t.Errorf("exit %d, want 1\n%s", res.Code, res)
	}
	res = c.RunWith(t, framework.RunOptions{Env: []string{"KUBECONFIG=/nonexistent"}}, binary, "-f", filepath.Join(dir, "nope.pem"))
	if res.Code != 2 || !strings.Contains(res.Stderr, "nope.pem") || strings.Contains(res.Stderr, "goroutine") {
		t.Errorf("missing -f file: want exit 2 naming it\n%s", res)
	}
}

func TestURLWebhookWhoseCABundleDoesNotVerifyItsServer(t *testing.T) {
	c := cluster(t)
	now := time.Now()
	servingCA := certtest.Must(certtest.Spec{CommonName: "webhook-serving-ca", IsCA: true, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(certtest.Days(365))})
	bundleCA := certtest.Must(certtest.Spec{CommonName: "webhook-bundle-ca", IsCA: true, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(certtest.Days(365))})
	leaf := certtest.Must(certtest.Spec{CommonName: "webhook", Server: true, IPs: []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(certtest.Days(20)), Parent: servingCA})
	addr := certtest.ServeTLS(t, leaf.Key, leaf)
	name := fmt.Sprintf("ktriage-e2e-url-%d", now.UnixNano()%100000)
	c.Apply(t, "", `apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {name: `+name+`}
webhooks:
- name: good.`+name+`.ktriage.io
  clientConfig: {url: "https://`+addr+`/good", caBundle: `+base64.StdEncoding.EncodeToString(servingCA.CertPEM)+`}
  failurePolicy: Ignore
  sideEffects: None
  admissionReviewVersions: [v1]
  objectSelector: {matchLabels: {ktriage.io/never: selected}}
  rules: [{operations: [CREATE], apiGroups: [""], apiVersions: [v1], resources: [configmaps]}]
- name: bad.`+name+`.ktriage.io
  clientConfig: {url: "https://`+addr+`/bad", caBundle: `+base64.StdEncoding.EncodeToString(bundleCA.CertPEM)+`}
  failurePolicy: Ignore
  sideEffects: None
  admissionReviewVersions: [v1]
  objectSelector: {matchLabels: {ktriage.io/never: selected}}
  rules: [{operations: [CREATE], apiGroups: [""], apiVersions: [v1], resources: [configmaps]}]
`)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = c.Client.AdmissionregistrationV1().MutatingWebhookConfigurations().Delete(ctx, name, metav1.DeleteOptions{})
	})
	d, res := run(t, c, nil, "--sources", "cluster")
	var mismatches []string
	for _, f := range d.Findings {
		if f.RuleID == "CE110" && f.Object.Name == name {
			mismatches = append(mismatches, f.Message)
		}
	}
	if len(mismatches) != 1 || !strings.Contains(mismatches[0], "/bad") {
		t.Errorf("want one CE110 for the /bad webhook, got %q\n%s", mismatches, res)
	}
	served := d.find(t, "https://"+addr+"/good")
	if !served.NotAfter.Equal(leaf.Cert.NotAfter) || served.Severity != "error" {
		t.Errorf("served webhook certificate %+v, generated notAfter %s", served, leaf.Cert.NotAfter)
	}
}

func TestKubeletProbe(t *testing.T) {
	c := cluster(t)
	now := time.Now()
	serving := certtest.Must(certtest.Spec{CommonName: "probe-node@1700000000", IsCA: true, Server: true, DNSNames: []string{"probe-node"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(certtest.Days(3))})
	addr := certtest.ServeTLS(t, serving.Key, serving)
	_, portStr, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(portStr)
	node := fmt.Sprintf("probe-node-%d", now.UnixNano()%100000)
	// A node whose kubelet endpoint is the test's TLS server; no kwok
	// annotation, so nothing else manages it.
	c.Apply(t, "", fmt.Sprintf(`apiVersion: v1
kind: Node
metadata: {name: %s}
spec:
  taints: [{key: ktriage.io/probe, effect: NoSchedule}]
status:
  addresses: [{type: InternalIP, address: 127.0.0.1}]
  daemonEndpoints: {kubeletEndpoint: {Port: %d}}
`, node, port))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = c.Client.CoreV1().Nodes().Delete(ctx, node, metav1.DeleteOptions{})
	})
	// kubectl apply does not write status: set it through the status subresource.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// The node lifecycle controller writes to new nodes too: retry on conflict.
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		n, err := c.Client.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
		if err != nil {
			return err
		}
		n.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "127.0.0.1"}}
		n.Status.DaemonEndpoints.KubeletEndpoint.Port = int32(port)
		_, err = c.Client.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	d, res := run(t, c, nil, "--sources", "kubelets", "--dial-timeout", "2s")
	got := d.find(t, "kubelet/"+node+" https://"+addr)
	if !got.NotAfter.Equal(serving.Cert.NotAfter) || got.Severity != "error" || !slices.Contains(got.Rules, "CE102") {
		t.Errorf("kubelet certificate %+v, generated notAfter %s", got, serving.Cert.NotAfter)
	}
	// kwok's nodes have no kubelet listening: each is a CE115 warning, within the timeout.
	if !strings.Contains(strings.Join(d.rules(), " "), "CE115@") {
		t.Errorf("unreachable kwok kubelets not reported: %v", d.rules())
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("the probe took %s with a 2s dial timeout", took)
	}
	if res.Code != 1 {
		t.Errorf("exit %d, want 1\n%s", res.Code, res)
	}
}

func TestCertificateSigningRequests(t *testing.T) {
	c := cluster(t)
	now := time.Now()
	suffix := fmt.Sprint(now.UnixNano() % 100000)
	key := certtest.Must(certtest.Spec{CommonName: "csr-key", NotBefore: now, NotAfter: now.Add(time.Hour)}).Key
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "e2e-user"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	request := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	csrs := c.Client.CertificatesV1().CertificateSigningRequests()
	create := func(name string) *certificatesv1.CertificateSigningRequest {
		csr, err := csrs.Create(ctx, &certificatesv1.CertificateSigningRequest{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: certificatesv1.CertificateSigningRequestSpec{Request: request, SignerName: "ktriage.io/e2e-no-signer",
				Usages: []certificatesv1.KeyUsage{certificatesv1.UsageClientAuth}},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = csrs.Delete(context.Background(), name, metav1.DeleteOptions{}) })
		return csr
	}
	approve := func(csr *certificatesv1.CertificateSigningRequest) *certificatesv1.CertificateSigningRequest {
		csr.Status.Conditions = append(csr.Status.Conditions, certificatesv1.CertificateSigningRequestCondition{
			Type: certificatesv1.CertificateApproved, Status: corev1.ConditionTrue, Reason: "E2E", Message: "approved by the test"})
		csr, err := csrs.UpdateApproval(ctx, csr.Name, csr, metav1.UpdateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return csr
	}
	create("e2e-pending-" + suffix)
	approve(create("e2e-approved-" + suffix))
	// A signer's work, done by the test: an issued certificate with known dates.
	issued := approve(create("e2e-issued-" + suffix))
	signer := certtest.Must(certtest.Spec{CommonName: "e2e-signer", IsCA: true, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(certtest.Days(365))})
	cert := certtest.Must(certtest.Spec{CommonName: "e2e-user", Client: true, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(certtest.Days(20)), Parent: signer})
	issued.Status.Certificate = cert.CertPEM
	if _, err := csrs.UpdateStatus(ctx, issued, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}

	d, res := run(t, c, nil, "--sources", "cluster")
	if !d.has("CE111", "e2e-pending-"+suffix) || !d.has("CE112", "e2e-approved-"+suffix) {
		t.Errorf("want CE111 on the pending CSR and CE112 on the approved one: %v\n%s", d.rules(), res)
	}
	if d.has("CE111", "e2e-issued-"+suffix) || d.has("CE112", "e2e-issued-"+suffix) {
		t.Errorf("the issued CSR is neither pending nor unissued: %v", d.rules())
	}
	got := d.find(t, "certificatesigningrequest/e2e-issued-"+suffix+":status.certificate")
	if !got.NotAfter.Equal(cert.Cert.NotAfter) || got.Severity != "warning" {
		t.Errorf("issued certificate %+v, generated notAfter %s", got, cert.Cert.NotAfter)
	}
}

// A kubeconfig whose CA does not verify the API server is the outage this
// plugin must explain rather than stop on.
func TestAPIServerRejectedByTheKubeconfigCAIsReportedNotFatal(t *testing.T) {
	c := cluster(t)
	now := time.Now()
	wrongCA := certtest.Must(certtest.Spec{CommonName: "not-the-cluster-ca", IsCA: true, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(certtest.Days(365))})
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "`+c.APIServer+`", certificate-authority-data: `+base64.StdEncoding.EncodeToString(wrongCA.CertPEM)+`}}]
users: [{name: u, user: {token: `+c.Token+`}}]
contexts: [{name: wrong-ca, context: {cluster: c, user: u}}]
current-context: wrong-ca
`), 0o600); err != nil {
		t.Fatal(err)
	}
	d, res := run(t, c, []string{"KUBECONFIG=" + kubeconfig})
	if res.Code != 1 {
		t.Errorf("exit %d, want 1: the served chain does not verify\n%s", res.Code, res)
	}
	if !d.has("CE106", c.APIServer) {
		t.Errorf("no CE106 on %s: %v", c.APIServer, d.rules())
	}
	if len(d.Metadata.Warnings) == 0 || !strings.Contains(res.Stderr, "in-cluster certificates are not in the report") {
		t.Errorf("want a warning that the cluster could not be read\n%s", res)
	}
}

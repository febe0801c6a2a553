package certtest

import (
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// Generated maps what a scan reports as a certificate's source to the
// notAfter it was generated with.
type Generated map[string]time.Time

// Sources lists the generated sources in order.
func (g Generated) Sources() []string {
	out := make([]string, 0, len(g))
	for s := range g {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

func at(now time.Time, days float64) time.Time { return now.Add(Days(days)) }

// ServingPKI is an API server serving chain: root CA → intermediate CA →
// serving certificate. The intermediate expires before the serving
// certificate, which a scan reports.
type ServingPKI struct {
	Root, Intermediate, Leaf *Pair
}

// ServingHosts are the names and addresses an API server on 127.0.0.1 with
// the 10.96.0.0/12 service network is reached by.
var ServingHosts = []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local", "127.0.0.1", "10.96.0.1"}

// NewServingPKI creates the chain with dates relative to now: root 10 years,
// intermediate 25 days, serving certificate 60 days.
func NewServingPKI(now time.Time) (*ServingPKI, error) {
	root, err := New(Spec{CommonName: "ktriage-root-ca", IsCA: true, NotBefore: at(now, -1), NotAfter: at(now, 3650)})
	if err != nil {
		return nil, err
	}
	inter, err := New(Spec{CommonName: "ktriage-intermediate-ca", IsCA: true, NotBefore: at(now, -1), NotAfter: at(now, 25), Parent: root})
	if err != nil {
		return nil, err
	}
	spec := Spec{CommonName: "kube-apiserver", Server: true, NotBefore: at(now, -1), NotAfter: at(now, 60), Parent: inter}
	for _, h := range ServingHosts {
		if ip := net.ParseIP(h); ip != nil {
			spec.IPs = append(spec.IPs, ip)
		} else {
			spec.DNSNames = append(spec.DNSNames, h)
		}
	}
	leaf, err := New(spec)
	if err != nil {
		return nil, err
	}
	return &ServingPKI{Root: root, Intermediate: inter, Leaf: leaf}, nil
}

// Write stores the chain as kube-apiserver takes it: tls.crt (serving
// certificate then intermediate), tls.key, and ca.crt (the root clients trust).
func (s *ServingPKI) Write(dir string) error {
	files := map[string][]byte{
		"tls.crt": Chain(s.Leaf, s.Intermediate),
		"tls.key": s.Leaf.KeyPEM,
		"ca.crt":  s.Root.CertPEM,
	}
	return writeFiles(dir, files)
}

func writeFiles(dir string, files map[string][]byte) error {
	for name, data := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		mode := os.FileMode(0o644)
		if strings.HasSuffix(name, ".key") || strings.HasSuffix(name, ".conf") {
			mode = 0o600
		}
		if err := os.WriteFile(path, data, mode); err != nil {
			return err
		}
	}
	return nil
}

// KubeadmPKI writes kubeadm's layout under dir: pki/ (CAs, serving and client
// certificates, etcd/, sa.key), the control plane's kubeconfigs (*.conf, with
// embedded certificates, kubelet.conf referring to a file), and kubelet/pki.
// Dates vary so that each window is exercised. It returns the notAfter of
// every certificate by the source a scan reports.
func KubeadmPKI(dir string, now time.Time) (Generated, error) {
	gen := Generated{}
	files := map[string][]byte{}
	ca := Must(Spec{CommonName: "kubernetes", IsCA: true, NotBefore: at(now, -300), NotAfter: at(now, 3350)})
	fpCA := Must(Spec{CommonName: "front-proxy-ca", IsCA: true, NotBefore: at(now, -300), NotAfter: at(now, 3350)})
	etcdCA := Must(Spec{CommonName: "etcd-ca", IsCA: true, NotBefore: at(now, -300), NotAfter: at(now, 3350)})
	add := func(rel string, p *Pair, extra ...[]byte) {
		data := append([]byte(nil), p.CertPEM...)
		for _, e := range extra {
			data = append(data, e...)
		}
		files[rel] = data
		gen[filepath.Join(dir, rel)] = p.Cert.NotAfter
	}
	add("pki/ca.crt", ca)
	files["pki/ca.key"] = ca.KeyPEM
	add("pki/front-proxy-ca.crt", fpCA)
	add("pki/etcd/ca.crt", etcdCA)
	leaves := []struct {
		rel    string
		cn     string
		parent *Pair
		days   float64
		server bool
	}{
		{"pki/apiserver.crt", "kube-apiserver", ca, 3, true},
		{"pki/apiserver-kubelet-client.crt", "kube-apiserver-kubelet-client", ca, 20, false},
		{"pki/apiserver-etcd-client.crt", "kube-apiserver-etcd-client", etcdCA, 400, false},
		{"pki/front-proxy-client.crt", "front-proxy-client", fpCA, -2, false},
		{"pki/etcd/server.crt", "etcd-server", etcdCA, 20, true},
		{"pki/etcd/peer.crt", "etcd-peer", etcdCA, 400, true},
		{"pki/etcd/healthcheck-client.crt", "kube-etcd-healthcheck-client", etcdCA, 400, false},
	}
	for _, l := range leaves {
		p := Must(Spec{CommonName: l.cn, Server: l.server, Client: !l.server, DNSNames: []string{"localhost"},
			NotBefore: at(now, -365), NotAfter: at(now, l.days), Parent: l.parent})
		add(l.rel, p)
		files[strings.TrimSuffix(l.rel, ".crt")+".key"] = p.KeyPEM
	}
	files["pki/sa.key"] = ca.KeyPEM
	files["pki/sa.pub"] = []byte("-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n")

	kubeletPKI := filepath.Join(dir, "kubelet", "pki")
	kubeletClient := Must(Spec{CommonName: "system:node:cp-1", Organization: []string{"system:nodes"}, Client: true,
		NotBefore: at(now, -10), NotAfter: at(now, 20), Parent: ca})
	files["kubelet/pki/kubelet-client-current.pem"] = append(append([]byte(nil), kubeletClient.CertPEM...), kubeletClient.KeyPEM...)
	gen[filepath.Join(kubeletPKI, "kubelet-client-current.pem")] = kubeletClient.Cert.NotAfter
	// A rotated-out client certificate: expired, and not to be reported.
	old := Must(Spec{CommonName: "system:node:cp-1", Client: true, NotBefore: at(now, -400), NotAfter: at(now, -30), Parent: ca})
	files["kubelet/pki/kubelet-client-2020-01-01-00-00-00.pem"] = append(append([]byte(nil), old.CertPEM...), old.KeyPEM...)
	kubeletServing := Must(Spec{CommonName: "cp-1@1700000000", IsCA: true, Server: true, DNSNames: []string{"cp-1"},
		NotBefore: at(now, -300), NotAfter: at(now, 65)})
	add("kubelet/pki/kubelet.crt", kubeletServing)

	for _, kc := range []struct {
		file, user string
		days       float64
	}{
		{"admin.conf", "kubernetes-admin", 400},
		{"super-admin.conf", "kubernetes-super-admin", 3},
		{"controller-manager.conf", "system:kube-controller-manager", 20},
		{"scheduler.conf", "system:kube-scheduler", -1},
	} {
		p := Must(Spec{CommonName: kc.user, Client: true, NotBefore: at(now, -365), NotAfter: at(now, kc.days), Parent: ca})
		files[kc.file] = kubeconfig(kc.user, ca.CertPEM, "client-certificate-data: "+b64(p.CertPEM), "client-key-data: "+b64(p.KeyPEM))
		gen[filepath.Join(dir, kc.file)+":user/"+kc.user] = p.Cert.NotAfter
	}
	current := filepath.Join(kubeletPKI, "kubelet-client-current.pem")
	files["kubelet.conf"] = kubeconfig("system:node:cp-1", ca.CertPEM, "client-certificate: "+current, "client-key: "+current)
	gen[filepath.Join(dir, "kubelet.conf")+":user/system:node:cp-1 -> "+current] = kubeletClient.Cert.NotAfter
	return gen, writeFiles(dir, files)
}

func kubeconfig(user string, caPEM []byte, lines ...string) []byte {
	return []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: kubernetes
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority-data: %s
users:
- name: %s
  user:
    %s
contexts:
- name: %s@kubernetes
  context:
    cluster: kubernetes
    user: %s
current-context: %s@kubernetes
`, b64(caPEM), user, strings.Join(lines, "\n    "), user, user, user))
}

// Manifests returns YAML for Secrets, ConfigMaps and a webhook configuration
// in namespace ns holding certificates in every state a scan reports:
// expired, expiring in 3, 20 and 400 days, not yet valid, a CA expiring
// before its leaf, a 1024-bit RSA key, a SHA-1 signature, a tls.crt not
// issued by its ca.crt and broken PEM. The webhook fails open and selects
// nothing, so it never affects the cluster.
func Manifests(ns string, now time.Time) (string, Generated, error) {
	gen := Generated{}
	root := Must(Spec{CommonName: "demo-root-ca", IsCA: true, NotBefore: at(now, -30), NotAfter: at(now, 3650)})
	leaf := func(cn string, notBefore, notAfter float64, parent *Pair) *Pair {
		return Must(Spec{CommonName: cn, Server: true, DNSNames: []string{cn + "." + ns + ".svc"}, NotBefore: at(now, notBefore), NotAfter: at(now, notAfter), Parent: parent})
	}
	var objs []any
	secret := func(name string, typ corev1.SecretType, data map[string][]byte) {
		objs = append(objs, &corev1.Secret{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Type: typ, Data: data})
	}
	tlsSecret := func(name string, p *Pair, ca *Pair) {
		data := map[string][]byte{"tls.crt": p.CertPEM, "tls.key": p.KeyPEM}
		if ca != nil {
			data["ca.crt"] = ca.CertPEM
		}
		secret(name, corev1.SecretTypeTLS, data)
		gen["secret/"+ns+"/"+name+":tls.crt"] = p.Cert.NotAfter
	}
	gen["secret/"+ns+"/expired:ca.crt"] = root.Cert.NotAfter
	tlsSecret("expired", leaf("expired", -90, -2, root), root)
	tlsSecret("expires-3d", leaf("expires-3d", -87, 3, root), root)
	tlsSecret("expires-20d", leaf("expires-20d", -70, 20, root), root)
	tlsSecret("not-yet-valid", leaf("not-yet-valid", 2, 90, root), root)

	far := leaf("expires-400d", -1, 400, root)
	secret("expires-400d", corev1.SecretTypeOpaque, map[string][]byte{"server.pem": far.CertPEM, "password": []byte("not a certificate")})
	gen["secret/"+ns+"/expires-400d:server.pem"] = far.Cert.NotAfter

	shortCA := Must(Spec{CommonName: "short-lived-ca", IsCA: true, NotBefore: at(now, -5), NotAfter: at(now, 10)})
	longLeaf := leaf("outlives-its-ca", -5, 100, shortCA)
	tlsSecret("ca-before-leaf", longLeaf, shortCA)
	gen["secret/"+ns+"/ca-before-leaf:ca.crt"] = shortCA.Cert.NotAfter

	weak := Must(Spec{CommonName: "weak-rsa", RSABits: 1024, SignatureAlgorithm: x509.SHA1WithRSA, NotBefore: at(now, -1), NotAfter: at(now, 400),
		Parent: Must(Spec{CommonName: "weak-ca", IsCA: true, RSABits: 1024, NotBefore: at(now, -1), NotAfter: at(now, 3650)})})
	tlsSecret("weak", weak, nil)

	other := Must(Spec{CommonName: "other-ca", IsCA: true, NotBefore: at(now, -1), NotAfter: at(now, 3650)})
	wrong := leaf("wrong-ca", -1, 300, other)
	tlsSecret("wrong-ca", wrong, root)

	// Opaque: the API server warns about a kubernetes.io/tls Secret it cannot parse.
	secret("broken", corev1.SecretTypeOpaque, map[string][]byte{"tls.crt": []byte("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n")})

	inter := Must(Spec{CommonName: "bundle-intermediate", IsCA: true, NotBefore: at(now, -10), NotAfter: at(now, 20), Parent: root})
	objs = append(objs, &corev1.ConfigMap{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: "trust-bundle", Namespace: ns},
		Data:       map[string]string{"bundle.pem": string(Chain(inter, root)), "README": "CAs trusted by the demo"}})
	gen["configmap/"+ns+"/trust-bundle:bundle.pem"] = inter.Cert.NotAfter
	expiredCA := Must(Spec{CommonName: "expired-ca", IsCA: true, NotBefore: at(now, -400), NotAfter: at(now, -1)})
	objs = append(objs, &corev1.ConfigMap{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: "legacy-ca", Namespace: ns},
		Data:       map[string]string{"ca.crt": string(expiredCA.CertPEM)}})
	gen["configmap/"+ns+"/legacy-ca:ca.crt"] = expiredCA.Cert.NotAfter

	webhookCA := Must(Spec{CommonName: "webhook-ca", IsCA: true, NotBefore: at(now, -362), NotAfter: at(now, 3)})
	ignore := admissionregistrationv1.Ignore
	none := admissionregistrationv1.SideEffectClassNone
	path := "/validate"
	whName := ns + "-certs"
	objs = append(objs, &admissionregistrationv1.ValidatingWebhookConfiguration{
		TypeMeta:   metav1.TypeMeta{APIVersion: "admissionregistration.k8s.io/v1", Kind: "ValidatingWebhookConfiguration"},
		ObjectMeta: metav1.ObjectMeta{Name: whName},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name:                    "validate.certs.ktriage.io",
			ClientConfig:            admissionregistrationv1.WebhookClientConfig{Service: &admissionregistrationv1.ServiceReference{Namespace: ns, Name: "webhook", Path: &path}, CABundle: webhookCA.CertPEM},
			FailurePolicy:           &ignore,
			SideEffects:             &none,
			AdmissionReviewVersions: []string{"v1"},
			ObjectSelector:          &metav1.LabelSelector{MatchLabels: map[string]string{"ktriage.io/never": "selected"}},
			Rules: []admissionregistrationv1.RuleWithOperations{{Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
				Rule: admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"configmaps"}}}},
		}},
	})
	gen["validatingwebhookconfiguration/"+whName+":webhooks[validate.certs.ktriage.io].clientConfig.caBundle"] = webhookCA.Cert.NotAfter

	var b strings.Builder
	for _, o := range objs {
		y, err := yaml.Marshal(o)
		if err != nil {
			return "", nil, err
		}
		b.WriteString("---\n")
		b.Write(y)
	}
	return b.String(), gen, nil
}

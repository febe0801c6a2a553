package certs

import (
	"encoding/base64"
	"errors"
	"path/filepath"
	"reflect"
	"sort"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/ktriage/ktriage/pkg/certs/certtest"
	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/pkg/report"
)

func sources(ins []Input) []string {
	var out []string
	for _, in := range ins {
		out = append(out, in.Origin.String())
	}
	sort.Strings(out)
	return out
}

func findingIDs(fs []report.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.RuleID+"@"+f.Object.String())
	}
	sort.Strings(out)
	return out
}

func TestFromSnapshot(t *testing.T) {
	root := rootCA(t)
	leaf := leafFrom(root, -1, 100)
	url := "https://hooks.example:8443/validate"
	port := int32(443)
	snap := &cluster.Snapshot{
		Secrets: []*corev1.Secret{
			{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web-tls"}, Type: corev1.SecretTypeTLS,
				Data: map[string][]byte{"tls.crt": leaf.CertPEM, "tls.key": leaf.KeyPEM, "ca.crt": root.CertPEM}},
			{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "opaque"},
				Data: map[string][]byte{"client.pem": leaf.CertPEM, "password": []byte("hunter2"), "broken.crt": []byte("junk")}},
		},
		ConfigMaps: []*corev1.ConfigMap{
			{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "kube-root-ca.crt"}, Data: map[string]string{"ca.crt": string(root.CertPEM)}},
			{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "settings"}, Data: map[string]string{"app.yaml": "a: b"}},
		},
		ValidatingWebhooks: []*admissionregistrationv1.ValidatingWebhookConfiguration{{
			ObjectMeta: metav1.ObjectMeta{Name: "policy"},
			Webhooks: []admissionregistrationv1.ValidatingWebhook{
				{Name: "in-cluster.example", ClientConfig: admissionregistrationv1.WebhookClientConfig{CABundle: root.CertPEM,
					Service: &admissionregistrationv1.ServiceReference{Namespace: "policy", Name: "svc", Port: &port}}},
				{Name: "external.example", ClientConfig: admissionregistrationv1.WebhookClientConfig{CABundle: root.CertPEM, URL: &url}},
			},
		}},
		CSRs: []*certificatesv1.CertificateSigningRequest{
			{ObjectMeta: metav1.ObjectMeta{Name: "pending"}, Spec: certificatesv1.CertificateSigningRequestSpec{SignerName: "kubernetes.io/kubelet-serving"}},
			{ObjectMeta: metav1.ObjectMeta{Name: "approved"}, Spec: certificatesv1.CertificateSigningRequestSpec{SignerName: "example.com/none"},
				Status: certificatesv1.CertificateSigningRequestStatus{Conditions: []certificatesv1.CertificateSigningRequestCondition{{Type: certificatesv1.CertificateApproved, Status: corev1.ConditionTrue}}}},
			{ObjectMeta: metav1.ObjectMeta{Name: "denied"},
				Status: certificatesv1.CertificateSigningRequestStatus{Conditions: []certificatesv1.CertificateSigningRequestCondition{{Type: certificatesv1.CertificateDenied, Status: corev1.ConditionTrue}}}},
			{ObjectMeta: metav1.ObjectMeta{Name: "issued"},
				Status: certificatesv1.CertificateSigningRequestStatus{Certificate: leaf.CertPEM, Conditions: []certificatesv1.CertificateSigningRequestCondition{{Type: certificatesv1.CertificateApproved, Status: corev1.ConditionTrue}}}},
		},
		Other: []*unstructured.Unstructured{
			{Object: map[string]any{"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService", "metadata": map[string]any{"name": "v1beta1.metrics.k8s.io"},
				"spec":   map[string]any{"caBundle": base64.StdEncoding.EncodeToString(root.CertPEM), "service": map[string]any{"namespace": "kube-system", "name": "metrics-server"}},
				"status": map[string]any{"conditions": []any{map[string]any{"type": "Available", "status": "False", "message": `failing or missing response from https://10.0.0.5:443/apis/metrics.k8s.io/v1beta1: Get "https://10.0.0.5:443/apis/metrics.k8s.io/v1beta1": tls: failed to verify certificate: x509: certificate signed by unknown authority`}}}}},
			{Object: map[string]any{"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService", "metadata": map[string]any{"name": "v1.apps"}, "spec": map[string]any{}}},
			{Object: map[string]any{"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": map[string]any{"name": "widgets.example.com"},
				"spec": map[string]any{"conversion": map[string]any{"strategy": "Webhook", "webhook": map[string]any{"clientConfig": map[string]any{
					"caBundle": "%%%not base64", "service": map[string]any{"namespace": "widgets", "name": "conversion"}}}}}}},
		},
	}
	f := FromSnapshot(snap)
	wantSources := []string{
		"apiservice/v1beta1.metrics.k8s.io:spec.caBundle",
		"certificatesigningrequest/issued:status.certificate",
		"configmap/shop/kube-root-ca.crt:ca.crt",
		"customresourcedefinition/widgets.example.com:spec.conversion.webhook.clientConfig.caBundle",
		"secret/shop/opaque:broken.crt",
		"secret/shop/opaque:client.pem",
		"secret/shop/web-tls:ca.crt",
		"secret/shop/web-tls:tls.crt",
		"validatingwebhookconfiguration/policy:webhooks[external.example].clientConfig.caBundle",
		"validatingwebhookconfiguration/policy:webhooks[in-cluster.example].clientConfig.caBundle",
	}
	if got := sources(f.Inputs); !reflect.DeepEqual(got, wantSources) {
		t.Errorf("inputs:\n got %q\nwant %q", got, wantSources)
	}
	wantFindings := []string{
		"CE110@apiservice/v1beta1.metrics.k8s.io",
		"CE111@certificatesigningrequest/pending",
		"CE112@certificatesigningrequest/approved",
		"CE114@customresourcedefinition/widgets.example.com",
		"CE114@validatingwebhookconfiguration/policy",
	}
	if got := findingIDs(f.Findings); !reflect.DeepEqual(got, wantFindings) {
		t.Errorf("findings:\n got %q\nwant %q", got, wantFindings)
	}
	if len(f.Endpoints) != 1 || f.Endpoints[0].Address != "hooks.example:8443" || f.Endpoints[0].ServerName != "hooks.example" || f.Endpoints[0].MismatchRule != RuleCABundleMismatch {
		t.Errorf("endpoints %+v", f.Endpoints)
	}
	// The whole lot analyses without surprises: the broken key and the bad
	// base64 are CE113, the root is one certificate found in many places.
	res := Analyze(f.Inputs, opts())
	r := rulesOf(res.Findings)
	if r[RuleUnreadable] == 0 {
		t.Errorf("want CE113 for broken.crt and the CRD's caBundle, got %v", r)
	}
	if len(res.Certificates) != 2 {
		t.Errorf("want the root and the leaf once each, got %d certificates", len(res.Certificates))
	}
}

func TestFromKubeconfig(t *testing.T) {
	root := rootCA(t)
	client := certtest.Must(certtest.Spec{CommonName: "alice", Client: true, NotBefore: days(-1), NotAfter: days(20), Parent: root})
	files := map[string][]byte{"/home/alice/.kube/alice.crt": client.CertPEM}
	read := func(p string) ([]byte, error) {
		if d, ok := files[p]; ok {
			return d, nil
		}
		return nil, errors.New("no such file or directory")
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["prod"] = &clientcmdapi.Cluster{Server: "https://10.0.0.1:6443", CertificateAuthorityData: root.CertPEM, TLSServerName: "api.prod"}
	cfg.Clusters["dev"] = &clientcmdapi.Cluster{Server: "https://dev.example", CertificateAuthority: "missing-ca.crt", LocationOfOrigin: "/home/alice/.kube/config"}
	cfg.AuthInfos["alice"] = &clientcmdapi.AuthInfo{ClientCertificate: "alice.crt", LocationOfOrigin: "/home/alice/.kube/config"}
	cfg.AuthInfos["token"] = &clientcmdapi.AuthInfo{Token: "x"}
	cfg.Contexts["prod"] = &clientcmdapi.Context{Cluster: "prod", AuthInfo: "alice"}
	cfg.Contexts["prod-token"] = &clientcmdapi.Context{Cluster: "prod", AuthInfo: "token"}
	cfg.Contexts["dev"] = &clientcmdapi.Context{Cluster: "dev", AuthInfo: "alice"}

	ins, eps, err := FromKubeconfig(cfg, KubeconfigOptions{Path: "/home/alice/.kube/config", Read: read})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"kubeconfig/dev:certificate-authority",
		"kubeconfig/dev:client-certificate",
		"kubeconfig/prod-token:certificate-authority",
		"kubeconfig/prod:certificate-authority",
		"kubeconfig/prod:client-certificate",
	}
	if got := sources(ins); !reflect.DeepEqual(got, want) {
		t.Errorf("inputs:\n got %q\nwant %q", got, want)
	}
	for _, in := range ins {
		if in.Origin.Key == "certificate-authority" && in.Origin.Context == "dev" {
			if in.Err == nil || in.Origin.File != filepath.Join("/home/alice/.kube", "missing-ca.crt") || in.Origin.Path != "/home/alice/.kube/config" {
				t.Errorf("a CA path relative to the kubeconfig that is missing: %+v", in)
			}
		}
	}
	// prod and prod-token share one server and CA: one handshake.
	var addrs []string
	for _, ep := range eps {
		addrs = append(addrs, ep.Address+"/"+ep.ServerName)
	}
	sort.Strings(addrs)
	if wantEP := []string{"10.0.0.1:6443/api.prod", "dev.example:443/dev.example"}; !reflect.DeepEqual(addrs, wantEP) {
		t.Errorf("endpoints %q, want %q", addrs, wantEP)
	}
	if _, _, err := FromKubeconfig(cfg, KubeconfigOptions{Contexts: []string{"nope"}}); err == nil {
		t.Errorf("an unknown context must be an error")
	}
}

func TestIsKubeconfig(t *testing.T) {
	root := rootCA(t)
	cases := map[string]struct {
		data []byte
		want bool
	}{
		"a kubeconfig":          {[]byte("apiVersion: v1\nkind: Config\nclusters:\n- name: a\n  cluster: {server: https://x}\n"), true},
		"a PEM certificate":     {root.CertPEM, false},
		"a Secret manifest":     {[]byte("apiVersion: v1\nkind: Secret\nmetadata: {name: a}\n"), false},
		"YAML mentioning users": {[]byte("users: 3\n"), false},
		"binary data":           {root.Cert.Raw, false},
	}
	for name, tc := range cases {
		if got := IsKubeconfig(tc.data); got != tc.want {
			t.Errorf("%s: IsKubeconfig = %v", name, got)
		}
	}
}

// A certificate a kubeconfig names by path is reported under the kubeconfig
// that names it, and the file it was read from.
func TestKubeconfigFileReferencesKeepTheKubeconfig(t *testing.T) {
	root := rootCA(t)
	client := certtest.Must(certtest.Spec{CommonName: "system:node:cp-1", Client: true, NotBefore: days(-1), NotAfter: days(20), Parent: root})
	const current = "/var/lib/kubelet/pki/kubelet-client-current.pem"
	read := func(p string) ([]byte, error) {
		if p == current {
			return client.CertPEM, nil
		}
		return nil, errors.New("no such file or directory")
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["kubernetes"] = &clientcmdapi.Cluster{Server: "https://127.0.0.1:6443", CertificateAuthorityData: root.CertPEM, LocationOfOrigin: "/etc/kubernetes/kubelet.conf"}
	cfg.AuthInfos["system:node:cp-1"] = &clientcmdapi.AuthInfo{ClientCertificate: current, LocationOfOrigin: "/etc/kubernetes/kubelet.conf"}
	cfg.Contexts["system:node:cp-1@kubernetes"] = &clientcmdapi.Context{Cluster: "kubernetes", AuthInfo: "system:node:cp-1"}

	for typ, want := range map[string]string{
		OriginPKI:  "/etc/kubernetes/kubelet.conf:user/system:node:cp-1 -> " + current,
		OriginFile: "/etc/kubernetes/kubelet.conf:user/system:node:cp-1 -> " + current,
	} {
		ins, _, err := FromKubeconfig(cfg, KubeconfigOptions{Path: "/etc/kubernetes/kubelet.conf", AsFile: true, OriginType: typ, Read: read})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, in := range ins {
			if in.Origin.Key == "user/system:node:cp-1" {
				got = append(got, in.Origin.String())
				if in.Origin.Path != "/etc/kubernetes/kubelet.conf" || in.Origin.File != current || in.Err != nil {
					t.Errorf("%s: origin %+v, err %v", typ, in.Origin, in.Err)
				}
			}
		}
		if len(got) != 1 || got[0] != want {
			t.Errorf("%s: sources %q, want %q", typ, got, want)
		}
		res := Analyze(ins, opts())
		if len(res.Certificates) != 2 || res.Certificates[0].Source != want {
			t.Errorf("%s: the client certificate is reported as %+v", typ, res.Certificates)
		}
	}
}

// A context whose CA file cannot be read is no reason to verify its server
// against the system roots: the unreadable CA is the finding, the host name
// is still checked.
func TestUnreadableCAFileSkipsTheServedChain(t *testing.T) {
	root := rootCA(t)
	read := func(string) ([]byte, error) { return nil, errors.New("permission denied") }
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["dev"] = &clientcmdapi.Cluster{Server: "https://web.example:6443", CertificateAuthority: "/etc/dev/ca.crt"}
	cfg.Clusters["sys"] = &clientcmdapi.Cluster{Server: "https://web.example:6443"}
	cfg.Contexts["dev"] = &clientcmdapi.Context{Cluster: "dev"}
	cfg.Contexts["sys"] = &clientcmdapi.Context{Cluster: "sys"}
	ins, eps, err := FromKubeconfig(cfg, KubeconfigOptions{Path: "/home/alice/.kube/config", Read: read})
	if err != nil {
		t.Fatal(err)
	}
	if len(eps) != 2 {
		t.Fatalf("want one endpoint per trust: %+v", eps)
	}
	for _, ep := range eps {
		if skip := ep.Origin.Context == "dev"; ep.SkipChain != skip {
			t.Errorf("context %s: SkipChain %v, want %v", ep.Origin.Context, ep.SkipChain, skip)
		}
	}
	for _, host := range []string{"web.example", "other.example"} {
		for _, ep := range eps {
			if ep.Origin.Context != "dev" {
				continue
			}
			ep.ServerName = host
			res := Analyze(append(append([]Input(nil), ins...), ep.Input(leafFrom(root, -1, 300).CertPEM)), opts())
			rules := rulesOf(res.Findings)
			if _, ok := rules[RuleChainInvalid]; ok {
				t.Errorf("%s: CE106 against roots the client does not use: %v", host, res.Findings)
			}
			if _, ok := rules[RuleUnreadable]; !ok {
				t.Errorf("%s: the unreadable CA file is not reported: %v", host, res.Findings)
			}
			if _, ok := rules[RuleHostnameMismatch]; ok != (host != "web.example") {
				t.Errorf("%s: CE107 %v: %v", host, ok, res.Findings)
			}
		}
	}
}

// A kubeconfig file is checked as a whole: users and clusters no context
// names are read too, and a client certificate file that is missing is
// reported.
func TestKubeconfigFileUnreferencedEntries(t *testing.T) {
	root := rootCA(t)
	spare := certtest.Must(certtest.Spec{CommonName: "spare-ca", IsCA: true, NotBefore: days(-1), NotAfter: days(3650)})
	client := certtest.Must(certtest.Spec{CommonName: "alice", Client: true, NotBefore: days(-1), NotAfter: days(20), Parent: root})
	read := func(string) ([]byte, error) { return nil, errors.New("no such file or directory") }
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["prod"] = &clientcmdapi.Cluster{Server: "https://10.0.0.1:6443", CertificateAuthorityData: root.CertPEM}
	cfg.Clusters["spare"] = &clientcmdapi.Cluster{Server: "https://10.0.0.2:6443", CertificateAuthorityData: spare.CertPEM}
	cfg.AuthInfos["alice"] = &clientcmdapi.AuthInfo{ClientCertificateData: client.CertPEM}
	cfg.AuthInfos["ci"] = &clientcmdapi.AuthInfo{ClientCertificate: "ci.crt"}
	cfg.AuthInfos["token"] = &clientcmdapi.AuthInfo{Token: "x"}
	cfg.Contexts["prod"] = &clientcmdapi.Context{Cluster: "prod", AuthInfo: "alice"}

	ins, _, err := FromKubeconfig(cfg, KubeconfigOptions{Path: "/ci/kubeconfig", AsFile: true, OriginType: OriginFile, Read: read})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"/ci/kubeconfig:cluster/prod",
		"/ci/kubeconfig:cluster/spare",
		"/ci/kubeconfig:user/alice",
		"/ci/kubeconfig:user/ci -> /ci/ci.crt",
	}
	if got := sources(ins); !reflect.DeepEqual(got, want) {
		t.Errorf("inputs:\n got %q\nwant %q", got, want)
	}
	res := Analyze(ins, opts())
	if f := rulesOf(res.Findings); f[RuleUnreadable] != report.SeverityWarning {
		t.Errorf("the missing ci.crt is not reported: %v", res.Findings)
	}
	if len(res.Certificates) != 3 {
		t.Errorf("want prod's CA, spare's CA and alice's certificate: %+v", res.Certificates)
	}

	// The kubeconfig of kubectl is read by context: its other entries are
	// not in use.
	ins, _, err = FromKubeconfig(cfg, KubeconfigOptions{Path: "/home/alice/.kube/config", Read: read})
	if err != nil {
		t.Fatal(err)
	}
	if got := sources(ins); len(got) != 2 {
		t.Errorf("kubectl's kubeconfig: %q", got)
	}
}

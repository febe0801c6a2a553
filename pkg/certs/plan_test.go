package certs

import (
	"crypto/x509"
	"errors"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ktriage/ktriage/pkg/cluster"
)

func sourcesOf(p Plan) string {
	var on []string
	for _, s := range append(append([]string(nil), AllSources...), SourceFiles) {
		if p.Sources[s] {
			on = append(on, s)
		}
	}
	return strings.Join(on, ",")
}

func TestPlanSources(t *testing.T) {
	cases := []struct {
		name          string
		sources       []string
		files, probe  bool
		want, named   string
		clusterNamed  bool
		input         string
		readsCluster  bool
		readsKubeconf bool
	}{
		{name: "no flag reads every source but the kubelets",
			want: "kubeconfig,served,pki,cluster", input: "files+cluster", readsCluster: true, readsKubeconf: true},
		{name: "-f alone reads only the files", files: true,
			want: "files", input: "files"},
		{name: "--probe-kubelets adds the kubelets to the defaults", probe: true,
			want: "kubeconfig,served,pki,cluster,kubelets", input: "files+cluster", readsCluster: true, readsKubeconf: true},
		{name: "--sources names exactly what is read, in any case and spacing", sources: []string{" Cluster", "served "},
			want: "served,cluster", named: "served,cluster", clusterNamed: true, input: "cluster", readsCluster: true, readsKubeconf: true},
		{name: "--sources with -f reads both", sources: []string{"pki"}, files: true,
			want: "pki,files", named: "pki", input: "files"},
		{name: "--sources kubelets names the cluster", sources: []string{"kubelets"},
			want: "kubelets", named: "kubelets", clusterNamed: true, input: "cluster", readsCluster: true},
		{name: "--sources files with -f", sources: []string{"files"}, files: true,
			want: "files", named: "files", input: "files"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := PlanSources(tc.sources, tc.files, tc.probe)
			if err != nil {
				t.Fatal(err)
			}
			if got := sourcesOf(p); got != tc.want {
				t.Errorf("sources %s, want %s", got, tc.want)
			}
			if got := sourcesOf(Plan{Sources: p.Named}); got != tc.named {
				t.Errorf("named %s, want %s", got, tc.named)
			}
			if p.ClusterNamed() != tc.clusterNamed || p.InputKind() != tc.input || p.ReadsCluster() != tc.readsCluster || p.ReadsKubeconfig() != tc.readsKubeconf {
				t.Errorf("clusterNamed %v, input %s, readsCluster %v, readsKubeconfig %v", p.ClusterNamed(), p.InputKind(), p.ReadsCluster(), p.ReadsKubeconfig())
			}
		})
	}
	for _, bad := range []struct {
		sources []string
		files   bool
		want    string
	}{
		{[]string{"etcd"}, false, `--sources: unknown source "etcd": use kubeconfig, served, pki, cluster, kubelets`},
		{[]string{"files"}, false, "--sources files needs -f FILE"},
	} {
		if _, err := PlanSources(bad.sources, bad.files, false); err == nil || err.Error() != bad.want {
			t.Errorf("PlanSources(%v): %v, want %s", bad.sources, err, bad.want)
		}
	}
}

func TestPlanQueries(t *testing.T) {
	all, _ := PlanSources(nil, false, true)
	secrets := cluster.Query{Kind: cluster.KindSecret, Optional: true, FieldSelector: "type!=helm.sh/release.v1"}
	configMaps := cluster.Query{Kind: cluster.KindConfigMap, Optional: true}
	nodes := cluster.Query{Kind: cluster.KindNode}
	want := []cluster.Query{secrets, configMaps,
		{Kind: cluster.KindValidatingWebhook, Optional: true},
		{Kind: cluster.KindMutatingWebhook, Optional: true},
		{Kind: cluster.KindAPIService, Optional: true},
		{Kind: cluster.KindCRD, Optional: true},
		{Kind: cluster.KindCSR, Optional: true},
		nodes}
	if got := all.Queries(""); !reflect.DeepEqual(got, want) {
		t.Errorf("every namespace:\n got %+v\nwant %+v", got, want)
	}
	// One namespace: its Secrets and ConfigMaps, nothing cluster-scoped but
	// the nodes the kubelets are found by.
	secrets.Namespace, configMaps.Namespace = "ingress", "ingress"
	if got := all.Queries("ingress"); !reflect.DeepEqual(got, []cluster.Query{secrets, configMaps, nodes}) {
		t.Errorf("one namespace: %+v", got)
	}
	kubelets, _ := PlanSources([]string{"kubelets"}, false, false)
	if got := kubelets.Queries(""); !reflect.DeepEqual(got, []cluster.Query{nodes}) {
		t.Errorf("kubelets only: %+v", got)
	}
	files, _ := PlanSources(nil, true, false)
	if got := files.Queries(""); len(got) != 0 {
		t.Errorf("files only list nothing: %+v", got)
	}
}

func node(name string, port int32, addrs ...corev1.NodeAddress) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.NodeStatus{Addresses: addrs}}
	n.Status.DaemonEndpoints.KubeletEndpoint.Port = port
	return n
}

func TestPlanDials(t *testing.T) {
	served := Endpoint{Origin: Origin{Type: OriginServed, Endpoint: "https://10.0.0.1:6443"}, Address: "10.0.0.1:6443"}
	webhook := Endpoint{Origin: Origin{Type: OriginWebhook, Endpoint: "https://hook.example:8443/x"}, Address: "hook.example:8443"}
	nodes := []*corev1.Node{
		node("n1", 0, corev1.NodeAddress{Type: corev1.NodeHostName, Address: "n1"}, corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: "10.0.0.7"}),
		node("n2", 12345, corev1.NodeAddress{Type: corev1.NodeExternalIP, Address: "fd00::2"}),
		node("bare", 0),
	}
	addresses := func(d Dials) string {
		var out []string
		for _, e := range d.Endpoints {
			out = append(out, e.Address)
		}
		return strings.Join(out, " ")
	}
	cases := []struct {
		sources []string
		probe   bool
		want    string
		warning bool
	}{
		{nil, false, "10.0.0.1:6443 hook.example:8443", false},
		{nil, true, "10.0.0.1:6443 hook.example:8443 10.0.0.7:10250 [fd00::2]:12345", true},
		{[]string{"kubeconfig", "cluster"}, false, "hook.example:8443", false},
		{[]string{"served"}, false, "10.0.0.1:6443", false},
		{[]string{"kubelets"}, false, "10.0.0.7:10250 [fd00::2]:12345", true},
	}
	for _, tc := range cases {
		p, err := PlanSources(tc.sources, false, tc.probe)
		if err != nil {
			t.Fatal(err)
		}
		d := p.Dials([]Endpoint{served}, []Endpoint{webhook}, nodes)
		if got := addresses(d); got != tc.want {
			t.Errorf("--sources %v --probe-kubelets=%v dials %q, want %q", tc.sources, tc.probe, got, tc.want)
		}
		if w := d.Warning(); (w != "") != tc.warning || tc.warning && !strings.Contains(w, "node(s) bare report no address") {
			t.Errorf("--sources %v: warning %q", tc.sources, w)
		}
	}
	p, _ := PlanSources([]string{"kubelets"}, false, false)
	k := p.Dials(nil, nil, nodes).Endpoints[0]
	if !k.Insecure || k.Origin.String() != "kubelet/n1 https://10.0.0.7:10250" || k.Ref.Kind != "Node" || k.Ref.Name != "n1" {
		t.Errorf("kubelet endpoint %+v", k)
	}
}

func TestKubeletEndpointsUseAnyAddressAndNameNodesWithout(t *testing.T) {
	dnsOnly := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "dns-only"},
		Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalDNS, Address: "ip-10-0-0-7.internal"}}}}
	none := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "bare"}}
	eps, unaddressed := KubeletEndpoints([]*corev1.Node{dnsOnly, none})
	if len(eps) != 1 || eps[0].Address != "ip-10-0-0-7.internal:10250" {
		t.Errorf("want the InternalDNS address used, got %+v", eps)
	}
	if len(unaddressed) != 1 || unaddressed[0] != "bare" {
		t.Errorf("want the node without an address named, got %v", unaddressed)
	}
}

func TestFromHandshakes(t *testing.T) {
	pair := leafFrom(rootCA(t), -1, 100)
	ep := func(name string) Endpoint {
		return Endpoint{Origin: Origin{Type: OriginKubelet, Name: name, Endpoint: "https://" + name + ":10250"}, Address: name + ":10250", Insecure: true, Group: "kubelet/" + name}
	}
	hs := []Handshake{
		{Endpoint: ep("ok"), Chain: []*x509.Certificate{pair.Cert}},
		{Endpoint: ep("refused"), Err: errors.New("dial tcp: connection refused")},
	}
	for i := range 7 {
		hs = append(hs, Handshake{Endpoint: ep("late" + string(rune('a'+i))), Err: errors.New("no answer before the run's deadline"), CutShort: true})
	}
	inputs, findings, warning := FromHandshakes(hs)
	if len(inputs) != 1 || inputs[0].Served == nil || !inputs[0].Served.Insecure || inputs[0].Origin.Name != "ok" {
		t.Errorf("inputs %+v", inputs)
	}
	if len(findings) != 8 || findings[0].RuleID != RuleUnreachable ||
		findings[0].Message != "TLS handshake with kubelet/refused https://refused:10250 (refused:10250) failed: dial tcp: connection refused" ||
		findings[0].Object.Path != "kubelet/refused https://refused:10250" {
		t.Errorf("findings %+v", findings)
	}
	want := "7 TLS handshake(s) did not answer before the run ended: kubelet/latea https://latea:10250, kubelet/lateb https://lateb:10250, " +
		"kubelet/latec https://latec:10250, kubelet/lated https://lated:10250, kubelet/latee https://latee:10250 and 2 more; their served certificates are not in the report"
	if warning != want {
		t.Errorf("warning\n %s\nwant\n %s", warning, want)
	}
	if _, _, w := FromHandshakes(hs[:2]); w != "" {
		t.Errorf("a refused handshake is a finding, not a warning: %q", w)
	}
}

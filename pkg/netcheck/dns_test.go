package netcheck

import (
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func dnsPod(policy corev1.DNSPolicy, hostNet bool, cfg *corev1.PodDNSConfig) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "p"},
		Spec: corev1.PodSpec{DNSPolicy: policy, HostNetwork: hostNet, DNSConfig: cfg}}
}

func TestPodResolvConfFollowsTheKubelet(t *testing.T) {
	two := "2"
	cases := []struct {
		name        string
		pod         *corev1.Pod
		searches    []string
		nameservers []string
		ndots       int
		nodeUnknown bool
	}{
		{"ClusterFirst gets the namespace, svc and domain searches, the cluster DNS and ndots:5",
			dnsPod(corev1.DNSClusterFirst, false, nil),
			[]string{"shop.svc.cluster.local", "svc.cluster.local", "cluster.local"}, []string{"10.96.0.10"}, 5, true},
		{"an empty dnsPolicy is ClusterFirst, the API default",
			dnsPod("", false, nil),
			[]string{"shop.svc.cluster.local", "svc.cluster.local", "cluster.local"}, []string{"10.96.0.10"}, 5, true},
		{"ClusterFirst on a host-network pod falls back to Default: the node's resolv.conf, ndots 1",
			dnsPod(corev1.DNSClusterFirst, true, nil), nil, nil, 1, true},
		{"ClusterFirstWithHostNet on a host-network pod keeps the cluster searches",
			dnsPod(corev1.DNSClusterFirstWithHostNet, true, nil),
			[]string{"shop.svc.cluster.local", "svc.cluster.local", "cluster.local"}, []string{"10.96.0.10"}, 5, true},
		{"None uses only dnsConfig, so without ndots in it the resolver default 1 applies",
			dnsPod(corev1.DNSNone, false, &corev1.PodDNSConfig{Nameservers: []string{"1.1.1.1"}, Searches: []string{"corp.example"}}),
			[]string{"corp.example"}, []string{"1.1.1.1"}, 1, false},
		{"dnsConfig searches are appended after the cluster ones and its ndots overrides the kubelet's 5",
			dnsPod(corev1.DNSClusterFirst, false, &corev1.PodDNSConfig{Searches: []string{"corp.example", "svc.cluster.local"}, Options: []corev1.PodDNSConfigOption{{Name: "ndots", Value: &two}}}),
			[]string{"shop.svc.cluster.local", "svc.cluster.local", "cluster.local", "corp.example"}, []string{"10.96.0.10"}, 2, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rc := PodResolvConf(c.pod, "", []string{"10.96.0.10"})
			if !reflect.DeepEqual(rc.Searches, c.searches) || !reflect.DeepEqual(rc.Nameservers, c.nameservers) || rc.Ndots != c.ndots || rc.NodeSearchesUnknown != c.nodeUnknown {
				t.Errorf("got searches %v nameservers %v ndots %d nodeUnknown %v", rc.Searches, rc.Nameservers, rc.Ndots, rc.NodeSearchesUnknown)
			}
		})
	}
}

func TestSearchListLimitsDropOverlongDomains(t *testing.T) {
	long := make([]byte, 254)
	for i := range long {
		long[i] = 'a'
	}
	pod := dnsPod(corev1.DNSNone, false, &corev1.PodDNSConfig{Searches: []string{"ok.example", string(long)}})
	if got := PodResolvConf(pod, "", nil).Searches; !reflect.DeepEqual(got, []string{"ok.example"}) {
		t.Errorf("searches = %v, want the 254-character domain dropped as the kubelet does", got)
	}
}

func TestParseResolvConfLastSearchWinsAndOptionsOverride(t *testing.T) {
	rc := ParseResolvConf("# generated\nsearch a.example b.example\nnameserver 10.96.0.10\nsearch shop.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5 attempts:2\noptions ndots:3\n")
	if !reflect.DeepEqual(rc.Searches, []string{"shop.svc.cluster.local", "svc.cluster.local", "cluster.local"}) {
		t.Errorf("searches = %v", rc.Searches)
	}
	if rc.Ndots != 3 || !reflect.DeepEqual(rc.Nameservers, []string{"10.96.0.10"}) || rc.Source != "pod" {
		t.Errorf("ndots %d nameservers %v source %s", rc.Ndots, rc.Nameservers, rc.Source)
	}
	if d := ClusterDomainFrom(rc); d != "cluster.local" {
		t.Errorf("cluster domain = %q", d)
	}
}

func TestExpandName(t *testing.T) {
	rc := ResolvConf{Searches: []string{"shop.svc.cluster.local", "svc.cluster.local", "cluster.local"}, Ndots: 5}
	cases := []struct {
		name string
		in   string
		rc   ResolvConf
		want []string
	}{
		{"a short name with fewer dots than ndots tries every search domain first and itself last",
			"web", rc, []string{"web.shop.svc.cluster.local.", "web.svc.cluster.local.", "web.cluster.local.", "web."}},
		{"an external name with 2 dots under ndots:5 costs 4 queries, the search domains first",
			"api.example.com", rc, []string{"api.example.com.shop.svc.cluster.local.", "api.example.com.svc.cluster.local.", "api.example.com.cluster.local.", "api.example.com."}},
		{"a trailing dot makes the name absolute: one query",
			"api.example.com.", rc, []string{"api.example.com."}},
		{"a name with at least ndots dots is tried as is first",
			"a.b.c", ResolvConf{Searches: []string{"x.local"}, Ndots: 2}, []string{"a.b.c.", "a.b.c.x.local."}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := ExpandName(c.in, c.rc); !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestAnalyzeDNS(t *testing.T) {
	rc := ResolvConf{Searches: []string{"shop.svc.cluster.local", "svc.cluster.local", "cluster.local"}, Ndots: 5}
	exists := func(q ClusterName) Existence {
		return Known(q.Kind == "service" && q.Namespace == "db" && q.Name == "pg")
	}

	a := AnalyzeDNS("pg.db", rc, "cluster.local", exists)
	if a.Resolves != "yes" || a.Lookups != 2 || a.Service == nil || a.Service.Name != "pg" || a.Service.Namespace != "db" {
		t.Errorf("pg.db from shop: want the second query pg.db.svc.cluster.local to find service db/pg, got %+v", a)
	}
	if a.Hint == "" {
		t.Error("pg.db costs two lookups: want a hint naming the one-lookup spelling")
	}

	a = AnalyzeDNS("nosuch", rc, "cluster.local", exists)
	if a.Resolves != "unknown" || a.Lookups != 4 {
		t.Errorf("nosuch: the last query nosuch. leaves the cluster domain, so the answer is unknown after 4 queries; got %+v", a)
	}

	a = AnalyzeDNS("nosuch.shop.svc.cluster.local.", rc, "cluster.local", exists)
	if a.Resolves != "no" || a.Lookups != 1 || a.Queries[0].Answer != "nxdomain" {
		t.Errorf("an absolute cluster name of a missing Service must be NXDOMAIN after one query; got %+v", a)
	}
}

func TestAForbiddenLookupIsUnknownNotNXDOMAIN(t *testing.T) {
	rc := ResolvConf{Searches: []string{"shop.svc.cluster.local", "svc.cluster.local", "cluster.local"}, Ndots: 5}
	forbidden := func(q ClusterName) Existence { return Unknown }
	a := AnalyzeDNS("web.shop.svc.cluster.local.", rc, "cluster.local", forbidden)
	if a.Resolves != "unknown" || len(a.Unchecked) != 1 || a.Unchecked[0] != "web.shop.svc.cluster.local." || a.Queries[0].Answer != "" {
		t.Errorf("a Service that could not be read: want unknown with the name unchecked, got %+v", a)
	}
}

func TestParseClusterName(t *testing.T) {
	cases := map[string]ClusterName{
		"web.shop.svc.cluster.local.":     {Kind: "service", Namespace: "shop", Name: "web"},
		"db-0.db.shop.svc.cluster.local":  {Kind: "endpoint", Namespace: "shop", Name: "db", Host: "db-0"},
		"10-0-0-1.shop.pod.cluster.local": {Kind: "pod", Namespace: "shop", Name: "10-0-0-1"},
		"web.cluster.local.":              {Kind: "invalid"},
	}
	for in, want := range cases {
		got, ok := ParseClusterName(in, "cluster.local")
		if !ok || got != want {
			t.Errorf("%s: got %+v %v, want %+v", in, got, ok, want)
		}
	}
	if _, ok := ParseClusterName("example.com.", "cluster.local"); ok {
		t.Error("example.com is outside the cluster domain")
	}
}

func TestANameThatNeedsTheSearchListDespiteNdotsFailsWithMusl(t *testing.T) {
	rc := ResolvConf{Ndots: 1, Searches: []string{"shop.svc.cluster.local", "svc.cluster.local", "cluster.local"}}
	exists := func(q ClusterName) Existence {
		return Known(q.Kind == "service" && q.Namespace == "payments" && q.Name == "api")
	}
	a := AnalyzeDNS("api.payments", rc, "cluster.local", exists)
	if a.Resolves != "yes" || !strings.Contains(a.Musl, "musl") || !strings.Contains(a.Musl, "api.payments.svc.cluster.local.") {
		t.Errorf("glibc resolves it through svc.cluster.local, musl does not: %+v", a)
	}
	rc.Ndots = 5
	if a := AnalyzeDNS("api.payments", rc, "cluster.local", exists); a.Musl != "" {
		t.Errorf("with fewer dots than ndots both resolvers search first: %q", a.Musl)
	}
}

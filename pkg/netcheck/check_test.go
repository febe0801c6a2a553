package netcheck

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/pkg/netcheck/netchecktest"
	netprobe "github.com/ktriage/ktriage/pkg/probe"
	"github.com/ktriage/ktriage/pkg/probe/result"
)

// pod is a ready pod of namespace shop labelled app=NAME on node-1.
func pod(name, ip string, ports ...corev1.ContainerPort) *corev1.Pod {
	return netchecktest.Pod(name, ip, ports...)
}

// world is a namespace with a frontend, an api behind a Service, and a
// database only the api may reach.
func world() []runtime.Object { return netchecktest.Shop() }

// memReads makes a check's reads from an in-memory cluster.
func memReads(cl *netchecktest.Cluster) ReadFunc {
	return func(_ context.Context, r Read) (ReadResult, error) {
		s, a, err := cl.Read(r.Kind, r.Name, r.Query())
		return ReadResult{Objects: s, IPAddress: a, Refused: err}, nil
	}
}

// planLive resolves chk against cl as the plugin does: the first reads,
// then those the plan misses, round by round.
func planLive(t *testing.T, cl *netchecktest.Cluster, chk Check) (*Plan, error) {
	t.Helper()
	objs, read := NewLiveObjects(), memReads(cl)
	if err := objs.Load(context.Background(), FirstReads(chk), read); err != nil {
		t.Fatal(err)
	}
	var p *Plan
	err := objs.Complete(context.Background(), read, func() (err error) { p, err = PlanCheck(objs, chk); return err })
	return p, err
}

// runLive answers chk from cl without a probe, as the plugin does.
func runLive(t *testing.T, cl *netchecktest.Cluster, chk Check) (*Result, error) {
	t.Helper()
	return Answer(context.Background(), chk, memReads(cl), nil)
}

// live answers chk from cl without a probe, and returns what it read.
func live(t *testing.T, cl *netchecktest.Cluster, chk Check) (*Result, *Objects, error) {
	t.Helper()
	p, err := planLive(t, cl, chk)
	if err != nil {
		return nil, nil, err
	}
	var res *Result
	err = p.c.objs.Complete(context.Background(), memReads(cl), func() (err error) { res, err = p.Conclude(nil); return err })
	return res, p.c.objs, err
}

// runCheck answers SRC DST [--port PORT] [--protocol PROTOCOL] in namespace
// shop of world(), without a probe.
func runCheck(t *testing.T, args ...string) (*Result, error) {
	t.Helper()
	return runCheckWith(t, nil, args...)
}

// runCheckWith runs against world() plus extra objects.
func runCheckWith(t *testing.T, extra []runtime.Object, args ...string) (*Result, error) {
	t.Helper()
	chk := Check{Src: args[0], Dst: args[1], Protocol: "tcp", NoProbe: true, Namespace: "shop"}
	for i := 2; i+1 < len(args); i += 2 {
		switch args[i] {
		case "--port":
			chk.Port = args[i+1]
		case "--protocol":
			chk.Protocol = args[i+1]
		}
	}
	if err := chk.Validate(); err != nil {
		return nil, err
	}
	return runLive(t, netchecktest.NewCluster(append(world(), extra...)...), chk)
}

// forbid makes the cluster refuse reads of resource in namespace ns.
func forbid(cs *netchecktest.Cluster, _, resource, ns string) {
	kinds := map[string]cluster.Kind{"services": cluster.KindService, "networkpolicies": cluster.KindNetworkPolicy}
	cs.Forbid(kinds[resource], ns)
}

func checkWith(t *testing.T, cs *netchecktest.Cluster, src, dst string) *Result {
	t.Helper()
	chk := Check{Protocol: "tcp", NoProbe: true, Src: src, Dst: dst, Namespace: "shop"}
	if err := chk.Validate(); err != nil {
		t.Fatal(err)
	}
	rep, err := runLive(t, cs, chk)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// byClusterIP finds the Service holding ip as a ClusterIP, reading what it
// needs from cs.
func byClusterIP(t *testing.T, cs *netchecktest.Cluster, ip string) *corev1.Service {
	t.Helper()
	c := newChecker(NewLiveObjects(), Check{Namespace: "shop"})
	var s *corev1.Service
	if err := c.objs.Complete(context.Background(), memReads(cs), func() (err error) { s, err = c.serviceByClusterIP(ip); return err }); err != nil {
		t.Fatal(err)
	}
	return s
}

// dnsService is a Service like kube-dns: port 53 once per protocol, UDP first.
func dnsService() []runtime.Object {
	udp, tcp := corev1.ProtocolUDP, corev1.ProtocolTCP
	dnsName, tcpName, port := "dns", "dns-tcp", int32(53)
	ready := true
	return []runtime.Object{
		pod("resolver", "10.0.0.53", corev1.ContainerPort{Name: "dns", ContainerPort: 53, Protocol: udp}, corev1.ContainerPort{Name: "dns-tcp", ContainerPort: 53}),
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "resolver"},
			Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "resolver"}, ClusterIP: "10.96.0.53", ClusterIPs: []string{"10.96.0.53"},
				Ports: []corev1.ServicePort{{Name: "dns", Port: 53, Protocol: udp}, {Name: "dns-tcp", Port: 53, Protocol: tcp}}}},
		&discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "resolver-x", Labels: map[string]string{discoveryv1.LabelServiceName: "resolver"}},
			Ports:     []discoveryv1.EndpointPort{{Name: &dnsName, Port: &port, Protocol: &udp}, {Name: &tcpName, Port: &port, Protocol: &tcp}},
			Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.53"}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}, TargetRef: &corev1.ObjectReference{Kind: "Pod", Name: "resolver"}}}},
	}
}

func TestServicePortIsPickedByNumberAndProtocol(t *testing.T) {
	for proto, want := range map[string]string{"tcp": "dns-tcp", "udp": "dns"} {
		rep, err := runCheckWith(t, dnsService(), "frontend", "svc/resolver:53", "--protocol", proto)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Service == nil || rep.Service.Port == nil || rep.Service.Port.Name != want || rep.Policy == nil || rep.Policy.Protocol != strings.ToUpper(proto) {
			t.Errorf("--protocol %s: service port %+v, policy %+v: want port %s judged as %s", proto, rep.Service.Port, rep.Policy, want, strings.ToUpper(proto))
		}
		if rep.Verdict != "reachable" {
			t.Errorf("--protocol %s: verdict %s (%s), want reachable", proto, rep.Verdict, rep.Reason)
		}
	}
}

func externalNameService(ports ...corev1.ServicePort) []runtime.Object {
	return []runtime.Object{&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "ext"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "db.example.com", Ports: ports}}}
}

func TestAnExternalNameServiceIsNeverReachableWithoutAProbe(t *testing.T) {
	rep, err := runCheckWith(t, externalNameService(), "frontend", "svc/ext:5432")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict != "unknown" || rep.DNS == nil || rep.DNS.Name != "db.example.com" {
		t.Fatalf("verdict %s (%s), dns %+v: want unknown and the DNS analysis of db.example.com", rep.Verdict, rep.Reason, rep.DNS)
	}
	rep.Finalize(nil)
	found := false
	for _, f := range rep.Findings {
		found = found || f.RuleID == RuleUnknown
	}
	if !found {
		t.Errorf("findings %+v lack %s", rep.Findings, RuleUnknown)
	}
}

func TestAnExternalNameServiceIsProbedAtItsName(t *testing.T) {
	cases := []struct {
		name     string
		ports    []corev1.ServicePort
		dst      string
		protocol string
		want     string // host:port probed, or an error substring
	}{
		{"the port asked for", nil, "svc/ext:5432", "tcp", "db.example.com:5432"},
		{"a port named in spec.ports", []corev1.ServicePort{{Name: "pg", Port: 5432}}, "svc/ext:pg", "tcp", "db.example.com:5432"},
		{"HTTP's port when none is given or declared", nil, "svc/ext", "http", "db.example.com:80"},
		{"no port given or declared", nil, "svc/ext", "tcp", "give a port"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			chk := Check{Protocol: c.protocol, Src: "frontend", Dst: c.dst, Namespace: "shop"}
			if err := chk.Validate(); err != nil {
				t.Fatal(err)
			}
			p, err := planLive(t, netchecktest.NewCluster(append(world(), externalNameService(c.ports...)...)...), chk)
			got := ""
			if err == nil {
				got = net.JoinHostPort(p.probeHost, strconv.Itoa(int(p.probePort)))
			}
			if err != nil {
				got = err.Error()
			}
			if !strings.Contains(got, c.want) {
				t.Errorf("probe target %q, want %q", got, c.want)
			}
		})
	}
}

// clusterDNS is kube-system/kube-dns at 10.96.0.10 (and fd00::a) in front of
// one CoreDNS pod, and an egress policy letting the frontend reach only it:
// the usual "allow DNS" policy.
func clusterDNS() []runtime.Object {
	udp, tcp := corev1.ProtocolUDP, corev1.ProtocolTCP
	dnsName, tcpName, port := "dns", "dns-tcp", int32(53)
	ready := true
	coredns := pod("coredns", "10.0.9.10", corev1.ContainerPort{Name: "dns", ContainerPort: 53, Protocol: udp}, corev1.ContainerPort{Name: "dns-tcp", ContainerPort: 53})
	coredns.Namespace, coredns.Labels = "kube-system", map[string]string{"k8s-app": "kube-dns"}
	dnsPorts := []networkingv1.NetworkPolicyPort{{Protocol: &udp, Port: &intstr.IntOrString{IntVal: 53}}, {Protocol: &tcp, Port: &intstr.IntOrString{IntVal: 53}}}
	return []runtime.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "kube-system", Labels: map[string]string{"kubernetes.io/metadata.name": "kube-system"}}},
		coredns,
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "kube-dns"},
			Spec: corev1.ServiceSpec{Selector: map[string]string{"k8s-app": "kube-dns"}, ClusterIP: "10.96.0.10", ClusterIPs: []string{"10.96.0.10", "fd00::a"},
				Ports: []corev1.ServicePort{{Name: "dns", Port: 53, Protocol: udp}, {Name: "dns-tcp", Port: 53, Protocol: tcp}}}},
		&discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "kube-dns-x", Labels: map[string]string{discoveryv1.LabelServiceName: "kube-dns"}},
			Ports:     []discoveryv1.EndpointPort{{Name: &dnsName, Port: &port, Protocol: &udp}, {Name: &tcpName, Port: &port, Protocol: &tcp}},
			Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"10.0.9.10"}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}, TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: "kube-system", Name: "coredns"}}}},
		&networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "frontend-dns-only"},
			Spec: networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "frontend"}},
				PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress},
				Egress: []networkingv1.NetworkPolicyEgressRule{{
					To: []networkingv1.NetworkPolicyPeer{{
						NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "kube-system"}},
						PodSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"k8s-app": "kube-dns"}},
					}},
					Ports: dnsPorts,
				}}}},
	}
}

func TestAClusterIPIsJudgedAsItsService(t *testing.T) {
	cases := []struct {
		dst, protocol, port string
	}{
		{"10.96.0.10:53", "udp", "dns"},
		{"10.96.0.10:53", "tcp", "dns-tcp"},
		{"[fd00::a]:53", "udp", "dns"},
	}
	for _, c := range cases {
		t.Run(c.dst+" "+c.protocol, func(t *testing.T) {
			rep, err := runCheckWith(t, clusterDNS(), "frontend", c.dst, "--protocol", c.protocol)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Verdict != "reachable" {
				t.Errorf("verdict %s: %s", rep.Verdict, rep.Reason)
			}
			if rep.Service == nil || rep.Service.Name != "kube-dns" || rep.Service.Port == nil || rep.Service.Port.Name != c.port {
				t.Fatalf("service %+v: want kube-system/kube-dns port %s", rep.Service, c.port)
			}
			if rep.Policy == nil || len(rep.Policy.Targets) != 1 || rep.Policy.Targets[0].Pod != "coredns" || rep.Policy.Egress.Reason != "allowed-by-rule" {
				t.Errorf("policy %+v: want the CoreDNS backend allowed by frontend-dns-only", rep.Policy)
			}
		})
	}
	// An address no Service holds is still judged as an address.
	rep, err := runCheckWith(t, clusterDNS(), "frontend", "10.96.0.99:53", "--protocol", "udp")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict != "blocked-by-policy" || rep.Service != nil {
		t.Errorf("10.96.0.99:53: verdict %s, service %+v: want blocked-by-policy and no Service", rep.Verdict, rep.Service)
	}
}

func TestASecondClusterIPIsFoundThroughItsIPAddressObject(t *testing.T) {
	objs := append(world(), clusterDNS()...)
	objs = append(objs, &networkingv1.IPAddress{ObjectMeta: metav1.ObjectMeta{Name: "fd00::a"},
		Spec: networkingv1.IPAddressSpec{ParentRef: &networkingv1.ParentReference{Resource: "services", Namespace: "kube-system", Name: "kube-dns"}}})
	cs := netchecktest.NewCluster(objs...)
	// The field selector spec.clusterIP sees only the first family's address.
	if s := byClusterIP(t, cs, "fd00:0::a"); s == nil || s.Name != "kube-dns" {
		t.Errorf("fd00::a: got %+v, want kube-system/kube-dns", s)
	}
	if s := byClusterIP(t, cs, "fd00::b"); s != nil {
		t.Errorf("fd00::b: got %s, want none", s.Name)
	}
}

func TestAClusterIPIsProbedAtTheAddressGiven(t *testing.T) {
	chk := Check{Protocol: "udp", Src: "frontend", Dst: "[fd00::a]:53", Namespace: "shop"}
	if err := chk.Validate(); err != nil {
		t.Fatal(err)
	}
	p, err := planLive(t, netchecktest.NewCluster(append(world(), clusterDNS()...)...), chk)
	if err != nil {
		t.Fatal(err)
	}
	if p.probeHost != "fd00::a" || p.probePort != 53 || describeDestination(p) != "[fd00::a]:53 (svc/kube-system/kube-dns)" {
		t.Errorf("probe %s port %d, destination %q", p.probeHost, p.probePort, describeDestination(p))
	}
}

func TestParseSource(t *testing.T) {
	cases := map[string][3]string{
		"web":                  {"", "pod", "web"},
		"shop/web":             {"shop", "pod", "web"},
		"deploy/web":           {"", "deployment", "web"},
		"sts/db":               {"", "statefulset", "db"},
		"svc/api":              {"", "service", "api"},
		"pod/web":              {"", "pod", "web"},
		"deployments.apps/web": {"", "deployment", "web"},
	}
	for in, want := range cases {
		ns, kind, name, err := parseSource(in)
		if err != nil || [3]string{ns, kind, name} != want {
			t.Errorf("%s: got %s %s %s %v, want %v", in, ns, kind, name, err, want)
		}
	}
}

func TestAProbeThatRejectsItsArgumentsCouldNotRun(t *testing.T) {
	out := &netprobe.Outcome{Container: "netcheck-x", Image: "probe:dev", ExitCode: probeExitUsage, Result: result.Result{Result: result.Error, Detail: "usage: unknown protocol \"smtp\""}}
	if err := probeRejected(out); err == nil || !strings.Contains(err.Error(), "unknown protocol") {
		t.Errorf("want an error naming the probe's complaint, got %v", err)
	}
	out.ExitCode, out.Result.Result = result.ExitCodes[result.Timeout], result.Timeout
	if err := probeRejected(out); err != nil {
		t.Errorf("a timeout is a network outcome, not a failure to run: %v", err)
	}
}

func TestAnExternalNameIsUnknownWithoutAProbe(t *testing.T) {
	rep, err := runCheck(t, "frontend", "example.com:443")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict != VerdictUnknown || !strings.Contains(rep.Fix, "example.com") || !strings.Contains(rep.Fix, "--no-probe") {
		t.Fatalf("verdict %s (%s; %s): want unknown saying what to check", rep.Verdict, rep.Reason, rep.Fix)
	}
	rep.Finalize(nil)
	found := false
	for _, f := range rep.Findings {
		found = found || f.RuleID == RuleUnknown && f.Object.Kind == "Pod"
	}
	if !found {
		t.Errorf("findings %+v lack %s on the source pod", rep.Findings, RuleUnknown)
	}
}

func TestAForbiddenServiceLookupIsUnknownNotADNSFailure(t *testing.T) {
	dst := "web.other.svc.cluster.local.:80"
	if rep := checkWith(t, netchecktest.NewCluster(world()...), "frontend", dst); rep.Verdict != VerdictDNSFailure {
		t.Fatalf("a Service that is not there: want dns-failure, got %s (%s)", rep.Verdict, rep.Reason)
	}
	cs := netchecktest.NewCluster(world()...)
	forbid(cs, "get", "services", "other")
	rep := checkWith(t, cs, "frontend", dst)
	if rep.Verdict != VerdictUnknown || !strings.Contains(rep.Reason, "could not be read") || rep.DNS == nil || len(rep.DNS.Unchecked) != 1 {
		t.Errorf("a Service that could not be read: want unknown, got %s (%s), dns %+v", rep.Verdict, rep.Reason, rep.DNS)
	}
}

func TestForbiddenPoliciesMakeTheNoProbeVerdictUnknown(t *testing.T) {
	cs := netchecktest.NewCluster(world()...)
	forbid(cs, "list", "networkpolicies", "shop")
	rep := checkWith(t, cs, "frontend", "pod/api:8080")
	if rep.Verdict != VerdictUnknown || !strings.Contains(rep.Reason, "shop (forbidden)") || rep.Policy == nil || len(rep.Policy.Unlisted) != 1 {
		t.Errorf("policies not listed: want unknown naming the namespace, got %s (%s), policy %+v", rep.Verdict, rep.Reason, rep.Policy)
	}
	// A block found in the policies that were read still decides.
	cs = netchecktest.NewCluster(world()...)
	forbid(cs, "list", "networkpolicies", "kube-system")
	if rep := checkWith(t, cs, "frontend", "pod/db:5432"); rep.Verdict != VerdictBlockedByPolicy {
		t.Errorf("db is isolated by shop/db-from-api: want blocked-by-policy, got %s (%s)", rep.Verdict, rep.Reason)
	}
}

func TestDefaultDenyEgressBlocksTheLookupOfANameDestination(t *testing.T) {
	denyEgress := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "deny-egress"},
		Spec: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}}}
	var dnsOnly []runtime.Object
	for _, o := range clusterDNS() {
		if _, isPolicy := o.(*networkingv1.NetworkPolicy); !isPolicy {
			dnsOnly = append(dnsOnly, o)
		}
	}
	for _, dst := range []string{"example.com:443", "api:80"} {
		rep, err := runCheckWith(t, append(dnsOnly, denyEgress), "frontend", dst)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Verdict != VerdictBlockedByPolicy || !strings.Contains(rep.Reason, "shop/deny-egress") || !strings.Contains(rep.Reason, "53/UDP") || rep.DNSPolicy == nil {
			t.Errorf("%s: want blocked-by-policy on the lookup naming shop/deny-egress, got %s (%s)", dst, rep.Verdict, rep.Reason)
		}
		rep.Finalize(nil)
		for _, f := range rep.Findings {
			if f.RuleID == RuleBlockedByPolicy && (f.Object.Kind != "NetworkPolicy" || f.Object.Name != "deny-egress") {
				t.Errorf("%s: finding on %+v, want the policy", dst, f.Object)
			}
		}
	}
	// The usual "allow DNS" policy lets the lookup through.
	rep, err := runCheckWith(t, clusterDNS(), "frontend", "example.com:443")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict != VerdictUnknown || rep.DNSPolicy == nil || !rep.DNSPolicy.Egress.Allowed {
		t.Errorf("DNS egress allowed: want unknown with the DNS egress allowed, got %s (%s), %+v", rep.Verdict, rep.Reason, rep.DNSPolicy)
	}
}

// other is a second namespace with a client and a db of its own, which no
// policy isolates.
func other() []runtime.Object {
	client, db := pod("client", "10.0.1.1"), pod("db", "10.0.1.3", corev1.ContainerPort{Name: "pg", ContainerPort: 5432})
	client.Namespace, db.Namespace = "other", "other"
	return []runtime.Object{&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "other"}}, client, db}
}

func TestADestinationWithoutNamespaceIsLookedUpInTheSourcesNamespace(t *testing.T) {
	cases := []struct {
		name       string
		nsExplicit bool
		dst        string
		want       string // destination namespace/pod, or an error substring
	}{
		{"a pod name without -n is the source's namespace's pod", false, "db", "other/db"},
		{"pod/NAME without -n too", false, "pod/db", "other/db"},
		{"svc/NAME without -n is a Service of the source's namespace", false, "svc/api:80", `service "api" not found in namespace other`},
		{"-n wins for a pod name", true, "db", "shop/db"},
		{"-n wins for svc/NAME", true, "svc/api:80", "shop/api"},
		{"a namespace in DST wins over both", false, "shop/db", "shop/db"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			chk := Check{Protocol: "tcp", NoProbe: true, Src: "other/client", Dst: c.dst, Port: "5432", Namespace: "shop", NamespaceExplicit: c.nsExplicit}
			if strings.HasPrefix(c.dst, "svc/") {
				chk.Port = ""
			}
			rep, err := runLive(t, netchecktest.NewCluster(append(world(), other()...)...), chk)
			got := ""
			switch {
			case err != nil:
				got = err.Error()
			case rep.Destination.Pod != nil:
				got = rep.Destination.Pod.Namespace + "/" + rep.Destination.Pod.Name
			case rep.Service != nil:
				got = rep.Service.Namespace + "/" + rep.Service.Name
			}
			if !strings.Contains(got, c.want) {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestAWorkloadDestinationIsOneReadyPodOfIt(t *testing.T) {
	deploy := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "db"},
		Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}}}}
	rep, err := runCheckWith(t, []runtime.Object{deploy}, "api", "deploy/db", "--port", "5432")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Destination.Pod == nil || rep.Destination.Pod.Name != "db" || rep.Destination.Workload != "deployment" || rep.Verdict != VerdictReachable ||
		!strings.Contains(rep.Reason, "deployment/shop/db:5432") {
		t.Errorf("destination %+v, verdict %s (%s): want the db pod of deployment/db, reachable from the api", rep.Destination, rep.Verdict, rep.Reason)
	}
	if _, err := runCheck(t, "api", "deploy/nosuch:5432"); err == nil || !strings.Contains(err.Error(), `deployment "nosuch" not found`) {
		t.Errorf("an unknown deployment: %v", err)
	}
}

func TestANumericTargetPortTheBackendsDoNotDeclareIsAPortMismatchWithoutAProbe(t *testing.T) {
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "api-typo-port"},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "api"}, ClusterIP: "10.96.0.21",
			Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8008), Protocol: corev1.ProtocolTCP}}}}
	rep, err := runCheckWith(t, []runtime.Object{svc}, "frontend", "svc/api-typo-port:80")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict != VerdictPortMismatch || !strings.Contains(rep.Reason, "http=8080") {
		t.Fatalf("verdict %s (%s): want port-mismatch naming the declared http=8080", rep.Verdict, rep.Reason)
	}
	rep.Finalize(nil)
	if len(rep.Findings) != 1 || rep.Findings[0].RuleID != RulePortMismatch || rep.Findings[0].Object.Name != "api-typo-port" {
		t.Errorf("findings %+v: want NC103 on the Service only", rep.Findings)
	}
}

// The objects a manifest describes are answered as the API answers them:
// the world() objects read through the API (an in-memory cluster) and read
// as a dump give the same verdicts.
func TestAWorldAnswersAsTheAPIDoes(t *testing.T) {
	cases := []struct{ src, dst, port string }{
		{"frontend", "svc/api:80", ""},
		{"frontend", "db", "5432"},
		{"api", "db", "pg"},
		{"frontend", "api.shop:80", ""},
		{"frontend", "svc/nosuch:80", ""},
		{"svc/api", "db", "5432"},
	}
	w := NewWorld(netchecktest.SnapshotOf(t, world()), nil, true)
	for _, c := range cases {
		t.Run(c.src+" to "+c.dst, func(t *testing.T) {
			verdicts := map[string]string{}
			chk := Check{Protocol: "tcp", NoProbe: true, Src: c.src, Dst: c.dst, Port: c.port, Namespace: "shop"}
			for name, run := range map[string]func() (*Result, *Objects, error){
				"api": func() (*Result, *Objects, error) { return live(t, netchecktest.NewCluster(world()...), chk) },
				"world": func() (*Result, *Objects, error) {
					objs := NewWorldObjects(w, nil)
					rep, err := answer(objs, chk)
					return rep, objs, err
				},
			} {
				rep, objs, err := run()
				if err != nil {
					verdicts[name] = "error: " + err.Error()
					continue
				}
				decided, _ := decision(rep, objs)
				verdicts[name] = rep.Verdict + ": " + decided
			}
			if verdicts["api"] != verdicts["world"] {
				t.Errorf("through the API: %s\nfrom the world: %s", verdicts["api"], verdicts["world"])
			}
		})
	}
}

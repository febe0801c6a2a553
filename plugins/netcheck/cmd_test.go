package netcheck

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/ktriage/ktriage/pkg/cli"
	nc "github.com/ktriage/ktriage/pkg/netcheck"
	"github.com/ktriage/ktriage/pkg/printers"
	"github.com/ktriage/ktriage/pkg/probe"
	"github.com/ktriage/ktriage/pkg/probe/result"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// pod is a ready pod of namespace shop labelled app=NAME on node-1.
func pod(name, ip string, ports ...corev1.ContainerPort) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name, Labels: map[string]string{"app": name}},
		Spec: corev1.PodSpec{NodeName: "node-1", Containers: []corev1.Container{{Name: "c", Ports: ports}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip, HostIP: "192.168.0.1",
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}}
}

// world is a namespace with a frontend, an api behind a Service, and a
// database only the api may reach.
func world() []runtime.Object {
	ready := true
	port := int32(8080)
	name := "http"
	tcp := corev1.ProtocolTCP
	pgPort := intstr.FromString("pg")
	return []runtime.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop", Labels: map[string]string{"kubernetes.io/metadata.name": "shop"}}},
		pod("frontend", "10.0.0.1"),
		pod("api", "10.0.0.2", corev1.ContainerPort{Name: "http", ContainerPort: 8080}),
		pod("db", "10.0.0.3", corev1.ContainerPort{Name: "pg", ContainerPort: 5432}),
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "api"},
			Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "api"}, ClusterIP: "10.96.0.20",
				Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http"), Protocol: tcp}}}},
		&discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "api-x", Labels: map[string]string{discoveryv1.LabelServiceName: "api"}},
			Ports:     []discoveryv1.EndpointPort{{Name: &name, Port: &port, Protocol: &tcp}},
			Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.2"}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}, TargetRef: &corev1.ObjectReference{Kind: "Pod", Name: "api"}}}},
		&networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "db-from-api"},
			Spec: networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}},
				Ingress: []networkingv1.NetworkPolicyIngressRule{{
					From:  []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "api"}}}},
					Ports: []networkingv1.NetworkPolicyPort{{Port: &pgPort}},
				}}}},
	}
}

func runCheck(t *testing.T, args ...string) (*Report, error) {
	t.Helper()
	return runCheckWith(t, nil, args...)
}

// runCheckWith runs against world() plus extra objects.
func runCheckWith(t *testing.T, extra []runtime.Object, args ...string) (*Report, error) {
	t.Helper()
	streams, _, _, _ := genericiooptions.NewTestIOStreams()
	o := &Options{Common: cli.NewCommon(streams), Protocol: "tcp", NoProbe: true, Timeout: 1, StartTimeout: 1}
	o.Src, o.Dst = args[0], args[1]
	for i := 2; i+1 < len(args); i += 2 {
		switch args[i] {
		case "--port":
			o.Port = args[i+1]
		case "--protocol":
			o.Protocol = args[i+1]
		}
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	return o.check(context.Background(), &loader{cs: fake.NewClientset(append(world(), extra...)...), ns: "shop"})
}

func TestGoldenOutput(t *testing.T) {
	cases := []struct {
		file string
		args []string
	}{
		{"service-reachable", []string{"frontend", "svc/api:80"}},
		{"pod-blocked", []string{"frontend", "db", "--port", "5432"}},
		{"dns-name", []string{"frontend", "api.shop:80"}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			rep, err := runCheck(t, c.args...)
			if err != nil {
				t.Fatal(err)
			}
			rep.Metadata.Version = "test"
			rep.Finalize(nil)
			for _, format := range []string{"json", "table", "wide"} {
				var buf bytes.Buffer
				if err := printers.Print(&buf, format, rep, printers.Options{}); err != nil {
					t.Fatal(err)
				}
				golden(t, filepath.Join("testdata", c.file+"."+format), buf.Bytes())
			}
		})
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output; run go test -update and review the diff\ngot:\n%s", path, got)
	}
}

// The JSON sections scripts read are a contract.
func TestJSONContract(t *testing.T) {
	rep, err := runCheck(t, "frontend", "db", "--port", "5432")
	if err != nil {
		t.Fatal(err)
	}
	rep.Finalize(nil)
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"apiVersion", "kind", "metadata", "findings", "summary", "verdict", "probe", "policy", "source", "destination"} {
		if _, ok := doc[key]; !ok {
			t.Errorf("the report lacks .%s", key)
		}
	}
	if doc["kind"] != "NetcheckReport" || doc["verdict"] != "blocked-by-policy" || doc["probe"] != nil {
		t.Errorf("kind %v verdict %v probe %v", doc["kind"], doc["verdict"], doc["probe"])
	}
	policy := doc["policy"].(map[string]any)
	for _, key := range []string{"egress", "ingress", "allowed", "targets"} {
		if _, ok := policy[key]; !ok {
			t.Errorf("the report lacks .policy.%s", key)
		}
	}
	ingress := policy["ingress"].(map[string]any)
	if ingress["reason"] != "no-rule-allows" || ingress["isolatedBy"].([]any)[0].(map[string]any)["policy"] != "db-from-api" {
		t.Errorf(".policy.ingress = %v", ingress)
	}
}

func TestAPodReachingItselfIsNotBlockedByItsOwnPolicies(t *testing.T) {
	// db is isolated for ingress by db-from-api, which admits only the api.
	rep, err := runCheck(t, "db", "db", "--port", "5432")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict != "reachable" || !rep.Policy.Allowed || rep.Policy.Ingress.Reason != "self" {
		t.Errorf("verdict %s, policy allowed %v, ingress reason %s: want reachable, allowed, self", rep.Verdict, rep.Policy.Allowed, rep.Policy.Ingress.Reason)
	}
	if got := directionDetail(rep.Policy.Ingress); !strings.Contains(got, "itself") {
		t.Errorf("ingress detail %q does not say the pod reaches itself", got)
	}
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
			streams, _, _, _ := genericiooptions.NewTestIOStreams()
			o := &Options{Common: cli.NewCommon(streams), Protocol: c.protocol, Src: "frontend", Dst: c.dst, Timeout: 1, StartTimeout: 1}
			if err := o.Validate(); err != nil {
				t.Fatal(err)
			}
			dst, _ := nc.ParseDestination(o.Dst)
			p := &plan{dst: dst, port: dst.Port, portName: dst.PortName, l4: l4Of(o.Protocol)}
			l := &loader{cs: fake.NewClientset(append(world(), externalNameService(c.ports...)...)...), ns: "shop"}
			src, _ := l.pod(context.Background(), "shop", "frontend")
			err := o.planDestination(context.Background(), l, p, src, nc.PodResolvConf(src, "", nil), nc.DefaultClusterDomain)
			got := net.JoinHostPort(p.probeHost, strconv.Itoa(int(p.probePort)))
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
	cs := fake.NewClientset(objs...)
	// The field selector spec.clusterIP sees only the first family's address.
	cs.PrependReactor("list", "services", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, &corev1.ServiceList{}, nil
	})
	l := &loader{cs: cs, ns: "shop"}
	if s := l.serviceByClusterIP(context.Background(), "fd00:0::a"); s == nil || s.Name != "kube-dns" {
		t.Errorf("fd00::a: got %+v, want kube-system/kube-dns", s)
	}
	if s := l.serviceByClusterIP(context.Background(), "fd00::b"); s != nil {
		t.Errorf("fd00::b: got %s, want none", s.Name)
	}
}

func TestAClusterIPIsProbedAtTheAddressGiven(t *testing.T) {
	streams, _, _, _ := genericiooptions.NewTestIOStreams()
	o := &Options{Common: cli.NewCommon(streams), Protocol: "udp", Src: "frontend", Dst: "[fd00::a]:53", Timeout: 1, StartTimeout: 1}
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	dst, _ := nc.ParseDestination(o.Dst)
	p := &plan{dst: dst, port: dst.Port, l4: l4Of(o.Protocol)}
	l := &loader{cs: fake.NewClientset(append(world(), clusterDNS()...)...), ns: "shop"}
	src, _ := l.pod(context.Background(), "shop", "frontend")
	if err := o.planDestination(context.Background(), l, p, src, nc.PodResolvConf(src, "", nil), nc.DefaultClusterDomain); err != nil {
		t.Fatal(err)
	}
	if p.probeHost != "fd00::a" || p.probePort != 53 || describeDestination(p) != "[fd00::a]:53 (svc/kube-system/kube-dns)" {
		t.Errorf("probe %s port %d, destination %q", p.probeHost, p.probePort, describeDestination(p))
	}
}

func TestProbeSectionShape(t *testing.T) {
	b, err := json.Marshal(ProbeInfo{Result: "reachable", LatencyMs: 1.5, Container: "netcheck-abcde"})
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"result":"reachable"`, `"latencyMs":1.5`, `"container":"netcheck-abcde"`} {
		if !strings.Contains(string(b), key) {
			t.Errorf(".probe lacks %s: %s", key, b)
		}
	}
}

func TestBadInputIsAUsageError(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"an unknown protocol", []string{"frontend", "db", "--protocol", "icmp"}, "--protocol"},
		{"a port out of range", []string{"frontend", "db", "--port", "70000"}, "--port"},
		{"a source with too many slashes", []string{"a/b/c", "db"}, "SRC"},
		{"a malformed destination", []string{"frontend", "svc/"}, "DST"},
		{"a pod with several ports and none given", []string{"frontend", "frontend"}, "give one with --port"},
		{"a DNS name without a port", []string{"frontend", "api.shop"}, "give a port"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := runCheck(t, c.args...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("want an error mentioning %q, got %v", c.want, err)
			}
		})
	}
	if _, err := runCheck(t, "nosuch", "db", "--port", "1"); err == nil || !strings.Contains(err.Error(), `pod "nosuch" not found in namespace shop`) {
		t.Errorf("unknown source: %v", err)
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
	out := &probe.Outcome{Container: "netcheck-x", Image: "probe:dev", ExitCode: probeExitUsage, Result: result.Result{Result: result.Error, Detail: "usage: unknown protocol \"smtp\""}}
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
	if rep.Verdict != nc.VerdictUnknown || !strings.Contains(rep.Fix, "example.com") || !strings.Contains(rep.Fix, "--no-probe") {
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

// forbid makes the fake API server refuse verb on resource in namespace ns.
func forbid(cs *fake.Clientset, verb, resource, ns string) {
	cs.PrependReactor(verb, resource, func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetNamespace() != ns {
			return false, nil, nil
		}
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: resource}, "", errors.New("no RBAC"))
	})
}

func checkWith(t *testing.T, cs *fake.Clientset, src, dst string) *Report {
	t.Helper()
	streams, _, _, _ := genericiooptions.NewTestIOStreams()
	o := &Options{Common: cli.NewCommon(streams), Protocol: "tcp", NoProbe: true, Timeout: 1, StartTimeout: 1, Src: src, Dst: dst}
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	rep, err := o.check(context.Background(), &loader{cs: cs, ns: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestAForbiddenServiceLookupIsUnknownNotADNSFailure(t *testing.T) {
	dst := "web.other.svc.cluster.local.:80"
	if rep := checkWith(t, fake.NewClientset(world()...), "frontend", dst); rep.Verdict != nc.VerdictDNSFailure {
		t.Fatalf("a Service that is not there: want dns-failure, got %s (%s)", rep.Verdict, rep.Reason)
	}
	cs := fake.NewClientset(world()...)
	forbid(cs, "get", "services", "other")
	rep := checkWith(t, cs, "frontend", dst)
	if rep.Verdict != nc.VerdictUnknown || !strings.Contains(rep.Reason, "could not be read") || rep.DNS == nil || len(rep.DNS.Unchecked) != 1 {
		t.Errorf("a Service that could not be read: want unknown, got %s (%s), dns %+v", rep.Verdict, rep.Reason, rep.DNS)
	}
}

func TestForbiddenPoliciesMakeTheNoProbeVerdictUnknown(t *testing.T) {
	cs := fake.NewClientset(world()...)
	forbid(cs, "list", "networkpolicies", "shop")
	rep := checkWith(t, cs, "frontend", "pod/api:8080")
	if rep.Verdict != nc.VerdictUnknown || !strings.Contains(rep.Reason, "shop (forbidden)") || rep.Policy == nil || len(rep.Policy.Unlisted) != 1 {
		t.Errorf("policies not listed: want unknown naming the namespace, got %s (%s), policy %+v", rep.Verdict, rep.Reason, rep.Policy)
	}
	// A block found in the policies that were read still decides.
	cs = fake.NewClientset(world()...)
	forbid(cs, "list", "networkpolicies", "kube-system")
	if rep := checkWith(t, cs, "frontend", "pod/db:5432"); rep.Verdict != nc.VerdictBlockedByPolicy {
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
		if rep.Verdict != nc.VerdictBlockedByPolicy || !strings.Contains(rep.Reason, "shop/deny-egress") || !strings.Contains(rep.Reason, "53/UDP") || rep.DNSPolicy == nil {
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
	if rep.Verdict != nc.VerdictUnknown || rep.DNSPolicy == nil || !rep.DNSPolicy.Egress.Allowed {
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
			streams, _, _, _ := genericiooptions.NewTestIOStreams()
			o := &Options{Common: cli.NewCommon(streams), Protocol: "tcp", NoProbe: true, Timeout: 1, StartTimeout: 1, Src: "other/client", Dst: c.dst, Port: "5432"}
			if strings.HasPrefix(c.dst, "svc/") {
				o.Port = ""
			}
			l := &loader{cs: fake.NewClientset(append(world(), other()...)...), ns: "shop", nsExplicit: c.nsExplicit}
			rep, err := o.check(context.Background(), l)
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
	if rep.Destination.Pod == nil || rep.Destination.Pod.Name != "db" || rep.Destination.Workload != "deployment" || rep.Verdict != nc.VerdictReachable ||
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
	if rep.Verdict != nc.VerdictPortMismatch || !strings.Contains(rep.Reason, "http=8080") {
		t.Fatalf("verdict %s (%s): want port-mismatch naming the declared http=8080", rep.Verdict, rep.Reason)
	}
	rep.Finalize(nil)
	if len(rep.Findings) != 1 || rep.Findings[0].RuleID != RulePortMismatch || rep.Findings[0].Object.Name != "api-typo-port" {
		t.Errorf("findings %+v: want NC103 on the Service only", rep.Findings)
	}
}

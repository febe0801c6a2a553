package netpolicy

import (
	"fmt"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ktypes "k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// The world of the truth table.
//
//	namespace prod  {team: a, env: prod}
//	namespace dev   {team: b, env: dev}
//	namespace mon   {purpose: monitoring}      (no kubernetes.io/metadata.name in the map on purpose)
//
//	prod/web     app=web     10.0.1.10  node n1  ports http 8080/TCP, metrics 9090/TCP, dns 5353/UDP
//	prod/db      app=db      10.0.1.20  node n2  ports pg 5432/TCP, http 8081/TCP, sidecar init "admin" 9000/TCP,
//	                                             plain init "setup" 7000/TCP, sctp-x 9999/SCTP
//	prod/client  app=client  10.0.1.31  node n2
//	prod/agent   app=agent   hostNetwork 192.168.0.1 on n1
//	prod/agent2  app=agent   hostNetwork 192.168.0.2 on n2
//	dev/client   app=client  10.0.2.30  node n1
//	dev/other    app=other   10.0.2.31  node n1
//	mon/prom     app=prom    10.0.3.40  node n2
//	prod/pending-a, prod/pending-b  app=pending  no IP yet, node n1
//	outside: 203.0.113.7, 8.8.8.8, 2001:db8::1
var (
	nsLabels = map[string]map[string]string{
		"prod": {"team": "a", "env": "prod", MetadataNameLabel: "prod"},
		"dev":  {"team": "b", "env": "dev", MetadataNameLabel: "dev"},
		"mon":  {"purpose": "monitoring"},
	}

	web = pod("prod", "web", "10.0.1.10", "n1", map[string]string{"app": "web"},
		corev1.ContainerPort{Name: "http", ContainerPort: 8080},
		corev1.ContainerPort{Name: "metrics", ContainerPort: 9090, Protocol: corev1.ProtocolTCP},
		corev1.ContainerPort{Name: "dns", ContainerPort: 5353, Protocol: corev1.ProtocolUDP})
	db = func() *corev1.Pod {
		p := pod("prod", "db", "10.0.1.20", "n2", map[string]string{"app": "db"},
			corev1.ContainerPort{Name: "pg", ContainerPort: 5432},
			corev1.ContainerPort{Name: "http", ContainerPort: 8081},
			corev1.ContainerPort{Name: "sctp-x", ContainerPort: 9999, Protocol: corev1.ProtocolSCTP})
		always := corev1.ContainerRestartPolicyAlways
		p.Spec.InitContainers = []corev1.Container{
			{Name: "sidecar", RestartPolicy: &always, Ports: []corev1.ContainerPort{{Name: "admin", ContainerPort: 9000}}},
			{Name: "setup", Ports: []corev1.ContainerPort{{Name: "setup", ContainerPort: 7000}}},
		}
		return p
	}()
	prodClient = pod("prod", "client", "10.0.1.31", "n2", map[string]string{"app": "client"})
	agent      = hostPod("prod", "agent", "192.168.0.1", "n1")
	agent2     = hostPod("prod", "agent2", "192.168.0.2", "n2")
	devClient  = pod("dev", "client", "10.0.2.30", "n1", map[string]string{"app": "client"})
	devOther   = pod("dev", "other", "10.0.2.31", "n1", map[string]string{"app": "other"})
	prom       = pod("mon", "prom", "10.0.3.40", "n2", map[string]string{"app": "prom"})
	pendingA   = pod("prod", "pending-a", "", "n1", map[string]string{"app": "pending"})
	pendingB   = pod("prod", "pending-b", "", "n1", map[string]string{"app": "pending"})
)

// withUID returns a copy of p with a UID: another object for the same pod
// when the UID is the same, a recreated pod of the same name when it differs.
func withUID(p *corev1.Pod, uid string) *corev1.Pod {
	c := p.DeepCopy()
	c.UID = ktypes.UID(uid)
	return c
}

func pod(ns, name, ip, node string, lbls map[string]string, ports ...corev1.ContainerPort) *corev1.Pod {
	hostIP := map[string]string{"n1": "192.168.0.1", "n2": "192.168.0.2"}[node]
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: lbls},
		Spec:       corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "main", Ports: ports}}},
		Status:     corev1.PodStatus{PodIP: ip, HostIP: hostIP},
	}
}

func hostPod(ns, name, ip, node string) *corev1.Pod {
	p := pod(ns, name, ip, node, map[string]string{"app": "agent"})
	p.Spec.HostNetwork = true
	return p
}

func ep(p *corev1.Pod) Endpoint {
	return Endpoint{Pod: p, NamespaceLabels: nsLabels[p.Namespace]}
}

func ip(s string) Endpoint { return Endpoint{IP: s} }

// Policy builders.

func sel(kv ...string) *metav1.LabelSelector {
	s := &metav1.LabelSelector{MatchLabels: map[string]string{}}
	for i := 0; i+1 < len(kv); i += 2 {
		s.MatchLabels[kv[i]] = kv[i+1]
	}
	return s
}

func expr(key string, op metav1.LabelSelectorOperator, values ...string) *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: key, Operator: op, Values: values}}}
}

func podPeer(s *metav1.LabelSelector) networkingv1.NetworkPolicyPeer {
	return networkingv1.NetworkPolicyPeer{PodSelector: s}
}

func nsPeer(s *metav1.LabelSelector) networkingv1.NetworkPolicyPeer {
	return networkingv1.NetworkPolicyPeer{NamespaceSelector: s}
}

func bothPeer(ns, p *metav1.LabelSelector) networkingv1.NetworkPolicyPeer {
	return networkingv1.NetworkPolicyPeer{NamespaceSelector: ns, PodSelector: p}
}

func ipPeer(cidr string, except ...string) networkingv1.NetworkPolicyPeer {
	return networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: cidr, Except: except}}
}

func port(n int32) networkingv1.NetworkPolicyPort {
	p := intstr.FromInt32(n)
	return networkingv1.NetworkPolicyPort{Port: &p}
}

func protoPort(proto corev1.Protocol, n int32) networkingv1.NetworkPolicyPort {
	p := port(n)
	p.Protocol = &proto
	return p
}

func protoOnly(proto corev1.Protocol) networkingv1.NetworkPolicyPort {
	return networkingv1.NetworkPolicyPort{Protocol: &proto}
}

func named(name string) networkingv1.NetworkPolicyPort {
	p := intstr.FromString(name)
	return networkingv1.NetworkPolicyPort{Port: &p}
}

func protoNamed(proto corev1.Protocol, name string) networkingv1.NetworkPolicyPort {
	p := named(name)
	p.Protocol = &proto
	return p
}

func portRange(lo, hi int32) networkingv1.NetworkPolicyPort {
	p := port(lo)
	p.EndPort = &hi
	return p
}

func in(peers []networkingv1.NetworkPolicyPeer, ports ...networkingv1.NetworkPolicyPort) networkingv1.NetworkPolicyIngressRule {
	return networkingv1.NetworkPolicyIngressRule{From: peers, Ports: ports}
}

func out(peers []networkingv1.NetworkPolicyPeer, ports ...networkingv1.NetworkPolicyPort) networkingv1.NetworkPolicyEgressRule {
	return networkingv1.NetworkPolicyEgressRule{To: peers, Ports: ports}
}

func peers(p ...networkingv1.NetworkPolicyPeer) []networkingv1.NetworkPolicyPeer { return p }

type policyOpt func(*networkingv1.NetworkPolicy)

func types(t ...networkingv1.PolicyType) policyOpt {
	return func(np *networkingv1.NetworkPolicy) { np.Spec.PolicyTypes = t }
}

func ingress(r ...networkingv1.NetworkPolicyIngressRule) policyOpt {
	return func(np *networkingv1.NetworkPolicy) { np.Spec.Ingress = r }
}

func egress(r ...networkingv1.NetworkPolicyEgressRule) policyOpt {
	return func(np *networkingv1.NetworkPolicy) { np.Spec.Egress = r }
}

func np(ns, name string, podSelector *metav1.LabelSelector, opts ...policyOpt) *networkingv1.NetworkPolicy {
	p := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	if podSelector != nil {
		p.Spec.PodSelector = *podSelector
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

const (
	I = networkingv1.PolicyTypeIngress
	E = networkingv1.PolicyTypeEgress
)

var (
	all      = &metav1.LabelSelector{} // {}: selects everything
	denyIn   = func(ns string) *networkingv1.NetworkPolicy { return np(ns, "deny-in", all, types(I)) }
	denyOut  = func(ns string) *networkingv1.NetworkPolicy { return np(ns, "deny-out", all, types(E)) }
	denyBoth = func(ns string) *networkingv1.NetworkPolicy { return np(ns, "deny-all", all, types(I, E)) }
)

type tc struct {
	name     string
	policies []*networkingv1.NetworkPolicy
	src, dst Endpoint
	port     int32
	proto    corev1.Protocol
	allowed  bool
	// egress and ingress reasons.
	eg, in string
	// allowedBy per direction ("ns/policy#rule"), checked when non-nil.
	egBy, inBy []string
	// isolatedBy per direction ("ns/policy"), checked when non-nil.
	egIso, inIso []string
}

func TestEvaluateTruthTable(t *testing.T) {
	cases := []tc{
		// --- isolation and policyTypes defaulting ---
		{name: "with no policies at all every pod is non-isolated and traffic is allowed",
			src: ep(prodClient), dst: ep(web), port: 8080, allowed: true, eg: ReasonNotIsolated, in: ReasonNotIsolated},
		{name: "a policy without policyTypes or rules selecting the destination defaults to Ingress and denies all ingress",
			policies: []*networkingv1.NetworkPolicy{np("prod", "empty", sel("app", "web"))},
			src:      ep(prodClient), dst: ep(web), port: 8080, allowed: false, eg: ReasonNotIsolated, in: ReasonNoRuleAllows,
			inIso: []string{"prod/empty"}},
		{name: "a policy without policyTypes and without egress rules does not isolate its pod for egress",
			policies: []*networkingv1.NetworkPolicy{np("prod", "empty", sel("app", "web"))},
			src:      ep(web), dst: ep(devClient), port: 80, allowed: true, eg: ReasonNotIsolated, in: ReasonNotIsolated},
		{name: "policyTypes [Egress] with no egress rules denies all egress of the selected pod",
			policies: []*networkingv1.NetworkPolicy{np("prod", "no-out", sel("app", "web"), types(E))},
			src:      ep(web), dst: ep(db), port: 5432, allowed: false, eg: ReasonNoRuleAllows, in: ReasonNotIsolated,
			egIso: []string{"prod/no-out"}},
		{name: "a policy without policyTypes but with egress rules is defaulted to Ingress and Egress so its egress rule allows",
			policies: []*networkingv1.NetworkPolicy{np("prod", "out-db", sel("app", "web"), egress(out(peers(podPeer(sel("app", "db"))))))},
			src:      ep(web), dst: ep(db), port: 5432, allowed: true, eg: ReasonAllowedBy, in: ReasonNotIsolated,
			egBy: []string{"prod/out-db#0"}},
		{name: "a policy without policyTypes but with egress rules also isolates ingress, which has no rules",
			policies: []*networkingv1.NetworkPolicy{np("prod", "out-db", sel("app", "web"), egress(out(peers(podPeer(sel("app", "db"))))))},
			src:      ep(prodClient), dst: ep(web), port: 8080, allowed: false, eg: ReasonNotIsolated, in: ReasonNoRuleAllows},
		{name: "egress rules in a policy whose policyTypes is only [Ingress] are ignored and egress stays open",
			policies: []*networkingv1.NetworkPolicy{np("prod", "in-only", sel("app", "web"), types(I), egress(out(peers(podPeer(sel("app", "db"))))))},
			src:      ep(web), dst: ep(devClient), port: 80, allowed: true, eg: ReasonNotIsolated, in: ReasonNotIsolated},
		{name: "ingress rules in a policy whose policyTypes is only [Egress] are ignored and ingress stays open",
			policies: []*networkingv1.NetworkPolicy{np("prod", "out-only", sel("app", "web"), types(E), ingress(in(peers(podPeer(sel("app", "prom"))))))},
			src:      ep(prodClient), dst: ep(web), port: 8080, allowed: true, eg: ReasonNotIsolated, in: ReasonNotIsolated},
		{name: "a deny-all policy in another namespace does not isolate the destination",
			policies: []*networkingv1.NetworkPolicy{denyIn("dev")},
			src:      ep(devClient), dst: ep(web), port: 8080, allowed: true, eg: ReasonNotIsolated, in: ReasonNotIsolated},
		{name: "a deny-all policy whose podSelector does not match the destination does not isolate it",
			policies: []*networkingv1.NetworkPolicy{np("prod", "db-deny", sel("app", "db"), types(I))},
			src:      ep(prodClient), dst: ep(web), port: 8080, allowed: true, eg: ReasonNotIsolated, in: ReasonNotIsolated},
		{name: "an empty podSelector in the spec selects every pod of the namespace, so deny-all isolates web",
			policies: []*networkingv1.NetworkPolicy{denyIn("prod")},
			src:      ep(prodClient), dst: ep(web), port: 8080, allowed: false, eg: ReasonNotIsolated, in: ReasonNoRuleAllows,
			inIso: []string{"prod/deny-in"}},
		{name: "policies are additive: a deny-all plus a policy allowing the client lets the client in and both isolate",
			policies: []*networkingv1.NetworkPolicy{denyIn("prod"), np("prod", "allow-client", sel("app", "web"), ingress(in(peers(podPeer(sel("app", "client"))), port(8080))))},
			src:      ep(prodClient), dst: ep(web), port: 8080, allowed: true, eg: ReasonNotIsolated, in: ReasonAllowedBy,
			inBy: []string{"prod/allow-client#0"}, inIso: []string{"prod/allow-client", "prod/deny-in"}},
		{name: "an ingress list with one empty rule allows every source on every port",
			policies: []*networkingv1.NetworkPolicy{np("prod", "allow-all", all, ingress(networkingv1.NetworkPolicyIngressRule{}))},
			src:      ep(prom), dst: ep(web), port: 1234, allowed: true, eg: ReasonNotIsolated, in: ReasonAllowedBy,
			inBy: []string{"prod/allow-all#0"}},
		{name: "an empty ingress list with policyTypes [Ingress] allows nothing",
			policies: []*networkingv1.NetworkPolicy{np("prod", "none", all, types(I), ingress())},
			src:      ep(prom), dst: ep(web), port: 8080, allowed: false, eg: ReasonNotIsolated, in: ReasonNoRuleAllows},
		{name: "a matchExpressions DoesNotExist podSelector selects web, which lacks the label, and isolates it",
			policies: []*networkingv1.NetworkPolicy{np("prod", "unquarantined", expr("quarantine", metav1.LabelSelectorOpDoesNotExist), types(I))},
			src:      ep(prodClient), dst: ep(web), port: 8080, allowed: false, eg: ReasonNotIsolated, in: ReasonNoRuleAllows},
		{name: "the deny-all isolation lists every isolating policy sorted by name when none allows",
			policies: []*networkingv1.NetworkPolicy{np("prod", "z-web", sel("app", "web"), types(I)), denyIn("prod")},
			src:      ep(prom), dst: ep(web), port: 8080, allowed: false, eg: ReasonNotIsolated, in: ReasonNoRuleAllows,
			inIso: []string{"prod/deny-in", "prod/z-web"}},

		// --- peers: podSelector, namespaceSelector, AND vs OR, empty vs absent ---
		{name: "a podSelector-only peer matches a labelled pod in the policy's own namespace",
			policies: []*networkingv1.NetworkPolicy{np("prod", "from-client", sel("app", "web"), ingress(in(peers(podPeer(sel("app", "client"))))))},
			src:      ep(prodClient), dst: ep(web), port: 8080, allowed: true, eg: ReasonNotIsolated, in: ReasonAllowedBy},
		{name: "a podSelector-only peer does not match a pod with the same labels in another namespace",
			policies: []*networkingv1.NetworkPolicy{np("prod", "from-client", sel("app", "web"), ingress(in(peers(podPeer(sel("app", "client"))))))},
			src:      ep(devClient), dst: ep(web), port: 8080, allowed: false, eg: ReasonNotIsolated, in: ReasonNoRuleAllows},
		{name: "a namespaceSelector-only peer matches every pod of a namespace with those labels",
			policies: []*networkingv1.NetworkPolicy{np("prod", "from-team-b", sel("app", "web"), ingress(in(peers(nsPeer(sel("team", "b"))))))},
			src:      ep(devOther), dst: ep(web), port: 8080, allowed: true, eg: ReasonNotIsolated, in: ReasonAllowedBy},
		{name: "a namespaceSelector-only peer does not match pods of the policy's own namespace when its labels differ",
			policies: []*networkingv1.NetworkPolicy{np("prod", "from-team-b", sel("app", "web"), ingress(in(peers(nsPeer(sel("team", "b"))))))},
			src:      ep(prodClient), dst: ep(web), port: 8080, allowed: false, eg: ReasonNotIsolated, in: ReasonNoRuleAllows},
		{name: "an empty namespaceSelector {} matches pods in every namespace",
			policies: []*networkingv1.NetworkPolicy{np("prod", "from-any-ns", sel("app", "web"), ingress(in(peers(nsPeer(all)))))},
			src:      ep(prom), dst: ep(web), port: 8080, allowed: true, eg: ReasonNotIsolated, in: ReasonAllowedBy},
		{name: "an empty podSelector {} with no namespaceSelector matches every pod of the policy's namespace",
			policies: []*networkingv1.NetworkPolicy{np("prod", "from-same-ns", sel("app", "web"), ingress(in(peers(podPeer(all)))))},
			src:      ep(prodClient), dst: ep(web), port: 8080, allowed: true, eg: ReasonNotIsolated, in: ReasonAllowedBy},
		{name: "an empty podSelector {} with no namespaceSelector does not match pods of other namespaces",
			policies: []*networkingv1.NetworkPolicy{np("prod", "from-same-ns", sel("app", "web"), ingress(in(peers(podPeer(all)))))},
			src:      ep(devClient), dst: ep(web), port: 8080, allowed: false, eg: ReasonNotIsolated, in: ReasonNoRuleAllows},
		{name: "namespaceSelector and podSelector in one peer (AND) match a client pod in a team=b namespace",
			policies: []*networkingv1.NetworkPolicy{np("prod", "and", sel("app", "web"), ingress(in(peers(bothPeer(sel("team", "b"), sel("app", "client"))))))},
			src:      ep(devClient), dst: ep(web), port: 8080, allowed: true, eg: ReasonNotIsolated, in: ReasonAllowedBy},
		{name: "namespaceSelector and podSelector in one peer (AND) reject a client-labelled pod whose namespace does not match",
			policies: []*networkingv1.NetworkPolicy{np("prod", "and", sel("app", "web"), ingress(in(peers(bothPeer(sel("team", "b"), sel("app", "client"))))))},
			src:      ep(prodClient), dst: ep(web), port: 8080, allowed: false, eg: ReasonNotIsolated, in: ReasonNoRuleAllows},
		{name: "namespaceSelector and podSelector in one peer (AND) reject a pod in the matching namespace without the pod label",
			policies: []*networkingv1.NetworkPolicy{np("prod", "and", sel("app", "web"), ingress(in(peers(bothPeer(sel("team", "b"), sel("app", "client"))))))},
			src:      ep(devOther), dst: ep(web), port: 8080, allowed: false, eg: ReasonNotIsolated, in: ReasonNoRuleAllows},
		{name: "namespaceSelector and podSelector as two peers (OR) admit any pod of the team=b namespace",
			policies: []*networkingv1.NetworkPolicy{np("prod", "or", sel("app", "web"), ingress(in(peers(nsPeer(sel("team", "b")), podPeer(sel("app", "client"))))))},
			src:      ep(devOther), dst: ep(web), port: 8080, allowed: true, eg: ReasonNotIsolated, in: ReasonAllowedBy},
		{name: "namespaceSelector and podSelector as two peers (OR) admit the client of the policy's own namespace",
			policies: []*networkingv1.NetworkPolicy{np("prod", "or", sel("app", "web"), ingress(in(peers(nsPeer(sel("team", "b")), podPeer(sel("app", "client"))))))},
			src:      ep(prodClient), dst: ep(web), port: 8080, allowed: true, eg: ReasonNotIsolated, in: ReasonAllowedBy},
		{name: "namespaceSelector and podSelector as two peers (OR) still reject a pod matching neither",
			policies: []*networkingv1.NetworkPolicy{np("prod", "or", sel("app", "web"), ingress(in(peers(nsPeer(sel("team", "b")), podPeer(sel("app", "client"))))))},
			src:      ep(prom), dst: ep(web), port: 8080, allowed: false, eg: ReasonNotIsolated, in: ReasonNoRuleAllows},
		{name: "a namespaceSelector on kubernetes.io/metadata.name matches by namespace name, a label the API server always sets",
			policies: []*networkingv1.NetworkPolicy{np("prod", "from-mon", sel("app", "web"), ingress(in(peers(nsPeer(sel(MetadataNameLabel, "mon"))))))},
			src:      ep(prom), dst: ep(web), port: 8080, allowed: true, eg: ReasonNotIsolated, in: ReasonAllowedBy},
		{name: "a namespaceSelector with In over two teams matches the team=b namespace",
			policies: []*networkingv1.NetworkPolicy{np("prod", "teams", sel("app", "web"), ingress(in(peers(nsPeer(expr("team", metav1.LabelSelectorOpIn, "a", "b"))))))},
			src:      ep(devClient), dst: ep(web), port: 8080, allowed: true, eg: ReasonNotIsolated, in: ReasonAllowedBy},
		{name: "a namespaceSelector with NotIn matches a namespace that lacks the key entirely",
			policies: []*networkingv1.NetworkPolicy{np("prod", "not-prod", sel("app", "web"), ingress(in(peers(nsPeer(expr("env", metav1.LabelSelectorOpNotIn, "prod"))))))},
			src:      ep(prom), dst: ep(web), port: 8080, allowed: true, eg: ReasonNotIsolated, in: ReasonAllowedBy},
		{name: "a namespaceSelector with Exists matches the namespace that carries the key",
			policies: []*networkingv1.NetworkPolicy{np("prod", "monitoring", sel("app", "web"), ingress(in(peers(nsPeer(expr("purpose", metav1.LabelSelectorOpExists))))))},
			src:      ep(prom), dst: ep(web), port: 9090, allowed: true, eg: ReasonNotIsolated, in: ReasonAllowedBy},
		{name: "a namespaceSelector with Exists rejects a namespace without the key",
			policies: []*networkingv1.NetworkPolicy{np("prod", "monitoring", sel("app", "web"), ingress(in(peers(nsPeer(expr("purpose", metav1.LabelSelectorOpExists))))))},
			src:      ep(devClient), dst: ep(web), port: 9090, allowed: false, eg: ReasonNotIsolated, in: ReasonNoRuleAllows},
		{name: "an empty namespaceSelector ANDed with a podSelector matches those pods in any namespace",
			policies: []*networkingv1.NetworkPolicy{np("prod", "prom-anywhere", sel("app", "web"), ingress(in(peers(bothPeer(all, sel("app", "prom"))))))},
			src:      ep(prom), dst: ep(web), port: 9090, allowed: true, eg: ReasonNotIsolated, in: ReasonAllowedBy},
		{name: "an empty namespaceSelector ANDed with a podSelector still requires the pod labels",
			policies: []*networkingv1.NetworkPolicy{np("prod", "prom-anywhere", sel("app", "web"), ingress(in(peers(bothPeer(all, sel("app", "prom"))))))},
			src:      ep(devClient), dst: ep(web), port: 9090, allowed: false, eg: ReasonNotIsolated, in: ReasonNoRuleAllows},
		{name: "an egress rule with a namespaceSelector allows the source to reach pods in that namespace",
			policies: []*networkingv1.NetworkPolicy{np("prod", "to-dev", sel("app", "web"), types(E), egress(out(peers(nsPeer(sel("team", "b"))))))},
			src:      ep(web), dst: ep(devClient), port: 80, allowed: true, eg: ReasonAllowedBy, in: ReasonNotIsolated,
			egBy: []string{"prod/to-dev#0"}},
		{name: "an egress podSelector-only peer means pods of the policy's namespace, not of the destination's",
			policies: []*networkingv1.NetworkPolicy{np("prod", "to-clients", sel("app", "web"), types(E), egress(out(peers(podPeer(sel("app", "client"))))))},
			src:      ep(web), dst: ep(devClient), port: 80, allowed: false, eg: ReasonNoRuleAllows, in: ReasonNotIsolated},

		// --- ports ---
		{name: "a port without protocol means TCP, so TCP 8080 is allowed",
			policies: []*networkingv1.NetworkPolicy{np("prod", "p8080", sel("app", "web"), ingress(in(nil, port(8080))))},
			src:      ep(devClient), dst: ep(web), port: 8080, allowed: true, eg: ReasonNotIsolated, in: ReasonAllowedBy},
		{name: "a port without protocol means TCP, so UDP 8080 is denied",
			policies: []*networkingv1.NetworkPolicy{np("prod", "p8080", sel("app", "web"), ingress(in(nil, port(8080))))},
			src:      ep(devClient), dst: ep(web), port: 8080, proto: corev1.ProtocolUDP, allowed: false, eg: ReasonNotIsolated, in: ReasonNoRuleAllows},
		{name: "a UDP port entry allows UDP to that port",
			policies: []*networkingv1.NetworkPolicy{np("prod", "udp", sel("app", "web"), ingress(in(nil, protoPort(corev1.ProtocolUDP, 5353))))},
			src:      ep(devClient), dst: ep(web), port: 5353, proto: corev1.ProtocolUDP, allowed: true, eg: ReasonNotIsolated, in: ReasonAllowedBy},
		{name: "a port entry for 80 does not allow 8080",
			policies: []*networkingv1.NetworkPolicy{np("prod", "p80", sel("app", "web"), ingress(in(nil, port(80))))},
			src:      ep(devClient), dst: ep(web), port: 8080, allowed: false, eg: ReasonNotIsolated, in: ReasonNoRuleAllows},
		{name: "a protocol without port allows every port of that protocol",
			policies: []*networkingv1.NetworkPolicy{np("prod", "tcp-any", sel("app", "web"), ingress(in(nil, protoOnly(corev1.ProtocolTCP))))},
			src:      ep(devClient), dst: ep(web), port: 9090, allowed: true, eg: ReasonNotIsolated, in: ReasonAllowedBy},
		{name: "a protocol without port does not allow another protocol",
			policies: []*networkingv1.NetworkPolicy{np("prod", "tcp-any", sel("app", "web"), ingress(in(nil, protoOnly(corev1.ProtocolTCP))))},
			src:      ep(devClient), dst: ep(web), port: 5353, proto: corev1.ProtocolUDP, allowed: false, eg: ReasonNotIsolated, in: ReasonNoRuleAllows},
		{name: "endPort makes a range: 8080 is inside 8000-8100",
			policies: []*networkingv1.NetworkPolicy{np("prod", "range", sel("app", "web"), ingress(in(nil, portRange(8000, 8100))))},
			src:      ep(devClient), dst: ep(web), port: 8080, allowed: true, eg: ReasonNotIsolated, in: ReasonAllowedBy},
		{name: "endPort is inclusive: 8100 is inside 8000-8100",
			policies: []*networkingv1.NetworkPolicy{np("prod", "range", sel("app", "web"), ingress(in(nil, portRange(8000, 8100))))},
			src:      ep(devClient), dst: ep(web), port: 8100, allowed: true, eg: ReasonNotIsolated, in: ReasonAllowedBy},
		{name: "endPort range 8000-8100 excludes 8101",
			policies: []*networkingv1.NetworkPolicy{np("prod", "range", sel("app", "web"), ingress(in(nil, portRange(8000, 8100))))},
			src:      ep(devClient), dst: ep(web), port: 8101, allowed: false, eg: ReasonNotIsolated, in: ReasonNoRuleAllows},
		{name: "endPort range 8000-8100 excludes 7999",
			policies: []*networkingv1.NetworkPolicy{np("prod", "range", sel("app", "web"), ingress(in(nil, portRange(8000, 8100))))},
			src:      ep(devClient), dst: ep(web), port: 7999, allowed: false, eg: ReasonNotIsolated, in: ReasonNoRuleAllows},
		{name: "a named ingress port resolves on the destination pod: web's http is 8080",
			policies: []*networkingv1.NetworkPolicy{np("prod", "named", sel("app", "web"), ingress(in(nil, named("http"))))},
			src:      ep(devClient), dst: ep(web), port: 8080, allowed: true, eg: ReasonNotIsolated, in: ReasonAllowedBy},
		{name: "a named ingress port does not allow a different port of the same pod",
			policies: []*networkingv1.NetworkPolicy{np("prod", "named", sel("app", "web"), ingress(in(nil, named("http"))))},
			src:      ep(devClient), dst: ep(web), port: 9090, allowed: false, eg: ReasonNotIsolated, in: ReasonNoRuleAllows},
		{name: "a named port with TCP (the default) does not match a container port of that name declared UDP",
			policies: []*networkingv1.NetworkPolicy{np("prod", "named-dns", sel("app", "web"), ingress(in(nil, named("dns"))))},
			src:      ep(devClient), dst: ep(web), port: 5353, allowed: false, eg: ReasonNotIsolated, in: ReasonNoRuleAllows},
		{name: "a named port with protocol UDP matches the UDP container port of that name",
			policies: []*networkingv1.NetworkPolicy{np("prod", "named-dns", sel("app", "web"), ingress(in(nil, protoNamed(corev1.ProtocolUDP, "dns"))))},
			src:      ep(devClient), dst: ep(web), port: 5353, proto: corev1.ProtocolUDP, allowed: true, eg: ReasonNotIsolated, in: ReasonAllowedBy},
		{name: "a named egress port resolves on the destination pod: db's http is 8081",
			policies: []*networkingv1.NetworkPolicy{np("prod", "out-named", sel("app", "web"), types(E), egress(out(peers(podPeer(sel("app", "db"))), named("http"))))},
			src:      ep(web), dst: ep(db), port: 8081, allowed: true, eg: ReasonAllowedBy, in: ReasonNotIsolated},
		{name: "a named egress port is not resolved on the source: web's own http 8080 is not db's http",
			policies: []*networkingv1.NetworkPolicy{np("prod", "out-named", sel("app", "web"), types(E), egress(out(peers(podPeer(sel("app", "db"))), named("http"))))},
			src:      ep(web), dst: ep(db), port: 8080, allowed: false, eg: ReasonNoRuleAllows, in: ReasonNotIsolated},
		{name: "a named egress port cannot match an address outside the pod network, which has no named ports",
			policies: []*networkingv1.NetworkPolicy{np("prod", "out-named-any", sel("app", "web"), types(E), egress(out(nil, named("http"))))},
			src:      ep(web), dst: ip("203.0.113.7"), port: 8080, allowed: false, eg: ReasonNoRuleAllows, in: ReasonNotAPod},
		{name: "a named port the destination does not declare matches nothing",
			policies: []*networkingv1.NetworkPolicy{np("prod", "named-grpc", sel("app", "web"), ingress(in(nil, named("grpc"))))},
			src:      ep(devClient), dst: ep(web), port: 8080, allowed: false, eg: ReasonNotIsolated, in: ReasonNoRuleAllows},
		{name: "a named port declared by a restartable (sidecar) init container resolves",
			policies: []*networkingv1.NetworkPolicy{np("prod", "admin", sel("app", "db"), ingress(in(nil, named("admin"))))},
			src:      ep(web), dst: ep(db), port: 9000, allowed: true, eg: ReasonNotIsolated, in: ReasonAllowedBy},
		{name: "a named port declared only by a plain init container, which has exited, does not resolve",
			policies: []*networkingv1.NetworkPolicy{np("prod", "setup", sel("app", "db"), ingress(in(nil, named("setup"))))},
			src:      ep(web), dst: ep(db), port: 7000, allowed: false, eg: ReasonNotIsolated, in: ReasonNoRuleAllows},
		{name: "one of several port entries matching is enough",
			policies: []*networkingv1.NetworkPolicy{np("prod", "multi", sel("app", "web"), ingress(in(nil, port(80), port(8080))))},
			src:      ep(devClient), dst: ep(web), port: 8080, allowed: true, eg: ReasonNotIsolated, in: ReasonAllowedBy},
		{name: "a rule whose port matches but whose peers do not allows nothing",
			policies: []*networkingv1.NetworkPolicy{np("prod", "db-only", sel("app", "web"), ingress(in(peers(podPeer(sel("app", "db"))), port(8080))))},
			src:      ep(prodClient), dst: ep(web), port: 8080, allowed: false, eg: ReasonNotIsolated, in: ReasonNoRuleAllows},
		{name: "an SCTP port entry allows SCTP to that port",
			policies: []*networkingv1.NetworkPolicy{np("prod", "sctp", sel("app", "db"), ingress(in(nil, protoPort(corev1.ProtocolSCTP, 9999))))},
			src:      ep(web), dst: ep(db), port: 9999, proto: corev1.ProtocolSCTP, allowed: true, eg: ReasonNotIsolated, in: ReasonAllowedBy},
		{name: "an SCTP port entry does not allow TCP to the same port",
			policies: []*networkingv1.NetworkPolicy{np("prod", "sctp", sel("app", "db"), ingress(in(nil, protoPort(corev1.ProtocolSCTP, 9999))))},
			src:      ep(web), dst: ep(db), port: 9999, allowed: false, eg: ReasonNotIsolated, in: ReasonNoRuleAllows},
		{name: "every matching rule is listed in order and the first decides",
			policies: []*networkingv1.NetworkPolicy{np("prod", "two", sel("app", "web"), ingress(in(nil, port(8080)), in(peers(nsPeer(sel("team", "b"))))))},
			src:      ep(devClient), dst: ep(web), port: 8080, allowed: true, eg: ReasonNotIsolated, in: ReasonAllowedBy,
			inBy: []string{"prod/two#0", "prod/two#1"}},

		// --- ipBlock ---
		{name: "an egress ipBlock allows an outside address inside its CIDR",
			policies: []*networkingv1.NetworkPolicy{np("prod", "to-net", sel("app", "web"), types(E), egress(out(peers(ipPeer("203.0.113.0/24")))))},
			src:      ep(web), dst: ip("203.0.113.7"), port: 443, allowed: true, eg: ReasonAllowedBy, in: ReasonNotAPod},
		{name: "an ipBlock except carves the address out of the CIDR",
			policies: []*networkingv1.NetworkPolicy{np("prod", "to-net", sel("app", "web"), types(E), egress(out(peers(ipPeer("203.0.113.0/24", "203.0.113.0/28")))))},
			src:      ep(web), dst: ip("203.0.113.7"), port: 443, allowed: false, eg: ReasonNoRuleAllows, in: ReasonNotAPod},
		{name: "0.0.0.0/0 except 10.0.0.0/8 allows the internet",
			policies: []*networkingv1.NetworkPolicy{np("prod", "internet", sel("app", "web"), types(E), egress(out(peers(ipPeer("0.0.0.0/0", "10.0.0.0/8")))))},
			src:      ep(web), dst: ip("8.8.8.8"), port: 53, proto: corev1.ProtocolUDP, allowed: true, eg: ReasonAllowedBy, in: ReasonNotAPod},
		{name: "0.0.0.0/0 except 10.0.0.0/8 denies a pod whose IP is in the excepted range",
			policies: []*networkingv1.NetworkPolicy{np("prod", "internet", sel("app", "web"), types(E), egress(out(peers(ipPeer("0.0.0.0/0", "10.0.0.0/8")))))},
			src:      ep(web), dst: ep(db), port: 5432, allowed: false, eg: ReasonNoRuleAllows, in: ReasonNotIsolated},
		{name: "an egress ipBlock covering a pod IP allows that pod (the spec lets ipBlock match pod IPs)",
			policies: []*networkingv1.NetworkPolicy{np("prod", "pod-cidr", sel("app", "web"), types(E), egress(out(peers(ipPeer("10.0.1.0/24")))))},
			src:      ep(web), dst: ep(db), port: 5432, allowed: true, eg: ReasonAllowedBy, in: ReasonNotIsolated},
		{name: "an ingress ipBlock covering the source pod IP allows that source",
			policies: []*networkingv1.NetworkPolicy{np("prod", "from-dev-cidr", sel("app", "web"), ingress(in(peers(ipPeer("10.0.2.0/24")))))},
			src:      ep(devClient), dst: ep(web), port: 8080, allowed: true, eg: ReasonNotIsolated, in: ReasonAllowedBy},
		{name: "pod and namespace selectors never match an address outside the pod network",
			policies: []*networkingv1.NetworkPolicy{np("prod", "to-all-pods", sel("app", "web"), types(E), egress(out(peers(nsPeer(all)))))},
			src:      ep(web), dst: ip("8.8.8.8"), port: 443, allowed: false, eg: ReasonNoRuleAllows, in: ReasonNotAPod},
		{name: "an egress rule with ports and no to-list allows any destination, outside ones included",
			policies: []*networkingv1.NetworkPolicy{np("prod", "https-anywhere", sel("app", "web"), types(E), egress(out(nil, port(443))))},
			src:      ep(web), dst: ip("8.8.8.8"), port: 443, allowed: true, eg: ReasonAllowedBy, in: ReasonNotAPod},
		{name: "an IPv6 ipBlock allows an IPv6 address inside it",
			policies: []*networkingv1.NetworkPolicy{np("prod", "v6", sel("app", "web"), types(E), egress(out(peers(ipPeer("2001:db8::/32")))))},
			src:      ep(web), dst: ip("2001:db8::1"), port: 443, allowed: true, eg: ReasonAllowedBy, in: ReasonNotAPod},
		{name: "an IPv4 ipBlock does not contain an IPv6 address",
			policies: []*networkingv1.NetworkPolicy{np("prod", "v4", sel("app", "web"), types(E), egress(out(peers(ipPeer("0.0.0.0/0")))))},
			src:      ep(web), dst: ip("2001:db8::1"), port: 443, allowed: false, eg: ReasonNoRuleAllows, in: ReasonNotAPod},

		// --- host network and the node ---
		{name: "a host-network destination is never isolated, even by a deny-all selecting its labels",
			policies: []*networkingv1.NetworkPolicy{denyBoth("prod")},
			src:      ep(devClient), dst: ep(agent), port: 10250, allowed: true, eg: ReasonNotIsolated, in: ReasonHostNetwork},
		{name: "a host-network source is never isolated for egress",
			policies: []*networkingv1.NetworkPolicy{denyOut("prod")},
			src:      ep(agent2), dst: ep(devClient), port: 80, allowed: true, eg: ReasonHostNetwork, in: ReasonNotIsolated},
		{name: "a host-network source on another node is not matched by a podSelector {} peer, since it is node traffic",
			policies: []*networkingv1.NetworkPolicy{np("prod", "same-ns", sel("app", "web"), ingress(in(peers(podPeer(all)))))},
			src:      ep(agent2), dst: ep(web), port: 8080, allowed: false, eg: ReasonHostNetwork, in: ReasonNoRuleAllows},
		{name: "a host-network source on another node is matched by an ipBlock holding its node IP",
			policies: []*networkingv1.NetworkPolicy{np("prod", "nodes", sel("app", "web"), ingress(in(peers(ipPeer("192.168.0.0/24")))))},
			src:      ep(agent2), dst: ep(web), port: 8080, allowed: true, eg: ReasonHostNetwork, in: ReasonAllowedBy},
		{name: "traffic from the destination's own node (a host-network pod there) is always allowed",
			policies: []*networkingv1.NetworkPolicy{denyIn("prod")},
			src:      ep(agent), dst: ep(web), port: 8080, allowed: true, eg: ReasonHostNetwork, in: ReasonNodeLocal},
		{name: "egress to the source's own node IP is always allowed",
			policies: []*networkingv1.NetworkPolicy{denyOut("prod")},
			src:      ep(web), dst: ip("192.168.0.1"), port: 10250, allowed: true, eg: ReasonNodeLocal, in: ReasonNotAPod},
		{name: "egress to another node's IP is subject to the deny-all",
			policies: []*networkingv1.NetworkPolicy{denyOut("prod")},
			src:      ep(web), dst: ip("192.168.0.2"), port: 10250, allowed: false, eg: ReasonNoRuleAllows, in: ReasonNotAPod},

		// --- a pod and itself; pods without an IP ---
		{name: "a pod reaching itself is allowed although a deny-all isolates it both ways: a pod cannot block access to itself",
			policies: []*networkingv1.NetworkPolicy{denyBoth("prod")},
			src:      ep(web), dst: ep(web), port: 8080, allowed: true, eg: ReasonSelf, in: ReasonSelf,
			egIso: []string{"prod/deny-all"}, inIso: []string{"prod/deny-all"}},
		{name: "a separate copy of the pod without UIDs is the same pod by namespace and name",
			policies: []*networkingv1.NetworkPolicy{denyIn("prod")},
			src:      ep(web), dst: ep(web.DeepCopy()), port: 8080, allowed: true, eg: ReasonNotIsolated, in: ReasonSelf},
		{name: "two objects with the same UID are the same pod",
			policies: []*networkingv1.NetworkPolicy{denyBoth("prod")},
			src:      ep(withUID(web, "u1")), dst: ep(withUID(web, "u1")), port: 8080, allowed: true, eg: ReasonSelf, in: ReasonSelf},
		{name: "a pod of the same name with another UID is a recreated pod, not the same one",
			policies: []*networkingv1.NetworkPolicy{denyIn("prod")},
			src:      ep(withUID(web, "u1")), dst: ep(withUID(web, "u2")), port: 8080, allowed: false, eg: ReasonNotIsolated, in: ReasonNoRuleAllows},
		{name: "a pod of the same name in another namespace is not the same pod",
			policies: []*networkingv1.NetworkPolicy{denyIn("prod")},
			src:      ep(devClient), dst: ep(prodClient), port: 8080, allowed: false, eg: ReasonNotIsolated, in: ReasonNoRuleAllows},
		{name: "egress to the pod's own IP given as a bare address is traffic to itself",
			policies: []*networkingv1.NetworkPolicy{denyOut("prod")},
			src:      ep(web), dst: ip("10.0.1.10"), port: 8080, allowed: true, eg: ReasonSelf, in: ReasonNotAPod},
		{name: "a rule that matches the pod's own traffic is named before the self exemption",
			policies: []*networkingv1.NetworkPolicy{denyIn("prod"), np("prod", "same-ns", sel("app", "web"), ingress(in(peers(podPeer(all)))))},
			src:      ep(web), dst: ep(web), port: 8080, allowed: true, eg: ReasonNotIsolated, in: ReasonAllowedBy,
			inBy: []string{"prod/same-ns#0"}},
		{name: "a podSelector peer matches a destination pod that has no IP yet",
			policies: []*networkingv1.NetworkPolicy{np("prod", "to-pending", sel("app", "web"), types(E), egress(out(peers(podPeer(sel("app", "pending"))))))},
			src:      ep(web), dst: ep(pendingA), port: 8080, allowed: true, eg: ReasonAllowedBy, in: ReasonNotIsolated},
		{name: "an ipBlock, even 0.0.0.0/0, never matches a destination pod without an IP",
			policies: []*networkingv1.NetworkPolicy{np("prod", "anywhere", sel("app", "web"), types(E), egress(out(peers(ipPeer("0.0.0.0/0")))))},
			src:      ep(web), dst: ep(pendingA), port: 8080, allowed: false, eg: ReasonNoRuleAllows, in: ReasonNotIsolated},
		{name: "two pods without IPs are not taken for the same pod",
			policies: []*networkingv1.NetworkPolicy{denyBoth("prod")},
			src:      ep(pendingA), dst: ep(pendingB), port: 8080, allowed: false, eg: ReasonNoRuleAllows, in: ReasonNoRuleAllows},
		{name: "a pod without an IP reaching itself is still allowed",
			policies: []*networkingv1.NetworkPolicy{denyBoth("prod")},
			src:      ep(pendingA), dst: ep(pendingA), port: 8080, allowed: true, eg: ReasonSelf, in: ReasonSelf},

		// --- both directions together ---
		{name: "egress allowed but ingress denied is denied overall",
			policies: []*networkingv1.NetworkPolicy{np("prod", "web-out", sel("app", "web"), types(E), egress(out(peers(podPeer(sel("app", "db")))))), np("prod", "db-in", sel("app", "db"), ingress(in(peers(podPeer(sel("app", "client"))))))},
			src:      ep(web), dst: ep(db), port: 5432, allowed: false, eg: ReasonAllowedBy, in: ReasonNoRuleAllows,
			egBy: []string{"prod/web-out#0"}, inIso: []string{"prod/db-in"}},
		{name: "ingress allowed but egress denied is denied overall",
			policies: []*networkingv1.NetworkPolicy{denyOut("prod"), np("prod", "db-in", sel("app", "db"), ingress(in(peers(podPeer(sel("app", "web"))))))},
			src:      ep(web), dst: ep(db), port: 5432, allowed: false, eg: ReasonNoRuleAllows, in: ReasonAllowedBy,
			egIso: []string{"prod/deny-out"}, inBy: []string{"prod/db-in#0"}},
		{name: "deny-all in both directions plus matching egress and ingress rules allows the pair",
			policies: []*networkingv1.NetworkPolicy{denyBoth("prod"), np("prod", "web-out", sel("app", "web"), types(E), egress(out(peers(podPeer(sel("app", "db"))), port(5432)))), np("prod", "db-in", sel("app", "db"), ingress(in(peers(podPeer(sel("app", "web"))), named("pg"))))},
			src:      ep(web), dst: ep(db), port: 5432, allowed: true, eg: ReasonAllowedBy, in: ReasonAllowedBy,
			egBy: []string{"prod/web-out#0"}, inBy: []string{"prod/db-in#0"}, egIso: []string{"prod/deny-all", "prod/web-out"}, inIso: []string{"prod/db-in", "prod/deny-all"}},
		{name: "a source-namespace deny-all egress blocks traffic that the destination namespace would admit",
			policies: []*networkingv1.NetworkPolicy{denyOut("dev"), np("prod", "allow-all-in", all, ingress(networkingv1.NetworkPolicyIngressRule{}))},
			src:      ep(devClient), dst: ep(web), port: 8080, allowed: false, eg: ReasonNoRuleAllows, in: ReasonAllowedBy},
	}
	if len(cases) < 60 {
		t.Fatalf("the truth table must have at least 60 cases, has %d", len(cases))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Evaluate(c.policies, Traffic{Src: c.src, Dst: c.dst, Port: c.port, Protocol: c.proto})
			if got.Allowed != c.allowed {
				t.Errorf("allowed = %v, want %v (egress %+v, ingress %+v)", got.Allowed, c.allowed, got.Egress, got.Ingress)
			}
			if got.Egress.Reason != c.eg {
				t.Errorf("egress reason = %s, want %s", got.Egress.Reason, c.eg)
			}
			if got.Ingress.Reason != c.in {
				t.Errorf("ingress reason = %s, want %s", got.Ingress.Reason, c.in)
			}
			check := func(what string, got, want []string) {
				if want != nil && !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %v, want %v", what, got, want)
				}
			}
			check("egress allowedBy", rules(got.Egress.AllowedBy), c.egBy)
			check("ingress allowedBy", rules(got.Ingress.AllowedBy), c.inBy)
			check("egress isolatedBy", pols(got.Egress.IsolatedBy), c.egIso)
			check("ingress isolatedBy", pols(got.Ingress.IsolatedBy), c.inIso)
			if got.Egress.Allowed != (got.Egress.Reason != ReasonNoRuleAllows) || got.Ingress.Allowed != (got.Ingress.Reason != ReasonNoRuleAllows) {
				t.Errorf("a direction's allowed flag disagrees with its reason: %+v %+v", got.Egress, got.Ingress)
			}
		})
	}
}

func rules(rs []RuleRef) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, fmt.Sprintf("%s/%s#%d", r.Namespace, r.Policy, r.Rule))
	}
	return out
}

func pols(ps []PolicyRef) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, p.String())
	}
	return out
}

func TestIPBlockOnAPodIPCarriesANote(t *testing.T) {
	policies := []*networkingv1.NetworkPolicy{np("prod", "pod-cidr", sel("app", "web"), types(E), egress(out(peers(ipPeer("10.0.1.0/24")))))}
	got := Evaluate(policies, Traffic{Src: ep(web), Dst: ep(db), Port: 5432})
	if len(got.Egress.Notes) != 1 {
		t.Fatalf("want one note about ipBlock matching a pod IP, got %v", got.Egress.Notes)
	}
}

func TestNamedPortResolution(t *testing.T) {
	if p, ok := NamedPort(web, "metrics", corev1.ProtocolTCP); !ok || p != 9090 {
		t.Errorf("web metrics/TCP = %d %v, want 9090 true", p, ok)
	}
	if _, ok := NamedPort(web, "metrics", corev1.ProtocolUDP); ok {
		t.Error("web metrics/UDP resolved, want no match: the protocol differs")
	}
	if _, ok := NamedPort(nil, "http", corev1.ProtocolTCP); ok {
		t.Error("a nil pod resolved a named port")
	}
}

package netcheck

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ktriage/ktriage/pkg/netpolicy"
	"github.com/ktriage/ktriage/pkg/probe/result"
)

func vpod(ns, name, ip string, lbls map[string]string) netpolicy.Endpoint {
	return netpolicy.Endpoint{Pod: &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: lbls}, Status: corev1.PodStatus{PodIP: ip}}}
}

var denyIngress = &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "deny"},
	Spec: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}}}

func blockedPolicy() *PolicyAnalysis {
	return EvaluatePolicies([]*networkingv1.NetworkPolicy{denyIngress}, vpod("shop", "client", "10.0.0.1", nil),
		[]Target{{Endpoint: vpod("shop", "web", "10.0.0.2", nil), Port: 8080}}, corev1.ProtocolTCP)
}

func openPolicy() *PolicyAnalysis {
	return EvaluatePolicies(nil, vpod("shop", "client", "10.0.0.1", nil),
		[]Target{{Endpoint: vpod("shop", "web", "10.0.0.2", nil), Port: 8080}}, corev1.ProtocolTCP)
}

func probe(res string) *result.Result {
	return &result.Result{Result: res, Protocol: "tcp", Target: "10.0.0.2:8080", Detail: "detail"}
}

func problems(reasons ...string) *ServiceAnalysis {
	a := &ServiceAnalysis{}
	for _, r := range reasons {
		a.Problems = append(a.Problems, Problem{Reason: r, Message: r + " message", Fix: r + " fix"})
	}
	return a
}

func declaring(a *ServiceAnalysis, ports ...string) *ServiceAnalysis {
	a.DeclaredPorts = ports
	return a
}

func externalName() *ServiceAnalysis {
	a := AnalyzeService(&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "ext"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "db.example.com"}}, nil, nil, 5432, "", corev1.ProtocolTCP)
	return &a
}

func TestDecide(t *testing.T) {
	cases := []struct {
		name         string
		in           Inputs
		verdict      string
		basis        string
		disagreement bool
	}{
		{"without a probe and with nothing in the way the prediction is reachable",
			Inputs{Policy: openPolicy()}, VerdictReachable, BasisAnalysis, false},
		{"without a probe an isolating policy with no allowing rule predicts blocked-by-policy",
			Inputs{Policy: blockedPolicy()}, VerdictBlockedByPolicy, BasisAnalysis, false},
		{"without a probe a cluster name that cannot exist predicts dns-failure",
			Inputs{DNS: &DNSAnalysis{Name: "nosuch.shop.svc.cluster.local.", Resolves: "no", Lookups: 1}}, VerdictDNSFailure, BasisAnalysis, false},
		{"without a probe a Service whose selector matches nothing predicts no-endpoints",
			Inputs{Service: problems(ProblemNoSelectorMatch, ProblemNoEndpoints)}, VerdictNoEndpoints, BasisAnalysis, false},
		{"without a probe a missing Service port predicts port-mismatch before anything else",
			Inputs{Service: problems(ProblemNoSuchPort), Policy: blockedPolicy()}, VerdictPortMismatch, BasisAnalysis, false},
		{"without a probe a numeric target port on pods that declare no port at all does not predict failure: pods need not declare ports",
			Inputs{Service: problems(ProblemTargetNotDeclared), Policy: openPolicy()}, VerdictReachable, BasisAnalysis, false},
		{"without a probe a numeric target port the backends do not declare, while they declare others, predicts port-mismatch",
			Inputs{Service: declaring(problems(ProblemTargetNotDeclared), "http=8081"), Policy: openPolicy()}, VerdictPortMismatch, BasisAnalysis, false},
		{"a probe that connected to a Service whose target port the backends do not declare is reachable: the probe decides",
			Inputs{Service: declaring(problems(ProblemTargetNotDeclared), "http=8081"), Policy: openPolicy(), Probe: probe(result.Reachable)}, VerdictReachable, BasisProbe, false},
		{"a probe that connected is reachable",
			Inputs{Policy: openPolicy(), Probe: probe(result.Reachable)}, VerdictReachable, BasisProbe, false},
		{"a probe that connected although policies block it warns that the CNI does not enforce NetworkPolicy",
			Inputs{Policy: blockedPolicy(), Probe: probe(result.Reachable)}, VerdictReachable, BasisProbe, true},
		{"a probe that timed out where policies block it is blocked-by-policy",
			Inputs{Policy: blockedPolicy(), Probe: probe(result.Timeout)}, VerdictBlockedByPolicy, BasisProbe, false},
		{"a probe that timed out where policies allow it is a timeout with a disagreement",
			Inputs{Policy: openPolicy(), Probe: probe(result.Timeout)}, VerdictTimeout, BasisProbe, true},
		{"a refused connection to a Service whose target port no container declares is port-mismatch",
			Inputs{Policy: openPolicy(), Service: problems(ProblemTargetNotDeclared), Probe: probe(result.Refused)}, VerdictPortMismatch, BasisProbe, false},
		{"a refused connection to a Service without endpoints (kube-proxy rejects) is no-endpoints",
			Inputs{Service: problems(ProblemNoEndpoints), Probe: probe(result.Refused)}, VerdictNoEndpoints, BasisProbe, false},
		{"a refused connection to a pod is refused",
			Inputs{Policy: openPolicy(), Probe: probe(result.Refused)}, VerdictRefused, BasisProbe, false},
		{"a name the pod's resolver cannot resolve is dns-failure",
			Inputs{Probe: probe(result.DNSFailure)}, VerdictDNSFailure, BasisProbe, false},
		{"without a probe an ExternalName Service is unknown, never reachable: its name is outside the cluster's objects",
			Inputs{Service: externalName(), DNS: &DNSAnalysis{Name: "db.example.com", Resolves: "unknown", Lookups: 4}}, VerdictUnknown, BasisAnalysis, false},
		{"without a probe an ExternalName alias for a cluster name that cannot exist is dns-failure",
			Inputs{Service: externalName(), DNS: &DNSAnalysis{Name: "db.nosuch.svc.cluster.local", Resolves: "no", Lookups: 1}}, VerdictDNSFailure, BasisAnalysis, false},
		{"a probe that reached an ExternalName Service's name is reachable without a disagreement",
			Inputs{Service: externalName(), Probe: probe(result.Reachable)}, VerdictReachable, BasisProbe, false},
		{"a probe that timed out on an ExternalName Service's name is a timeout",
			Inputs{Service: externalName(), Probe: probe(result.Timeout)}, VerdictTimeout, BasisProbe, false},
		{"an HTTPS probe that connected but failed the TLS handshake is reachable: the network let it through",
			Inputs{Policy: openPolicy(), Probe: &result.Result{Result: result.Reachable, Protocol: "https", Target: "10.0.0.2:8080", Detail: "connected, but the https exchange failed: tls: first record does not look like a TLS handshake"}}, VerdictReachable, BasisProbe, false},
		{"a probe error that is neither refused nor a timeout does not claim that something drops the traffic",
			Inputs{Policy: openPolicy(), Probe: probe(result.Error)}, VerdictTimeout, BasisProbe, false},
		{"without a probe a name outside the cluster domain is unknown, never reachable: nothing was checked",
			Inputs{DNS: &DNSAnalysis{Name: "example.com", Resolves: "unknown", Lookups: 4}}, VerdictUnknown, BasisAnalysis, false},
		{"without a probe a name of a cluster Service is judged by its objects",
			Inputs{Policy: openPolicy(), Service: problems(), DNS: &DNSAnalysis{Name: "web.shop", Resolves: "yes", Lookups: 1}}, VerdictReachable, BasisAnalysis, false},
		{"without a probe policies that could not be listed make the prediction unknown, not reachable",
			Inputs{Policy: openPolicy(), PoliciesUnlisted: []string{"shop (forbidden)"}}, VerdictUnknown, BasisAnalysis, false},
		{"without a probe a block found in the policies that were read still decides",
			Inputs{Policy: blockedPolicy(), PoliciesUnlisted: []string{"other (forbidden)"}}, VerdictBlockedByPolicy, BasisAnalysis, false},
		{"a timeout where some policies could not be listed does not claim that policies allow the traffic",
			Inputs{Policy: openPolicy(), Probe: probe(result.Timeout), PoliciesUnlisted: []string{"shop (forbidden)"}}, VerdictTimeout, BasisProbe, false},
		{"an unreachable host without blocking policy is reported as timeout",
			Inputs{Probe: probe(result.Unreachable)}, VerdictTimeout, BasisProbe, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.in.Destination = "pod/shop/web:8080"
			v := Decide(c.in)
			if v.Verdict != c.verdict || v.Basis != c.basis {
				t.Errorf("verdict %s (%s), want %s (%s): %s", v.Verdict, v.Basis, c.verdict, c.basis, v.Reason)
			}
			if (v.Disagreement != "") != c.disagreement {
				t.Errorf("disagreement = %q, want present=%v", v.Disagreement, c.disagreement)
			}
			if v.Reason == "" {
				t.Error("a verdict needs a reason")
			}
			if v.Verdict != VerdictReachable && v.Fix == "" {
				t.Errorf("verdict %s has no fix", v.Verdict)
			}
		})
	}
}

func TestAnApplicationFailureAfterConnectingSaysSo(t *testing.T) {
	pr := &result.Result{Result: result.Reachable, Protocol: "https", Target: "10.0.0.2:8080", Detail: "connected, but the https exchange failed: tls: first record does not look like a TLS handshake"}
	v := Decide(Inputs{Policy: openPolicy(), Probe: pr, Destination: "pod/shop/web:8080"})
	if v.Verdict != VerdictReachable || !strings.Contains(v.Reason, "application-level") || !strings.Contains(v.Reason, "tls: first record") || !strings.Contains(v.Fix, "--protocol http") {
		t.Errorf("got %+v: want reachable with the application-level failure and the other scheme suggested", v)
	}
	if v := Decide(Inputs{Policy: openPolicy(), Probe: probe(result.Error), Destination: "pod/shop/web:8080"}); strings.Contains(v.Reason, "no answer") {
		t.Errorf("a probe error is not a missing answer: %q", v.Reason)
	}
}

// dnsDenied is the source's egress to a CoreDNS pod on UDP 53 under a
// default-deny egress policy.
func dnsDenied() *PolicyAnalysis {
	denyEgress := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "deny-egress"},
		Spec: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}}}
	return EvaluatePolicies([]*networkingv1.NetworkPolicy{denyEgress}, vpod("shop", "client", "10.0.0.1", nil),
		[]Target{{Endpoint: vpod("kube-system", "coredns", "10.0.9.10", nil), Port: 53}}, corev1.ProtocolUDP)
}

func TestDeniedDNSEgressBlocksANameDestination(t *testing.T) {
	external := &DNSAnalysis{Name: "example.com", Resolves: "unknown", Lookups: 4}
	lookupFailed := &result.Result{Result: result.DNSFailure, Protocol: "tcp", Target: "example.com:443", Detail: "lookup example.com: i/o timeout"}
	cases := []struct {
		name    string
		in      Inputs
		verdict string
	}{
		{"a lookup that failed where egress to the cluster DNS is denied", Inputs{DNS: external, DNSPolicy: dnsDenied(), Probe: lookupFailed}, VerdictBlockedByPolicy},
		{"a lookup that failed where egress to the cluster DNS is allowed", Inputs{DNS: external, DNSPolicy: EvaluatePolicies(nil, vpod("shop", "client", "10.0.0.1", nil), []Target{{Endpoint: vpod("kube-system", "coredns", "10.0.9.10", nil), Port: 53}}, corev1.ProtocolUDP), Probe: lookupFailed}, VerdictDNSFailure},
		{"without a probe, a name whose lookup egress is denied", Inputs{DNS: external, DNSPolicy: dnsDenied()}, VerdictBlockedByPolicy},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.in.Destination = "example.com:443"
			v := Decide(c.in)
			if v.Verdict != c.verdict {
				t.Fatalf("verdict %s, want %s: %s", v.Verdict, c.verdict, v.Reason)
			}
			if c.verdict == VerdictBlockedByPolicy && (!strings.Contains(v.Reason, "shop/deny-egress") || !strings.Contains(v.Reason, "53/UDP") || !strings.Contains(v.Fix, "egress rule")) {
				t.Errorf("reason %q fix %q: want the policy, the DNS port and an egress rule named", v.Reason, v.Fix)
			}
		})
	}
}

func TestBlockedVerdictNamesTheIsolatingPolicyInItsFix(t *testing.T) {
	v := Decide(Inputs{Policy: blockedPolicy(), Destination: "pod/shop/web:8080"})
	if !strings.Contains(v.Reason, "shop/deny") || !strings.Contains(v.Fix, "ingress rule") || !strings.Contains(v.Fix, "shop/deny") || !strings.Contains(v.Fix, "8080/TCP") {
		t.Errorf("reason %q fix %q: want the policy shop/deny and an ingress rule on 8080/TCP named", v.Reason, v.Fix)
	}
}

func TestEvaluatePoliciesPicksTheBlockedBackend(t *testing.T) {
	onlyA := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "b-deny"},
		Spec: networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"id": "b"}}, PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}}}
	pa := EvaluatePolicies([]*networkingv1.NetworkPolicy{onlyA}, vpod("shop", "client", "10.0.0.1", nil), []Target{
		{Endpoint: vpod("shop", "a", "10.0.0.2", map[string]string{"id": "a"}), Port: 80},
		{Endpoint: vpod("shop", "b", "10.0.0.3", map[string]string{"id": "b"}), Port: 80},
	}, corev1.ProtocolTCP)
	if pa.Allowed || pa.Blocked != 1 || len(pa.Targets) != 2 || pa.Ingress.Allowed || pa.Ingress.IsolatedBy[0].Policy != "b-deny" {
		t.Errorf("want backend b (blocked by b-deny) to decide, got %+v", pa)
	}
	if EvaluatePolicies(nil, vpod("shop", "client", "10.0.0.1", nil), nil, corev1.ProtocolTCP) != nil {
		t.Error("no target: want nil")
	}
}

func TestUnknownVerdictSaysWhatToCheck(t *testing.T) {
	v := Decide(Inputs{Service: externalName(), Destination: "svc/shop/ext:5432"})
	for _, want := range []string{"db.example.com", "port 5432/TCP", "--no-probe", "egress"} {
		if !strings.Contains(v.Reason+" "+v.Fix, want) {
			t.Errorf("reason %q fix %q: want %q named", v.Reason, v.Fix, want)
		}
	}
}

// partialPolicy: backend a (10.0.0.2) is allowed, backend b (10.0.0.3) is
// isolated by shop/b-deny.
func partialPolicy() *PolicyAnalysis {
	bDeny := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "b-deny"},
		Spec: networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"id": "b"}}, PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}}}
	return EvaluatePolicies([]*networkingv1.NetworkPolicy{bDeny}, vpod("shop", "client", "10.0.0.1", nil), []Target{
		{Endpoint: vpod("shop", "a", "10.0.0.2", map[string]string{"id": "a"}), Port: 8080},
		{Endpoint: vpod("shop", "b", "10.0.0.3", map[string]string{"id": "b"}), Port: 8080},
	}, corev1.ProtocolTCP)
}

func reachedAt(address string) *result.Result {
	return &result.Result{Result: result.Reachable, Protocol: "tcp", Target: "10.96.0.20:80", Address: address}
}

func TestPartialPolicyBlock(t *testing.T) {
	cases := []struct {
		name         string
		in           Inputs
		verdict      string
		disagreement bool
		reason       []string
	}{
		{"a probe through the ClusterIP, which may land on the allowed backend, is reachable without blaming the network plugin",
			Inputs{Policy: partialPolicy(), Probe: reachedAt("10.96.0.20")}, VerdictReachable, false, []string{"1 of 2 backends blocked", "shop/b-deny", "(b)"}},
		{"a probe that connected straight to the allowed backend is reachable without a disagreement",
			Inputs{Policy: partialPolicy(), Probe: reachedAt("10.0.0.2")}, VerdictReachable, false, []string{"1 of 2 backends blocked"}},
		{"a probe that connected straight to the blocked backend shows policies are not enforced",
			Inputs{Policy: partialPolicy(), Probe: reachedAt("10.0.0.3")}, VerdictReachable, true, nil},
		{"a probe that connected although every backend is blocked shows policies are not enforced",
			Inputs{Policy: blockedPolicy(), Probe: reachedAt("10.96.0.20")}, VerdictReachable, true, nil},
		{"without a probe a partial block is blocked-by-policy and says it is partial",
			Inputs{Policy: partialPolicy()}, VerdictBlockedByPolicy, false, []string{"partial", "1 of 2 backends blocked", "the other 1 allowed"}},
		{"a probe that timed out with a partial block is blocked-by-policy and says how many backends are blocked",
			Inputs{Policy: partialPolicy(), Probe: probe(result.Timeout)}, VerdictBlockedByPolicy, false, []string{"1 of 2 backends blocked"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.in.Destination = "svc/shop/web:80"
			v := Decide(c.in)
			if v.Verdict != c.verdict {
				t.Errorf("verdict %s, want %s: %s", v.Verdict, c.verdict, v.Reason)
			}
			if (v.Disagreement != "") != c.disagreement {
				t.Errorf("disagreement = %q, want present=%v", v.Disagreement, c.disagreement)
			}
			for _, want := range c.reason {
				if !strings.Contains(v.Reason, want) {
					t.Errorf("reason %q lacks %q", v.Reason, want)
				}
			}
			if len(c.reason) > 0 && !strings.Contains(v.Fix, "ingress rule") {
				t.Errorf("fix %q: want the ingress rule that unblocks b", v.Fix)
			}
		})
	}
}

func TestAPredictionFromManifestsSaysSo(t *testing.T) {
	v := Decide(Inputs{Policy: openPolicy(), Destination: "svc/shop/web:80", Manifests: true})
	if v.Verdict != VerdictReachable || !strings.Contains(v.Reason, "nothing in the manifests stops traffic to svc/shop/web:80") {
		t.Errorf("verdict %s (%s): want reachable, from the manifests", v.Verdict, v.Reason)
	}
}

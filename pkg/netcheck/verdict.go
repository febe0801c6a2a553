package netcheck

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/ktriage/ktriage/pkg/netpolicy"
	"github.com/ktriage/ktriage/pkg/probe/result"
)

// Verdicts. They are part of the JSON output (.verdict) and decide the exit
// code: 0 for reachable, 1 for every other.
const (
	VerdictReachable       = "reachable"
	VerdictBlockedByPolicy = "blocked-by-policy"
	VerdictNoEndpoints     = "no-endpoints"
	VerdictPortMismatch    = "port-mismatch"
	VerdictDNSFailure      = "dns-failure"
	VerdictRefused         = "refused"
	VerdictTimeout         = "timeout"
	// VerdictUnknown: without a probe, the objects cannot tell (an
	// ExternalName Service leads outside them). It is not reachable: exit 1.
	VerdictUnknown = "unknown"
)

// Basis of a verdict: the live probe, or the objects alone (--no-probe).
const (
	BasisProbe    = "probe"
	BasisAnalysis = "analysis"
)

// PolicyTarget is one backend the traffic may reach and the policy decision
// for it.
type PolicyTarget struct {
	Pod       string                    `json:"pod,omitempty"`
	Namespace string                    `json:"namespace,omitempty"`
	IP        string                    `json:"ip"`
	Port      int32                     `json:"port"`
	Allowed   bool                      `json:"allowed"`
	Egress    netpolicy.DirectionResult `json:"egress"`
	Ingress   netpolicy.DirectionResult `json:"ingress"`
}

// PolicyAnalysis is the NetworkPolicy decision. Egress and Ingress are those
// of the deciding target: the first blocked backend, else the first.
type PolicyAnalysis struct {
	Allowed  bool                      `json:"allowed"`
	Protocol string                    `json:"protocol"`
	Egress   netpolicy.DirectionResult `json:"egress"`
	Ingress  netpolicy.DirectionResult `json:"ingress"`
	// Targets lists every backend evaluated (one for a pod or an address).
	Targets []PolicyTarget `json:"targets"`
	// Blocked counts targets the policies block.
	Blocked int `json:"blocked"`
	// Unlisted names the namespaces whose policies could not be listed
	// and were left out, with why: the decision may be wrong.
	Unlisted []string `json:"unlisted,omitempty"`
}

// Target is a concrete destination for the policy evaluation.
type Target struct {
	Endpoint netpolicy.Endpoint
	Port     int32
}

// EvaluatePolicies judges src's traffic to each target. It returns nil when
// there is no target (e.g. a Service without endpoints).
func EvaluatePolicies(policies []*networkingv1.NetworkPolicy, src netpolicy.Endpoint, targets []Target, proto corev1.Protocol) *PolicyAnalysis {
	if len(targets) == 0 {
		return nil
	}
	pa := &PolicyAnalysis{Allowed: true, Protocol: string(proto), Targets: []PolicyTarget{}}
	decided := -1
	for _, t := range targets {
		r := netpolicy.Evaluate(policies, netpolicy.Traffic{Src: src, Dst: t.Endpoint, Port: t.Port, Protocol: proto})
		ip := t.Endpoint.IP
		if ip == "" && t.Endpoint.Pod != nil {
			ip = t.Endpoint.Pod.Status.PodIP
		}
		pt := PolicyTarget{IP: ip, Port: t.Port, Allowed: r.Allowed, Egress: r.Egress, Ingress: r.Ingress}
		if t.Endpoint.Pod != nil {
			pt.Pod, pt.Namespace = t.Endpoint.Pod.Name, t.Endpoint.Pod.Namespace
		}
		pa.Targets = append(pa.Targets, pt)
		if !r.Allowed {
			pa.Allowed = false
			pa.Blocked++
			if decided < 0 || pa.Targets[decided].Allowed {
				decided = len(pa.Targets) - 1
			}
		} else if decided < 0 {
			decided = len(pa.Targets) - 1
		}
	}
	pa.Egress, pa.Ingress = pa.Targets[decided].Egress, pa.Targets[decided].Ingress
	return pa
}

// Inputs are everything the verdict is joined from; nil parts were not
// relevant or not available.
type Inputs struct {
	Policy  *PolicyAnalysis
	Service *ServiceAnalysis
	DNS     *DNSAnalysis
	Probe   *result.Result
	// Destination describes the target for messages ("svc/prod/web:80").
	Destination string
	// PoliciesUnlisted names the namespaces whose NetworkPolicies could
	// not be listed, with why ("shop (forbidden)"): the policy analysis
	// left them out.
	PoliciesUnlisted []string
	// DNSPolicy is the source's egress to the cluster DNS pods on UDP 53,
	// when the destination is a name that must be looked up first.
	DNSPolicy *PolicyAnalysis
	// Manifests says the objects are manifests (merged over the cluster
	// or a dump), not the cluster as it runs: only the wording changes.
	Manifests bool
}

// Verdict is the answer with its reason and fix.
type Verdict struct {
	Verdict string `json:"verdict"`
	Basis   string `json:"basis"`
	Reason  string `json:"reason"`
	Fix     string `json:"fix,omitempty"`
	// Disagreement is set when the probe and the policy analysis disagree.
	Disagreement string `json:"disagreement,omitempty"`
}

// Decide joins the inputs. With a probe, the probe says whether traffic
// passed and the objects say why not; without one, the objects predict.
func Decide(in Inputs) Verdict {
	j := judge{in}
	if in.Probe == nil {
		return j.withoutProbe()
	}
	return j.withProbe()
}

// judge is Decide's view of the inputs.
type judge struct{ Inputs }

func (j judge) policyBlocked() bool { return j.Policy != nil && !j.Policy.Allowed }

// portProblem is the Service's first problem with its ports.
func (j judge) portProblem() (Problem, bool) {
	return j.serviceProblem(ProblemNoSuchPort, ProblemNamedPortMissing, ProblemTargetNotDeclared)
}

// endpointProblem is the Service's first problem with its endpoints.
func (j judge) endpointProblem() (Problem, bool) {
	return j.serviceProblem(ProblemNoSelectorMatch, ProblemNoEndpoints, ProblemNotReady, ProblemNoLocalEndpoint)
}

func (j judge) serviceProblem(reasons ...string) (Problem, bool) {
	if j.Service == nil {
		return Problem{}, false
	}
	for _, p := range j.Service.Problems {
		if slices.Contains(reasons, p.Reason) {
			return p, true
		}
	}
	return Problem{}, false
}

func fromProblem(v string, p Problem, basis string) Verdict {
	return Verdict{Verdict: v, Basis: basis, Reason: p.Message, Fix: p.Fix}
}

// dnsBlocked: only a block of every DNS pod stops lookups; a partial one
// makes them fail now and then, which is no verdict.
func (j judge) dnsBlocked() bool {
	return j.DNSPolicy != nil && !j.DNSPolicy.Egress.Allowed && j.DNSPolicy.Blocked == len(j.DNSPolicy.Targets)
}

// dnsVerdict is the verdict of a name the source may not look up.
func (j judge) dnsVerdict(basis string) Verdict {
	name := j.Destination
	if j.DNS != nil {
		name = j.DNS.Name
	}
	v := policyVerdict(j.DNSPolicy, "the cluster DNS pods", basis)
	v.Reason = fmt.Sprintf("%s on port 53/%s, so %s cannot be resolved", v.Reason, j.DNSPolicy.Protocol, name)
	v.Fix += " (and TCP port 53, which answers too large for UDP need)"
	return v
}

// withoutProbe predicts from the objects alone.
func (j judge) withoutProbe() Verdict {
	dst := j.Destination
	if j.DNS != nil && j.DNS.Resolves == "no" {
		return Verdict{Verdict: VerdictDNSFailure, Basis: BasisAnalysis,
			Reason: fmt.Sprintf("%q matches no Service or pod in the cluster domain with the source's search list (%d %s, all NXDOMAIN)", j.DNS.Name, j.DNS.Lookups, plural(j.DNS.Lookups, "query", "queries")),
			Fix:    "check the name's spelling and namespace: <service>.<namespace> or <service>.<namespace>.svc.<cluster-domain>"}
	}
	if p, ok := j.portProblem(); ok && (p.Reason != ProblemTargetNotDeclared || len(j.Service.DeclaredPorts) > 0) {
		// A numeric targetPort the backends do not declare, while they
		// declare others, is the classic typo. Pods that declare no
		// port at all may still listen on it: that stays a note.
		return fromProblem(VerdictPortMismatch, p, BasisAnalysis)
	}
	if j.dnsBlocked() {
		return j.dnsVerdict(BasisAnalysis)
	}
	if j.Service != nil && j.Service.Has(ProblemExternalName) {
		return externalNameUnknown(j.Service, dst)
	}
	if p, ok := j.endpointProblem(); ok {
		return fromProblem(VerdictNoEndpoints, p, BasisAnalysis)
	}
	if j.policyBlocked() {
		return policyVerdict(j.Policy, dst, BasisAnalysis)
	}
	if j.Service == nil && j.DNS != nil && j.DNS.Resolves == "unknown" {
		return externalDNSUnknown(j.DNS, dst)
	}
	if len(j.PoliciesUnlisted) > 0 {
		// Policies that were not read may isolate either end: the
		// objects cannot predict reachable.
		ns := strings.Join(j.PoliciesUnlisted, ", ")
		return Verdict{Verdict: VerdictUnknown, Basis: BasisAnalysis,
			Reason: fmt.Sprintf("the NetworkPolicies of namespace %s could not be listed: whether they block traffic to %s is unknown (nothing in the objects read stops it)", ns, dst),
			Fix:    fmt.Sprintf("run without --no-probe to test it, or run with permission to list networkpolicies in %s", ns)}
	}
	v := Verdict{Verdict: VerdictReachable, Basis: BasisAnalysis,
		Reason: fmt.Sprintf("nothing in the cluster's objects stops traffic to %s; run without --no-probe to test it", dst)}
	if j.Manifests {
		v.Reason = fmt.Sprintf("nothing in the manifests stops traffic to %s; once they are applied, run without -f to test it with a probe", dst)
	}
	if p, ok := j.portProblem(); ok {
		v.Reason += "; but " + p.Message
		v.Fix = p.Fix
	}
	return v
}

// withProbe says why the probe's result is what it is.
func (j judge) withProbe() Verdict {
	dst, pr := j.Destination, j.Probe
	switch pr.Result {
	case result.Reachable:
		return j.reached()
	case result.DNSFailure:
		if j.dnsBlocked() {
			return j.dnsVerdict(BasisProbe)
		}
		v := Verdict{Verdict: VerdictDNSFailure, Basis: BasisProbe,
			Reason: fmt.Sprintf("%s did not resolve in the source pod: %s", pr.Target, pr.Detail),
			Fix:    "check the name (for a Service: <service>.<namespace>), that the cluster DNS pods run, and that egress to them on port 53 is allowed"}
		if j.DNS != nil && j.DNS.Resolves == "yes" {
			v.Disagreement = fmt.Sprintf("the name should resolve (%s exists) but the pod's resolver failed: check the cluster DNS service and egress to it on port 53", j.DNS.Queries[len(j.DNS.Queries)-1].Name)
		}
		return v
	case result.Refused:
		if p, ok := j.portProblem(); ok {
			return fromProblem(VerdictPortMismatch, p, BasisProbe)
		}
		if p, ok := j.endpointProblem(); ok {
			return fromProblem(VerdictNoEndpoints, p, BasisProbe)
		}
		return Verdict{Verdict: VerdictRefused, Basis: BasisProbe,
			Reason: fmt.Sprintf("%s refused the connection (%s): nothing listens on %s", dst, pr.Detail, pr.Target),
			Fix:    "check the port the process listens on (and that it binds 0.0.0.0, not 127.0.0.1); a policy-enforcing plugin may also reject"}
	case result.Error:
		// A failure the probe could not classify as refused, unreachable or
		// timed out: no sign that anything drops the traffic, so no warning
		// that something does.
		if j.policyBlocked() {
			return policyVerdict(j.Policy, dst, BasisProbe)
		}
		return Verdict{Verdict: VerdictTimeout, Basis: BasisProbe,
			Reason: fmt.Sprintf("the probe's check of %s failed without a refusal or a timeout: %s", dst, pr.Detail),
			Fix:    "read the probe's error; check the destination address and port, and the source pod's network"}
	}
	return j.unanswered()
}

// reached: the probe got through; the objects may disagree.
func (j judge) reached() Verdict {
	dst, pr := j.Destination, j.Probe
	v := Verdict{Verdict: VerdictReachable, Basis: BasisProbe, Reason: reachedReason(pr, dst)}
	if ApplicationFailed(pr) {
		v.Reason = fmt.Sprintf("the probe connected to %s (%s %s) in %.1f ms: the network lets the traffic through; but the application-level exchange failed: %s", dst, pr.Protocol, pr.Target, pr.LatencyMs, pr.Detail)
		v.Fix = fmt.Sprintf("check what the destination speaks on that port (plain HTTP or TLS: try --protocol %s or tcp) and the server's logs", otherScheme(pr.Protocol))
	}
	svcProblem, svcBlocked := Problem{}, false
	if j.Service != nil {
		svcProblem, svcBlocked = j.Service.Blocking()
	}
	switch {
	case j.policyBlocked() && (!j.Policy.Partial() || reachedBlocked(j.Policy, pr)):
		v.Disagreement = fmt.Sprintf("the probe reached %s although NetworkPolicies block it (%s): the cluster's network plugin does not seem to enforce NetworkPolicy", dst, policySummary(j.Policy))
	case j.policyBlocked():
		// Only some backends are blocked, and the probe may have
		// landed on an allowed one: no sign the policies are ignored.
		v.Reason += fmt.Sprintf("; but %s: connections that land there fail", blockedPhrase(j.Policy))
		v.Fix = policyVerdict(j.Policy, dst, BasisProbe).Fix
	case svcBlocked:
		v.Disagreement = fmt.Sprintf("the probe reached %s although %s", dst, svcProblem.Message)
	}
	return v
}

// unanswered: the probe timed out or found the destination unreachable.
func (j judge) unanswered() Verdict {
	dst, pr := j.Destination, j.Probe
	if j.policyBlocked() {
		return policyVerdict(j.Policy, dst, BasisProbe)
	}
	if j.dnsBlocked() && pr.Result == result.Timeout && len(pr.Addresses) == 0 {
		// No address came back: the lookup itself was what timed out.
		return j.dnsVerdict(BasisProbe)
	}
	if p, ok := j.endpointProblem(); ok {
		return fromProblem(VerdictNoEndpoints, p, BasisProbe)
	}
	if p, ok := j.portProblem(); ok {
		return fromProblem(VerdictPortMismatch, p, BasisProbe)
	}
	v := Verdict{Verdict: VerdictTimeout, Basis: BasisProbe,
		Reason: fmt.Sprintf("no answer from %s (%s: %s)", dst, pr.Result, pr.Detail),
		Fix:    "check routes and firewalls between the nodes, the destination process, and network policies outside the networking.k8s.io API (CNI-specific policies)"}
	if j.Policy != nil && j.Policy.Allowed && len(j.PoliciesUnlisted) == 0 {
		v.Disagreement = "NetworkPolicies allow this traffic, yet it did not get through: something else drops it (a CNI-specific policy, a node firewall, or the destination process)"
	}
	return v
}

// externalNameUnknown is the --no-probe answer for an ExternalName Service:
// nothing in the cluster's objects says whether the aliased name answers.
func externalNameUnknown(a *ServiceAnalysis, dst string) Verdict {
	port := "the port"
	if a.Port != nil {
		port = fmt.Sprintf("port %d/%s", a.Port.Port, a.Port.Protocol)
	}
	return Verdict{Verdict: VerdictUnknown, Basis: BasisAnalysis,
		Reason: fmt.Sprintf("%s is an ExternalName alias for %q, outside the cluster's objects: without a probe its reachability is unknown", dst, a.ExternalName),
		Fix: fmt.Sprintf("run without --no-probe to test it, or check that %s resolves from the source pod, answers on %s, and that the source's egress policies allow its address",
			a.ExternalName, port)}
}

// ApplicationFailed says the probe established the TCP connection but the
// HTTP(S) exchange on it failed: the probe reports that as reachable with no
// HTTP status and the failure in its detail.
func ApplicationFailed(pr *result.Result) bool {
	return pr.Result == result.Reachable && (pr.Protocol == "http" || pr.Protocol == "https") && pr.HTTPStatus == 0 && pr.Detail != ""
}

func otherScheme(p string) string {
	if p == "https" {
		return "http"
	}
	return "https"
}

// externalDNSUnknown is the --no-probe answer for a name outside the cluster
// domain: no object says whether it resolves or what answers there.
func externalDNSUnknown(a *DNSAnalysis, dst string) Verdict {
	if len(a.Unchecked) > 0 {
		return Verdict{Verdict: VerdictUnknown, Basis: BasisAnalysis,
			Reason: fmt.Sprintf("the Services behind %s could not be read (%s): whether it resolves is unknown", dst, strings.Join(a.Unchecked, ", ")),
			Fix:    "run without --no-probe to test it, or run with permission to get services in their namespaces"}
	}
	via := ""
	if len(a.ResolvConf.Nameservers) > 0 {
		via = " (through its nameservers " + strings.Join(a.ResolvConf.Nameservers, ", ") + ")"
	}
	return Verdict{Verdict: VerdictUnknown, Basis: BasisAnalysis,
		Reason: fmt.Sprintf("%s is not a name of the cluster's Services or pods: without a probe nothing is checked, its reachability is unknown", dst),
		Fix: fmt.Sprintf("run without --no-probe to test it, or check that %s resolves from the source pod%s, that the address answers on the port, and that the source's egress policies allow that address",
			a.Name, via)}
}

func reachedReason(pr *result.Result, dst string) string {
	s := fmt.Sprintf("the probe reached %s (%s %s) in %.1f ms", dst, pr.Protocol, pr.Target, pr.LatencyMs)
	if pr.HTTPStatus != 0 {
		s += fmt.Sprintf(", HTTP status %d", pr.HTTPStatus)
	}
	if pr.Protocol == "dns" && len(pr.Addresses) > 0 {
		s = fmt.Sprintf("%s resolved to %s in %.1f ms", pr.Target, strings.Join(pr.Addresses, ", "), pr.LatencyMs)
	}
	return s
}

func policyVerdict(pa *PolicyAnalysis, dst, basis string) Verdict {
	v := Verdict{Verdict: VerdictBlockedByPolicy, Basis: basis, Reason: policySummary(pa) + " block traffic to " + dst}
	if pa.Partial() {
		v.Reason = fmt.Sprintf("partial block of %s: %s; the other %d allowed, so connections fail or pass depending on the backend they land on",
			dst, blockedPhrase(pa), len(pa.Targets)-pa.Blocked)
	}
	var fixes []string
	if !pa.Egress.Allowed {
		fixes = append(fixes, fmt.Sprintf("add an egress rule allowing %s to one of the source's policies (%s)", portPhrase(pa), refs(pa.Egress.IsolatedBy)))
	}
	if !pa.Ingress.Allowed {
		fixes = append(fixes, fmt.Sprintf("add an ingress rule from the source on %s to one of the destination's policies (%s)", portPhrase(pa), refs(pa.Ingress.IsolatedBy)))
	}
	v.Fix = strings.Join(fixes, "; and ")
	return v
}

func portPhrase(pa *PolicyAnalysis) string {
	for _, t := range pa.Targets {
		if !t.Allowed {
			return fmt.Sprintf("port %d/%s", t.Port, pa.Protocol)
		}
	}
	return "the port"
}

// policySummary names the isolating policies of the denied directions.
func policySummary(pa *PolicyAnalysis) string {
	var parts []string
	if !pa.Egress.Allowed {
		parts = append(parts, "egress policies "+refs(pa.Egress.IsolatedBy))
	}
	if !pa.Ingress.Allowed {
		parts = append(parts, "ingress policies "+refs(pa.Ingress.IsolatedBy))
	}
	if len(parts) == 0 {
		return "no policy"
	}
	return strings.Join(parts, " and ")
}

// Partial says the policies block some backends but not all.
func (pa *PolicyAnalysis) Partial() bool {
	return pa.Blocked > 0 && pa.Blocked < len(pa.Targets)
}

// blockedPhrase says how many backends are blocked, which, and by what:
// "1 of 3 backends blocked by ingress policies shop/deny (web-2)".
func blockedPhrase(pa *PolicyAnalysis) string {
	var names []string
	for _, t := range pa.Targets {
		if t.Allowed {
			continue
		}
		n := t.IP
		if t.Pod != "" {
			n = t.Pod
		}
		names = append(names, n)
	}
	const shown = 5
	list := strings.Join(names[:min(len(names), shown)], ", ")
	if len(names) > shown {
		list += fmt.Sprintf(" and %d more", len(names)-shown)
	}
	return fmt.Sprintf("%d of %d backends blocked by %s (%s)", pa.Blocked, len(pa.Targets), policySummary(pa), list)
}

// reachedBlocked says the probe's connection went straight to a blocked
// backend (a pod, an address, a headless Service's endpoint). Through a
// ClusterIP the backend the connection landed on is not known.
func reachedBlocked(pa *PolicyAnalysis, pr *result.Result) bool {
	if pr.Address == "" {
		return false
	}
	for _, t := range pa.Targets {
		if t.IP == pr.Address && !t.Allowed {
			return true
		}
	}
	return false
}

func refs(ps []netpolicy.PolicyRef) string {
	var s []string
	for _, p := range ps {
		s = append(s, p.String())
	}
	return strings.Join(s, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

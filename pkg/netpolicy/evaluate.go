package netpolicy

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// MetadataNameLabel is set by the API server on every namespace to its name;
// namespaceSelectors commonly use it.
const MetadataNameLabel = "kubernetes.io/metadata.name"

// Endpoint is one end of a connection: a pod (with its namespace's labels), or
// only an IP for something outside the pod network.
type Endpoint struct {
	Pod *corev1.Pod
	// NamespaceLabels are the labels of the pod's namespace. When nil, only
	// kubernetes.io/metadata.name is assumed, which the API server always sets.
	NamespaceLabels map[string]string
	// IP is the address the traffic uses; for a pod, its pod IP (defaulted
	// from status.podIP).
	IP string
}

// Traffic is one connection attempt at the transport layer. For a Service,
// Dst is the backend pod and Port the resolved target port: CNIs enforce
// policies after the Service's address translation.
type Traffic struct {
	Src, Dst Endpoint
	Port     int32
	// Protocol is TCP, UDP or SCTP; empty means TCP.
	Protocol corev1.Protocol
}

// Direction is egress (judged on the source pod) or ingress (on the destination).
type Direction string

const (
	Egress  Direction = "egress"
	Ingress Direction = "ingress"
)

// Reasons a direction is allowed or denied. They are part of the JSON output.
const (
	ReasonNotIsolated  = "not-isolated"    // no policy selecting the pod has this policy type
	ReasonAllowedBy    = "allowed-by-rule" // an isolating policy has a matching rule
	ReasonNoRuleAllows = "no-rule-allows"  // isolated, and no rule of any isolating policy matches
	ReasonHostNetwork  = "host-network"    // policies do not apply to host-network pods
	ReasonNodeLocal    = "node-local"      // traffic to or from the pod's own node is always allowed
	ReasonNotAPod      = "not-a-pod"       // the end is outside the pod network: nothing to isolate
	ReasonSelf         = "self"            // a pod cannot block traffic to itself
)

// RuleRef names one rule: spec.<direction>[Rule] of a policy.
type RuleRef struct {
	Namespace string `json:"namespace"`
	Policy    string `json:"policy"`
	// Rule is the index in spec.ingress or spec.egress.
	Rule int `json:"rule"`
}

func (r RuleRef) String() string {
	return fmt.Sprintf("%s/%s rule %d", r.Namespace, r.Policy, r.Rule)
}

// PolicyRef names a policy.
type PolicyRef struct {
	Namespace string `json:"namespace"`
	Policy    string `json:"policy"`
}

func (p PolicyRef) String() string { return p.Namespace + "/" + p.Policy }

// DirectionResult is the decision for one direction.
type DirectionResult struct {
	Direction Direction `json:"direction"`
	Allowed   bool      `json:"allowed"`
	// Isolated says some policy selecting the pod has this policy type.
	Isolated bool   `json:"isolated"`
	Reason   string `json:"reason"`
	// AllowedBy lists every rule that allows the traffic; the first decides.
	AllowedBy []RuleRef `json:"allowedBy,omitempty"`
	// IsolatedBy lists every policy that isolates the pod in this direction.
	IsolatedBy []PolicyRef `json:"isolatedBy,omitempty"`
	// Notes explain subtleties, e.g. an ipBlock that matched a pod IP.
	Notes []string `json:"notes,omitempty"`
}

// Result is the decision for a connection: both directions must allow it.
type Result struct {
	Allowed bool            `json:"allowed"`
	Egress  DirectionResult `json:"egress"`
	Ingress DirectionResult `json:"ingress"`
}

// Evaluate judges t against policies (from any namespaces; each applies only
// to pods in its own namespace).
func Evaluate(policies []*networkingv1.NetworkPolicy, t Traffic) Result {
	if t.Protocol == "" {
		t.Protocol = corev1.ProtocolTCP
	}
	t.Src.IP = endpointIP(t.Src)
	t.Dst.IP = endpointIP(t.Dst)
	eg := evaluateDirection(policies, Egress, t.Src, t.Dst, t)
	in := evaluateDirection(policies, Ingress, t.Dst, t.Src, t)
	return Result{Allowed: eg.Allowed && in.Allowed, Egress: eg, Ingress: in}
}

func endpointIP(e Endpoint) string {
	if e.IP == "" && e.Pod != nil {
		return e.Pod.Status.PodIP
	}
	return e.IP
}

// evaluateDirection judges one direction for subject (the pod whose policies
// count) talking to peer.
func evaluateDirection(policies []*networkingv1.NetworkPolicy, dir Direction, subject, peer Endpoint, t Traffic) DirectionResult {
	res := DirectionResult{Direction: dir}
	switch {
	case subject.Pod == nil:
		res.Allowed, res.Reason = true, ReasonNotAPod
		return res
	case subject.Pod.Spec.HostNetwork:
		res.Allowed, res.Reason = true, ReasonHostNetwork
		return res
	}
	sorted := append([]*networkingv1.NetworkPolicy(nil), policies...)
	sort.SliceStable(sorted, func(i, j int) bool {
		if sorted[i].Namespace != sorted[j].Namespace {
			return sorted[i].Namespace < sorted[j].Namespace
		}
		return sorted[i].Name < sorted[j].Name
	})
	for _, np := range sorted {
		if np.Namespace != subject.Pod.Namespace || !hasType(np, dir) || !selects(&np.Spec.PodSelector, subject.Pod.Labels) {
			continue
		}
		res.Isolated = true
		res.IsolatedBy = append(res.IsolatedBy, PolicyRef{Namespace: np.Namespace, Policy: np.Name})
		// The destination pod resolves named ports: for egress it is the
		// peer, for ingress the subject itself.
		dst := peer
		if dir == Ingress {
			dst = subject
		}
		for i, r := range rulesOf(np, dir) {
			if !portsMatch(r.ports, dst, t) {
				continue
			}
			matched, note := peersMatch(r.peers, np.Namespace, peer)
			if !matched {
				continue
			}
			res.AllowedBy = append(res.AllowedBy, RuleRef{Namespace: np.Namespace, Policy: np.Name, Rule: i})
			if note != "" {
				res.Notes = append(res.Notes, fmt.Sprintf("%s/%s %s rule %d: %s", np.Namespace, np.Name, dir, i, note))
			}
		}
	}
	switch {
	case !res.Isolated:
		res.Allowed, res.Reason = true, ReasonNotIsolated
	case len(res.AllowedBy) > 0:
		res.Allowed, res.Reason = true, ReasonAllowedBy
	case samePod(subject, peer):
		res.Allowed, res.Reason = true, ReasonSelf
	case nodeLocal(subject, peer):
		res.Allowed, res.Reason = true, ReasonNodeLocal
	default:
		res.Reason = ReasonNoRuleAllows
	}
	return res
}

// samePod reports traffic from a pod to itself: the peer is the same pod (by
// UID when both carry one, else by namespace and name), or only an address
// that is one of the subject's pod IPs. Pods without an IP never match by
// address.
func samePod(subject, peer Endpoint) bool {
	a, b := subject.Pod, peer.Pod
	if b == nil {
		if peer.IP == "" {
			return false
		}
		for _, ip := range podIPs(a) {
			if ip == peer.IP {
				return true
			}
		}
		return false
	}
	if a.UID != "" && b.UID != "" {
		return a.UID == b.UID
	}
	return a.Namespace == b.Namespace && a.Name == b.Name
}

func podIPs(p *corev1.Pod) []string {
	var out []string
	if p.Status.PodIP != "" {
		out = append(out, p.Status.PodIP)
	}
	for _, ip := range p.Status.PodIPs {
		if ip.IP != "" && ip.IP != p.Status.PodIP {
			out = append(out, ip.IP)
		}
	}
	return out
}

// nodeLocal reports traffic between a pod and its own node: the peer is a
// host-network pod on the same node, or the peer's IP is the pod's host IP.
func nodeLocal(subject, peer Endpoint) bool {
	if peer.Pod != nil && peer.Pod.Spec.HostNetwork && peer.Pod.Spec.NodeName != "" &&
		peer.Pod.Spec.NodeName == subject.Pod.Spec.NodeName {
		return true
	}
	if peer.IP == "" {
		return false
	}
	for _, h := range hostIPs(subject.Pod) {
		if h == peer.IP {
			return true
		}
	}
	return false
}

func hostIPs(p *corev1.Pod) []string {
	var out []string
	if p.Status.HostIP != "" {
		out = append(out, p.Status.HostIP)
	}
	for _, h := range p.Status.HostIPs {
		if h.IP != "" && h.IP != p.Status.HostIP {
			out = append(out, h.IP)
		}
	}
	return out
}

// hasType applies the API's defaulting of spec.policyTypes: when it is empty
// every policy affects ingress, and egress only when it has egress rules.
func hasType(np *networkingv1.NetworkPolicy, dir Direction) bool {
	if len(np.Spec.PolicyTypes) == 0 {
		if dir == Ingress {
			return true
		}
		return len(np.Spec.Egress) > 0
	}
	want := networkingv1.PolicyTypeIngress
	if dir == Egress {
		want = networkingv1.PolicyTypeEgress
	}
	for _, pt := range np.Spec.PolicyTypes {
		if pt == want {
			return true
		}
	}
	return false
}

type rule struct {
	ports []networkingv1.NetworkPolicyPort
	peers []networkingv1.NetworkPolicyPeer
}

func rulesOf(np *networkingv1.NetworkPolicy, dir Direction) []rule {
	var out []rule
	if dir == Ingress {
		for _, r := range np.Spec.Ingress {
			out = append(out, rule{r.Ports, r.From})
		}
		return out
	}
	for _, r := range np.Spec.Egress {
		out = append(out, rule{r.Ports, r.To})
	}
	return out
}

// selects matches a required selector (spec.podSelector): empty selects all.
func selects(sel *metav1.LabelSelector, lbls map[string]string) bool {
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return false
	}
	return s.Matches(labels.Set(lbls))
}

// portsMatch: an empty list matches every port and protocol; otherwise one
// entry must match. dst is the destination pod, which resolves named ports.
func portsMatch(ports []networkingv1.NetworkPolicyPort, dst Endpoint, t Traffic) bool {
	if len(ports) == 0 {
		return true
	}
	for _, p := range ports {
		if portMatches(p, dst, t) {
			return true
		}
	}
	return false
}

func portMatches(p networkingv1.NetworkPolicyPort, dst Endpoint, t Traffic) bool {
	proto := corev1.ProtocolTCP
	if p.Protocol != nil && *p.Protocol != "" {
		proto = *p.Protocol
	}
	if proto != t.Protocol {
		return false
	}
	if p.Port == nil {
		return true
	}
	if p.Port.Type == intstr.String {
		port, ok := NamedPort(dst.Pod, p.Port.StrVal, proto)
		return ok && port == t.Port
	}
	lo := p.Port.IntVal
	if p.EndPort != nil {
		return t.Port >= lo && t.Port <= *p.EndPort
	}
	return t.Port == lo
}

// NamedPort resolves a port name on a pod's containers (and restartable init
// containers, which run beside them); the protocol must match too.
func NamedPort(pod *corev1.Pod, name string, proto corev1.Protocol) (int32, bool) {
	if pod == nil {
		return 0, false
	}
	var containers []corev1.Container
	containers = append(containers, pod.Spec.Containers...)
	for _, c := range pod.Spec.InitContainers {
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			containers = append(containers, c)
		}
	}
	for _, c := range containers {
		for _, cp := range c.Ports {
			cpProto := cp.Protocol
			if cpProto == "" {
				cpProto = corev1.ProtocolTCP
			}
			if cp.Name == name && cpProto == proto {
				return cp.ContainerPort, true
			}
		}
	}
	return 0, false
}

// peersMatch: an empty list matches every peer (pods and outside IPs alike).
func peersMatch(peers []networkingv1.NetworkPolicyPeer, policyNS string, peer Endpoint) (bool, string) {
	if len(peers) == 0 {
		return true, ""
	}
	for _, p := range peers {
		if ok, note := peerMatches(p, policyNS, peer); ok {
			return true, note
		}
	}
	return false, ""
}

func peerMatches(p networkingv1.NetworkPolicyPeer, policyNS string, peer Endpoint) (bool, string) {
	if p.IPBlock != nil {
		ok := ipBlockMatches(p.IPBlock, peer.IP)
		if ok && peer.Pod != nil && !peer.Pod.Spec.HostNetwork {
			return true, fmt.Sprintf("ipBlock %s matched the pod IP %s; the API does not define whether CNIs apply ipBlocks to pod IPs, prefer pod or namespace selectors", p.IPBlock.CIDR, peer.IP)
		}
		return ok, ""
	}
	// Selectors match only pods on the pod network.
	if peer.Pod == nil || peer.Pod.Spec.HostNetwork {
		return false, ""
	}
	if p.PodSelector == nil && p.NamespaceSelector == nil {
		return false, "" // invalid peer; the API rejects it
	}
	if p.NamespaceSelector == nil {
		// podSelector alone: pods in the policy's own namespace.
		if peer.Pod.Namespace != policyNS {
			return false, ""
		}
	} else if !selects(p.NamespaceSelector, namespaceLabels(peer)) {
		return false, ""
	}
	if p.PodSelector != nil && !selects(p.PodSelector, peer.Pod.Labels) {
		return false, ""
	}
	return true, ""
}

func namespaceLabels(e Endpoint) map[string]string {
	out := map[string]string{}
	for k, v := range e.NamespaceLabels {
		out[k] = v
	}
	if _, ok := out[MetadataNameLabel]; !ok && e.Pod != nil {
		out[MetadataNameLabel] = e.Pod.Namespace
	}
	return out
}

// ipBlockMatches: the IP is inside cidr and inside none of the excepts.
func ipBlockMatches(b *networkingv1.IPBlock, ip string) bool {
	addr, err := netip.ParseAddr(strings.TrimSpace(ip))
	if err != nil {
		return false
	}
	addr = addr.Unmap()
	in, ok := prefixContains(b.CIDR, addr)
	if !ok || !in {
		return false
	}
	for _, e := range b.Except {
		if in, ok := prefixContains(e, addr); ok && in {
			return false
		}
	}
	return true
}

func prefixContains(cidr string, addr netip.Addr) (bool, bool) {
	pfx, err := netip.ParsePrefix(strings.TrimSpace(cidr))
	if err != nil {
		return false, false
	}
	return pfx.Masked().Contains(addr), true
}

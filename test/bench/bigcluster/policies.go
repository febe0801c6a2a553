package bigcluster

import (
	"fmt"
	"math/rand/v2"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Policies returns n NetworkPolicies spread over namespaces, in the shapes
// clusters accumulate: a default deny per namespace, ingress from the
// namespace's own pods and from labelled namespaces, egress to DNS and to
// ipBlocks with exceptions, port ranges and named ports, selectors with
// matchExpressions.
func Policies(seed uint64, n, namespaces int) []*networkingv1.NetworkPolicy {
	r := rand.New(rand.NewPCG(seed, 0x6e6574))
	tcp, udp := corev1.ProtocolTCP, corev1.ProtocolUDP
	port := func(p int) *intstr.IntOrString { v := intstr.FromInt32(int32(p)); return &v }
	named := func(s string) *intstr.IntOrString { v := intstr.FromString(s); return &v }
	out := make([]*networkingv1.NetworkPolicy, 0, n)
	for i := range n {
		ns := nsName(i % max(namespaces, 1))
		app := fmt.Sprintf("app-%d", r.IntN(50))
		np := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("policy-%d", i), UID: uid("netpol", fmt.Sprint(i))}}
		switch k := i / max(namespaces, 1); {
		case k == 0:
			np.Name = "default-deny"
			np.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}
		case k == 1:
			np.Name = "allow-dns"
			np.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}
			np.Spec.Egress = []networkingv1.NetworkPolicyEgressRule{{
				To: []networkingv1.NetworkPolicyPeer{{
					NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "kube-system"}},
					PodSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"k8s-app": "kube-dns"}},
				}},
				Ports: []networkingv1.NetworkPolicyPort{{Protocol: &udp, Port: port(53)}, {Protocol: &tcp, Port: port(53)}},
			}}
		case k%3 == 0:
			np.Spec.PodSelector = metav1.LabelSelector{MatchLabels: map[string]string{"app.kubernetes.io/name": app}}
			np.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}
			// A /16 with one of its /24s excepted: the API server refuses an
			// exception that is not strictly inside the block.
			block, sub := r.IntN(256), r.IntN(256)
			np.Spec.Egress = []networkingv1.NetworkPolicyEgressRule{{
				To: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: fmt.Sprintf("10.%d.0.0/16", block),
					Except: []string{fmt.Sprintf("10.%d.%d.0/24", block, sub)}}}},
				Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: port(5432), EndPort: ptr(int32(5440))}},
			}}
		default:
			np.Spec.PodSelector = metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
				{Key: "app.kubernetes.io/name", Operator: metav1.LabelSelectorOpIn, Values: []string{app, fmt.Sprintf("app-%d", r.IntN(50))}},
			}}
			np.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
			np.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{
				{From: []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app.kubernetes.io/name": fmt.Sprintf("app-%d", r.IntN(50))}}}},
					Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: named("http")}}},
				{From: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
					{Key: "team", Operator: metav1.LabelSelectorOpIn, Values: []string{fmt.Sprintf("team-%d", r.IntN(10))}}}}}},
					Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: port(9090)}}},
			}
		}
		out = append(out, np)
	}
	return out
}

package netpolicy

import (
	"reflect"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/yaml"
)

// FuzzEvaluate judges a connection between pods of the truth table's world
// (their IPs fuzzed too) against any NetworkPolicies a manifest can hold:
// invalid selectors, CIDRs, ports and protocols included, as -f reads them
// before any API server validates them. It must never panic, must decide
// the same way whatever the policies' order, and must explain its
// decision: a direction is refused only by the policies isolating it, and
// allowed in isolation only by a rule. Seeds: testdata/fuzz/FuzzEvaluate.
func FuzzEvaluate(f *testing.F) {
	f.Fuzz(func(t *testing.T, manifest []byte, srcIP, dstIP string, port int32, protocol string, srcHost bool) {
		var policies []*networkingv1.NetworkPolicy
		var list []networkingv1.NetworkPolicy
		if err := yaml.Unmarshal(manifest, &list); err != nil {
			var one networkingv1.NetworkPolicy
			if yaml.Unmarshal(manifest, &one) != nil {
				return
			}
			list = []networkingv1.NetworkPolicy{one}
		}
		for i := range list {
			if list[i].Namespace == "" {
				list[i].Namespace = "prod"
			}
			policies = append(policies, &list[i])
		}
		src := web.DeepCopy()
		src.Status.PodIP = srcIP
		src.Spec.HostNetwork = srcHost
		dst := db.DeepCopy()
		dst.Status.PodIP = dstIP
		for _, tr := range []Traffic{
			{Src: ep(src), Dst: ep(dst), Port: port, Protocol: corev1.Protocol(protocol)},
			{Src: ep(devClient), Dst: ip(dstIP), Port: port, Protocol: corev1.Protocol(protocol)},
			{Src: ip(srcIP), Dst: Endpoint{Pod: dst}, Port: port},
		} {
			res := Evaluate(policies, tr)
			if again := Evaluate(policies, tr); !reflect.DeepEqual(res, again) {
				t.Fatalf("two evaluations differ:\n%+v\n%+v", res, again)
			}
			reversed := slices.Clone(policies)
			slices.Reverse(reversed)
			if r := Evaluate(reversed, tr); r.Allowed != res.Allowed || r.Egress.Allowed != res.Egress.Allowed || r.Ingress.Allowed != res.Ingress.Allowed {
				t.Fatalf("the policies' order changed the decision: %+v, reversed %+v", res, r)
			}
			if res.Allowed != (res.Egress.Allowed && res.Ingress.Allowed) {
				t.Fatalf("allowed %v but egress %v, ingress %v", res.Allowed, res.Egress.Allowed, res.Ingress.Allowed)
			}
			for _, d := range []DirectionResult{res.Egress, res.Ingress} {
				switch {
				case !d.Allowed && (d.Reason != ReasonNoRuleAllows || len(d.IsolatedBy) == 0):
					t.Fatalf("%s refused without an isolating policy: %+v", d.Direction, d)
				case d.Reason == ReasonAllowedBy && (!d.Allowed || len(d.AllowedBy) == 0):
					t.Fatalf("%s allowed by a rule it does not name: %+v", d.Direction, d)
				}
			}
		}
	})
}

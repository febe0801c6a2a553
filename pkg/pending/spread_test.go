package pending

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestTopologySpreadNamesThePolicyBehindTheSkewAndItsFix(t *testing.T) {
	zone := func(z string) func(*corev1.Node) { return func(n *corev1.Node) { n.Labels["zone"] = z } }
	ignore := corev1.NodeInclusionPolicyIgnore
	web := func(name string) *corev1.Pod {
		return pod("app", name, onNode("n1"), func(p *corev1.Pod) { p.Labels = map[string]string{"app": "web"}; p.Status.Phase = corev1.PodRunning })
	}
	p := pod("app", "web-3", unschedulableCondition("x"), func(p *corev1.Pod) {
		p.Labels = map[string]string{"app": "web"}
		p.Spec.NodeSelector = map[string]string{"zone": "a"}
		p.Spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{MaxSkew: 1, TopologyKey: "zone", WhenUnsatisfiable: corev1.DoNotSchedule,
			NodeAffinityPolicy: &ignore, LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}}}
	})
	s := snapshot(node("n1", "4", "8Gi", zone("a")), node("n2", "4", "8Gi", zone("b")), web("web-1"), web("web-2"), p)
	_, res := explainOne(s, p)
	msg, fix, ok := finding(res, RuleTopologySpread)
	if !ok {
		t.Fatalf("want %s, got %v", RuleTopologySpread, ruleIDs(res))
	}
	if want := "b counts (0 matching, skew 0) only because of nodeAffinityPolicy: Ignore; its only node n2 fails the pod's nodeSelector/affinity"; !strings.Contains(msg, want) {
		t.Errorf("message lacks %q:\n%s", want, msg)
	}
	if !strings.HasPrefix(fix, "set nodeAffinityPolicy: Honor on the zone constraint") {
		t.Errorf("want the policy's fix first, got %q", fix)
	}
}

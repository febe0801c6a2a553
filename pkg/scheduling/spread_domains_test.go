package scheduling

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func spreadOver(key string, mods ...func(*corev1.TopologySpreadConstraint)) podOpt {
	return func(p *corev1.Pod) {
		tsc := corev1.TopologySpreadConstraint{MaxSkew: 1, TopologyKey: key, WhenUnsatisfiable: corev1.DoNotSchedule,
			LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}}
		for _, m := range mods {
			m(&tsc)
		}
		p.Spec.TopologySpreadConstraints = append(p.Spec.TopologySpreadConstraints, tsc)
	}
}

func TestSpreadDomainsSayWhichPolicyMakesThemCount(t *testing.T) {
	ignore, honor := corev1.NodeInclusionPolicyIgnore, corev1.NodeInclusionPolicyHonor
	three := int32(3)
	zones := []*corev1.Node{node("n1", withLabels("zone", "a")), node("n2", withLabels("zone", "b")), node("n3", withLabels("zone", "c"))}
	web := func(name, on string) *corev1.Pod { return pod(name, onNode(on), podLabels("app", "web", "hash", "h1")) }
	cases := []struct {
		name      string
		nodes     []*corev1.Node
		pods      []*corev1.Pod
		pod       *corev1.Pod
		want      []string // parts of the constraint's summary
		detail    string   // part of n1's detail
		notInText string
	}{
		{
			name:  "zones the pod may not use count only because nodeAffinityPolicy is Ignore",
			nodes: zones, pods: []*corev1.Pod{web("w1", "n1"), web("w2", "n1")},
			pod: pod("p", podLabels("app", "web", "hash", "h1"), nodeSelector("zone", "a"),
				spreadOver("zone", func(c *corev1.TopologySpreadConstraint) {
					c.NodeAffinityPolicy = &ignore
					c.MatchLabelKeys = []string{"hash"}
				})),
			want: []string{"zone (maxSkew 1, selector app=web, hash=h1; matchLabelKeys added hash=h1 from the pod's labels)",
				"a counts (2 matching, skew 2)",
				"b counts (0 matching, skew 0) only because of nodeAffinityPolicy: Ignore; its only node n2 fails the pod's nodeSelector/affinity"},
			detail: "(the minimum is 0 in zone=b, which counts only because of nodeAffinityPolicy: Ignore; its only node n2 fails the pod's nodeSelector/affinity)",
		},
		{
			name:  "a tainted zone is left out under nodeTaintsPolicy Honor, leaving fewer domains than minDomains",
			nodes: []*corev1.Node{zones[0], node("n2", withLabels("zone", "b"), taint("maintenance", "", corev1.TaintEffectNoSchedule)), zones[2]},
			pods:  []*corev1.Pod{web("w1", "n1"), web("w3", "n3")},
			pod: pod("p", podLabels("app", "web"),
				spreadOver("zone", func(c *corev1.TopologySpreadConstraint) { c.NodeTaintsPolicy = &honor; c.MinDomains = &three })),
			want: []string{"b does not count: nodeTaintsPolicy: Honor: its only node n2 has taints the pod does not tolerate",
				"only 2 domain(s) count, fewer than minDomains 3, so the minimum is taken as 0"},
		},
		{
			name:  "a domain whose nodes fail the selector does not count by default",
			nodes: zones, pods: []*corev1.Pod{web("w1", "n1"), web("w2", "n1")},
			pod: pod("p", podLabels("app", "web"), requiredNodeAffinity(corev1.NodeSelectorRequirement{Key: "zone", Operator: corev1.NodeSelectorOpNotIn, Values: []string{"c"}}),
				spreadOver("zone")),
			want: []string{"c does not count: nodeAffinityPolicy: Honor (the default): its only node n3 fails the pod's nodeSelector/affinity"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := Evaluate(tc.pod, snapshot(tc.nodes, tc.pods...), Options{})
			if len(res.Spread) != 1 {
				t.Fatalf("want one constraint explained, got %+v (%s)", res.Spread, res.Message)
			}
			for _, w := range tc.want {
				if !strings.Contains(res.Spread[0].Summary, w) {
					t.Errorf("summary lacks %q:\n%s", w, res.Spread[0].Summary)
				}
			}
			if tc.detail != "" {
				if r := reasonsOf(t, res, "n1"); !strings.Contains(r[0].Detail, tc.detail) {
					t.Errorf("n1's detail lacks %q:\n%s", tc.detail, r[0].Detail)
				}
			}
		})
	}
}

func TestAPodThatFitsHasNoSpreadExplanation(t *testing.T) {
	nodes := []*corev1.Node{node("n1", withLabels("zone", "a")), node("n2", withLabels("zone", "b"))}
	if res := Evaluate(pod("p", podLabels("app", "web"), spreadOver("zone")), snapshot(nodes), Options{}); res.Spread != nil {
		t.Errorf("no node is rejected by the constraint: got %+v", res.Spread)
	}
}

func TestManyDomainsAreCutToTheTellingOnes(t *testing.T) {
	var nodes []*corev1.Node
	var pods []*corev1.Pod
	for i := range 30 {
		name := "n" + string(rune('a'+i/26)) + string(rune('a'+i%26))
		nodes = append(nodes, node(name))
		for range i % 3 {
			pods = append(pods, pod(name+"-w"+string(rune('a'+len(pods)%26))+string(rune('a'+len(pods)/26)), onNode(name), podLabels("app", "web")))
		}
	}
	ignore := corev1.NodeInclusionPolicyIgnore
	res := Evaluate(pod("p", podLabels("app", "web"), nodeSelector("kubernetes.io/hostname", "nac"),
		spreadOver("kubernetes.io/hostname", func(c *corev1.TopologySpreadConstraint) { c.NodeAffinityPolicy = &ignore })), snapshot(nodes, pods...), Options{})
	if len(res.Spread) != 1 || res.Spread[0].DomainCount != 30 || len(res.Spread[0].Domains) > maxSpreadDomains {
		t.Fatalf("got %+v", res.Spread)
	}
	if !strings.Contains(res.Spread[0].Summary, "(30 domains in all)") {
		t.Errorf("summary %s", res.Spread[0].Summary)
	}
}

package scheduling

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ktriage/ktriage/pkg/topn"
)

// reasonCase checks the reasons one node gets.
type reasonCase struct {
	name  string
	pod   *corev1.Pod
	nodes []*corev1.Node
	pods  []*corev1.Pod
	// node whose reasons are checked (the first node when empty).
	node string
	want []Reason
}

func runReasonCases(t *testing.T, cases []reasonCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := Evaluate(tc.pod, snapshot(tc.nodes, tc.pods...), Options{})
			name := tc.node
			if name == "" {
				name = tc.nodes[0].Name
			}
			got := reasonsOf(t, res, name)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d reasons, want %d:\n got: %+v\nwant: %+v", len(got), len(tc.want), got, tc.want)
			}
			for i := range got {
				if !sameReason(got[i], tc.want[i]) {
					t.Errorf("reason %d\n got: %+v\nwant: %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

// sameReason compares the scheduler-facing fields; the structured evidence
// (Taints, Shortfall, Pods) has its own tests.
func sameReason(a, b Reason) bool {
	return a.Plugin == b.Plugin && a.Message == b.Message && a.Detail == b.Detail &&
		a.Unresolvable == b.Unresolvable && a.Reported == b.Reported
}

func reasonsOf(t *testing.T, res Result, node string) []Reason {
	t.Helper()
	for _, n := range res.Nodes {
		if n.Name == node {
			return n.Reasons
		}
	}
	t.Fatalf("node %s not in the result", node)
	return nil
}

func TestNodeUnschedulable(t *testing.T) {
	runReasonCases(t, []reasonCase{
		{
			name:  "a cordoned node rejects the pod and preemption cannot help",
			pod:   pod("p"),
			nodes: []*corev1.Node{node("n1", cordoned())},
			want: []Reason{{Plugin: "NodeUnschedulable", Message: "node(s) were unschedulable",
				Detail: "node is cordoned (spec.unschedulable=true)", Unresolvable: true, Reported: true}},
		},
		{
			name:  "a pod tolerating the unschedulable taint may use a cordoned node",
			pod:   pod("p", tolerate("node.kubernetes.io/unschedulable", "", corev1.TaintEffectNoSchedule)),
			nodes: []*corev1.Node{node("n1", cordoned())},
			want:  nil,
		},
	})
}

func TestTaintToleration(t *testing.T) {
	runReasonCases(t, []reasonCase{
		{
			name:  "an untolerated taint is named key=value:effect",
			pod:   pod("p"),
			nodes: []*corev1.Node{node("n1", taint("dedicated", "gpu", corev1.TaintEffectNoSchedule))},
			want: []Reason{{Plugin: "TaintToleration", Message: "node(s) had untolerated taint(s)",
				Detail: "taint dedicated=gpu:NoSchedule is not tolerated", Unresolvable: true, Reported: true}},
		},
		{
			name: "every untolerated taint is listed, tolerated and PreferNoSchedule ones are not",
			pod:  pod("p", tolerate("team", "a", corev1.TaintEffectNoSchedule)),
			nodes: []*corev1.Node{node("n1",
				taint("team", "a", corev1.TaintEffectNoSchedule),
				taint("spot", "", corev1.TaintEffectNoExecute),
				taint("soft", "x", corev1.TaintEffectPreferNoSchedule),
				taint("zone", "b", corev1.TaintEffectNoSchedule))},
			want: []Reason{{Plugin: "TaintToleration", Message: "node(s) had untolerated taint(s)",
				Detail: "taints spot:NoExecute, zone=b:NoSchedule are not tolerated", Unresolvable: true, Reported: true}},
		},
		{
			name:  "a taint Kubernetes sets says what it means",
			pod:   pod("p"),
			nodes: []*corev1.Node{node("n1", taint("node.kubernetes.io/not-ready", "", corev1.TaintEffectNoSchedule))},
			want: []Reason{{Plugin: "TaintToleration", Message: "node(s) had untolerated taint(s)",
				Detail: "taint node.kubernetes.io/not-ready:NoSchedule (the node is not Ready) is not tolerated", Unresolvable: true, Reported: true}},
		},
		{
			name:  "an empty-key Exists toleration tolerates every taint",
			pod:   pod("p", func(p *corev1.Pod) { p.Spec.Tolerations = []corev1.Toleration{{Operator: corev1.TolerationOpExists}} }),
			nodes: []*corev1.Node{node("n1", taint("a", "b", corev1.TaintEffectNoSchedule), taint("c", "", corev1.TaintEffectNoExecute))},
			want:  nil,
		},
	})
}

func TestNodeAffinity(t *testing.T) {
	msg := "node(s) didn't match Pod's node affinity/selector"
	runReasonCases(t, []reasonCase{
		{
			name:  "a nodeSelector names the node's actual value",
			pod:   pod("p", nodeSelector("disk", "ssd")),
			nodes: []*corev1.Node{node("n1", withLabels("disk", "hdd"))},
			want: []Reason{{Plugin: "NodeAffinity", Message: msg,
				Detail: "nodeSelector disk=ssd: node has disk=hdd", Unresolvable: true, Reported: true}},
		},
		{
			name:  "a nodeSelector key the node lacks says so",
			pod:   pod("p", nodeSelector("disk", "ssd")),
			nodes: []*corev1.Node{node("n1")},
			want: []Reason{{Plugin: "NodeAffinity", Message: msg,
				Detail: "nodeSelector disk=ssd: node has no label disk", Unresolvable: true, Reported: true}},
		},
		{
			name: "In, NotIn, Exists and Gt requirements each name what the node has",
			pod: pod("p", requiredNodeAffinity(
				corev1.NodeSelectorRequirement{Key: "tier", Operator: corev1.NodeSelectorOpIn, Values: []string{"gold", "silver"}},
				corev1.NodeSelectorRequirement{Key: "zone", Operator: corev1.NodeSelectorOpNotIn, Values: []string{"a"}},
				corev1.NodeSelectorRequirement{Key: "gpu", Operator: corev1.NodeSelectorOpExists},
				corev1.NodeSelectorRequirement{Key: "cores", Operator: corev1.NodeSelectorOpGt, Values: []string{"16"}},
			)),
			nodes: []*corev1.Node{node("n1", withLabels("tier", "bronze", "zone", "a", "cores", "8"))},
			want: []Reason{{Plugin: "NodeAffinity", Message: msg, Unresolvable: true, Reported: true,
				Detail: "required node affinity: tier in (gold,silver): node has tier=bronze; zone notin (a): node has zone=a; " +
					"gpu exists: node has no label gpu; cores > 16: node has cores=8"}},
		},
		{
			name: "a satisfied requirement is not listed",
			pod: pod("p", requiredNodeAffinity(
				corev1.NodeSelectorRequirement{Key: "tier", Operator: corev1.NodeSelectorOpIn, Values: []string{"gold"}},
				corev1.NodeSelectorRequirement{Key: "cores", Operator: corev1.NodeSelectorOpGt, Values: []string{"16"}},
			)),
			nodes: []*corev1.Node{node("n1", withLabels("tier", "gold", "cores", "8"))},
			want: []Reason{{Plugin: "NodeAffinity", Message: msg, Unresolvable: true, Reported: true,
				Detail: "required node affinity: cores > 16: node has cores=8"}},
		},
	})
}

func TestNodePorts(t *testing.T) {
	msg := "node(s) didn't have free ports for the requested pod ports"
	udp := func(p *corev1.Pod) { p.Spec.Containers[0].Ports[0].Protocol = corev1.ProtocolUDP }
	onIP := func(ip string) podOpt { return func(p *corev1.Pod) { p.Spec.Containers[0].Ports[0].HostIP = ip } }
	runReasonCases(t, []reasonCase{
		{
			name:  "the pod holding the port is named",
			pod:   pod("p", hostPort(8080)),
			nodes: []*corev1.Node{node("n1")},
			pods:  []*corev1.Pod{pod("holder", onNode("n1"), hostPort(8080))},
			want: []Reason{{Plugin: "NodePorts", Message: msg, Reported: true,
				Detail: "host port 8080/TCP is used by pod default/holder"}},
		},
		{
			name:  "the same port on another protocol does not conflict",
			pod:   pod("p", hostPort(8080)),
			nodes: []*corev1.Node{node("n1")},
			pods:  []*corev1.Pod{pod("holder", onNode("n1"), hostPort(8080), udp)},
			want:  nil,
		},
		{
			name:  "different host IPs do not conflict but 0.0.0.0 conflicts with any",
			pod:   pod("p", hostPort(53), onIP("10.0.0.1")),
			nodes: []*corev1.Node{node("n1"), node("n2")},
			pods: []*corev1.Pod{
				pod("other-ip", onNode("n1"), hostPort(53), onIP("10.0.0.2")),
				pod("any-ip", onNode("n2"), hostPort(53)),
			},
			node: "n2",
			want: []Reason{{Plugin: "NodePorts", Message: msg, Reported: true,
				Detail: "host port 10.0.0.1:53/TCP is used by pod default/any-ip"}},
		},
	})
}

func TestNodeResourcesFit(t *testing.T) {
	initContainer := func(cpu string, sidecar bool) podOpt {
		return func(p *corev1.Pod) {
			c := corev1.Container{Name: "init", Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}}}
			if sidecar {
				always := corev1.ContainerRestartPolicyAlways
				c.RestartPolicy = &always
			}
			p.Spec.InitContainers = append(p.Spec.InitContainers, c)
		}
	}
	podLevel := func(cpu string) podOpt {
		return func(p *corev1.Pod) {
			p.Spec.Resources = &corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}}
		}
	}
	runReasonCases(t, []reasonCase{
		{
			name:  "cpu shortfall shows request, allocatable, already requested and free",
			pod:   pod("p", requests("cpu", "3")),
			nodes: []*corev1.Node{node("n1")},
			pods:  []*corev1.Pod{pod("a", onNode("n1"), requests("cpu", "2500m"))},
			want: []Reason{{Plugin: "NodeResourcesFit", Message: "Insufficient cpu", Reported: true,
				Detail: "cpu: requests 3, node allocatable 4, already requested 2.5, free 1.5"}},
		},
		{
			name:  "cpu and memory short on one node are both reported, in the scheduler's order",
			pod:   pod("p", requests("cpu", "5", "memory", "9Gi")),
			nodes: []*corev1.Node{node("n1")},
			want: []Reason{
				{Plugin: "NodeResourcesFit", Message: "Insufficient cpu", Unresolvable: true, Reported: true,
					Detail: "cpu: requests 5, node allocatable 4, already requested 0, free 4"},
				{Plugin: "NodeResourcesFit", Message: "Insufficient memory", Unresolvable: true, Reported: true,
					Detail: "memory: requests 9Gi, node allocatable 8Gi, already requested 0, free 8Gi"},
			},
		},
		{
			name:  "a full node reports Too many pods",
			pod:   pod("p"),
			nodes: []*corev1.Node{node("n1", allocatable(corev1.ResourcePods, "1"))},
			pods:  []*corev1.Pod{pod("a", onNode("n1"))},
			want: []Reason{{Plugin: "NodeResourcesFit", Message: "Too many pods", Reported: true,
				Detail: "pods: node allows 1, already has 1"}},
		},
		{
			name:  "an extended resource the node lacks is insufficient",
			pod:   pod("p", requests("example.com/gpu", "1")),
			nodes: []*corev1.Node{node("n1")},
			want: []Reason{{Plugin: "NodeResourcesFit", Message: "Insufficient example.com/gpu", Unresolvable: true, Reported: true,
				Detail: "example.com/gpu: requests 1, node allocatable 0, already requested 0, free 0"}},
		},
		{
			name:  "an init container's larger request counts, not the sum",
			pod:   pod("p", requests("cpu", "1"), initContainer("3", false)),
			nodes: []*corev1.Node{node("n1")},
			pods:  []*corev1.Pod{pod("a", onNode("n1"), requests("cpu", "2"))},
			want: []Reason{{Plugin: "NodeResourcesFit", Message: "Insufficient cpu", Reported: true,
				Detail: "cpu: requests 3, node allocatable 4, already requested 2, free 2"}},
		},
		{
			name:  "a sidecar's request adds to the containers'",
			pod:   pod("p", requests("cpu", "2"), initContainer("1", true)),
			nodes: []*corev1.Node{node("n1")},
			pods:  []*corev1.Pod{pod("a", onNode("n1"), requests("cpu", "1500m"))},
			want: []Reason{{Plugin: "NodeResourcesFit", Message: "Insufficient cpu", Reported: true,
				Detail: "cpu: requests 3, node allocatable 4, already requested 1.5, free 2.5"}},
		},
		{
			name:  "pod-level requests replace the containers' sum",
			pod:   pod("p", requests("cpu", "100m"), podLevel("6")),
			nodes: []*corev1.Node{node("n1")},
			want: []Reason{{Plugin: "NodeResourcesFit", Message: "Insufficient cpu", Unresolvable: true, Reported: true,
				Detail: "cpu: requests 6, node allocatable 4, already requested 0, free 4"}},
		},
		{
			name:  "terminated pods on the node do not count",
			pod:   pod("p", requests("cpu", "3")),
			nodes: []*corev1.Node{node("n1")},
			pods:  []*corev1.Pod{pod("done", onNode("n1"), requests("cpu", "3"), phase(corev1.PodSucceeded))},
			want:  nil,
		},
	})
}

func TestReportedIsTheFirstFailingPlugin(t *testing.T) {
	p := pod("p", requests("cpu", "8"))
	res := Evaluate(p, snapshot([]*corev1.Node{node("n1", taint("a", "b", corev1.TaintEffectNoSchedule))}), Options{})
	got := reasonsOf(t, res, "n1")
	if len(got) != 2 || got[0].Plugin != "TaintToleration" || !got[0].Reported || got[1].Plugin != "NodeResourcesFit" || got[1].Reported {
		t.Fatalf("want the taint reported and the cpu shortfall listed unreported, got %+v", got)
	}
	want := "0/1 nodes are available: 1 node(s) had untolerated taint(s). preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
	if res.Message != want {
		t.Errorf("Message\n got: %s\nwant: %s", res.Message, want)
	}
}

func TestPodTopologySpread(t *testing.T) {
	spread := func(p *corev1.Pod) {
		p.Spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{
			MaxSkew: 1, TopologyKey: "zone", WhenUnsatisfiable: corev1.DoNotSchedule,
			LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
		}}
	}
	nodes := []*corev1.Node{node("n1", withLabels("zone", "a")), node("n2", withLabels("zone", "b")), node("n3")}
	existing := []*corev1.Pod{
		pod("w1", onNode("n1"), podLabels("app", "web")),
		pod("w2", onNode("n1"), podLabels("app", "web")),
		pod("w3", onNode("n2"), podLabels("app", "web")),
	}
	runReasonCases(t, []reasonCase{
		{
			name: "the skew numbers are spelled out", pod: pod("p", podLabels("app", "web"), spread),
			nodes: nodes, pods: existing, node: "n1",
			want: []Reason{{Plugin: "PodTopologySpread", Message: "node(s) didn't match pod topology spread constraints", Reported: true,
				Detail: "zone=a already has 2 matching pod(s) (selector app=web); placing this pod there makes skew 2 > maxSkew 1 (the minimum is 1 in zone=b)"}},
		},
		{
			name: "a node without the topology key cannot take the pod", pod: pod("p", podLabels("app", "web"), spread),
			nodes: nodes, pods: existing, node: "n3",
			want: []Reason{{Plugin: "PodTopologySpread", Message: "node(s) didn't match pod topology spread constraints (missing required label)",
				Unresolvable: true, Reported: true, Detail: "node has no label zone (topologyKey of a DoNotSchedule spread constraint)"}},
		},
		{
			name: "the emptiest domain passes", pod: pod("p", podLabels("app", "web"), spread),
			nodes: nodes, pods: existing, node: "n2", want: nil,
		},
	})
}

func TestInterPodAffinity(t *testing.T) {
	anti := func(p *corev1.Pod) {
		p.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
				LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}},
				TopologyKey:   "kubernetes.io/hostname",
			}},
		}}
	}
	existingAnti := func(p *corev1.Pod) {
		p.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
				LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
				TopologyKey:   "zone",
			}},
		}}
	}
	affinity := func(p *corev1.Pod) {
		p.Spec.Affinity = &corev1.Affinity{PodAffinity: &corev1.PodAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
				LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "cache"}},
				TopologyKey:   "zone",
			}},
		}}
	}
	runReasonCases(t, []reasonCase{
		{
			name: "the pod's anti-affinity names the matching pods", pod: pod("p", anti),
			nodes: []*corev1.Node{node("n1")},
			pods:  []*corev1.Pod{pod("db-0", onNode("n1"), podLabels("app", "db"))},
			want: []Reason{{Plugin: "InterPodAffinity", Message: "node(s) didn't match pod anti-affinity rules", Reported: true,
				Detail: "the pod's required anti-affinity (topologyKey kubernetes.io/hostname, selector app=db) matches pod default/db-0 on n1 in kubernetes.io/hostname=n1"}},
		},
		{
			name: "an existing pod's anti-affinity is named", pod: pod("p", podLabels("app", "web")),
			nodes: []*corev1.Node{node("n1", withLabels("zone", "a")), node("n2", withLabels("zone", "a"))},
			pods:  []*corev1.Pod{pod("guard", onNode("n2"), existingAnti)},
			want: []Reason{{Plugin: "InterPodAffinity", Message: "node(s) didn't satisfy existing pods anti-affinity rules", Reported: true,
				Detail: "required anti-affinity of pod default/guard on n2 rejects this pod in zone=a"}},
		},
		{
			name: "affinity to pods that exist nowhere", pod: pod("p", affinity),
			nodes: []*corev1.Node{node("n1", withLabels("zone", "a"))},
			want: []Reason{{Plugin: "InterPodAffinity", Message: "node(s) didn't match pod affinity rules", Unresolvable: true, Reported: true,
				Detail: "no pod anywhere matches the required pod affinity (topologyKey zone, selector app=cache)"}},
		},
		{
			name: "affinity satisfied in the zone of a matching pod", pod: pod("p", affinity),
			nodes: []*corev1.Node{node("n1", withLabels("zone", "a")), node("n2", withLabels("zone", "a"))},
			pods:  []*corev1.Pod{pod("cache", onNode("n2"), podLabels("app", "cache"))},
			want:  nil,
		},
	})
}

func TestNodeNameToAMissingNode(t *testing.T) {
	p := pod("p", func(p *corev1.Pod) { p.Spec.NodeName = "gone" })
	res := Evaluate(p, snapshot([]*corev1.Node{node("n1"), node("n2")}), Options{})
	want := "0/2 nodes are available: 2 node(s) didn't satisfy plugin(s) [NodeName]. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."
	if res.Message != want {
		t.Errorf("Message\n got: %s\nwant: %s", res.Message, want)
	}
	r := reasonsOf(t, res, "n1")
	if len(r) < 2 || r[1].Detail != `pod requests node "gone" by spec.nodeName` {
		t.Errorf("want the NodeName filter's detail among the reasons, got %+v", r)
	}
}

func TestPassingAndFragmentation(t *testing.T) {
	p := pod("p", requests("cpu", "3"))
	nodes := []*corev1.Node{node("n1"), node("n2"), node("n3", taint("a", "b", corev1.TaintEffectNoSchedule))}
	pods := []*corev1.Pod{
		pod("a", onNode("n1"), requests("cpu", "2")),
		pod("b", onNode("n2"), requests("cpu", "2500m")),
	}
	res := Evaluate(p, snapshot(nodes, pods...), Options{})
	if got := strings.Join(res.Passing()["TaintToleration"], ","); got != "n1,n2" {
		t.Errorf("TaintToleration passes %q, want n1,n2", got)
	}
	if got := strings.Join(res.Passing()["NodeResourcesFit"], ","); got != "n3" {
		t.Errorf("NodeResourcesFit passes %q, want n3", got)
	}
	if len(res.Fragmentation) != 1 {
		t.Fatalf("want cpu fragmented, got %+v", res.Resources)
	}
	f := res.Fragmentation[0]
	want := ResourceFit{Resource: "cpu", Requested: "3", EligibleNodes: 2, LargestFree: "2", LargestFreeNode: "n1", TotalFree: "3.5",
		LargestAllocatable: "4", LargestAllocatableNode: "n1", Fragmented: true, Message: "cpu: requests 3; the 2 eligible nodes have 3.5 free in total but at most 2 on one node (n1): " +
			"the free capacity is fragmented; a request of 2 or less fits"}
	if f != want {
		t.Errorf("fragmentation\n got: %+v\nwant: %+v", f, want)
	}
}

func TestARequestAboveEveryAllocatableIsTooLargeNotFragmented(t *testing.T) {
	// Two idle 4-cpu nodes have 8 free in total, yet no node can ever hold 6.
	p := pod("p", requests("cpu", "6"))
	res := Evaluate(p, snapshot([]*corev1.Node{node("n1"), node("n2")}), Options{})
	if len(res.Fragmentation) != 0 {
		t.Errorf("want no fragmentation, got %+v", res.Fragmentation)
	}
	if len(res.Resources) != 1 {
		t.Fatalf("want the cpu comparison, got %+v", res.Resources)
	}
	want := ResourceFit{Resource: "cpu", Requested: "6", EligibleNodes: 2, LargestFree: "4", LargestFreeNode: "n1", TotalFree: "8",
		LargestAllocatable: "4", LargestAllocatableNode: "n1", TooLarge: true,
		Message: "cpu: requests 6, but no node is big enough: the largest allocatable of the 2 eligible node(s) is 4 (n1)"}
	if got := res.Resources[0]; got != want {
		t.Errorf("too large\n got: %+v\nwant: %+v", got, want)
	}
}

func TestNodeDeclaredFeatures(t *testing.T) {
	noHostUsers := func(p *corev1.Pod) {
		f := false
		p.Spec.HostNetwork, p.Spec.HostUsers = true, &f
	}
	res := Evaluate(pod("p", noHostUsers), snapshot([]*corev1.Node{node("n1")}), Options{})
	want := "0/1 nodes are available: 1 node(s) didn't match Pod's required features. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
	if res.Message != want {
		t.Errorf("Message\n got: %s\nwant: %s", res.Message, want)
	}
	r := reasonsOf(t, res, "n1")
	wantDetail := "the pod needs node feature(s) UserNamespacesHostNetworkSupport, which the node does not declare in status.declaredFeatures"
	if len(r) != 1 || r[0].Plugin != "NodeDeclaredFeatures" || r[0].Detail != wantDetail {
		t.Errorf("want the missing feature named, got %+v", r)
	}
	declared := node("n1", func(n *corev1.Node) { n.Status.DeclaredFeatures = []string{"UserNamespacesHostNetworkSupport"} })
	if res := Evaluate(pod("p", noHostUsers), snapshot([]*corev1.Node{declared}), Options{}); len(res.Feasible) != 1 {
		t.Errorf("a node declaring the feature fits; got %+v", res.Nodes)
	}
}

func TestStructuredEvidence(t *testing.T) {
	p := pod("p", requests("cpu", "3"), hostPort(80))
	nodes := []*corev1.Node{node("n1", taint("dedicated", "gpu", corev1.TaintEffectNoSchedule))}
	pods := []*corev1.Pod{pod("holder", onNode("n1"), requests("cpu", "2"), hostPort(80))}
	r := reasonsOf(t, Evaluate(p, snapshot(nodes, pods...), Options{}), "n1")
	if len(r) != 3 {
		t.Fatalf("want taint, port and cpu reasons, got %+v", r)
	}
	if len(r[0].Taints) != 1 || r[0].Taints[0].Key != "dedicated" || r[0].Taints[0].Value != "gpu" || r[0].Taints[0].Effect != corev1.TaintEffectNoSchedule {
		t.Errorf("Taints = %+v", r[0].Taints)
	}
	if strings.Join(r[1].Pods, ",") != "default/holder" {
		t.Errorf("Pods = %v, want the port holder", r[1].Pods)
	}
	want := Shortfall{Resource: "cpu", Requested: "3", Allocatable: "4", InUse: "2", Free: "2"}
	if r[2].Shortfall == nil || *r[2].Shortfall != want {
		t.Errorf("Shortfall = %+v, want %+v", r[2].Shortfall, want)
	}
}

func TestAntiAffinityNamesAFewPodsAndCountsTheRest(t *testing.T) {
	// Fifteen db pods in zone a, spread over three nodes: every node of the
	// zone gets the same reason, naming ten pods and counting fifteen.
	zoneAnti := func(p *corev1.Pod) {
		p.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
				LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}},
				TopologyKey:   "zone",
			}},
		}}
	}
	nodes := []*corev1.Node{node("n1", withLabels("zone", "a")), node("n2", withLabels("zone", "a")), node("n3", withLabels("zone", "a"))}
	var pods []*corev1.Pod
	for i := range 15 {
		pods = append(pods, pod(fmt.Sprintf("db-%02d", i), onNode(fmt.Sprintf("n%d", i%3+1)), podLabels("app", "db")))
	}
	res := Evaluate(pod("p", zoneAnti), snapshot(nodes, pods...), Options{})
	for _, n := range []string{"n1", "n2", "n3"} {
		r := reasonsOf(t, res, n)
		if len(r) != 1 {
			t.Fatalf("%s: want one reason, got %+v", n, r)
		}
		if len(r[0].Pods) != maxReasonPods || r[0].PodCount != 15 || r[0].Pods[0] != "default/db-00" || r[0].Pods[9] != "default/db-09" {
			t.Errorf("%s: want the first %d of 15 pods named and the count, got %v (count %d)", n, maxReasonPods, r[0].Pods, r[0].PodCount)
		}
		want := "the pod's required anti-affinity (topologyKey zone, selector app=db) matches pods default/db-00 on n1, default/db-01 on n2, default/db-02 on n3, default/db-03 on n1, default/db-04 on n2 and 10 more in zone=a"
		if r[0].Detail != want {
			t.Errorf("%s: detail\n got: %s\nwant: %s", n, r[0].Detail, want)
		}
	}
}

func TestAffinityCloneDoesNotChangeTheOriginal(t *testing.T) {
	n1 := &nodeInfo{node: node("n1", withLabels("zone", "a")), pods: []*corev1.Pod{pod("db-0", onNode("n1"), podLabels("app", "db"))}}
	term, err := newAffinityTerm(pod("p"), corev1.PodAffinityTerm{
		LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}}, TopologyKey: "zone"})
	if err != nil {
		t.Fatal(err)
	}
	c := &cycle{e: &Engine{}, pod: pod("p")}
	s := &affinityState{anti: []*affinityTerm{term}, antiCounts: map[topologyPair]int{}, antiPods: map[termPair][]podAt{},
		existingAnti: map[topologyPair]int{}, affinityCounts: map[topologyPair]int{}}
	c.affinityCountNode(s, n1, 1)
	tp := topologyPair{"zone", "a"}
	dry := s.clone()
	c.affinityCountNode(dry, n1, -1)
	term0 := termPair{0, tp}
	if dry.antiCounts[tp] != 0 || len(dry.antiPods[term0]) != 0 {
		t.Errorf("the dry run still counts the removed pod: %d %v", dry.antiCounts[tp], dry.antiPods[term0])
	}
	if s.antiCounts[tp] != 1 || len(s.antiPods[term0]) != 1 {
		t.Errorf("the dry run changed the original state: %d %v", s.antiCounts[tp], s.antiPods[term0])
	}
}

func TestLessPodSortsAsNamespaceSlashName(t *testing.T) {
	// Namespaces and names with '-' and '.' (which sort before '/') and
	// prefixes of each other.
	parts := []string{"a", "a-b", "a.b", "ab", "a-", "b", "web", "web-0", "web.x", "web0"}
	var pods []*corev1.Pod
	for _, ns := range parts {
		for _, n := range parts {
			p := pod(n)
			p.Namespace = ns
			pods = append(pods, p)
		}
	}
	for _, a := range pods {
		for _, b := range pods {
			want := a.Namespace+"/"+a.Name < b.Namespace+"/"+b.Name
			if got := lessPod(a, b); got != want {
				t.Errorf("lessPod(%s/%s, %s/%s) = %v, want %v", a.Namespace, a.Name, b.Namespace, b.Name, got, want)
			}
		}
	}
	entries := make([]podAt, len(pods))
	for i, p := range pods {
		entries[len(pods)-1-i] = podAt{pod: p}
	}
	first := topn.Sorted(entries, 7, func(a, b podAt) bool { return lessPod(a.pod, b.pod) })
	names := make([]string, len(pods))
	for i, p := range pods {
		names[i] = p.Namespace + "/" + p.Name
	}
	sort.Strings(names)
	for i, e := range first {
		if got := e.pod.Namespace + "/" + e.pod.Name; got != names[i] {
			t.Errorf("firstPods[%d] = %s, want %s", i, got, names[i])
		}
	}
}

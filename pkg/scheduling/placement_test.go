package scheduling

import (
	"reflect"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// reported is each node's first reported reason, by node name.
func reported(res Result) map[string]string {
	out := map[string]string{}
	for _, n := range res.Nodes {
		for _, r := range n.Reasons {
			if r.Reported {
				out[n.Name] = r.Plugin + ": " + r.Message
				break
			}
		}
	}
	return out
}

func TestBindAndRemoveChangeWhatEvaluateSees(t *testing.T) {
	e := NewEngine(snapshot([]*corev1.Node{node("n1")}))
	big := pod("big", requests("cpu", "3", "memory", "1Gi"))
	next := pod("next", requests("cpu", "2"))

	if res := e.Evaluate(next, Options{}); !reflect.DeepEqual(res.Feasible, []string{"n1"}) {
		t.Fatalf("an empty node: feasible %v, want [n1]", res.Feasible)
	}

	bound := e.Bind(big, "n1")
	if bound == nil || bound == big || bound.Spec.NodeName != "n1" || bound.Status.Phase != corev1.PodRunning {
		t.Fatalf("Bind returns a running copy on n1, got %+v", bound)
	}
	if big.Spec.NodeName != "" {
		t.Error("Bind changed the pod it was given")
	}
	res := e.Evaluate(next, Options{})
	if len(res.Feasible) != 0 || reported(res)["n1"] != "NodeResourcesFit: Insufficient cpu" {
		t.Errorf("after Bind: feasible %v, reasons %v; want n1 short of cpu", res.Feasible, reported(res))
	}
	u, ok := e.UsageOf("n1")
	if !ok || u.Requested.Cpu().String() != "3" || u.Requested.Memory().String() != "1Gi" || u.Requested.Pods().Value() != 1 {
		t.Errorf("usage after Bind: %v", u.Requested)
	}
	if pods := e.PodsOn("n1"); len(pods) != 1 || pods[0] != bound {
		t.Errorf("PodsOn(n1) = %v, want the bound copy", pods)
	}

	if removed := e.Remove(big); removed != bound {
		t.Errorf("Remove returns the engine's copy, got %v", removed)
	}
	if res := e.Evaluate(next, Options{}); !reflect.DeepEqual(res.Feasible, []string{"n1"}) {
		t.Errorf("after Remove: feasible %v, want [n1]", res.Feasible)
	}
	if u, _ := e.UsageOf("n1"); !u.Requested.Cpu().IsZero() || u.Requested.Pods().Value() != 0 {
		t.Errorf("usage after Remove: %v", u.Requested)
	}
	if e.Remove(big) != nil {
		t.Error("removing a pod twice: want nil the second time")
	}
}

func TestRemoveTakesASnapshotPodOff(t *testing.T) {
	running := pod("running", onNode("n1"), requests("cpu", "3"))
	e := NewEngine(snapshot([]*corev1.Node{node("n1")}, running))
	next := pod("next", requests("cpu", "2"))
	if res := e.Evaluate(next, Options{}); len(res.Feasible) != 0 {
		t.Fatalf("n1 holds 3 of 4 cpu: feasible %v", res.Feasible)
	}
	// A copy of the pod (same UID) names it as well as the original.
	if e.Remove(running.DeepCopy()) != running {
		t.Fatal("Remove by UID did not find the snapshot's pod")
	}
	if res := e.Evaluate(next, Options{}); !reflect.DeepEqual(res.Feasible, []string{"n1"}) {
		t.Errorf("after Remove: feasible %v, want [n1]", res.Feasible)
	}
}

func TestBindToAnUnknownNodeDoesNothing(t *testing.T) {
	e := NewEngine(snapshot([]*corev1.Node{node("n1")}))
	if e.Bind(pod("p"), "nope") != nil || e.PodsOn("nope") != nil {
		t.Error("an unknown node takes no pod")
	}
	if _, ok := e.UsageOf("nope"); ok {
		t.Error("UsageOf an unknown node: want false")
	}
}

func TestCordonMakesNodeUnschedulableTheReportedReason(t *testing.T) {
	n1, n2 := node("n1"), node("n2", allocatable(corev1.ResourceCPU, "1"))
	e := NewEngine(snapshot([]*corev1.Node{n1, n2}))
	if !e.Cordon("n1") {
		t.Fatal("Cordon(n1) = false")
	}
	if e.Cordon("nope") {
		t.Error("Cordon of an unknown node: want false")
	}
	res := e.Evaluate(pod("p", requests("cpu", "2")), Options{})
	want := map[string]string{"n1": "NodeUnschedulable: node(s) were unschedulable", "n2": "NodeResourcesFit: Insufficient cpu"}
	if got := reported(res); !reflect.DeepEqual(got, want) {
		t.Errorf("reported reasons %v, want %v", got, want)
	}
	if msg := "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) were unschedulable."; len(res.Message) < len(msg) || res.Message[:len(msg)] != msg {
		t.Errorf("message %q, want it to start with %q", res.Message, msg)
	}
	if n1.Spec.Unschedulable || len(n1.Spec.Taints) != 0 {
		t.Error("Cordon changed the snapshot's node")
	}
	// Cordoning twice adds the taint once.
	e.Cordon("n1")
	res = e.Evaluate(pod("p", requests("cpu", "2")), Options{})
	var taints []corev1.Taint
	for _, n := range res.Nodes {
		for _, r := range n.Reasons {
			if n.Name == "n1" && r.Plugin == "TaintToleration" {
				taints = append(taints, r.Taints...)
			}
		}
	}
	if len(taints) != 1 || taints[0].Key != corev1.TaintNodeUnschedulable {
		t.Errorf("untolerated taints on n1 %v, want the unschedulable taint once", taints)
	}
	// A pod that tolerates the unschedulable taint, as DaemonSet pods do,
	// fits a cordoned node.
	tolerant := pod("t", tolerate(corev1.TaintNodeUnschedulable, "", corev1.TaintEffectNoSchedule))
	if res := e.Evaluate(tolerant, Options{}); !slices.Contains(res.Feasible, "n1") {
		t.Errorf("a pod tolerating node.kubernetes.io/unschedulable fits a cordoned node: feasible %v", res.Feasible)
	}
}

func TestSelectHost(t *testing.T) {
	busy := pod("busy", onNode("a"), requests("cpu", "3", "memory", "6Gi"))
	cases := []struct {
		name  string
		nodes []*corev1.Node
		pods  []*corev1.Pod
		want  string
	}{
		{"the least allocated node wins", []*corev1.Node{node("a"), node("b")}, []*corev1.Pod{busy}, "b"},
		{"equal nodes: the first by name", []*corev1.Node{node("b"), node("a")}, nil, "a"},
		{"a node tainted PreferNoSchedule loses to one that is not",
			[]*corev1.Node{node("a", taint("spot", "", corev1.TaintEffectPreferNoSchedule)), node("b")}, nil, "b"},
		{"nothing feasible: no host", []*corev1.Node{node("a", cordoned())}, nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := NewEngine(snapshot(tc.nodes, tc.pods...))
			p := pod("p", requests("cpu", "500m", "memory", "512Mi"))
			if got := e.SelectHost(p, e.Evaluate(p, Options{})); got != tc.want {
				t.Errorf("SelectHost = %q, want %q", got, tc.want)
			}
		})
	}
}

// Scoring follows Bind and Remove: a node filled by Bind loses, and wins
// again once Remove empties it.
func TestSelectHostFollowsBindAndRemove(t *testing.T) {
	e := NewEngine(snapshot([]*corev1.Node{node("a"), node("b")}))
	p := pod("p", requests("cpu", "500m", "memory", "512Mi"))
	if got := e.SelectHost(p, e.Evaluate(p, Options{})); got != "a" {
		t.Fatalf("empty nodes: %q, want a", got)
	}
	filler := pod("filler", requests("cpu", "2", "memory", "4Gi"))
	e.Bind(filler, "a")
	if got := e.SelectHost(p, e.Evaluate(p, Options{})); got != "b" {
		t.Errorf("after binding a filler to a: %q, want b", got)
	}
	e.Remove(filler)
	if got := e.SelectHost(p, e.Evaluate(p, Options{})); got != "a" {
		t.Errorf("after removing it: %q, want a", got)
	}
}

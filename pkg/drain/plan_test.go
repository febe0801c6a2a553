package drain

import (
	"fmt"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/ktriage/ktriage/pkg/cluster"
)

// stepsOf renders a plan as "step node verdict" lines.
func stepsOf(steps []OrderStep) []string {
	var out []string
	for _, s := range steps {
		out = append(out, fmt.Sprintf("%d %s %s", s.Step, s.Node, s.Verdict))
	}
	return out
}

// affinityPair: p on a must run next to a q pod; the only q pod is on b,
// which is full. c has room for both. Draining a first leaves p Pending;
// draining b first moves q to c, and then p can follow it there.
func affinityPair(extra ...any) *cluster.Snapshot {
	objs := []any{
		node("a", "1", "8Gi"), node("b", "1", "8Gi"), node("c", "2", "8Gi"),
		pod("shop", "p", "a", ownedBy("ReplicaSet", "p"), requests("1", "1Gi"), requirePodOnSameNode("app", "q")),
		pod("shop", "q", "b", ownedBy("ReplicaSet", "q"), podLabels("app", "q"), requests("1", "1Gi")),
	}
	return snapshot(append(objs, extra...)...)
}

func TestPlan(t *testing.T) {
	cases := []struct {
		name  string
		snap  *cluster.Snapshot
		nodes []string
		want  []string
	}{
		{
			name:  "the node whose pods make room is drained first, whatever the order given",
			snap:  affinityPair(),
			nodes: []string{"a", "b"},
			want:  []string{"1 b safe", "2 a safe"},
		},
		{
			name: "a node that cannot be drained gets step 0 and the verdict its drain would have",
			snap: affinityPair(node("e", "4", "8Gi", nodeNotReady),
				pod("shop", "r", "e", ownedBy("ReplicaSet", "r"), podLabels("app", "r"))),
			nodes: []string{"a", "b", "e"},
			want:  []string{"1 b safe", "2 a safe", "0 e blocked"},
		},
		{
			name: "a replacement that landed on a node drained later has to move again",
			snap: snapshot(node("a", "2", "8Gi"), node("b", "4", "8Gi"), node("c", "1", "8Gi"),
				pod("shop", "p", "a", ownedBy("ReplicaSet", "p"), requests("1", "1Gi")),
				pod("shop", "filler", "c", ownedBy("ReplicaSet", "filler"), requests("1", "1Gi"))),
			nodes: []string{"a", "b"},
			// After a, p runs on b; draining b then leaves it nowhere to go.
			want: []string{"1 a safe", "0 b unschedulable"},
		},
		{
			name:  "one node needs no plan",
			snap:  affinityPair(),
			nodes: []string{"a"},
			want:  nil,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			steps, err := Plan(tc.snap, drainOf(tc.nodes))
			if err != nil {
				t.Fatal(err)
			}
			if got := stepsOf(steps); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("plan %q, want %q", got, tc.want)
			}
		})
	}
}

// Draining the affinity pair in the order given, one node after the other,
// leaves p Pending after the first step: the order is what makes it safe.
func TestTheGivenOrderIsNotSafeWhereThePlanIs(t *testing.T) {
	r, err := simulateOneByOne(affinityPair(), drainOf(nil), []string{"a"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Verdict != Unschedulable {
		t.Errorf("draining a first: verdict %s, want unschedulable", r.Verdict)
	}
	p := findPod(r, "shop/p")
	if p == nil || p.Pending == nil {
		t.Fatalf("p's replacement should stay Pending: %+v", p)
	}
	r, err = simulateOneByOne(affinityPair(), drainOf(nil), []string{"b", "a"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Verdict != Safe || findPod(r, "shop/p").Destination != "c" || findPod(r, "shop/q").Destination != "c" {
		t.Errorf("draining b then a: verdict %s, want safe with p and q on c: %+v", r.Verdict, r.Nodes)
	}
}

// A replacement drained again is the replacement, with its own UID, even
// when the pods in the dump carry none.
func TestReplacementsOfPodsWithoutUIDsStayApart(t *testing.T) {
	noUID := func(p *corev1.Pod) { p.UID = "" }
	snap := snapshot(node("a", "2", "8Gi"), node("b", "8", "8Gi"), node("c", "2", "8Gi"),
		pod("shop", "p1", "a", ownedBy("ReplicaSet", "p"), requests("500m", "1Gi"), noUID),
		pod("shop", "p2", "a", ownedBy("ReplicaSet", "p"), requests("500m", "1Gi"), noUID))
	r, err := simulateOneByOne(snap, drainOf(nil), []string{"a", "b"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range r.Nodes {
		for _, p := range n.Pods {
			got = append(got, fmt.Sprintf("%s: %s → %s", n.Name, p.Name, p.Destination))
		}
	}
	want := []string{"a: p1 → b", "a: p2 → b", "b: p1 → c", "b: p2 → c"}
	if !reflect.DeepEqual(got, want) || r.Verdict != Safe {
		t.Errorf("moves %q (verdict %s), want %q", got, r.Verdict, want)
	}
}

// Above maxPlanSearch nodes the order given is kept: every node is safe
// up to the first that is not.
func TestManyNodesAreTakenInTheOrderGiven(t *testing.T) {
	var objs []any
	var names []string
	for i := range maxPlanSearch + 2 {
		name := fmt.Sprintf("n%02d", i)
		names = append(names, name)
		objs = append(objs, node(name, "4", "8Gi"))
	}
	objs = append(objs, node("spare", "4", "8Gi"), pod("shop", "debug", "n03"))
	steps, err := Plan(snapshot(objs...), drainOf(names))
	if err != nil {
		t.Fatal(err)
	}
	got := stepsOf(steps)
	if len(got) != len(names) || got[0] != "1 n00 safe" || got[2] != "3 n02 safe" || got[3] != "0 n03 blocked" || got[4] != "0 n04 safe" {
		t.Errorf("plan %q", got)
	}
}

// Analyze is the drain of the nodes given, with the order Plan finds.
func TestAnalyzeAddsThePlanToTheDrain(t *testing.T) {
	o := drainOf([]string{"a", "b"})
	res, err := Analyze(affinityPair(), o)
	if err != nil {
		t.Fatal(err)
	}
	sim, err := Simulate(affinityPair(), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != sim.Verdict || len(res.Nodes) != 2 {
		t.Errorf("verdict %s with %d nodes, Simulate says %s", res.Verdict, len(res.Nodes), sim.Verdict)
	}
	if got, want := stepsOf(res.Order), []string{"1 b safe", "2 a safe"}; !reflect.DeepEqual(got, want) {
		t.Errorf("order %q, want %q", got, want)
	}
}

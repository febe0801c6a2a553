package scheduling

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func pdb(name string, allowed int32, match ...string) *policyv1.PodDisruptionBudget {
	return &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec:   policyv1.PodDisruptionBudgetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{match[0]: match[1]}}},
		Status: policyv1.PodDisruptionBudgetStatus{DisruptionsAllowed: allowed}}
}

func TestAPreemptionThatCannotHelpNamesThePodsInTheWay(t *testing.T) {
	nodes := []*corev1.Node{node("n1"), node("n2")}
	pods := []*corev1.Pod{
		pod("keep", onNode("n1"), requests("cpu", "2500m"), priority(1000), podLabels("app", "keep"), func(p *corev1.Pod) { p.Spec.PriorityClassName = "important" }),
		pod("low", onNode("n1"), requests("cpu", "1"), priority(10)),
		pod("keep2", onNode("n2"), requests("cpu", "3"), priority(1000)),
	}
	snap := snapshot(nodes, pods...)
	snap.PDBs = append(snap.PDBs, pdb("keep", 0, "app", "keep"))
	snap.PriorityClasses = append(snap.PriorityClasses, priorityClass("high", 2000, nil), priorityClass("mid", 500, nil), priorityClass("system-cluster-critical", 2000000000, nil))
	res := Evaluate(pod("p", requests("cpu", "2"), priority(100)), snap, Options{})
	if want := "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 1 Insufficient cpu, 1 No preemption victims found for incoming pod."; res.Message != want {
		t.Fatalf("Message\n got: %s\nwant: %s", res.Message, want)
	}
	want := &PreemptionBlocked{Priority: 100,
		Nearest: &NearestNode{Node: "n1", Pods: []BlockingPod{{Pod: "default/keep", Priority: 1000, PriorityClass: "important",
			Budgets: []string{"keep (0 disruptions allowed)"}}}},
		HigherClasses: []PriorityClassValue{{Name: "high", Value: 2000}}}
	if !reflect.DeepEqual(res.PreemptionBlocked, want) {
		t.Errorf("got  %+v\nwant %+v", res.PreemptionBlocked, want)
	}
}

func TestAPodThatMayNotPreemptStillSeesWhatWouldHaveToGo(t *testing.T) {
	never := corev1.PreemptNever
	snap := snapshot([]*corev1.Node{node("n1")}, pod("a", onNode("n1"), requests("cpu", "3")), pod("b", onNode("n1"), requests("cpu", "500m")))
	snap.PriorityClasses = append(snap.PriorityClasses, priorityClass("batch", 5, &never))
	res := Evaluate(pod("p", requests("cpu", "2"), func(p *corev1.Pod) { p.Spec.PriorityClassName = "batch" }), snap, Options{})
	pb := res.PreemptionBlocked
	if pb == nil || !pb.PolicyNever || pb.PolicyFrom != "PriorityClass batch" || pb.Nearest == nil || len(pb.Nearest.Pods) != 1 || pb.Nearest.Pods[0].Pod != "default/a" {
		t.Errorf("got %+v", pb)
	}
}

func TestAPreemptionNoEvictionCanHelpHasNoNearestNode(t *testing.T) {
	snap := snapshot([]*corev1.Node{node("n1")}, pod("a", onNode("n1"), priority(1)))
	res := Evaluate(pod("p", requests("cpu", "64"), priority(100)), snap, Options{})
	if pb := res.PreemptionBlocked; pb == nil || pb.Nearest != nil {
		t.Errorf("64 cpu fits no emptied node either: got %+v (%s)", pb, res.Message)
	}
	if res := Evaluate(pod("p", requests("cpu", "1")), snap, Options{}); res.PreemptionBlocked != nil {
		t.Errorf("a pod that fits needs no preemption: got %+v", res.PreemptionBlocked)
	}
}

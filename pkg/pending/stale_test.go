package pending

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestAVerdictTheClusterMovedPastSaysWhatChanged(t *testing.T) {
	verdict := now.Add(-10 * time.Minute)
	msg := "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod."
	p := pod("app", "web", requests("2", ""), unschedulableCondition(msg), func(p *corev1.Pod) {
		p.Status.Conditions[0].LastTransitionTime = metav1.NewTime(verdict)
	})
	// The pod that held the cpu was deleted; a node came; the old node was
	// relabelled by hand.
	killed := event("Pod", "batch", "hog", "uid-hog", "Killing", "Normal", "Stopping container app")
	killed.Source.Host = "n1"
	killed.LastTimestamp = metav1.NewTime(now.Add(-5 * time.Minute))
	older := event("Pod", "batch", "old", "uid-old", "Killing", "Normal", "Stopping container app")
	older.LastTimestamp = metav1.NewTime(now.Add(-time.Hour))
	n1 := node("n1", "4", "8Gi", func(n *corev1.Node) {
		n.CreationTimestamp = metav1.NewTime(now.Add(-48 * time.Hour))
		at := metav1.NewTime(now.Add(-2 * time.Minute))
		n.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubectl-label", Operation: metav1.ManagedFieldsOperationUpdate, Time: &at,
			FieldsType: "FieldsV1", FieldsV1: metav1.NewFieldsV1(`{"f:metadata":{"f:labels":{"f:tier":{}}}}`)}}
	})
	n2 := node("n2", "4", "8Gi", func(n *corev1.Node) { n.CreationTimestamp = metav1.NewTime(now.Add(-3 * time.Minute)) })
	ex, res := explainOne(snapshot(n1, n2, p, killed, older), p)
	if ex.MessagesAgree == nil || *ex.MessagesAgree || len(ex.Feasible) == 0 {
		t.Fatalf("the pod fits now: got %v %v", ex.MessagesAgree, ex.Feasible)
	}
	got, _, _ := finding(res, RuleStaleCondition)
	for _, want := range []string{"is out of date: the pod fits now on n1, n2",
		"since " + verdict.UTC().Format(time.RFC3339) + " (the condition's lastTransitionTime, 10m ago)",
		"pod batch/hog deleted (killing) (5m ago)", "node n1: labels set (by kubectl-label) (2m ago)", "node n2 added (3m ago)"} {
		if !strings.Contains(got, want) {
			t.Errorf("WP181 lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "batch/old") {
		t.Errorf("a pod deleted before the verdict is not a change since: %s", got)
	}
}

func TestAStaleVerdictWithNothingVisibleChangedSaysSo(t *testing.T) {
	p := pod("app", "web", unschedulableCondition("0/1 nodes are available: 1 node(s) were unschedulable. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."),
		func(p *corev1.Pod) { p.Status.Conditions[0].LastTransitionTime = metav1.NewTime(now.Add(-time.Minute)) })
	n1 := node("n1", "4", "8Gi", func(n *corev1.Node) { n.CreationTimestamp = metav1.NewTime(now.Add(-time.Hour)) })
	_, res := explainOne(snapshot(n1, p), p)
	got, _, _ := finding(res, RuleStaleCondition)
	if !strings.Contains(got, `kube-scheduler would now write`) && !strings.Contains(got, "fits now") || !strings.Contains(got, "nothing the snapshot shows changed") {
		t.Errorf("got %s", got)
	}
}

package pending

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestAPreemptionThatCannotHelpSaysWhoIsInTheWayAndWhatToChange(t *testing.T) {
	keep := pod("db", "primary", onNode("n1"), requests("3", ""), func(p *corev1.Pod) {
		p.Spec.Priority, p.Spec.PriorityClassName, p.Labels = ptr.To[int32](5000), "critical-db", map[string]string{"app": "db"}
	})
	p := pod("app", "urgent", requests("2", ""), unschedulableCondition("x"), func(p *corev1.Pod) { p.Spec.Priority = ptr.To[int32](1000) })
	s := snapshot(node("n1", "4", "8Gi"), keep, p)
	s.PDBs = []*policyv1.PodDisruptionBudget{{ObjectMeta: metav1.ObjectMeta{Namespace: "db", Name: "db-pdb"},
		Spec: policyv1.PodDisruptionBudgetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}}}}}
	s.PriorityClasses = []*schedulingv1.PriorityClass{{ObjectMeta: metav1.ObjectMeta{Name: "tier-1"}, Value: 10000}}
	_, res := explainOne(s, p)
	msg, fix, ok := finding(res, RulePreemptionBlocked)
	if !ok {
		t.Fatalf("want %s, got %v", RulePreemptionBlocked, ruleIDs(res))
	}
	for _, want := range []string{"the pod (priority 1000) may only evict pods of lower priority", "on node n1, the nearest to taking it, pod db/primary (priority 5000, PriorityClass critical-db) would have to go",
		"db/primary's priority is not below 1000", "PodDisruptionBudget db-pdb (0 disruptions allowed) protects them"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	for _, want := range []string{"whose value is above 5000: priorityClassName: tier-1", "add capacity", "raise its maxUnavailable"} {
		if !strings.Contains(fix, want) {
			t.Errorf("fix lacks %q:\n%s", want, fix)
		}
	}
}

func TestAPodThatMayNotPreemptIsToldWhereItsPolicyComesFrom(t *testing.T) {
	never := corev1.PreemptNever
	other := pod("batch", "job", onNode("n1"), requests("3", ""))
	p := pod("app", "report", requests("2", ""), unschedulableCondition("x"), func(p *corev1.Pod) {
		p.Spec.Priority, p.Spec.PreemptionPolicy = ptr.To[int32](100), &never
	})
	_, res := explainOne(snapshot(node("n1", "4", "8Gi"), other, p), p)
	msg, fix, ok := finding(res, RulePreemptionBlocked)
	if !ok || !strings.Contains(msg, "preemptionPolicy Never (spec.preemptionPolicy)") || !strings.Contains(msg, "pod batch/job (priority 0) would have to go") {
		t.Errorf("got %q", msg)
	}
	if !strings.Contains(fix, "preemptionPolicy: PreemptLowerPriority") || strings.Contains(fix, "above 0") {
		t.Errorf("the pod outranks batch/job already: only its policy is in the way; got %q", fix)
	}
}

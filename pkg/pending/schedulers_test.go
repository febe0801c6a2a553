package pending

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/pkg/report"
)

func lease(name string, renewed time.Time) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
		"metadata": map[string]any{"name": name, "namespace": LeaseNamespace},
		"spec":     map[string]any{"holderIdentity": name + "-7f9c", "renewTime": metav1.NewMicroTime(renewed).Format(metav1.RFC3339Micro)},
	}}
	return u
}

func TestAPodForAnotherSchedulerIsNeverCalledUnschedulable(t *testing.T) {
	young := func(p *corev1.Pod) {
		p.Spec.SchedulerName = "batch-scheduler"
		p.CreationTimestamp = metav1.NewTime(now.Add(-time.Second))
	}
	cases := []struct {
		name     string
		objs     []any
		lease    bool
		stage    Stage
		rule     string
		sev      report.Severity
		evidence string
	}{
		{name: "nothing shows the scheduler: NoScheduler at once", stage: StageNoScheduler, rule: RuleNoScheduler, sev: report.SeverityError,
			evidence: "no pod bound by it"},
		{name: "a pod it bound shows it exists", stage: StageWaitingForScheduler, rule: RuleWaitingScheduler, sev: report.SeverityInfo,
			objs:     []any{pod("jobs", "done", onNode("n1"), func(p *corev1.Pod) { p.Spec.SchedulerName = "batch-scheduler" })},
			evidence: "1 pod(s) with schedulerName batch-scheduler are bound to nodes, the latest jobs/done (on n1"},
		{name: "an event it wrote shows it exists", stage: StageWaitingForScheduler, rule: RuleWaitingScheduler, sev: report.SeverityInfo,
			objs: []any{func() *corev1.Event {
				e := event("Pod", "jobs", "other", "uid-x", "Scheduled", "Normal", "bound")
				e.ReportingController = "batch-scheduler"
				return e
			}()},
			evidence: "1 event(s) from batch-scheduler, the latest Scheduled on Pod jobs/other"},
		{name: "its leader Lease shows it exists", stage: StageWaitingForScheduler, rule: RuleWaitingScheduler, sev: report.SeverityInfo,
			lease: true, evidence: "Lease kube-system/batch-scheduler held by batch-scheduler-7f9c, renewed 5s ago"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := pod("app", "job-1", young)
			s := snapshot(append([]any{node("n1", "4", "8Gi"), p}, tc.objs...)...)
			s.Loaded[cluster.KindLease] = true
			if tc.lease {
				s.Other = append(s.Other, lease("batch-scheduler", now.Add(-5*time.Second)))
			}
			ex, res := explainOne(s, p)
			if ex.Stage != tc.stage || strings.Contains(ex.Reason, "fits") {
				t.Fatalf("got stage %s reason %q", ex.Stage, ex.Reason)
			}
			found := false
			for _, f := range res.Findings {
				found = found || f.RuleID == tc.rule && f.Severity == tc.sev
			}
			if !found {
				t.Errorf("want %s at %s, got %+v", tc.rule, tc.sev, res.Findings)
			}
			if !strings.Contains(strings.Join(ex.Evidence, "\n"), tc.evidence) {
				t.Errorf("evidence lacks %q: %q", tc.evidence, ex.Evidence)
			}
		})
	}
}

func TestAPodItsSchedulerIgnoresForLongIsAWarning(t *testing.T) {
	p := pod("app", "job-1", func(p *corev1.Pod) { p.Spec.SchedulerName = "batch-scheduler" })
	s := snapshot(node("n1", "4", "8Gi"), p)
	s.Other = append(s.Other, lease("batch-scheduler", now.Add(-time.Hour)))
	ex, res := explainOne(s, p)
	msg, _, ok := finding(res, RuleWaitingScheduler)
	if ex.Stage != StageWaitingForScheduler || !ok || !strings.Contains(msg, `scheduler "batch-scheduler" has not acted on the pod in 5m`) ||
		!strings.Contains(msg, "no longer renewed: the scheduler may have stopped") {
		t.Errorf("got stage %s, %q", ex.Stage, msg)
	}
}

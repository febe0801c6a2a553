package whypending_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ktriage/ktriage/test/e2e/framework"
)

// When kube-scheduler says preemption cannot help, why-pending says why in
// words: who would have to leave the nearest node, their priorities against
// the pod's, the budgets that protect them, and what to change.
func TestAPreemptionThatCannotHelpIsExplained(t *testing.T) {
	c := framework.Get(t)
	classes := `
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: e2e-wp-never}
value: 1000
preemptionPolicy: Never
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: e2e-wp-mid}
value: 1000
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: e2e-wp-keep}
value: 100000
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: e2e-wp-top}
value: 200000
`
	c.Apply(t, "", classes)
	t.Cleanup(func() { c.KubectlResult(t, classes, "delete", "--ignore-not-found", "-f", "-") })

	t.Run("preemptionPolicy Never", func(t *testing.T) {
		ns := c.Namespace(t, "wp-preempt-never", nil)
		c.Apply(t, ns, runningOn("big", "kwok-node-0", "app: big", "    resources: {requests: {cpu: 3500m}}"))
		waitRunning(t, c, ns)
		c.Apply(t, ns, pendingWith("    resources: {requests: {cpu: \"2\"}}\n  priorityClassName: e2e-wp-never\n"+onNode0))
		waitForSchedulerMessage(t, c, ns, "pending", "preemption: not eligible due to preemptionPolicy=Never.")
		r, res := explain(t, c, "-n", ns, "pending")
		p := r.pod(t, "pending")
		if p.SimulatedSchedulerMessage != p.SchedulerMessage {
			t.Errorf("simulated %q\n      real %q", p.SimulatedSchedulerMessage, p.SchedulerMessage)
		}
		msg, fix := findingOf(r, "WP184")
		for _, want := range []string{"the pod (priority 1000, PriorityClass e2e-wp-never) has preemptionPolicy Never (PriorityClass e2e-wp-never)",
			"on node kwok-node-0, the nearest to taking it, pod " + ns + "/big (priority 0) would have to go"} {
			if !strings.Contains(msg, want) {
				t.Errorf("WP184 lacks %q\n%s", want, res)
			}
		}
		if !strings.Contains(fix, "preemptionPolicy: PreemptLowerPriority") {
			t.Errorf("want the policy named as the fix: %q", fix)
		}
	})

	t.Run("the pods in the way outrank the pod, and a budget protects them", func(t *testing.T) {
		ns := c.Namespace(t, "wp-preempt-keep", nil)
		c.Apply(t, ns, strings.Replace(runningOn("keep", "kwok-node-1", "app: keep", "    resources: {requests: {cpu: 3500m}}"),
			"spec:\n", "spec:\n  priorityClassName: e2e-wp-keep\n", 1)+`
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: keep}
spec:
  minAvailable: 1
  selector: {matchLabels: {app: keep}}
`)
		waitRunning(t, c, ns)
		framework.Eventually(t, time.Minute, func() (bool, error) {
			out := c.Kubectl(t, "get", "pdb", "keep", "-n", ns, "-o", "jsonpath={.status.currentHealthy}/{.status.disruptionsAllowed}")
			return out == "1/0", nil
		}, "the budget to count its pod")
		c.Apply(t, ns, pendingWith("    resources: {requests: {cpu: \"2\"}}\n  priorityClassName: e2e-wp-mid\n  nodeSelector: {kubernetes.io/hostname: kwok-node-1}\n"))
		waitForSchedulerMessage(t, c, ns, "pending", "No preemption victims found for incoming pod")
		r, res := explain(t, c, "-n", ns, "pending")
		p := r.pod(t, "pending")
		if p.SimulatedSchedulerMessage != p.SchedulerMessage {
			t.Errorf("simulated %q\n      real %q", p.SimulatedSchedulerMessage, p.SchedulerMessage)
		}
		msg, fix := findingOf(r, "WP184")
		for _, want := range []string{"the pod (priority 1000, PriorityClass e2e-wp-mid) may only evict pods of lower priority",
			"pod " + ns + "/keep (priority 100000, PriorityClass e2e-wp-keep) would have to go", ns + "/keep's priority is not below 1000",
			"PodDisruptionBudget keep (0 disruptions allowed) protects them"} {
			if !strings.Contains(msg, want) {
				t.Errorf("WP184 lacks %q\n%s", want, res)
			}
		}
		for _, want := range []string{"above 100000", "e2e-wp-top (200000)", "add capacity", "keep (0 disruptions allowed)"} {
			if !strings.Contains(fix, want) {
				t.Errorf("fix lacks %q: %q", want, fix)
			}
		}
	})
}

func findingOf(r report, rule string) (string, string) {
	for _, f := range r.Findings {
		if f.RuleID == rule {
			return f.Message, f.Fix
		}
	}
	return "", ""
}

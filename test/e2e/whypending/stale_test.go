package whypending_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ktriage/ktriage/test/e2e/framework"
)

// A scheduler verdict the cluster has moved past is shown beside what the
// scheduler would say now, with what changed since it was written. The pod
// asks for an extended resource no node has: a node tainted afterwards
// changes the verdict's wording but gives the scheduler no reason to retry,
// so the stored message stays stale. A copy of the pod created afterwards
// gets kube-scheduler's current verdict: the simulation must be it.
func TestAStaleVerdictSaysWhatChangedSince(t *testing.T) {
	c := framework.Get(t)
	ns := c.Namespace(t, "wp-stale", nil)
	spec := "    resources: {requests: {example.com/e2e-stale: \"1\"}, limits: {example.com/e2e-stale: \"1\"}}\n"
	c.Apply(t, ns, pendingWith(spec))
	waitForSchedulerMessage(t, c, ns, "pending", "3 Insufficient example.com/e2e-stale")

	time.Sleep(1100 * time.Millisecond) // the change comes in a later second than the verdict
	c.Kubectl(t, "taint", "node", "kwok-node-2", "e2e-stale=x:NoSchedule")
	t.Cleanup(func() { c.Kubectl(t, "taint", "node", "kwok-node-2", "e2e-stale-") })
	c.Apply(t, ns, strings.Replace(pendingWith(spec), "name: pending", "name: copy", 1))
	waitForSchedulerMessage(t, c, ns, "copy", "1 node(s) had untolerated taint(s), 2 Insufficient example.com/e2e-stale")

	r, res := explain(t, c, "-n", ns)
	stale, copied := r.pod(t, "pending"), r.pod(t, "copy")
	if !strings.Contains(stale.SchedulerMessage, "3 Insufficient example.com/e2e-stale") {
		t.Skipf("the scheduler retried the pod meanwhile: its verdict is no longer stale (%q)", stale.SchedulerMessage)
	}
	if stale.SimulatedSchedulerMessage != copied.SchedulerMessage {
		t.Errorf("what kube-scheduler says now (for the copy)\n  %q\ndiffers from the simulation for the stale pod\n  %q", copied.SchedulerMessage, stale.SimulatedSchedulerMessage)
	}
	var msg string
	for _, f := range r.Findings {
		if f.RuleID == "WP181" && f.Object.Name == "pending" {
			msg = f.Message
		}
	}
	for _, want := range []string{
		`the pod's PodScheduled condition says "` + stale.SchedulerMessage + `"`,
		`kube-scheduler would now write "` + stale.SimulatedSchedulerMessage + `"`,
		"node kwok-node-2: taints set (by kubectl-taint)",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("WP181 lacks %q\n%s", want, res)
		}
	}
	if strings.Contains(msg, "copy") {
		t.Errorf("the copy, created after the verdict but bound to no node, is not a change that matters: %q", msg)
	}
}

package whypending_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ktriage/ktriage/test/e2e/framework"
)

// The table ends with the Pending pods counted by stage; the count is the
// API server's own number of Pending pods in the namespace.
func TestTheSummaryLineCountsPendingPodsByStage(t *testing.T) {
	c := framework.Get(t)
	ns := c.Namespace(t, "wp-summary", nil)
	c.Apply(t, ns, `
apiVersion: v1
kind: Pod
metadata: {name: gated}
spec:
  schedulingGates: [{name: example.com/approval}]
  containers: [{name: app, image: registry.example.com/app:1}]
---
apiVersion: v1
kind: Pod
metadata: {name: elsewhere}
spec:
  schedulerName: e2e-wp-summary-ghost
  containers: [{name: app, image: registry.example.com/app:1}]
---
apiVersion: v1
kind: Pod
metadata: {name: picky-a}
spec:
  nodeSelector: {e2e-summary: none}
  containers: [{name: app, image: registry.example.com/app:1}]
---
apiVersion: v1
kind: Pod
metadata: {name: picky-b}
spec:
  nodeSelector: {e2e-summary: none}
  containers: [{name: app, image: registry.example.com/app:1}]
`)
	for _, name := range []string{"picky-a", "picky-b"} {
		c.WaitForPodScheduledCondition(t, ns, name, time.Minute)
	}
	pendingPods := strings.Fields(c.Kubectl(t, "get", "pods", "-n", ns, "--field-selector", "status.phase=Pending", "-o", "name"))
	res := c.Run(t, bin, "-n", ns)
	lines := strings.Split(strings.TrimRight(res.Stdout, "\n"), "\n")
	want := "4 Pending: 2 Unschedulable, 1 Gated, 1 NoScheduler"
	if res.Code != 1 || lines[len(lines)-1] != want {
		t.Errorf("want the last line %q, exit 1\n%s", want, res)
	}
	if len(pendingPods) != 4 {
		t.Errorf("the API server counts %d Pending pods: %v", len(pendingPods), pendingPods)
	}
	if strings.Contains(res.Stdout, "errors, ") {
		t.Errorf("finding counts belong to the findings, not the summary line\n%s", res)
	}
}

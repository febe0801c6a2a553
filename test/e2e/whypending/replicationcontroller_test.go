package whypending_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ktriage/ktriage/test/e2e/framework"
)

// A ReplicationController is named as kubectl names it (rc/NAME,
// replicationcontrollers/NAME): its Pending pods are explained, and when the
// controller manager could not create any, its FailedCreate event says why.
func TestAReplicationControllerIsATarget(t *testing.T) {
	c := framework.Get(t)
	ns := c.Namespace(t, "wp-rc", nil)
	c.Apply(t, ns, `
apiVersion: v1
kind: ReplicationController
metadata: {name: legacy}
spec:
  replicas: 2
  selector: {app: legacy}
  template:
    metadata: {labels: {app: legacy}}
    spec:
      containers: [{name: app, image: registry.example.com/app:1, resources: {requests: {cpu: "640"}}}]
---
apiVersion: v1
kind: Pod
metadata: {name: bystander, labels: {app: other}}
spec:
  containers: [{name: app, image: registry.example.com/app:1, resources: {requests: {cpu: "640"}}}]
`)
	var rcPods []string
	framework.Eventually(t, 60*time.Second, func() (bool, error) {
		out := c.Kubectl(t, "get", "pods", "-n", ns, "-l", "app=legacy", "-o", `jsonpath={range .items[*]}{.metadata.name} {.status.conditions[?(@.type=="PodScheduled")].reason}{"\n"}{end}`)
		rcPods = nil
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			if name, reason, _ := strings.Cut(line, " "); reason == "Unschedulable" {
				rcPods = append(rcPods, name)
			}
		}
		return len(rcPods) == 2, nil
	}, "the ReplicationController's two pods judged unschedulable")
	slices.Sort(rcPods)

	for _, target := range []string{"rc/legacy", "replicationcontrollers/legacy", "ReplicationController/legacy"} {
		r, res := explain(t, c, "-n", ns, target)
		if res.Code != 1 {
			t.Errorf("%s: want exit 1 (its pods are stuck)\n%s", target, res)
		}
		var got []string
		for _, p := range r.Pods {
			got = append(got, p.Name)
			if p.Stage != "Unschedulable" || p.SchedulerMessage == "" || !strings.Contains(p.SchedulerMessage, "Insufficient cpu") {
				t.Errorf("%s: pod %s: want Unschedulable with the scheduler's message naming cpu, got %+v", target, p.Name, p)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, rcPods) {
			t.Errorf("%s: explained %v, want exactly the ReplicationController's pods %v (not the bystander)\n%s", target, got, rcPods, res)
		}
	}

	// The replication manager refuses to create pods over the quota.
	quota := c.Namespace(t, "wp-rc-quota", nil)
	c.Apply(t, quota, `
apiVersion: v1
kind: ResourceQuota
metadata: {name: compute}
spec:
  hard: {requests.cpu: "1"}
`)
	framework.Eventually(t, 30*time.Second, func() (bool, error) {
		out := c.Kubectl(t, "get", "resourcequota", "compute", "-n", quota, "-o", "jsonpath={.status.used}")
		return strings.Contains(out, "requests.cpu"), nil
	}, "quota status")
	c.Apply(t, quota, `
apiVersion: v1
kind: ReplicationController
metadata: {name: capped}
spec:
  replicas: 1
  selector: {app: capped}
  template:
    metadata: {labels: {app: capped}}
    spec:
      containers: [{name: app, image: registry.example.com/app:1, resources: {requests: {cpu: "2"}}}]
`)
	framework.Eventually(t, 60*time.Second, func() (bool, error) {
		out := c.Kubectl(t, "get", "events", "-n", quota, "--field-selector", "reason=FailedCreate,involvedObject.kind=ReplicationController", "-o", "name")
		return strings.TrimSpace(out) != "", nil
	}, "the ReplicationController's FailedCreate event")
	r, res := explain(t, c, "-n", quota, "rc/capped")
	p := r.pod(t, "replicationcontroller/capped")
	if res.Code != 1 || p.Stage != "NotCreated" || !strings.Contains(p.Reason, "exceeded quota compute") {
		t.Errorf("want the quota named as why it has no pods, got %+v\n%s", p, res)
	}
	if fix := r.fix("WP130"); !strings.Contains(fix, `"requests.cpu":"2"`) {
		t.Errorf("want the quota fix to raise requests.cpu to used+requested: %q\n%s", fix, res)
	}
	// With no argument it is found through its FailedCreate event.
	r, res = explain(t, c, "-n", quota)
	if p := r.pod(t, "replicationcontroller/capped"); res.Code != 1 || len(r.Pods) != 1 || p.Stage != "NotCreated" {
		t.Errorf("want the ReplicationController found by its event, got %+v\n%s", r.Pods, res)
	}
}

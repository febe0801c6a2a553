package whypending_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ktriage/ktriage/test/e2e/framework"
)

// CI mode applies the namespace's LimitRange defaults and checks the quota's
// headroom; applying the manifest for real must then hit the quota too.
func TestManifestsAreCheckedAgainstLimitRangeDefaultsAndQuota(t *testing.T) {
	c := framework.Get(t)
	ns := c.Namespace(t, "wp-ciquota", nil)
	c.Apply(t, ns, `
apiVersion: v1
kind: ResourceQuota
metadata: {name: team}
spec:
  hard: {requests.cpu: "1"}
---
apiVersion: v1
kind: LimitRange
metadata: {name: defaults}
spec:
  limits:
  - type: Container
    defaultRequest: {cpu: 300m}
`)
	framework.Eventually(t, 30*time.Second, func() (bool, error) {
		out := c.Kubectl(t, "get", "resourcequota", "team", "-n", ns, "-o", "jsonpath={.status.hard}")
		return strings.Contains(out, "requests.cpu"), nil
	}, "quota status")

	manifest := filepath.Join("testdata", "ci-quota", "workers.yaml")
	r, res := explain(t, c, "-f", manifest, "-n", ns)
	if res.Code != 1 {
		t.Fatalf("want exit 1\n%s", res)
	}
	p := r.pod(t, "workers")
	if p.Stage != "NotCreated" || !strings.Contains(p.Reason, "requests.cpu: 4 replica(s) request 1200m, used 0, hard 1 (needs 1200m)") {
		t.Errorf("got %+v\n%s", p, res)
	}
	if len(r.Findings) == 0 || r.Findings[0].RuleID != "WP130" || r.Findings[0].Object.Source == nil || r.Findings[0].Object.Source.Line == 0 {
		t.Errorf("want WP130 at the manifest's file:line\n%s", res)
	}

	// The real API server agrees: the ReplicaSet cannot create all four.
	c.Kubectl(t, "apply", "-n", ns, "-f", manifest)
	framework.Eventually(t, 30*time.Second, func() (bool, error) {
		out := c.Kubectl(t, "get", "events", "-n", ns, "--field-selector", "reason=FailedCreate", "-o", "jsonpath={.items[*].message}")
		return strings.Contains(out, "exceeded quota: team"), nil
	}, "a FailedCreate event for the quota")
	r, res = explain(t, c, "-n", ns, "deploy/workers")
	if p := r.pod(t, "deployment/workers"); p.Stage != "NotCreated" || !strings.Contains(p.Reason, "exceeded quota team") {
		t.Errorf("live: got %+v\n%s", p, res)
	}
}

// Manifest pods get their priority from the PriorityClass at admission; CI
// mode reads the class, so preemption is judged as the scheduler will.
func TestManifestsGetTheirPriorityClass(t *testing.T) {
	c := framework.Get(t)
	ns := c.Namespace(t, "wp-ciprio", nil)
	c.Kubectl(t, "delete", "priorityclass", "wp-e2e-urgent", "--ignore-not-found")
	c.Apply(t, "", `
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: wp-e2e-urgent}
value: 100000
`)
	t.Cleanup(func() { c.Kubectl(t, "delete", "priorityclass", "wp-e2e-urgent", "--ignore-not-found") })
	c.Apply(t, ns, `
apiVersion: v1
kind: Pod
metadata: {name: filler}
spec:
  nodeSelector: {kubernetes.io/hostname: kwok-node-1}
  containers:
  - name: app
    image: registry.example.com/app:1
    resources: {requests: {cpu: "1"}}
`)
	framework.Eventually(t, 30*time.Second, func() (bool, error) {
		return c.Kubectl(t, "get", "pod", "filler", "-n", ns, "-o", "jsonpath={.spec.nodeName}") == "kwok-node-1", nil
	}, "the filler pod bound")

	r, res := explain(t, c, "-f", filepath.Join("testdata", "ci-priority", "urgent.yaml"), "-n", ns)
	if res.Code != 1 || r.pod(t, "urgent").Stage != "Unschedulable" {
		t.Fatalf("want the pod not to fit now, exit 1\n%s", res)
	}
	if !r.has("WP180") {
		t.Errorf("with priority 100000 from its class, evicting lower-priority pods makes room: want WP180\n%s", res)
	}
}

// A Deployment whose ReplicaSet cannot be created has no pods and no
// ReplicaSet to hold an event: its own condition and event say why.
func TestADeploymentThatCannotCreateItsReplicaSet(t *testing.T) {
	c := framework.Get(t)
	ns := c.Namespace(t, "wp-norss", nil)
	c.Apply(t, ns, `
apiVersion: v1
kind: ResourceQuota
metadata: {name: no-rs}
spec:
  hard: {count/replicasets.apps: "0"}
`)
	framework.Eventually(t, 30*time.Second, func() (bool, error) {
		out := c.Kubectl(t, "get", "resourcequota", "no-rs", "-n", ns, "-o", "jsonpath={.status.hard}")
		return strings.Contains(out, "count/replicasets.apps"), nil
	}, "quota status")
	c.Apply(t, ns, `
apiVersion: apps/v1
kind: Deployment
metadata: {name: blocked}
spec:
  replicas: 1
  selector: {matchLabels: {app: blocked}}
  template:
    metadata: {labels: {app: blocked}}
    spec:
      containers: [{name: app, image: registry.example.com/app:1}]
`)
	framework.Eventually(t, 60*time.Second, func() (bool, error) {
		out := c.Kubectl(t, "get", "deployment", "blocked", "-n", ns, "-o", "jsonpath={.status.conditions[*].reason}")
		return strings.Contains(out, "ReplicaSetCreateError"), nil
	}, "the deployment controller's ReplicaSetCreateError")
	r, res := explain(t, c, "-n", ns, "deploy/blocked")
	p := r.pod(t, "deployment/blocked")
	if res.Code != 1 || p.Stage != "NotCreated" || !strings.Contains(p.Reason, "no-rs") {
		t.Errorf("want NotCreated naming the quota on ReplicaSets\n%s", res)
	}
}

// A CronJob whose Job the controller could not create carries the
// FailedCreate event itself; with no argument it is found and explained.
func TestACronJobThatCannotCreateItsJob(t *testing.T) {
	c := framework.Get(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ns := c.Namespace(t, "wp-cronfail", nil)
	c.Apply(t, ns, `
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  schedule: "0 3 * * *"
  suspend: true
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: app, image: registry.example.com/app:1}]
`)
	cj, err := c.Client.BatchV1().CronJobs(ns).Get(ctx, "nightly", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// What the cronjob controller records when the Job is refused.
	_, err = c.Client.CoreV1().Events(ns).Create(ctx, &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: "nightly.failed"},
		InvolvedObject: corev1.ObjectReference{Kind: "CronJob", APIVersion: "batch/v1", Namespace: ns, Name: "nightly", UID: cj.UID},
		Reason:         "FailedCreate", Type: corev1.EventTypeWarning,
		Message:        `Error creating job: jobs.batch "nightly-29400000" is forbidden: exceeded quota: jobs, requested: count/jobs.batch=1, used: count/jobs.batch=2, limited: count/jobs.batch=2`,
		Source:         corev1.EventSource{Component: "cronjob-controller"},
		FirstTimestamp: metav1.Now(), LastTimestamp: metav1.Now(), Count: 1,
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r, res := explain(t, c, "-n", ns)
	p := r.pod(t, "cronjob/nightly")
	if res.Code != 1 || p.Stage != "NotCreated" || !strings.Contains(p.Reason, "exceeded quota jobs") {
		t.Errorf("want the CronJob explained by its FailedCreate event\n%s", res)
	}
}

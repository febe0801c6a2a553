package whypending_test

import (
	"context"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ktriage/ktriage/test/e2e/framework"
)

// A pod for another scheduler is never "Unschedulable": kube-scheduler
// ignores it. Without anything in the cluster showing that scheduler it is
// NoScheduler at once, not after a grace period; with a sign of it (its
// leader Lease, a pod it bound) it is waiting for that scheduler.
func TestAPodForAnotherSchedulerWaitsForItOrHasNone(t *testing.T) {
	c := framework.Get(t)
	ctx := context.Background()
	ns := c.Namespace(t, "wp-scheduler", nil)

	// A scheduler that runs: its leader Lease in kube-system, renewed now,
	// and a pod it bound.
	now := metav1.NewMicroTime(time.Now())
	holder, dur := "e2e-wp-batch-7f9c", int32(15)
	_, err := c.Client.CoordinationV1().Leases("kube-system").Create(ctx, &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: "e2e-wp-batch"},
		Spec:       coordinationv1.LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: &dur, RenewTime: &now, AcquireTime: &now},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.Client.CoordinationV1().Leases("kube-system").Delete(context.Background(), "e2e-wp-batch", metav1.DeleteOptions{})
	})
	c.Apply(t, ns, strings.Replace(runningOn("bound-by-batch", "kwok-node-1", "app: batch", ""), "spec:\n", "spec:\n  schedulerName: e2e-wp-batch\n", 1)+`
apiVersion: v1
kind: Pod
metadata: {name: for-batch}
spec:
  schedulerName: e2e-wp-batch
  containers: [{name: app, image: registry.example.com/app:1}]
---
apiVersion: v1
kind: Pod
metadata: {name: for-ghost}
spec:
  schedulerName: e2e-wp-ghost
  containers: [{name: app, image: registry.example.com/app:1}]
`)
	// Explained at once, well inside the default --scheduler-timeout.
	r, res := explain(t, c, "-n", ns)
	if res.Code != 1 {
		t.Fatalf("want exit 1\n%s", res)
	}
	ghost := r.pod(t, "for-ghost")
	if ghost.Stage != "NoScheduler" || !strings.Contains(ghost.Reason, `no scheduler "e2e-wp-ghost" runs: nothing in the cluster shows it`) {
		t.Errorf("for-ghost: got %+v\n%s", ghost, res)
	}
	batch := r.pod(t, "for-batch")
	if batch.Stage != "WaitingForScheduler" || !strings.Contains(batch.Reason, `waiting for scheduler "e2e-wp-batch"`) {
		t.Errorf("for-batch: got %+v\n%s", batch, res)
	}
	msg, _ := findingOf(r, "WP185")
	if !strings.Contains(msg, "1 pod(s) with schedulerName e2e-wp-batch are bound to nodes, the latest "+ns+"/bound-by-batch") {
		t.Errorf("WP185 should name the pod e2e-wp-batch bound: %q", msg)
	}
	if !strings.Contains(res.Stdout, "Lease kube-system/e2e-wp-batch held by e2e-wp-batch-7f9c") {
		t.Errorf("want the scheduler's Lease in the evidence\n%s", res)
	}

	// What the cluster says: kube-scheduler never takes either pod.
	for _, name := range []string{"for-batch", "for-ghost"} {
		p, err := c.Client.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, cond := range p.Status.Conditions {
			if cond.Type == corev1.PodScheduled {
				t.Errorf("%s: kube-scheduler acted on a pod for another scheduler: %+v", name, cond)
			}
		}
		if p.Spec.NodeName != "" {
			t.Errorf("%s: bound to %s", name, p.Spec.NodeName)
		}
	}
}

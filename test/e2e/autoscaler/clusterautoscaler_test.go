package autoscaler_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ktriage/ktriage/test/e2e/framework"
)

// Node group IDs as cluster-autoscaler's AWS provider names them (the
// Auto Scaling group of an EKS managed node group); their nodes carry the
// node group's name in eks.amazonaws.com/nodegroup.
const (
	workersGroup = "eks-workers-6ac6e2d4"
	gpuGroup     = "eks-gpu-91bd0c7e"
	batchGroup   = "eks-batch-3f1e99aa"
)

func groupsAt(now time.Time) []group {
	return []group{
		{name: workersGroup, ready: 3, target: 3, min: 1, max: 3, scaleUp: "NoActivity", scaleUpSince: now.Add(-time.Hour)},
		{name: gpuGroup, ready: 1, target: 1, min: 0, max: 4, scaleUp: "Backoff", scaleUpSince: now.Add(-7 * time.Minute),
			backoffCode: "QUOTA_EXCEEDED", backoffMsg: "Instance 'eks-gpu-91bd0c7e-x2' creation failed: Quota 'GPUS' exceeded. Limit: 4.0 in region us-central1."},
		{name: batchGroup, ready: 1, target: 1, min: 0, max: 5, scaleUp: "NoActivity", scaleUpSince: now.Add(-time.Hour)},
	}
}

// nodeGroups adds the groups' nodes, each filled so that a 2-CPU pod (or a
// GPU pod) fits none of them, and fills the cluster's own node too.
func nodeGroups(t *testing.T, c *framework.Cluster, ns string) {
	for _, n := range []string{"ip-10-0-1-1", "ip-10-0-1-2", "ip-10-0-1-3"} {
		addNode(t, c, n, map[string]string{"eks.amazonaws.com/nodegroup": "workers"}, "4", nil)
	}
	addNode(t, c, "ip-10-0-2-1", map[string]string{"eks.amazonaws.com/nodegroup": "gpu", "accelerator": "nvidia"}, "8",
		corev1.ResourceList{"nvidia.com/gpu": resource.MustParse("1")}, corev1.Taint{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule})
	addNode(t, c, "ip-10-0-3-1", map[string]string{"eks.amazonaws.com/nodegroup": "batch"}, "4", nil)
	var fill strings.Builder
	for _, n := range []string{"ip-10-0-1-1", "ip-10-0-1-2", "ip-10-0-1-3", "ip-10-0-3-1", "kwok-node-0"} {
		fill.WriteString(`---
apiVersion: v1
kind: Pod
metadata: {name: busy-` + n + `}
spec:
  nodeName: ` + n + `
  containers: [{name: app, image: registry.example.com/app:1, resources: {requests: {cpu: "3"}}}]
`)
	}
	fill.WriteString(`---
apiVersion: v1
kind: Pod
metadata: {name: busy-gpu}
spec:
  nodeName: ip-10-0-2-1
  tolerations: [{key: dedicated, operator: Exists}]
  containers: [{name: app, image: registry.example.com/app:1, resources: {limits: {nvidia.com/gpu: "1"}}}]
`)
	c.Apply(t, ns, fill.String())
}

func TestClusterAutoscaler(t *testing.T) {
	c := framework.Get(t)
	ns := c.Namespace(t, "as-ca", nil)
	nodeGroups(t, c, ns)
	now := time.Now()
	writeStatus(t, c, yamlStatus(t, now, groupsAt(now)), now)
	recordEvent(t, c, statusRef(t, c), "cluster-autoscaler", corev1.EventTypeWarning, "FailedToScaleUpGroup",
		"Scale-up failed for group eks-gpu-91bd0c7e: failed to increase node group size: QUOTA_EXCEEDED: Quota 'GPUS' exceeded. Limit: 4.0 in region us-central1.", now.Add(-7*time.Minute))

	web := unschedulable(t, c, ns, `
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  nodeSelector: {eks.amazonaws.com/nodegroup: workers}
  containers: [{name: app, image: registry.example.com/app:1, resources: {requests: {cpu: "2"}}}]
`)
	recordEvent(t, c, podRef(web), "cluster-autoscaler", corev1.EventTypeNormal, "NotTriggerScaleUp",
		"pod didn't trigger scale-up: 1 max node group size reached, 1 node(s) had untolerated taint(s), 1 node(s) didn't match Pod's node affinity/selector", time.Now())
	train := unschedulable(t, c, ns, `
apiVersion: v1
kind: Pod
metadata: {name: train}
spec:
  nodeSelector: {accelerator: nvidia}
  tolerations: [{key: dedicated, operator: Exists}]
  containers: [{name: app, image: registry.example.com/app:1, resources: {limits: {nvidia.com/gpu: "1"}}}]
`)
	recordEvent(t, c, podRef(train), "cluster-autoscaler", corev1.EventTypeNormal, "NotTriggerScaleUp",
		"pod didn't trigger scale-up: 2 node(s) didn't match Pod's node affinity/selector, 1 in backoff after failed scale-up", time.Now())
	report := unschedulable(t, c, ns, `
apiVersion: v1
kind: Pod
metadata: {name: report}
spec:
  nodeSelector: {eks.amazonaws.com/nodegroup: batch}
  containers: [{name: app, image: registry.example.com/app:1, resources: {requests: {cpu: "2"}}}]
`)
	recordEvent(t, c, podRef(report), "cluster-autoscaler", corev1.EventTypeNormal, "TriggeredScaleUp",
		"pod triggered scale-up: [{eks-batch-3f1e99aa 1->2 (max: 5)}]", time.Now().Add(-40*time.Second))

	t.Run("max node group size reached names the group and its max", func(t *testing.T) {
		a, r, res := explain(t, c, ns, "web")
		msg, fix, ok := a.reason("max-node-group-size", workersGroup)
		if a.Kind != "cluster-autoscaler" || a.Verdict != "not-triggered" || !ok || !r.has("WP191") || res.Code != 1 {
			t.Fatalf("want not-triggered with the group at its max, WP191\n%s", res)
		}
		if !contains(msg, "max node group size reached: eks-workers-6ac6e2d4 is at 3 of max 3") || !contains(fix, "raise the group's max from 3") {
			t.Errorf("got %q / %q", msg, fix)
		}
		if msg, _, ok := a.reason("scheduler-filter", gpuGroup); !ok || !contains(msg, "taint dedicated=gpu:NoSchedule is not tolerated") {
			t.Errorf("want the gpu group's taint named\n%s", res)
		}
	})

	t.Run("backoff after a failed scale-up says since when and the cloud provider's error", func(t *testing.T) {
		a, r, res := explain(t, c, ns, "train")
		msg, fix, ok := a.reason("backoff", gpuGroup)
		since := clockText(now.Add(-7 * time.Minute))
		if a.Verdict != "not-triggered" || !ok || !r.has("WP191") {
			t.Fatalf("want the gpu group's backoff\n%s", res)
		}
		if !contains(msg, "backoff after failed scale-up since "+since, "the cloud provider's quota is exhausted (QUOTA_EXCEEDED)", "Quota 'GPUS' exceeded") || !contains(fix, "eks-gpu-91bd0c7e") {
			t.Errorf("got %q / %q", msg, fix)
		}
		for _, g := range a.NodeGroups {
			if g.Name == gpuGroup && (g.Fits == nil || !*g.Fits || g.CanScaleUp == nil || *g.CanScaleUp) {
				t.Errorf("the pod fits the gpu group's template, which cannot grow: %+v", g)
			}
		}
	})

	t.Run("a triggered scale-up names the group and its sizes", func(t *testing.T) {
		a, r, res := explain(t, c, ns, "report")
		if a.Verdict != "scale-up-triggered" || !r.has("WP190") || r.has("WP196") || !contains(a.Summary, "eks-batch-3f1e99aa 1->2 (max 5)") {
			t.Fatalf("want the scale-up of the batch group\n%s", res)
		}
		for _, g := range a.NodeGroups {
			if g.Name == batchGroup && (g.Triggered == nil || g.Triggered.From != 1 || g.Triggered.To != 2 || g.Triggered.Max != 5) {
				t.Errorf("want the batch group's sizes: %+v", g)
			}
		}
	})

	t.Run("a pod below the expendable priority cutoff gets no scale-up", func(t *testing.T) {
		c.Apply(t, ns, `
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: as-e2e-expendable}
value: -100
`)
		t.Cleanup(func() {
			_ = c.Client.SchedulingV1().PriorityClasses().Delete(context.Background(), "as-e2e-expendable", metav1.DeleteOptions{})
		})
		unschedulable(t, c, ns, `
apiVersion: v1
kind: Pod
metadata: {name: sweep}
spec:
  priorityClassName: as-e2e-expendable
  nodeSelector: {eks.amazonaws.com/nodegroup: batch}
  containers: [{name: app, image: registry.example.com/app:1, resources: {requests: {cpu: "2"}}}]
`)
		a, r, res := explain(t, c, ns, "sweep")
		msg, _, ok := a.reason("expendable", "")
		if a.Verdict != "no-event" || !ok || !r.has("WP192") || !contains(msg, "priority -100 is below cluster-autoscaler's --expendable-pods-priority-cutoff") {
			t.Errorf("want the autoscaler's silence explained by the priority\n%s", res)
		}
	})

	t.Run("a running autoscaler silent for minutes about a pod it could help is not watching it", func(t *testing.T) {
		quiet := unschedulable(t, c, ns, `
apiVersion: v1
kind: Pod
metadata: {name: quiet}
spec:
  nodeSelector: {eks.amazonaws.com/nodegroup: batch}
  containers: [{name: app, image: registry.example.com/app:1, resources: {requests: {cpu: "2"}}}]
`)
		backdate(t, c, quiet, 10*time.Minute)
		a, r, res := explain(t, c, ns, "quiet")
		if a.Verdict != "no-event" || a.Running == nil || !*a.Running || !r.has("WP192") || r.has("WP195") || r.has("WP194") {
			t.Errorf("want a silent, running autoscaler (WP192) and a group that fits\n%s", res)
		}
	})

	t.Run("a pod bigger than every group's nodes fits no group", func(t *testing.T) {
		unschedulable(t, c, ns, `
apiVersion: v1
kind: Pod
metadata: {name: huge}
spec:
  containers: [{name: app, image: registry.example.com/app:1, resources: {requests: {cpu: "12"}}}]
`)
		a, r, res := explain(t, c, ns, "huge")
		if a.Verdict != "no-event" || !r.has("WP195") {
			t.Fatalf("want WP195 naming each group\n%s", res)
		}
		found := false
		for _, rs := range a.Reasons {
			if rs.Code == "no-group-fits" && rs.NodeGroup == gpuGroup && contains(rs.Message, "Insufficient cpu") {
				found = contains(rs.Fix, "node group eks-gpu-91bd0c7e's nodes have 8 cpu allocatable and the pod requests 12")
			}
		}
		if !found {
			t.Errorf("want the gpu group's nodes too small, with their size\n%s", res)
		}
	})

	t.Run("the DaemonSet pods of a group's node run on its new nodes too", func(t *testing.T) {
		c.Apply(t, ns, `
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: log-agent}
spec:
  selector: {matchLabels: {app: log-agent}}
  template:
    metadata: {labels: {app: log-agent}}
    spec:
      nodeSelector: {eks.amazonaws.com/nodegroup: batch}
      containers: [{name: agent, image: registry.example.com/agent:1, resources: {requests: {cpu: "1"}}}]
`)
		framework.Eventually(t, time.Minute, func() (bool, error) {
			pods, err := c.Client.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app=log-agent"})
			return err == nil && len(pods.Items) == 1 && pods.Items[0].Status.Phase == corev1.PodRunning, err
		}, "the log-agent pod running on ip-10-0-3-1")
		unschedulable(t, c, ns, `
apiVersion: v1
kind: Pod
metadata: {name: almost}
spec:
  nodeSelector: {eks.amazonaws.com/nodegroup: batch}
  containers: [{name: app, image: registry.example.com/app:1, resources: {requests: {cpu: 3500m}}}]
`)
		a, r, res := explain(t, c, ns, "almost")
		found := false
		for _, rs := range a.Reasons {
			if rs.Code == "no-group-fits" && rs.NodeGroup == batchGroup && contains(rs.Message, "Insufficient cpu") {
				found = contains(rs.Fix, "have 4 cpu allocatable (1 of it for the DaemonSet pods every new node runs) and the pod requests 3.5")
			}
		}
		if a.Verdict != "no-event" || !r.has("WP195") || !found {
			t.Errorf("want the batch group's new node too small once its DaemonSet pod runs\n%s", res)
		}
	})

	t.Run("the text layout of 1.29 and before gives the same answer", func(t *testing.T) {
		now := time.Now()
		writeStatus(t, c, textStatus(now, groupsAt(now)), now)
		a, _, res := explain(t, c, ns, "web")
		if msg, _, ok := a.reason("max-node-group-size", workersGroup); a.Verdict != "not-triggered" || !ok || !contains(msg, "is at 3 of max 3") {
			t.Errorf("want the group at its max from the text layout\n%s", res)
		}
		// The text layout has no backoff error: the FailedToScaleUpGroup
		// event on the ConfigMap gives it.
		a, _, res = explain(t, c, ns, "train")
		if msg, _, ok := a.reason("backoff", gpuGroup); !ok || !contains(msg, "the last scale-up failed: failed to increase node group size: QUOTA_EXCEEDED") {
			t.Errorf("want the backoff's error from the event\n%s", res)
		}
	})

	t.Run("a status not written for an hour means cluster-autoscaler is not running", func(t *testing.T) {
		then := time.Now().Add(-time.Hour)
		writeStatus(t, c, yamlStatus(t, then, groupsAt(then)), then)
		a, r, res := explain(t, c, ns, "quiet")
		if a.Running == nil || *a.Running || !r.has("WP194") || r.has("WP192") {
			t.Errorf("want WP194 and no silence finding\n%s", res)
		}
	})
}

// Without any autoscaler the answer is that no node comes, and a cluster
// without Karpenter costs no failing NodePool list.
func TestWithoutAnAutoscalerNoNodeComes(t *testing.T) {
	c := framework.Get(t)
	ns := c.Namespace(t, "as-none", nil)
	unschedulable(t, c, ns, `
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers: [{name: app, image: registry.example.com/app:1, resources: {requests: {cpu: "64"}}}]
`)
	offset := c.AuditLogSize(t)
	a, r, res := explain(t, c, ns, "web")
	if a.Kind != "none" || a.Verdict != "none" || !r.has("WP193") || res.Code != 1 || len(r.Metadata.Warnings) != 0 {
		t.Fatalf("want kind none, verdict none, WP193 and no warning\n%s", res)
	}
	var reqs []string
	framework.Eventually(t, 10*time.Second, func() (bool, error) {
		reqs = c.AuditedRequests(t, offset, "kubectl-why_pending/")
		for _, r := range reqs {
			if strings.Contains(r, statusName) {
				return true, nil
			}
		}
		return false, nil
	}, "the status ConfigMap lookup in the audit log")
	for _, r := range reqs {
		if strings.Contains(r, "nodepools") || strings.Contains(r, "nodeclaims") {
			t.Errorf("Karpenter is not installed, yet: %s", r)
		}
	}

	// A Pending pod the scheduler has not given up on costs nothing.
	c.Apply(t, ns, `
apiVersion: v1
kind: Pod
metadata: {name: gated}
spec:
  schedulingGates: [{name: example.com/approval}]
  containers: [{name: app, image: registry.example.com/app:1}]
`)
	offset = c.AuditLogSize(t)
	res = c.Run(t, bin, "-n", ns, "gated", "-o", "json")
	var gated report
	res.DecodeJSON(t, &gated)
	if len(gated.Pods) != 1 || gated.Pods[0].Autoscaler != nil {
		t.Fatalf("want no autoscaler section for a gated pod\n%s", res)
	}
	framework.Eventually(t, 10*time.Second, func() (bool, error) {
		for _, r := range c.AuditedRequests(t, offset, "kubectl-why_pending/") {
			if strings.Contains(r, "/pods/gated") {
				return true, nil
			}
		}
		return false, nil
	}, "the gated pod's GET in the audit log")
	for _, r := range c.AuditedRequests(t, offset, "kubectl-why_pending/") {
		_, uri, _ := strings.Cut(r, " ")
		if u, err := url.Parse(uri); err == nil && strings.Contains(u.Path, "/namespaces/kube-system/") {
			t.Errorf("the autoscaler was consulted for a gated pod: %s", r)
		}
	}
}

// clockText is how a report names a time: the time of day when it is today,
// else with the date (a run just after midnight names yesterday's backoff so).
func clockText(t time.Time) string {
	t, today := t.Local(), time.Now().Local()
	if y, m, d := t.Date(); y == today.Year() && m == today.Month() && d == today.Day() {
		return t.Format("15:04")
	}
	return t.Format("2006-01-02 15:04")
}

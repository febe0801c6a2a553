package autoscaler_test

import (
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/ktriage/ktriage/test/e2e/framework"
)

var (
	nodePools  = schema.GroupVersionResource{Group: "karpenter.sh", Version: "v1", Resource: "nodepools"}
	nodeClaims = schema.GroupVersionResource{Group: "karpenter.sh", Version: "v1", Resource: "nodeclaims"}
	leases     = schema.GroupVersionResource{Group: "coordination.k8s.io", Version: "v1", Resource: "leases"}
)

// installKarpenterCRDs applies Karpenter's own NodePool and NodeClaim CRDs
// and removes them when the test ends, waiting until the API is gone.
func installKarpenterCRDs(t *testing.T, c *framework.Cluster) {
	t.Helper()
	dir := filepath.Join("testdata", "karpenter")
	c.Kubectl(t, "apply", "--server-side", "-f", dir)
	t.Cleanup(func() {
		c.Kubectl(t, "delete", "-f", dir, "--wait=true")
		framework.Eventually(t, time.Minute, func() (bool, error) {
			_, err := c.Client.Discovery().ServerResourcesForGroupVersion("karpenter.sh/v1")
			return apierrors.IsNotFound(err), nil
		}, "karpenter.sh/v1 no longer served")
	})
	framework.Eventually(t, time.Minute, func() (bool, error) {
		rl, err := c.Client.Discovery().ServerResourcesForGroupVersion("karpenter.sh/v1")
		return err == nil && len(rl.APIResources) >= 2, nil
	}, "karpenter.sh/v1 served")
}

func TestKarpenter(t *testing.T) {
	c := framework.Get(t)
	installKarpenterCRDs(t, c)
	dc := dynamicClient(t, c)
	ns := c.Namespace(t, "as-karp", nil)
	now := time.Now()
	ready := map[string]any{"conditions": []any{condition("Ready", "True", "Ready", "", now.Add(-time.Hour))}}
	createWithStatus(t, dc, nodePools, `
apiVersion: karpenter.sh/v1
kind: NodePool
metadata: {name: general}
spec:
  template:
    metadata: {labels: {team: shop}}
    spec:
      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}
      requirements:
      - {key: kubernetes.io/arch, operator: In, values: [amd64]}
      - {key: topology.kubernetes.io/zone, operator: In, values: [eu-west-1a, eu-west-1b]}
      - {key: karpenter.sh/capacity-type, operator: In, values: [on-demand]}
  limits: {cpu: "16", memory: 64Gi}
`, ready)
	createWithStatus(t, dc, nodePools, `
apiVersion: karpenter.sh/v1
kind: NodePool
metadata: {name: gpu}
spec:
  weight: 10
  template:
    spec:
      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: gpu}
      requirements:
      - {key: karpenter.k8s.aws/instance-family, operator: In, values: [g5]}
      taints:
      - {key: nvidia.com/gpu, value: "true", effect: NoSchedule}
`, ready)
	// Two NodeClaims hold 14 of the general pool's 16 CPUs; a third was
	// just created for a nominated pod and has not launched.
	for _, nc := range []struct{ name, cpu, memory string }{{"general-a1b2c", "8", "32Gi"}, {"general-d3e4f", "6", "24Gi"}} {
		createWithStatus(t, dc, nodeClaims, `
apiVersion: karpenter.sh/v1
kind: NodeClaim
metadata:
  name: `+nc.name+`
  labels: {karpenter.sh/nodepool: general, karpenter.sh/capacity-type: on-demand}
spec:
  nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}
  requirements:
  - {key: karpenter.sh/nodepool, operator: In, values: [general]}
`, map[string]any{
			"capacity":   map[string]any{"cpu": nc.cpu, "memory": nc.memory, "pods": "110"},
			"conditions": []any{condition("Launched", "True", "Launched", "", now.Add(-time.Hour)), condition("Registered", "True", "Registered", "", now.Add(-time.Hour))},
		})
	}
	createWithStatus(t, dc, nodeClaims, `
apiVersion: karpenter.sh/v1
kind: NodeClaim
metadata:
  name: general-x2z7k
  labels: {karpenter.sh/nodepool: general}
spec:
  nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}
  requirements:
  - {key: karpenter.sh/nodepool, operator: In, values: [general]}
`, nil)
	createWithStatus(t, dc, nodeClaims, `
apiVersion: karpenter.sh/v1
kind: NodeClaim
metadata:
  name: general-q9r8s
  labels: {karpenter.sh/nodepool: general}
spec:
  nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}
  requirements:
  - {key: karpenter.sh/nodepool, operator: In, values: [general]}
`, map[string]any{"conditions": []any{condition("Launched", "False", "InsufficientCapacity", "creating instance, insufficient capacity, all requested instance types were unavailable during launch", now.Add(-2*time.Minute))}})
	// Karpenter's leader holds its Lease: it runs.
	createWithStatus(t, dc, leases, `
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {name: karpenter-leader-election, namespace: kube-system}
spec:
  holderIdentity: karpenter-6f7b9c8d5-2xk4q_7d1c
  leaseDurationSeconds: 15
  renewTime: "`+time.Now().UTC().Format("2006-01-02T15:04:05.000000Z")+`"
`, nil)

	// On-demand capacity is Karpenter's alone: no existing node has the label.
	pod := func(name, extra string) *corev1.Pod {
		return unschedulable(t, c, ns, `
apiVersion: v1
kind: Pod
metadata: {name: `+name+`}
spec:
  nodeSelector: {karpenter.sh/capacity-type: on-demand`+extra+`}
  containers: [{name: app, image: registry.example.com/app:1, resources: {requests: {cpu: "1"}}}]
`)
	}

	t.Run("a nomination names the NodeClaim and its NodePool", func(t *testing.T) {
		web := pod("web", "")
		recordEvent(t, c, podRef(web), "karpenter", corev1.EventTypeNormal, "Nominated", "Pod should schedule on: nodeclaim/general-x2z7k", time.Now().Add(-20*time.Second))
		a, r, res := explain(t, c, ns, "web")
		if a.Kind != "karpenter" || a.Verdict != "scale-up-triggered" || !r.has("WP190") || r.has("WP196") || !contains(a.Summary, "nodeclaim/general-x2z7k", "(NodePool general)") {
			t.Errorf("want the nomination\n%s", res)
		}
	})

	t.Run("a nominated NodeClaim that did not launch fails the scale-up", func(t *testing.T) {
		api := pod("api", "")
		recordEvent(t, c, podRef(api), "karpenter", corev1.EventTypeNormal, "Nominated", "Pod should schedule on: nodeclaim/general-q9r8s", time.Now().Add(-3*time.Minute))
		a, r, res := explain(t, c, ns, "api")
		if msg, _, ok := a.reason("launch-failed", "general"); a.Verdict != "scale-up-triggered" || !ok || !r.has("WP196") || !contains(msg, "InsufficientCapacity: creating instance, insufficient capacity") {
			t.Errorf("want the failed launch\n%s", res)
		}
	})

	t.Run("limits held by the NodeClaims and an untolerated taint name each NodePool and the fix", func(t *testing.T) {
		big := unschedulable(t, c, ns, `
apiVersion: v1
kind: Pod
metadata: {name: big}
spec:
  nodeSelector: {karpenter.sh/capacity-type: on-demand}
  containers: [{name: app, image: registry.example.com/app:1, resources: {requests: {cpu: "4"}}}]
`)
		recordEvent(t, c, podRef(big), "karpenter", corev1.EventTypeWarning, "FailedScheduling",
			"Failed to schedule pod, did not tolerate taint; all available instance types exceed limits for nodepool", time.Now())
		a, r, res := explain(t, c, ns, "big")
		if a.Verdict != "not-triggered" || !r.has("WP191") {
			t.Fatalf("want Karpenter's refusal\n%s", res)
		}
		msg, fix, ok := a.reason("limits", "general")
		if !ok || !contains(msg, "limits.cpu is 16 and its NodeClaims hold 14; the pod requests 4") || !contains(fix, "raise NodePool general's spec.limits.cpu from 16 to at least 18") {
			t.Errorf("got %q / %q\n%s", msg, fix, res)
		}
		if msg, fix, ok := a.reason("taint", "gpu"); !ok || !contains(msg, "taint nvidia.com/gpu=true:NoSchedule is not tolerated") || !contains(fix, `{key: "nvidia.com/gpu", operator: Equal, value: "true", effect: NoSchedule}`) {
			t.Errorf("got %q / %q", msg, fix)
		}
	})

	t.Run("a label no NodePool offers leaves no NodePool to take the pod", func(t *testing.T) {
		ssd := pod("ssd", ", disktype: ssd")
		backdate(t, c, ssd, 10*time.Minute)
		a, r, res := explain(t, c, ns, "ssd")
		msg, fix, ok := a.reason("requirements", "general")
		if a.Verdict != "no-event" || !ok || !r.has("WP195") || !r.has("WP192") {
			t.Fatalf("want WP195 for the label and WP192 for the silence\n%s", res)
		}
		if !contains(msg, "nodeSelector disktype=ssd: node has no label disktype") || !contains(fix, "widen its spec.template.spec.requirements or labels") {
			t.Errorf("got %q / %q", msg, fix)
		}
	})

	t.Run("a zone the NodePool allows among others is taken", func(t *testing.T) {
		zoned := pod("zoned", ", topology.kubernetes.io/zone: eu-west-1b")
		backdate(t, c, zoned, 10*time.Minute)
		a, r, res := explain(t, c, ns, "zoned")
		if a.Verdict != "no-event" || a.Running == nil || !*a.Running || r.has("WP195") || !r.has("WP192") {
			t.Fatalf("want a running, silent Karpenter and a NodePool that fits\n%s", res)
		}
		for _, g := range a.NodeGroups {
			if want := g.Name == "general"; g.Fits == nil || *g.Fits != want {
				t.Errorf("NodePool %s fits=%v, want %v (%q)", g.Name, g.Fits, want, g.Blockers)
			}
		}
	})

}

package whypending_test

import (
	"strings"
	"testing"

	"github.com/ktriage/ktriage/test/e2e/framework"
)

// For a pod kube-scheduler rejects with its topology spread constraints,
// why-pending gives the scheduler's message and says which domains count
// toward the skew and which policy decides it.
func TestTopologySpreadSaysWhichDomainsCountAndWhy(t *testing.T) {
	c := framework.Get(t)
	cases := []struct {
		name    string
		setup   func(*testing.T, *framework.Cluster)
		objects string
		pending string
		// parts of the WP116 message and fix
		message, fix []string
	}{
		{
			name: "zones the pod may not use count only because nodeAffinityPolicy is Ignore",
			objects: runningOn("s0", "kwok-node-0", "app: web, pod-template-hash: h1", "") +
				runningOn("s1", "kwok-node-0", "app: web, pod-template-hash: h1", ""),
			pending: strings.Replace(pendingWith(`  topologySpreadConstraints:
  - maxSkew: 1
    topologyKey: topology.kubernetes.io/zone
    whenUnsatisfiable: DoNotSchedule
    nodeAffinityPolicy: Ignore
    matchLabelKeys: [pod-template-hash]
    labelSelector: {matchLabels: {app: web}}
  nodeSelector: {topology.kubernetes.io/zone: zone-a}
`), "labels: {app: pending}", "labels: {app: web, pod-template-hash: h1}", 1),
			message: []string{"selector app=web, pod-template-hash=h1; matchLabelKeys added pod-template-hash=h1 from the pod's labels",
				"zone-a counts (2 matching, skew 2)",
				"zone-b counts (0 matching, skew 0) only because of nodeAffinityPolicy: Ignore; its only node kwok-node-1 fails the pod's nodeSelector/affinity",
				"zone-c counts (0 matching, skew 0) only because of nodeAffinityPolicy: Ignore; its only node kwok-node-2 fails the pod's nodeSelector/affinity"},
			fix: []string{"set nodeAffinityPolicy: Honor on the topology.kubernetes.io/zone constraint"},
		},
		{
			name:  "a tainted zone left out by nodeTaintsPolicy Honor leaves fewer domains than minDomains",
			setup: undo(nodeCmd("taint", "node", "kwok-node-1", "e2e-spread=x:NoSchedule"), "taint", "node", "kwok-node-1", "e2e-spread-"),
			objects: runningOn("s0", "kwok-node-0", "app: web", "") +
				runningOn("s2", "kwok-node-2", "app: web", ""),
			pending: strings.Replace(pendingWith(`  topologySpreadConstraints:
  - maxSkew: 1
    minDomains: 3
    topologyKey: topology.kubernetes.io/zone
    whenUnsatisfiable: DoNotSchedule
    nodeTaintsPolicy: Honor
    labelSelector: {matchLabels: {app: web}}
`), "labels: {app: pending}", "labels: {app: web}", 1),
			message: []string{"zone-b does not count: nodeTaintsPolicy: Honor: its only node kwok-node-1 has taints the pod does not tolerate",
				"only 2 domain(s) count, fewer than minDomains 3, so the minimum is taken as 0"},
			fix: []string{"lower minDomains to 2"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ns := c.Namespace(t, "wp-spread", nil)
			if tc.setup != nil {
				tc.setup(t, c)
			}
			c.Apply(t, ns, tc.objects)
			waitRunning(t, c, ns)
			c.Apply(t, ns, tc.pending)
			t.Cleanup(func() { c.Kubectl(t, "delete", "pods", "--all", "-n", ns, "--grace-period=0", "--wait=false") })
			waitForSchedulerMessage(t, c, ns, "pending", "didn't match pod topology spread constraints")
			r, res := explain(t, c, "-n", ns, "pending")
			p := r.pod(t, "pending")
			if p.SimulatedSchedulerMessage != p.SchedulerMessage {
				t.Errorf("simulated %q\n      real %q", p.SimulatedSchedulerMessage, p.SchedulerMessage)
			}
			msg, fix := findingOf(r, "WP116")
			for _, w := range tc.message {
				if !strings.Contains(msg, w) {
					t.Errorf("WP116 lacks %q\n%s", w, res)
				}
			}
			for _, w := range tc.fix {
				if !strings.Contains(fix, w) {
					t.Errorf("WP116's fix lacks %q: %q", w, fix)
				}
			}
		})
	}
}

package drain

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/ktriage/ktriage/pkg/cluster"
)

// podWant is what a test expects of one pod's plan. reason and pending are
// substrings; an empty one is not checked.
type podWant struct {
	action   Action
	dest     string
	round    int
	replaced bool
	reason   string
	pending  []string
}

// pdbWant is what a test expects of one budget in Result.PDBs.
type pdbWant struct {
	name          string
	evicted, pods int
	blocks        bool
	reason        string
}

type simCase struct {
	name    string
	snap    *cluster.Snapshot
	opts    Options
	verdict Verdict
	pods    map[string]podWant
	// absent are pods that must not appear in any node's plan.
	absent []string
	pdbs   []pdbWant
	rules  []string
	// fixes are substrings, one per expected fix, in order.
	fixes []string
	// reasons are substrings that some reason must contain.
	reasons []string
	check   func(t *testing.T, r *Result)
}

// drainOf is the options of `kubectl drain NODE...` with flags set by mods.
func drainOf(nodes []string, mods ...func(*Options)) Options {
	o := Options{Nodes: nodes, GracePeriodSeconds: -1, Now: now}
	for _, m := range mods {
		m(&o)
	}
	return o
}

func force(o *Options)              { o.Force = true }
func ignoreDaemonSets(o *Options)   { o.IgnoreDaemonSets = true }
func deleteEmptyDirData(o *Options) { o.DeleteEmptyDirData = true }
func disableEviction(o *Options)    { o.DisableEviction = true }
func skipWait(seconds int) func(*Options) {
	return func(o *Options) { o.SkipWaitForDeleteTimeoutSeconds = seconds }
}
func podSelector(s string) func(*Options) { return func(o *Options) { o.PodSelector = s } }

// web is replica i of the shop/web ReplicaSet (app=web, 500m, 512Mi) on the node.
func web(name, nodeName string, opts ...podOpt) *corev1.Pod {
	return pod("shop", name, nodeName, append([]podOpt{ownedBy("ReplicaSet", "web"), podLabels("app", "web"), requests("500m", "512Mi")}, opts...)...)
}

func TestSimulate(t *testing.T) {
	roomy := func(name string) *corev1.Node { return node(name, "4", "8Gi") }
	one := []string{"n1"}
	cases := []simCase{
		{
			name: "a DaemonSet pod without --ignore-daemonsets blocks the drain and the fix names the flag",
			snap: snapshot(roomy("n1"), roomy("n2"), daemonSet("kube-system", "log-shipper"),
				pod("kube-system", "log-shipper-x", "n1", ownedBy("DaemonSet", "log-shipper")),
				web("web-1", "n1"), web("web-2", "n2")),
			opts:    drainOf(one),
			verdict: Blocked,
			pods: map[string]podWant{
				"kube-system/log-shipper-x": {action: ActionBlocked, reason: "DaemonSet-managed Pods (use --ignore-daemonsets to ignore)"},
				"shop/web-1":                {action: ActionEvict, reason: "not evicted: kubectl drain stops before evicting anything"},
			},
			rules:   []string{RuleDaemonSet},
			fixes:   []string{"add --ignore-daemonsets to kubectl drain"},
			reasons: []string{"node n1: cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): kube-system/log-shipper-x"},
			check: func(t *testing.T, r *Result) {
				want := []string{"cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): kube-system/log-shipper-x"}
				if !reflect.DeepEqual(r.Nodes[0].Errors, want) {
					t.Errorf("node errors %q, want kubectl's %q", r.Nodes[0].Errors, want)
				}
			},
		},
		{
			name: "with --ignore-daemonsets the DaemonSet pod stays and the drain is safe",
			snap: snapshot(roomy("n1"), roomy("n2"), daemonSet("kube-system", "log-shipper"),
				pod("kube-system", "log-shipper-x", "n1", ownedBy("DaemonSet", "log-shipper")),
				web("web-1", "n1"), web("web-2", "n2")),
			opts:    drainOf(one, ignoreDaemonSets),
			verdict: Safe,
			pods: map[string]podWant{
				"kube-system/log-shipper-x": {action: ActionSkip, reason: "ignoring DaemonSet-managed Pods"},
				"shop/web-1":                {action: ActionEvict, dest: "n2", round: 1, replaced: true, reason: "evicted"},
			},
			rules: []string{},
		},
		{
			name:    "a DaemonSet pod whose DaemonSet is gone stops kubectl drain with the API's error",
			snap:    snapshot(roomy("n1"), roomy("n2"), pod("kube-system", "old-x", "n1", ownedBy("DaemonSet", "old"))),
			opts:    drainOf(one, ignoreDaemonSets),
			verdict: Blocked,
			pods:    map[string]podWant{"kube-system/old-x": {action: ActionBlocked, reason: `daemonsets.apps "old" not found`}},
			rules:   []string{RuleFilterError},
			fixes:   []string{},
		},
		{
			name:    "with --force the orphaned DaemonSet pod is deleted and nothing recreates it",
			snap:    snapshot(roomy("n1"), roomy("n2"), pod("kube-system", "old-x", "n1", ownedBy("DaemonSet", "old"))),
			opts:    drainOf(one, ignoreDaemonSets, force),
			verdict: Safe,
			// kubectl's later filters drop the not-found warning.
			pods:  map[string]podWant{"kube-system/old-x": {action: ActionEvict, round: 1, reason: "evicted"}},
			rules: []string{},
		},
		{
			name:    "a bare pod without --force blocks the drain",
			snap:    snapshot(roomy("n1"), roomy("n2"), pod("shop", "debug", "n1")),
			opts:    drainOf(one),
			verdict: Blocked,
			pods:    map[string]podWant{"shop/debug": {action: ActionBlocked, reason: "Pods that declare no controller (use --force to override)"}},
			rules:   []string{RuleUnmanaged},
			fixes:   []string{"add --force to kubectl drain"},
		},
		{
			name:    "with --force the bare pod is evicted and nothing recreates it",
			snap:    snapshot(roomy("n1"), roomy("n2"), pod("shop", "debug", "n1")),
			opts:    drainOf(one, force),
			verdict: Safe,
			pods:    map[string]podWant{"shop/debug": {action: ActionEvict, round: 1, reason: "deleting Pods that declare no controller"}},
			rules:   []string{RuleNotReplaced},
		},
		{
			name:    "a pod with emptyDir data blocks the drain without --delete-emptydir-data",
			snap:    snapshot(roomy("n1"), roomy("n2"), web("web-1", "n1", emptyDir), web("web-2", "n2")),
			opts:    drainOf(one),
			verdict: Blocked,
			pods:    map[string]podWant{"shop/web-1": {action: ActionBlocked, reason: "Pods with local storage (use --delete-emptydir-data to override)"}},
			rules:   []string{RuleLocalStorage},
			fixes:   []string{"add --delete-emptydir-data to kubectl drain"},
		},
		{
			name:    "with --delete-emptydir-data the emptyDir pod is evicted and replaced",
			snap:    snapshot(roomy("n1"), roomy("n2"), web("web-1", "n1", emptyDir), web("web-2", "n2")),
			opts:    drainOf(one, deleteEmptyDirData),
			verdict: Safe,
			pods:    map[string]podWant{"shop/web-1": {action: ActionEvict, dest: "n2", round: 1, replaced: true}},
			rules:   []string{},
		},
		{
			name: "a mirror pod is skipped",
			snap: snapshot(roomy("n1"), roomy("n2"),
				pod("kube-system", "etcd-n1", "n1", mirror, ownedBy("Node", "n1"))),
			opts:    drainOf(one),
			verdict: Safe,
			pods:    map[string]podWant{"kube-system/etcd-n1": {action: ActionSkip, reason: "mirror pod"}},
			rules:   []string{},
		},
		{
			name: "a Succeeded pod is evicted without asking its budget and is not replaced",
			snap: snapshot(roomy("n1"), roomy("n2"),
				pod("shop", "report-x", "n1", ownedBy("Job", "report"), podLabels("app", "report"), phase(corev1.PodSucceeded)),
				pdb("shop", "report", "report", maxUnavailable(intstr.FromInt32(0)), pdbStatus(1, 0, 0, 1))),
			opts:    drainOf(one),
			verdict: Safe,
			pods:    map[string]podWant{"shop/report-x": {action: ActionEvict, round: 1, reason: "evicted"}},
			pdbs:    []pdbWant{},
			rules:   []string{},
		},
		{
			name: "a budget with maxUnavailable 0 refuses the eviction for ever",
			snap: snapshot(roomy("n1"), roomy("n2"), web("web-1", "n1"), web("web-2", "n2"),
				pdb("shop", "web", "web", maxUnavailable(intstr.FromInt32(0)), pdbStatus(2, 2, 0, 2))),
			opts:    drainOf(one),
			verdict: Blocked,
			pods: map[string]podWant{"shop/web-1": {action: ActionBlocked,
				reason: "429 Too Many Requests: The disruption budget web needs 2 healthy pods and has 2 currently"}},
			pdbs:    []pdbWant{{name: "web", evicted: 0, pods: 1, blocks: true, reason: "maxUnavailable: 0 never allows an eviction"}},
			rules:   []string{RuleBudgetBlocks},
			fixes:   []string{"set maxUnavailable of poddisruptionbudget shop/web to at least 1"},
			reasons: []string{"node n1: poddisruptionbudget shop/web The disruption budget web needs 2 healthy pods and has 2 currently; maxUnavailable: 0"},
		},
		{
			name: "a budget whose minAvailable equals the replicas refuses the eviction for ever",
			snap: snapshot(roomy("n1"), roomy("n2"), web("web-1", "n1"), web("web-2", "n2"),
				pdb("shop", "web", "web", minAvailable(intstr.FromInt32(2)), pdbStatus(2, 2, 0, 2))),
			opts:    drainOf(one),
			verdict: Blocked,
			pods:    map[string]podWant{"shop/web-1": {action: ActionBlocked, reason: "429 Too Many Requests"}},
			pdbs:    []pdbWant{{name: "web", evicted: 0, pods: 1, blocks: true, reason: "minAvailable: 2 equals its 2 expected pods"}},
			rules:   []string{RuleBudgetBlocks},
		},
		{
			name: "a budget with room for one of two pods lets the second go once the first replacement is ready",
			snap: snapshot(roomy("n1"), roomy("n2"), web("web-1", "n1"), web("web-2", "n1"),
				pdb("shop", "web", "web", minAvailable(intstr.FromInt32(1)), pdbStatus(1, 2, 1, 2))),
			opts:    drainOf(one),
			verdict: Safe,
			pods: map[string]podWant{
				"shop/web-1": {action: ActionEvict, dest: "n2", round: 1, replaced: true, reason: "evicted"},
				"shop/web-2": {action: ActionEvict, dest: "n2", round: 2, replaced: true, reason: "evicted"},
			},
			pdbs:  []pdbWant{{name: "web", evicted: 2, pods: 2}},
			rules: []string{},
		},
		{
			name: "the same budget never recovers when the first replacement finds no node",
			snap: snapshot(roomy("n1"), node("n2", "4", "8Gi"), web("web-1", "n1"), web("web-2", "n1"),
				pod("shop", "big", "n2", ownedBy("ReplicaSet", "big"), podLabels("app", "big"), requests("3800m", "1Gi")),
				pod("shop", "big-2", "n1", ownedBy("ReplicaSet", "big"), podLabels("app", "big"), requests("100m", "1Gi")),
				pdb("shop", "web", "web", minAvailable(intstr.FromInt32(1)), pdbStatus(1, 2, 1, 2)),
				pdb("shop", "big", "big", maxUnavailable(intstr.FromInt32(1)), pdbStatus(1, 2, 1, 2))),
			opts:    drainOf(one),
			verdict: Blocked,
			pods: map[string]podWant{
				"shop/web-1": {action: ActionEvict, round: 1, replaced: true, pending: []string{"0/2 nodes are available: 1 Insufficient cpu, 1 node(s) were unschedulable."}},
				"shop/web-2": {action: ActionBlocked, reason: "429 Too Many Requests: The disruption budget web needs 1 healthy pods and has 1 currently"},
			},
			pdbs: []pdbWant{
				{name: "big", evicted: 1, pods: 1},
				{name: "web", evicted: 1, pods: 2, blocks: true, reason: "1 evicted pod(s) get replacements that find no node"},
			},
			rules: []string{RuleBudgetBlocks, RuleReplacementStuck},
			fixes: []string{"add room for the replacements of poddisruptionbudget shop/web's pods (see DP120), or relax the budget", "add capacity: 1 node(s) like n1 more"},
		},
		{
			name: "a pod selected by two budgets fails with the Eviction API's 500 text",
			snap: snapshot(roomy("n1"), roomy("n2"), web("web-1", "n1"), web("web-2", "n2"),
				pdb("shop", "web", "web", minAvailable(intstr.FromInt32(1)), pdbStatus(1, 2, 1, 2)),
				pdb("shop", "web-too", "web", maxUnavailable(intstr.FromInt32(1)), pdbStatus(1, 2, 1, 2))),
			opts:    drainOf(one),
			verdict: Blocked,
			pods: map[string]podWant{"shop/web-1": {action: ActionBlocked,
				reason: "eviction fails: This pod has more than one PodDisruptionBudget, which the eviction subresource does not support."}},
			rules:   []string{RuleMultipleBudgets},
			reasons: []string{`node n1: error when evicting pods/"web-1" -n "shop": This pod has more than one PodDisruptionBudget`},
			check: func(t *testing.T, r *Result) {
				for _, f := range r.Findings {
					if f.RuleID == RuleMultipleBudgets && f.Message != "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support." {
						t.Errorf("DP111 message %q is not the API's text", f.Message)
					}
				}
			},
		},
		{
			name: "a not-ready pod under IfHealthyBudget waits while its budget has fewer healthy pods than desired",
			snap: snapshot(roomy("n1"), roomy("n2"), web("web-1", "n1", notReady), web("web-2", "n2", notReady), web("web-3", "n2"),
				pdb("shop", "web", "web", minAvailable(intstr.FromInt32(2)), pdbStatus(2, 1, 0, 3))),
			opts:    drainOf(one),
			verdict: Blocked,
			pods: map[string]podWant{"shop/web-1": {action: ActionBlocked,
				reason: "429 Too Many Requests: The disruption budget web needs 2 healthy pods and has 1 currently"}},
			pdbs:  []pdbWant{{name: "web", pods: 1, blocks: true, reason: "it needs 2 healthy pods and has 1"}},
			rules: []string{RuleBudgetBlocks},
		},
		{
			name: "the same not-ready pod goes at once under AlwaysAllow",
			snap: snapshot(roomy("n1"), roomy("n2"), web("web-1", "n1", notReady), web("web-2", "n2", notReady), web("web-3", "n2"),
				pdb("shop", "web", "web", minAvailable(intstr.FromInt32(2)), pdbStatus(2, 1, 0, 3), evictionPolicy(policyv1.AlwaysAllow))),
			opts:    drainOf(one),
			verdict: Safe,
			pods:    map[string]podWant{"shop/web-1": {action: ActionEvict, dest: "n2", round: 1, replaced: true, reason: "evicted"}},
			pdbs:    []pdbWant{{name: "web", evicted: 1, pods: 1}},
			rules:   []string{},
		},
		{
			name: "a stale budget answers 429 until the disruption controller catches up, then the drain finishes",
			snap: snapshot(roomy("n1"), roomy("n2"), web("web-1", "n1"), web("web-2", "n2"),
				pdb("shop", "web", "web", maxUnavailable(intstr.FromInt32(1)), pdbStatus(1, 2, 1, 2), generation(2, 1))),
			opts:    drainOf(one),
			verdict: Safe,
			pods:    map[string]podWant{"shop/web-1": {action: ActionEvict, dest: "n2", round: 2, replaced: true, reason: "evicted"}},
			pdbs:    []pdbWant{{name: "web", evicted: 1, pods: 1}},
			rules:   []string{RuleBudgetStale},
			check: func(t *testing.T, r *Result) {
				for _, f := range r.Findings {
					if f.RuleID == RuleBudgetStale && !strings.HasPrefix(f.Message, "The disruption budget web is still being processed by the server.") {
						t.Errorf("DP113 message %q", f.Message)
					}
				}
			},
		},
		{
			name: "a budget with negative disruptions allowed refuses the eviction",
			snap: snapshot(roomy("n1"), roomy("n2"), web("web-1", "n1"), web("web-2", "n2"),
				pdb("shop", "web", "web", maxUnavailable(intstr.FromInt32(1)), pdbStatus(1, 2, -1, 2))),
			opts:    drainOf(one),
			verdict: Blocked,
			pods: map[string]podWant{"shop/web-1": {action: ActionBlocked,
				reason: "eviction fails: The disruption budget web does not allow evicting pods currently: pdb disruptions allowed is negative"}},
			rules: []string{RuleBudgetNegative},
		},
		{
			name: "without a budget, a replacement with no room elsewhere stays Pending with the scheduler's message",
			snap: snapshot(node("n1", "4", "8Gi"), node("n2", "1", "8Gi"),
				pod("shop", "api-1", "n1", ownedBy("ReplicaSet", "api"), requests("2", "1Gi")),
				pod("shop", "api-2", "n2", ownedBy("ReplicaSet", "api"), requests("500m", "1Gi"))),
			opts:    drainOf(one),
			verdict: Unschedulable,
			pods: map[string]podWant{"shop/api-1": {action: ActionEvict, round: 1, replaced: true, reason: "evicted",
				pending: []string{"0/2 nodes are available: ", "1 Insufficient cpu", "1 node(s) were unschedulable"}}},
			rules:   []string{RuleReplacementStuck},
			fixes:   []string{"add capacity: 1 node(s) like n1 more"},
			reasons: []string{"1 replacement pod(s) find no node and stay Pending"},
			check: func(t *testing.T, r *Result) {
				if r.Nodes[0].Verdict != Unschedulable {
					t.Errorf("node verdict %s, want unschedulable", r.Nodes[0].Verdict)
				}
				p := findPod(r, "shop/api-1")
				reported := map[string]string{}
				for _, n := range p.Pending.Nodes {
					for _, rs := range n.Reasons {
						if rs.Reported {
							reported[n.Name] = rs.Message
						}
					}
				}
				want := map[string]string{"n1": "node(s) were unschedulable", "n2": "Insufficient cpu"}
				if !reflect.DeepEqual(reported, want) {
					t.Errorf("per-node reasons %v, want %v", reported, want)
				}
			},
		},
		{
			name: "a taint on the only other node keeps the replacement off it",
			snap: snapshot(roomy("n1"), node("n2", "4", "8Gi", nodeTaint("dedicated", "gpu", corev1.TaintEffectNoSchedule)),
				web("web-1", "n1"), web("web-2", "n1")),
			opts:    drainOf(one),
			verdict: Unschedulable,
			pods: map[string]podWant{"shop/web-1": {action: ActionEvict, round: 1, replaced: true,
				pending: []string{"0/2 nodes are available: 1 node(s) had untolerated taint(s), 1 node(s) were unschedulable."}}},
			rules: []string{RuleReplacementStuck},
			// No node passes the other filters: a node like the drained one does.
			fixes: []string{"add capacity: 1 node(s) like n1 more"},
		},
		{
			name: "a node selector only the drained node matches keeps the replacement Pending",
			snap: snapshot(node("n1", "4", "8Gi", nodeLabels("pool", "blue")), roomy("n2"),
				web("web-1", "n1", nodeSelector("pool", "blue")), web("web-2", "n2")),
			opts:    drainOf(one),
			verdict: Unschedulable,
			pods: map[string]podWant{"shop/web-1": {action: ActionEvict, round: 1, replaced: true,
				pending: []string{"1 node(s) didn't match Pod's node affinity/selector"}}},
			rules: []string{RuleReplacementStuck},
		},
		{
			name: "a toleration lets the replacement onto the tainted node",
			snap: snapshot(roomy("n1"), node("n2", "4", "8Gi", nodeTaint("dedicated", "gpu", corev1.TaintEffectNoSchedule)),
				web("web-1", "n1", tolerate("dedicated", corev1.TaintEffectNoSchedule)), web("web-2", "n1")),
			opts:    drainOf(one),
			verdict: Unschedulable,
			pods: map[string]podWant{
				"shop/web-1": {action: ActionEvict, dest: "n2", round: 1, replaced: true},
				"shop/web-2": {action: ActionEvict, round: 1, replaced: true, pending: []string{"untolerated taint"}},
			},
			rules: []string{RuleReplacementStuck},
		},
		{
			name: "a higher-priority replacement preempts a lower-priority pod whose own replacement lands elsewhere",
			snap: snapshot(node("n1", "2", "8Gi"), node("n2", "2", "8Gi"), node("n3", "1500m", "8Gi"),
				pod("shop", "critical-1", "n1", ownedBy("ReplicaSet", "critical"), requests("2", "1Gi"), podPriority(1000)),
				pod("shop", "batch-1", "n2", ownedBy("ReplicaSet", "batch"), requests("1500m", "1Gi"), podPriority(0))),
			opts:    drainOf(one),
			verdict: Safe,
			pods:    map[string]podWant{"shop/critical-1": {action: ActionEvict, dest: "n2", round: 1, replaced: true}},
			rules:   []string{RulePreemption, RuleSingleReplica},
			check: func(t *testing.T, r *Result) {
				want := []Preempted{{Namespace: "shop", Name: "batch-1", Node: "n2", By: "shop/critical-1", Destination: "n3", Replaced: true}}
				if !reflect.DeepEqual(r.Preempted, want) {
					t.Errorf("preempted %+v, want %+v", r.Preempted, want)
				}
			},
		},
		{
			name: "a preempted pod whose own replacement finds no node stays Pending",
			snap: snapshot(node("n1", "2", "8Gi"), node("n2", "2", "8Gi"),
				pod("shop", "critical-1", "n1", ownedBy("ReplicaSet", "critical"), requests("2", "1Gi"), podPriority(1000)),
				pod("shop", "batch-1", "n2", ownedBy("ReplicaSet", "batch"), requests("1500m", "1Gi"), podPriority(0))),
			opts:    drainOf(one),
			verdict: Unschedulable,
			pods:    map[string]podWant{"shop/critical-1": {action: ActionEvict, dest: "n2", round: 1, replaced: true}},
			rules:   []string{RuleReplacementStuck, RulePreemption, RuleSingleReplica},
			check: func(t *testing.T, r *Result) {
				want := []Preempted{{Namespace: "shop", Name: "batch-1", Node: "n2", By: "shop/critical-1", Destination: "", Replaced: true}}
				if !reflect.DeepEqual(r.Preempted, want) {
					t.Errorf("preempted %+v, want %+v", r.Preempted, want)
				}
				if r.Nodes[0].Verdict != Safe {
					t.Errorf("the drained node's own pods all land: node verdict %s, want safe", r.Nodes[0].Verdict)
				}
			},
		},
		{
			name:    "a pod terminating past its grace period with finalizers keeps kubectl drain waiting for ever",
			snap:    snapshot(roomy("n1"), roomy("n2"), web("web-1", "n1", terminating(now.Add(-10*time.Minute), "example.com/hold")), web("web-2", "n2")),
			opts:    drainOf(one),
			verdict: Blocked,
			pods: map[string]podWant{"shop/web-1": {action: ActionEvict, round: 1,
				reason: "kubectl drain waits for it for ever: terminating since 2026-11-23T11:50:00Z, past its grace period, held by finalizers example.com/hold"}},
			rules: []string{RuleStuckTerminating},
			fixes: []string{"add --skip-wait-for-delete-timeout=60 to kubectl drain"},
		},
		{
			name:    "a NotReady node keeps kubectl drain waiting for its pods",
			snap:    snapshot(node("n1", "4", "8Gi", nodeNotReady), roomy("n2"), web("web-1", "n1"), web("web-2", "n2")),
			opts:    drainOf(one),
			verdict: Blocked,
			pods: map[string]podWant{"shop/web-1": {action: ActionEvict, dest: "n2", round: 1, replaced: true,
				reason: "node n1 is not Ready: its kubelet cannot confirm that the pod stopped"}},
			rules: []string{RuleStuckTerminating},
			fixes: []string{"add --skip-wait-for-delete-timeout=60 to kubectl drain"},
		},
		{
			name:    "with --skip-wait-for-delete-timeout kubectl drain moves on from a NotReady node",
			snap:    snapshot(node("n1", "4", "8Gi", nodeNotReady), roomy("n2"), web("web-1", "n1"), web("web-2", "n2")),
			opts:    drainOf(one, skipWait(60)),
			verdict: Safe,
			pods:    map[string]podWant{"shop/web-1": {action: ActionEvict, dest: "n2", round: 1, replaced: true}},
			rules:   []string{RuleFinalizer},
		},
		{
			name: "--pod-selector leaves the other pods alone",
			snap: snapshot(roomy("n1"), roomy("n2"), web("web-1", "n1"), web("web-2", "n2"),
				pod("shop", "debug", "n1", podLabels("app", "debug"))),
			opts:    drainOf(one, podSelector("app=web")),
			verdict: Safe,
			pods:    map[string]podWant{"shop/web-1": {action: ActionEvict, dest: "n2", round: 1, replaced: true}},
			absent:  []string{"shop/debug"},
			rules:   []string{},
		},
		{
			name: "--disable-eviction deletes the pods and bypasses their budgets",
			snap: snapshot(roomy("n1"), roomy("n2"), web("web-1", "n1"), web("web-2", "n2"),
				pdb("shop", "web", "web", maxUnavailable(intstr.FromInt32(0)), pdbStatus(2, 2, 0, 2))),
			opts:    drainOf(one, disableEviction),
			verdict: Safe,
			pods: map[string]podWant{"shop/web-1": {action: ActionDelete, dest: "n2", round: 1, replaced: true,
				reason: "deleted (--disable-eviction: budgets do not apply)"}},
			pdbs:  []pdbWant{},
			rules: []string{},
		},
		{
			name:    "the only replica of its ReplicaSet is down until its replacement is ready",
			snap:    snapshot(roomy("n1"), roomy("n2"), web("web-1", "n1")),
			opts:    drainOf(one),
			verdict: Safe,
			pods:    map[string]podWant{"shop/web-1": {action: ActionEvict, dest: "n2", round: 1, replaced: true}},
			rules:   []string{RuleSingleReplica},
			check: func(t *testing.T, r *Result) {
				for _, f := range r.Findings {
					if f.RuleID == RuleSingleReplica && f.Fix != "scale replicaset/web to 2 replicas before the drain" {
						t.Errorf("DP140 fix %q", f.Fix)
					}
				}
			},
		},
		{
			name:    "a hostPath volume's data stays on the drained node",
			snap:    snapshot(roomy("n1"), roomy("n2"), web("web-1", "n1", hostPath("/var/lib/web")), web("web-2", "n2")),
			opts:    drainOf(one),
			verdict: Safe,
			pods:    map[string]podWant{"shop/web-1": {action: ActionEvict, dest: "n2", round: 1, replaced: true}},
			rules:   []string{RuleLocalData},
			check: func(t *testing.T, r *Result) {
				for _, f := range r.Findings {
					if f.RuleID == RuleLocalData && f.Message != "volume host is hostPath /var/lib/web: its data stays on n1" {
						t.Errorf("DP141 message %q", f.Message)
					}
				}
			},
		},
		{
			name:    "a pod of a controller that is not a built-in workload is assumed to be recreated",
			snap:    snapshot(roomy("n1"), roomy("n2"), pod("shop", "db-0", "n1", ownedBy("Cluster", "db"))),
			opts:    drainOf(one),
			verdict: Safe,
			pods:    map[string]podWant{"shop/db-0": {action: ActionEvict, dest: "n2", round: 1, replaced: true}},
			rules:   []string{RuleUnknownOwner},
		},
		{
			name:    "kubectl drain goes on to the next node when one fails",
			snap:    snapshot(roomy("n1"), roomy("n2"), roomy("n3"), pod("shop", "debug", "n1"), web("web-1", "n2"), web("web-2", "n3")),
			opts:    drainOf([]string{"n1", "n2"}),
			verdict: Blocked,
			pods: map[string]podWant{
				"shop/debug": {action: ActionBlocked},
				"shop/web-1": {action: ActionEvict, dest: "n3", round: 1, replaced: true},
			},
			rules: []string{RuleUnmanaged},
			check: func(t *testing.T, r *Result) {
				if got := []Verdict{r.Nodes[0].Verdict, r.Nodes[1].Verdict}; !reflect.DeepEqual(got, []Verdict{Blocked, Safe}) {
					t.Errorf("node verdicts %v, want [blocked safe]", got)
				}
			},
		},
		{
			name: "kubectl drain never gets past a node it waits on for ever",
			snap: snapshot(roomy("n1"), roomy("n2"), roomy("n3"), web("web-1", "n1"), web("web-2", "n3"),
				pod("shop", "api-1", "n2", ownedBy("ReplicaSet", "api")),
				pdb("shop", "web", "web", maxUnavailable(intstr.FromInt32(0)), pdbStatus(2, 2, 0, 2))),
			opts:    drainOf([]string{"n1", "n2"}),
			verdict: Blocked,
			pods: map[string]podWant{"shop/web-1": {action: ActionBlocked},
				"shop/api-1": {action: ActionEvict, reason: "not drained: kubectl drain waits for ever on node n1 first"}},
			rules: []string{RuleBudgetBlocks},
			check: func(t *testing.T, r *Result) {
				n2 := r.Nodes[1]
				if n2.Verdict != Blocked || !reflect.DeepEqual(n2.Errors, []string{"not drained: kubectl drain waits for ever on node n1 first"}) {
					t.Errorf("node n2 %+v, want blocked behind n1", n2)
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { runSimCase(t, tc) })
	}
}

func runSimCase(t *testing.T, tc simCase) {
	t.Helper()
	r, err := Simulate(tc.snap, tc.opts)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if t.Failed() {
			b, _ := json.MarshalIndent(r, "", "  ")
			t.Logf("result:\n%s\nfindings: %+v", b, r.Findings)
		}
	}()
	if r.Verdict != tc.verdict {
		t.Errorf("verdict %s, want %s", r.Verdict, tc.verdict)
	}
	for key, want := range tc.pods {
		p := findPod(r, key)
		if p == nil {
			t.Errorf("%s: not in the plan", key)
			continue
		}
		if p.Action != want.action || p.Destination != want.dest || p.Round != want.round || p.Replaced != want.replaced {
			t.Errorf("%s: action %s, destination %q, round %d, replaced %v; want %s, %q, %d, %v",
				key, p.Action, p.Destination, p.Round, p.Replaced, want.action, want.dest, want.round, want.replaced)
		}
		if !strings.Contains(p.Reason, want.reason) {
			t.Errorf("%s: reason %q lacks %q", key, p.Reason, want.reason)
		}
		if len(want.pending) == 0 && p.Pending != nil {
			t.Errorf("%s: replacement unexpectedly Pending: %s", key, p.Pending.Message)
		}
		for _, w := range want.pending {
			if p.Pending == nil || !strings.Contains(p.Pending.Message, w) {
				t.Errorf("%s: pending %+v lacks %q", key, p.Pending, w)
			}
		}
	}
	for _, key := range tc.absent {
		if findPod(r, key) != nil {
			t.Errorf("%s: in the plan, want it left alone", key)
		}
	}
	if tc.pdbs != nil {
		if len(r.PDBs) != len(tc.pdbs) {
			t.Errorf("%d budgets reported, want %d", len(r.PDBs), len(tc.pdbs))
		}
		for i := 0; i < len(r.PDBs) && i < len(tc.pdbs); i++ {
			got, want := r.PDBs[i], tc.pdbs[i]
			if got.Name != want.name || got.Evicted != want.evicted || got.Pods != want.pods || got.Blocks != want.blocks ||
				!strings.Contains(got.Reason, want.reason) || (want.reason == "" && got.Reason != "") {
				t.Errorf("budget %d: %+v, want %+v", i, got, want)
			}
		}
	}
	if tc.rules != nil {
		want := append([]string{}, tc.rules...)
		sort.Strings(want)
		if got := ruleIDs(r); !reflect.DeepEqual(got, want) {
			t.Errorf("rules %v, want %v", got, want)
		}
	}
	if tc.fixes != nil {
		if len(r.Fixes) != len(tc.fixes) {
			t.Errorf("fixes %q, want %d like %q", r.Fixes, len(tc.fixes), tc.fixes)
		} else {
			for i, w := range tc.fixes {
				if !strings.Contains(r.Fixes[i], w) {
					t.Errorf("fix %d %q lacks %q", i, r.Fixes[i], w)
				}
			}
		}
	}
	for _, w := range tc.reasons {
		found := false
		for _, got := range r.Reasons {
			found = found || strings.Contains(got, w)
		}
		if !found {
			t.Errorf("reasons %q lack %q", r.Reasons, w)
		}
	}
	if tc.check != nil {
		tc.check(t, r)
	}
}

// kubectl's own filter skips pods deleted longer ago than
// --skip-wait-for-delete-timeout by the wall clock, so these cases start
// the drain now.
func TestSkipWaitForDeleteTimeout(t *testing.T) {
	wall := time.Now()
	stuck := func() *cluster.Snapshot {
		return snapshot(node("n1", "4", "8Gi"), node("n2", "4", "8Gi"), web("web-2", "n2"),
			web("web-1", "n1", terminating(wall.Add(-10*time.Minute), "example.com/hold")))
	}
	at := func(o *Options) { o.Now = wall }
	cases := []simCase{
		{
			name:    "a timeout longer than the pod's terminating time: kubectl drain evicts it and moves on once the timeout passes",
			snap:    stuck(),
			opts:    drainOf([]string{"n1"}, at, skipWait(3600)),
			verdict: Safe,
			pods:    map[string]podWant{"shop/web-1": {action: ActionEvict, round: 1}},
			rules:   []string{RuleFinalizer},
			check: func(t *testing.T, r *Result) {
				for _, f := range r.Findings {
					if f.RuleID == RuleFinalizer && !strings.HasSuffix(f.Message, "kubectl drain moves on after --skip-wait-for-delete-timeout=3600") {
						t.Errorf("DP130 message %q", f.Message)
					}
				}
			},
		},
		{
			name:    "a timeout shorter than the pod's terminating time: kubectl drain skips the pod",
			snap:    stuck(),
			opts:    drainOf([]string{"n1"}, at, skipWait(60)),
			verdict: Safe,
			pods:    map[string]podWant{"shop/web-1": {action: ActionSkip, reason: "deleted more than --skip-wait-for-delete-timeout ago"}},
			rules:   []string{},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { runSimCase(t, tc) })
	}
}

// kubectl gathers a node's errors in a map; the report lists them sorted.
func TestKubectlErrorsAreReportedInAStableOrder(t *testing.T) {
	snap := snapshot(node("n1", "4", "8Gi"), node("n2", "4", "8Gi"), daemonSet("kube-system", "log-shipper"),
		pod("kube-system", "log-shipper-x", "n1", ownedBy("DaemonSet", "log-shipper")),
		pod("shop", "debug", "n1"), web("web-1", "n1", emptyDir))
	want := []string{
		"cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): kube-system/log-shipper-x",
		"cannot delete Pods that declare no controller (use --force to override): shop/debug",
		"cannot delete Pods with local storage (use --delete-emptydir-data to override): shop/web-1",
	}
	wantFixes := []string{"add --ignore-daemonsets to kubectl drain", "add --force to kubectl drain", "add --delete-emptydir-data to kubectl drain"}
	for range 20 {
		r, err := Simulate(snap, drainOf([]string{"n1"}))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(r.Nodes[0].Errors, want) || !reflect.DeepEqual(r.Fixes, wantFixes) {
			t.Fatalf("errors %q, fixes %q; want %q, %q", r.Nodes[0].Errors, r.Fixes, want, wantFixes)
		}
	}
}

// A bad --pod-selector is kubectl's error before anything is decided.
func TestABadPodSelectorIsAnError(t *testing.T) {
	snap := snapshot(node("n1", "4", "8Gi"), web("web-1", "n1"))
	if _, err := Simulate(snap, drainOf([]string{"n1"}, podSelector("app in (web"))); err == nil {
		t.Error("want an error")
	}
}

// Simulate reads the snapshot and never changes it.
func TestSimulateLeavesTheSnapshotAlone(t *testing.T) {
	snap := snapshot(node("n1", "2", "8Gi"), node("n2", "2", "8Gi"), node("n3", "1500m", "8Gi"),
		pod("shop", "critical-1", "n1", ownedBy("ReplicaSet", "critical"), requests("2", "1Gi"), podPriority(1000)),
		pod("shop", "batch-1", "n2", ownedBy("ReplicaSet", "batch"), requests("1500m", "1Gi"), podPriority(0)),
		pdb("shop", "web", "web", minAvailable(intstr.FromInt32(1)), pdbStatus(1, 2, 1, 2)))
	before, _ := json.Marshal(snap)
	if _, err := Simulate(snap, drainOf([]string{"n1", "n2"})); err != nil {
		t.Fatal(err)
	}
	if _, err := Plan(snap, drainOf([]string{"n1", "n2"})); err != nil {
		t.Fatal(err)
	}
	if after, _ := json.Marshal(snap); string(before) != string(after) {
		t.Error("the snapshot changed")
	}
}

// Hand-written dumps often leave out UIDs: two controllers are then told
// apart by kind and name.
func TestSingleReplicasAreCountedPerControllerWithoutUIDs(t *testing.T) {
	noOwnerUID := func(p *corev1.Pod) { p.OwnerReferences[0].UID = "" }
	snap := snapshot(node("n1", "4", "8Gi"), node("n2", "4", "8Gi"),
		pod("shop", "api-1", "n1", ownedBy("ReplicaSet", "api"), noOwnerUID),
		pod("shop", "cache-1", "n2", ownedBy("ReplicaSet", "cache"), noOwnerUID))
	r, err := Simulate(snap, drainOf([]string{"n1"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := ruleIDs(r); !reflect.DeepEqual(got, []string{RuleSingleReplica}) {
		t.Errorf("rules %v, want DP140 for api, the only replica of its ReplicaSet", got)
	}
}

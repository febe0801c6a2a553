package drainpreflight

import (
	"context"
	"maps"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ktriage/ktriage/test/e2e/framework"
)

// drainCase is one prediction checked against the real drain.
type drainCase struct {
	name string
	// id names the case's namespace, nodes and dp-case label: short.
	id string
	// setup builds the case and returns the node to drain.
	setup func(s *scenario) string
	// flags go to drain-preflight and kubectl drain alike.
	flags []string
	// want is what the real drain does: "safe" (finishes, every replacement
	// is placed), "unschedulable" (finishes, some stay Pending) or
	// "blocked" (fails, or would wait for ever). A different outcome means
	// the case does not build what it means to.
	want string
	// check looks at more of the report; the pods' owners are recorded.
	check func(t *testing.T, s *scenario, r report)
}

// TestPredictionsMatchTheRealDrain builds each case, asks drain-preflight,
// drains the node with kubectl and requires that drain-preflight said
// "blocked" exactly when the drain failed, and that the pods it said would
// stay Pending are the ones that did.
func TestPredictionsMatchTheRealDrain(t *testing.T) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newScenario(t, tc.id)
			node := tc.setup(s)
			s.waitBudgets()
			s.recordOwners()

			r, pre := s.preflight(node, tc.flags...)
			dr := s.drain(node, tc.flags...)
			defer func() {
				if t.Failed() {
					t.Logf("%s\n%s", pre, dr)
				}
			}()
			got := s.pendingAfterDrain()
			predicted := s.predictedPending(r)

			outcome := "safe"
			if len(got) > 0 {
				outcome = "unschedulable"
			}
			if dr.Code != 0 {
				outcome = "blocked"
			}
			if outcome != tc.want {
				t.Errorf("the case does not build what it means to: the real drain was %s, the case wants %s\n%s\npending after the drain: %s", outcome, tc.want, dr, formatCounts(got))
			}
			if (r.Verdict == "blocked") != (dr.Code != 0) {
				t.Errorf("drain-preflight said %q (reasons %q) but kubectl drain exited %d\n%s", r.Verdict, r.Reasons, dr.Code, dr)
			}
			if r.Verdict != outcome {
				t.Errorf("verdict %q, want %q (reasons %q)", r.Verdict, outcome, r.Reasons)
			}
			if wantCode := map[bool]int{true: 0, false: 1}[r.Verdict == "safe"]; pre.Code != wantCode {
				t.Errorf("drain-preflight exited %d for verdict %q, want %d", pre.Code, r.Verdict, wantCode)
			}
			if !maps.Equal(predicted, got) {
				t.Errorf("drain-preflight says these stay Pending: %s; after the real drain these did: %s", formatCounts(predicted), formatCounts(got))
			}
			if tc.check != nil {
				tc.check(t, s, r)
			}
		})
	}
}

var cases = []drainCase{
	{
		name: "a budget with maxUnavailable 0 blocks the drain",
		id:   "max0",
		setup: func(s *scenario) string {
			a := s.node("a", nodeSpec{})
			s.apply(deployment("web", 2, "1", "", ""), budget("web", "web", "maxUnavailable: 0"))
			s.expectBudget("web", 2)
			s.waitWorkloads()
			s.node("b", nodeSpec{})
			return a
		},
		want:  "blocked",
		check: budgetBlocks("web"),
	},
	{
		name: "a budget with maxUnavailable 0 does not stop a drain that deletes instead of evicting",
		id:   "max0del",
		setup: func(s *scenario) string {
			a := s.node("a", nodeSpec{})
			s.apply(deployment("web", 2, "1", "", ""), budget("web", "web", "maxUnavailable: 0"))
			s.expectBudget("web", 2)
			s.waitWorkloads()
			s.node("b", nodeSpec{})
			return a
		},
		flags: []string{"--disable-eviction"},
		want:  "safe",
	},
	{
		name: "a budget with maxUnavailable 0 does not matter when the pod selector leaves its pods alone",
		id:   "podsel",
		setup: func(s *scenario) string {
			a := s.node("a", nodeSpec{})
			s.apply(deployment("web", 1, "1", "", ""), budget("web", "web", "maxUnavailable: 0"), deployment("other", 1, "1", "", ""))
			s.expectBudget("web", 1)
			s.waitWorkloads()
			s.node("b", nodeSpec{})
			return a
		},
		flags: []string{"--pod-selector", "app=other"},
		want:  "safe",
		check: func(t *testing.T, s *scenario, r report) {
			for _, n := range r.Nodes {
				for _, p := range n.Pods {
					if strings.HasPrefix(p.Name, "web-") && p.Action != "skip" {
						t.Errorf("pod %s is outside --pod-selector: action %q, want skip", p.Name, p.Action)
					}
				}
			}
		},
	},
	{
		name: "a budget with room for one of two pods drains when the replacement fits elsewhere",
		id:   "room1",
		setup: func(s *scenario) string {
			a := s.node("a", nodeSpec{})
			s.apply(deployment("web", 2, "1", "", ""), budget("web", "web", "minAvailable: 1"))
			s.expectBudget("web", 2)
			s.waitWorkloads()
			s.node("b", nodeSpec{})
			return a
		},
		want: "safe",
	},
	{
		name: "a budget spent one pod at a time drains when each replacement fits elsewhere",
		id:   "seqfit",
		setup: func(s *scenario) string {
			a := s.node("a", nodeSpec{cpu: "3"})
			s.apply(deployment("web", 3, "1", "", ""), budget("web", "web", "minAvailable: 2"))
			s.expectBudget("web", 3)
			s.waitWorkloads()
			s.node("b", nodeSpec{cpu: "3"})
			return a
		},
		want: "safe",
	},
	{
		name: "a budget spent one pod at a time blocks when the replacements fit nowhere",
		id:   "seqnofit",
		setup: func(s *scenario) string {
			a := s.node("a", nodeSpec{cpu: "3"})
			s.apply(deployment("web", 3, "1", "", ""), budget("web", "web", "minAvailable: 2"))
			s.expectBudget("web", 3)
			s.waitWorkloads()
			return a
		},
		want:  "blocked",
		check: budgetBlocks("web"),
	},
	{
		name: "a pod covered by two budgets fails the drain",
		id:   "twopdb",
		setup: func(s *scenario) string {
			a := s.node("a", nodeSpec{})
			s.apply(deployment("web", 1, "1", "", ""))
			s.waitWorkloads()
			// The disruption controller recounts only one of a pod's
			// budgets when the pod changes: create them once it is ready.
			s.apply(budget("web-1", "web", "maxUnavailable: 1"), budget("web-2", "web", "maxUnavailable: 1"))
			s.expectBudget("web-1", 1)
			s.expectBudget("web-2", 1)
			s.node("b", nodeSpec{})
			return a
		},
		want: "blocked",
	},
	{
		name: "a not-ready pod under an IfHealthyBudget budget that is short of healthy pods blocks the drain",
		id:   "ifhealthy",
		setup: func(s *scenario) string {
			return notReadySetup(s, "IfHealthyBudget")
		},
		want: "blocked",
	},
	{
		name: "a not-ready pod under an AlwaysAllow budget drains",
		id:   "always",
		setup: func(s *scenario) string {
			return notReadySetup(s, "AlwaysAllow")
		},
		want: "safe",
	},
	{
		name:  "a DaemonSet pod without --ignore-daemonsets blocks the drain",
		id:    "ds",
		setup: daemonSetSetup,
		want:  "blocked",
	},
	{
		name:  "a DaemonSet pod with --ignore-daemonsets stays and the rest drains",
		id:    "dsignore",
		setup: daemonSetSetup,
		flags: []string{"--ignore-daemonsets"},
		want:  "safe",
		check: func(t *testing.T, s *scenario, r report) {
			n := 0
			for _, nd := range r.Nodes {
				for _, p := range nd.Pods {
					if strings.HasPrefix(s.ownerOf(p.Name), "DaemonSet/") {
						n++
						if p.Action != "skip" || p.Replaced {
							t.Errorf("DaemonSet pod %s: action %q replaced %v, want skip and not replaced", p.Name, p.Action, p.Replaced)
						}
					}
				}
			}
			if n != 1 {
				t.Errorf("want the one DaemonSet pod on the node in the report, found %d", n)
			}
		},
	},
	{
		name:  "a pod no controller manages blocks the drain without --force",
		id:    "bare",
		setup: barePodSetup,
		want:  "blocked",
	},
	{
		name:  "a pod no controller manages is deleted for good with --force",
		id:    "bareforce",
		setup: barePodSetup,
		flags: []string{"--force"},
		want:  "safe",
		check: func(t *testing.T, s *scenario, r report) {
			p, ok := r.pod(s.ns, "lonely")
			if !ok {
				t.Fatalf("no plan for pod lonely")
			}
			if p.Replaced || p.Action == "blocked" || p.Action == "skip" {
				t.Errorf("pod lonely: action %q replaced %v, want it removed and not replaced", p.Action, p.Replaced)
			}
		},
	},
	{
		name:  "a pod with emptyDir data blocks the drain without --delete-emptydir-data",
		id:    "emptydir",
		setup: emptyDirSetup,
		want:  "blocked",
	},
	{
		name:  "a pod with emptyDir data drains with --delete-emptydir-data",
		id:    "emptydirok",
		setup: emptyDirSetup,
		flags: []string{"--delete-emptydir-data"},
		want:  "safe",
	},
	{
		name:  "a pod held Terminating by a finalizer makes the drain wait for ever",
		id:    "held",
		setup: terminatingSetup,
		flags: []string{"--force"},
		want:  "blocked",
	},
	{
		name:  "a pod held Terminating by a finalizer is skipped with --skip-wait-for-delete-timeout",
		id:    "heldskip",
		setup: terminatingSetup,
		flags: []string{"--force", "--skip-wait-for-delete-timeout=1"},
		want:  "safe",
	},
	{
		name: "a completed Job pod drains",
		id:   "done",
		setup: func(s *scenario) string {
			a := s.node("a", nodeSpec{})
			s.apply(`apiVersion: batch/v1
kind: Job
metadata: {name: once}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      nodeSelector: {dp-case: "{{case}}"}
      containers:
      - name: app
        image: registry.example.com/app:1
        resources: {requests: {cpu: "1", memory: 100Mi}}
`)
			s.waitWorkloads()
			return a
		},
		want: "safe",
		check: func(t *testing.T, s *scenario, r report) {
			for _, n := range r.Nodes {
				for _, p := range n.Pods {
					if p.Replaced {
						t.Errorf("completed pod %s: replaced, want not replaced", p.Name)
					}
				}
			}
		},
	},
	{
		name: "a Deployment without a budget drains but leaves a replacement Pending when the other node is too full",
		id:   "noroom",
		setup: func(s *scenario) string {
			a := s.node("a", nodeSpec{})
			s.apply(deployment("web", 2, "1", "", ""))
			s.waitWorkloads()
			s.node("b", nodeSpec{})
			s.apply(`apiVersion: v1
kind: Pod
metadata: {name: filler}
spec:
  nodeSelector: {kubernetes.io/hostname: "{{b}}"}
  containers:
  - name: app
    image: registry.example.com/app:1
    resources: {requests: {cpu: "1", memory: 100Mi}}
`)
			s.waitWorkloads()
			return a
		},
		want:  "unschedulable",
		check: pendingMessages,
	},
	{
		name: "taints and node affinity that keep the replacement off the other nodes leave it Pending",
		id:   "affinity",
		setup: func(s *scenario) string {
			a := s.node("a", nodeSpec{labels: map[string]string{"dp-pool": "a"}})
			s.apply(deployment("web", 1, "1", "", `      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms:
            - matchExpressions:
              - {key: dp-pool, operator: In, values: [a]}
`))
			s.waitWorkloads()
			s.node("b", nodeSpec{labels: map[string]string{"dp-pool": "b"}})
			s.node("c", nodeSpec{labels: map[string]string{"dp-pool": "a"}, taints: []corev1.Taint{{Key: "dp-dedicated", Value: "db", Effect: corev1.TaintEffectNoSchedule}}})
			return a
		},
		want:  "unschedulable",
		check: pendingMessages,
	},
	{
		name: "a higher-priority replacement preempts a lower-priority pod on the other node",
		id:   "preempt",
		setup: func(s *scenario) string {
			s.priorityClass("high", 1000)
			s.priorityClass("low", 10)
			a := s.node("a", nodeSpec{})
			s.apply(deployment("critical", 1, "2", "", "      priorityClassName: {{high}}\n"))
			s.waitWorkloads()
			s.node("b", nodeSpec{})
			s.apply(deployment("batch", 1, "2", `, kubernetes.io/hostname: "{{b}}"`, "      priorityClassName: {{low}}\n"))
			s.waitWorkloads()
			return a
		},
		want: "unschedulable",
		check: func(t *testing.T, s *scenario, r report) {
			b := s.vars["{{b}}"]
			var victim string
			for name, owner := range s.owners {
				if strings.HasPrefix(owner, "ReplicaSet/batch-") {
					victim = name
				}
			}
			found := false
			for _, v := range r.Preempted {
				if v.Namespace == s.ns && v.Name == victim {
					found = true
					if v.Node != b || v.Destination != "" {
						t.Errorf("victim %s: node %q destination %q, want node %s and no destination", victim, v.Node, v.Destination, b)
					}
				}
			}
			if !found {
				t.Errorf("preempted %+v does not name the victim %s", r.Preempted, victim)
			}
			for name, owner := range s.owners {
				if strings.HasPrefix(owner, "ReplicaSet/critical-") {
					if p, ok := r.pod(s.ns, name); !ok || p.Destination != b || !p.Replaced {
						t.Errorf("critical pod %s: plan %+v, want replaced on %s", name, p, b)
					}
				}
			}
			framework.Eventually(t, 30*time.Second, func() (bool, error) {
				_, err := s.c.Client.CoreV1().Pods(s.ns).Get(context.Background(), victim, metav1.GetOptions{})
				if apierrors.IsNotFound(err) {
					return true, nil
				}
				return false, err
			}, "the scheduler to delete the victim "+victim)
		},
	},
}

// notReadySetup: a Deployment of two 2-cpu pods, one on the node to drain
// (made not ready) and one elsewhere, a third node with room for the
// replacement, and a budget that wants both healthy.
func notReadySetup(s *scenario, policy string) string {
	a := s.node("a", nodeSpec{})
	s.apply(deployment("web", 1, "2", "", ""))
	s.waitWorkloads()
	s.node("b", nodeSpec{})
	s.node("c", nodeSpec{})
	s.kubectl("scale", "deployment", "web", "--replicas=2")
	s.waitWorkloads()
	pods := s.podsOn(a, "web")
	if len(pods) != 1 {
		s.t.Fatalf("want one web pod on %s, found %d", a, len(pods))
	}
	s.setNotReady(pods[0].Name)
	s.apply(budget("web", "web", "minAvailable: 2, unhealthyPodEvictionPolicy: "+policy))
	s.expectBudget("web", 1)
	return a
}

func daemonSetSetup(s *scenario) string {
	a := s.node("a", nodeSpec{})
	s.apply(deployment("web", 1, "1", "", ""), `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      nodeSelector: {dp-case: "{{case}}"}
      containers:
      - name: app
        image: registry.example.com/agent:1
        resources: {requests: {cpu: 100m, memory: 50Mi}}
`)
	s.waitWorkloads()
	s.node("b", nodeSpec{})
	s.waitWorkloads()
	return a
}

func barePodSetup(s *scenario) string {
	a := s.node("a", nodeSpec{})
	s.apply(`apiVersion: v1
kind: Pod
metadata: {name: lonely}
spec:
  nodeSelector: {dp-case: "{{case}}"}
  containers:
  - name: app
    image: registry.example.com/app:1
    resources: {requests: {cpu: "1", memory: 100Mi}}
`)
	s.waitWorkloads()
	return a
}

// terminatingSetup: a pod bound to a node kwok does not manage, deleted
// more than a second ago and held by a finalizer.
func terminatingSetup(s *scenario) string {
	a := s.node("a", nodeSpec{unmanaged: true})
	s.apply(`apiVersion: v1
kind: Pod
metadata:
  name: held
  finalizers: [example.com/hold]
spec:
  nodeName: "{{a}}"
  containers:
  - name: app
    image: registry.example.com/app:1
    resources: {requests: {cpu: "1", memory: 100Mi}}
`)
	s.t.Cleanup(func() {
		// Without a kubelet only a forced delete removes a bound pod.
		s.c.KubectlResult(s.t, "", "-n", s.ns, "patch", "pod", "held", "--type=merge", "-p", `{"metadata":{"finalizers":null}}`)
		s.c.KubectlResult(s.t, "", "-n", s.ns, "delete", "pod", "held", "--grace-period=0", "--force", "--ignore-not-found")
	})
	s.kubectl("delete", "pod", "held", "--grace-period=1", "--wait=false")
	framework.Eventually(s.t, 30*time.Second, func() (bool, error) {
		p, err := s.c.Client.CoreV1().Pods(s.ns).Get(context.Background(), "held", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return p.DeletionTimestamp != nil && time.Since(p.DeletionTimestamp.Time) > 2*time.Second, nil
	}, "pod held to have been Terminating for 2s")
	return a
}

func emptyDirSetup(s *scenario) string {
	a := s.node("a", nodeSpec{})
	s.apply(deployment("cache", 1, "1", "", `      volumes:
      - name: scratch
        emptyDir: {}
`))
	s.waitWorkloads()
	s.node("b", nodeSpec{})
	return a
}

// budgetBlocks checks that the budget name is reported as the one that
// blocks.
func budgetBlocks(name string) func(t *testing.T, s *scenario, r report) {
	return func(t *testing.T, s *scenario, r report) {
		for _, p := range r.PDBs {
			if p.Namespace == s.ns && p.Name == name {
				if !p.Blocks {
					t.Errorf("budget %s: blocks false, want true (%+v)", name, p)
				}
				return
			}
		}
		t.Errorf("budget %s missing from pdbs %+v", name, r.PDBs)
	}
}

// pendingMessages checks that a pod that stays Pending carries a
// scheduler-style explanation.
func pendingMessages(t *testing.T, s *scenario, r report) {
	for _, n := range r.Nodes {
		for _, p := range n.Pods {
			if p.Replaced && p.Destination == "" {
				if p.Pending == nil || !strings.HasPrefix(p.Pending.Message, "0/") || !strings.Contains(p.Pending.Message, "nodes are available") {
					t.Errorf("pod %s stays Pending without a scheduler message: %+v", p.Name, p.Pending)
				}
			}
		}
	}
}

func TestAnUnknownNodeIsAnErrorOnOneLine(t *testing.T) {
	c := framework.Get(t)
	res := c.Run(t, bin, "no-such-node-dp", "-o", "json")
	if res.Code != 2 {
		t.Fatalf("want exit 2\n%s", res)
	}
	msg := strings.TrimRight(res.Stderr, "\n")
	if msg == "" || strings.Contains(msg, "\n") || !strings.Contains(msg, "no-such-node-dp") {
		t.Errorf("want one line on stderr naming the node\n%s", res)
	}
	if res.Stdout != "" {
		t.Errorf("want nothing on stdout\n%s", res)
	}
}

func TestTheTableSaysTheVerdict(t *testing.T) {
	t.Parallel()
	s := newScenario(t, "table")
	a := s.node("a", nodeSpec{})
	s.apply(deployment("web", 1, "1", "", ""))
	s.waitWorkloads()
	res := s.c.Run(t, bin, a, "-o", "table")
	if res.Code != 1 || !strings.Contains(strings.ToLower(res.Stdout), "unschedulable") {
		t.Errorf("want exit 1 and the verdict unschedulable in the table\n%s", res)
	}
	empty := s.c.Run(t, bin, "kwok-node-0", "-o", "table")
	if empty.Code != 0 || !strings.Contains(strings.ToLower(empty.Stdout), "safe") {
		t.Errorf("want exit 0 and the verdict safe for a node with nothing of the tests on it\n%s", empty)
	}
}

package autoscaler

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ktriage/ktriage/pkg/report"
	"github.com/ktriage/ktriage/pkg/scheduling"
)

var schedulingResultFeasible = scheduling.Result{Feasible: []string{"ip-10-0-1-1"}}

func refOf() report.ObjectRef { return report.ObjectRef{Kind: "Pod", Namespace: "shop", Name: "web"} }

// want describes what an explanation must say.
type want struct {
	kind    Kind
	verdict Verdict
	// codes must all be among the reasons' codes.
	codes []string
	// rules must all be among the findings; notRules none of them.
	rules, notRules []string
	// texts must each appear in some reason's message or fix, or the
	// summary.
	texts []string
	// group, when set, is a node group whose Fits must be fits.
	group string
	fits  bool
}

func check(t *testing.T, ex *Explanation, w want) {
	t.Helper()
	if ex == nil {
		t.Fatal("no explanation")
	}
	if ex.Kind != w.kind || ex.Verdict != w.verdict {
		t.Errorf("got %s/%s, want %s/%s; summary %q", ex.Kind, ex.Verdict, w.kind, w.verdict, ex.Summary)
	}
	have := map[string]bool{}
	for _, c := range codes(ex.Reasons) {
		have[c] = true
	}
	for _, c := range w.codes {
		if !have[c] {
			t.Errorf("no reason %q among %v", c, codes(ex.Reasons))
		}
	}
	got := rules(ex)
	for _, r := range w.rules {
		if !got[r] {
			t.Errorf("no finding %s among %v", r, got)
		}
	}
	for _, r := range w.notRules {
		if got[r] {
			t.Errorf("unexpected finding %s", r)
		}
	}
	var all strings.Builder
	all.WriteString(ex.Summary + "\n")
	for _, r := range ex.Reasons {
		all.WriteString(r.Message + "\n" + r.Fix + "\n")
	}
	for _, s := range w.texts {
		if !strings.Contains(all.String(), s) {
			t.Errorf("%q not said in:\n%s", s, all.String())
		}
	}
	if w.group != "" {
		found := false
		for _, g := range ex.NodeGroups {
			if g.Name == w.group {
				found = true
				if g.Fits == nil || *g.Fits != w.fits {
					t.Errorf("group %s: fits %v, want %v (blockers %q)", g.Name, g.Fits, w.fits, g.Blockers)
				}
			}
		}
		if !found {
			t.Errorf("no node group %s in %+v", w.group, ex.NodeGroups)
		}
	}
	if t.Failed() {
		t.Logf("explanation: %+v", ex)
	}
}

func TestClusterAutoscaler(t *testing.T) {
	const workers, gpu = "eks-workers-6ac6e2d4", "eks-gpu-91bd0c7e"
	web := unschedulable("web", 10*time.Minute)
	train := unschedulable("train", 10*time.Minute, tolerate("dedicated"), selector("accelerator", "nvidia"))
	cases := []struct {
		name string
		pod  *corev1.Pod
		objs []any
		want want
	}{
		{
			name: "a TriggeredScaleUp event says which group grows and by how much",
			pod:  web,
			objs: []any{statusConfigMap(caStatus, 5*time.Second), caNodes(),
				event(web, "cluster-autoscaler", ReasonTriggeredScaleUp, "pod triggered scale-up: [{eks-workers-6ac6e2d4 2->3 (max: 3)}]", 40*time.Second)},
			want: want{kind: KindClusterAutoscaler, verdict: VerdictTriggered, rules: []string{RuleScaleUpTriggered}, notRules: []string{RuleScaleUpFailing},
				texts: []string{"scale-up triggered 40s ago: eks-workers-6ac6e2d4 2->3 (max 3)"}},
		},
		{
			name: "a scale-up the cloud provider then refused is a failing scale-up",
			pod:  train,
			objs: []any{statusConfigMap(caStatus, 5*time.Second), caNodes(),
				event(train, "cluster-autoscaler", ReasonTriggeredScaleUp, "pod triggered scale-up: [{eks-gpu-91bd0c7e 1->2 (max: 4)}]", 8*time.Minute)},
			want: want{kind: KindClusterAutoscaler, verdict: VerdictTriggered, codes: []string{"backoff"}, rules: []string{RuleScaleUpTriggered, RuleScaleUpFailing},
				texts: []string{"backoff after failed scale-up since 12:03: the cloud provider's quota is exhausted (QUOTA_EXCEEDED): Quota 'GPUS' exceeded"}},
		},
		{
			name: "a FailedToScaleUpGroup event after the trigger names the cloud provider's error",
			pod:  web,
			objs: []any{statusConfigMap(caStatus, 5*time.Second), caNodes(),
				event(web, "cluster-autoscaler", ReasonTriggeredScaleUp, "pod triggered scale-up: [{eks-workers-6ac6e2d4 2->3 (max: 3)}]", 3*time.Minute),
				statusEvent(ReasonFailedToScaleUpGroup, "Scale-up failed for group eks-workers-6ac6e2d4: failed to increase node group size: InsufficientInstanceCapacity", 2*time.Minute)},
			want: want{kind: KindClusterAutoscaler, verdict: VerdictTriggered, codes: []string{"scale-up-failed"}, rules: []string{RuleScaleUpFailing},
				texts: []string{"the scale-up of eks-workers-6ac6e2d4 failed at 12:08: failed to increase node group size: InsufficientInstanceCapacity"}},
		},
		{
			name: "a scale-up whose node never registered has stalled",
			pod:  web,
			objs: []any{statusConfigMap(caStatus, 5*time.Second), caNodes(),
				event(web, "cluster-autoscaler", ReasonTriggeredScaleUp, "pod triggered scale-up: [{eks-workers-6ac6e2d4 2->3 (max: 3)}]", 20*time.Minute)},
			want: want{kind: KindClusterAutoscaler, verdict: VerdictTriggered, codes: []string{"node-not-registered"}, rules: []string{RuleScaleUpFailing}},
		},
		{
			name: "max node group size reached names the group and its max",
			pod:  web,
			objs: []any{statusConfigMap(caStatus, 5*time.Second), caNodes(),
				event(web, "cluster-autoscaler", ReasonNotTriggerScaleUp, "pod didn't trigger scale-up: 1 max node group size reached, 1 node(s) had untolerated taint(s)", time.Minute)},
			want: want{kind: KindClusterAutoscaler, verdict: VerdictNotTriggered, codes: []string{"max-node-group-size", "scheduler-filter"}, rules: []string{RuleNotTriggered},
				texts: []string{"max node group size reached: eks-workers-6ac6e2d4 is at 3 of max 3", "raise the group's max from 3",
					"eks-gpu-91bd0c7e: node(s) had untolerated taint(s) (taint dedicated=gpu:NoSchedule is not tolerated)"},
				group: workers, fits: true},
		},
		{
			name: "backoff after a failed scale-up says since when and why",
			pod:  train,
			objs: []any{statusConfigMap(caStatus, 5*time.Second), caNodes(),
				event(train, "cluster-autoscaler", ReasonNotTriggerScaleUp, "pod didn't trigger scale-up: 1 in backoff after failed scale-up, 1 node(s) didn't match Pod's node affinity/selector", time.Minute)},
			want: want{kind: KindClusterAutoscaler, verdict: VerdictNotTriggered, codes: []string{"backoff", "scheduler-filter"}, rules: []string{RuleNotTriggered},
				texts: []string{"eks-gpu-91bd0c7e: backoff after failed scale-up since 12:03: the cloud provider's quota is exhausted",
					"eks-workers-6ac6e2d4: node(s) didn't match Pod's node affinity/selector (nodeSelector accelerator=nvidia: node has no label accelerator)"},
				group: gpu, fits: true},
		},
		{
			name: "the backoff of the text layout takes its error from the FailedToScaleUpGroup event",
			pod:  train,
			objs: []any{statusConfigMap(textStatus129, 5*time.Second), caNodes(),
				statusEvent(ReasonFailedToScaleUpGroup, "Scale-up failed for group eks-gpu-91bd0c7e: cloudProviderError: InsufficientInstanceCapacity", 8*time.Minute),
				event(train, "cluster-autoscaler", ReasonNotTriggerScaleUp, "pod didn't trigger scale-up: 1 in backoff after failed scale-up", time.Minute)},
			want: want{kind: KindClusterAutoscaler, verdict: VerdictNotTriggered, codes: []string{"backoff"},
				texts: []string{"since 12:03: the last scale-up failed: cloudProviderError: InsufficientInstanceCapacity"}},
		},
		{
			name: "the cluster-wide node limit is read from the MaxNodesTotalReached event",
			pod:  web,
			objs: []any{statusConfigMap(caStatus, 5*time.Second), caNodes(), statusEvent("MaxNodesTotalReached", "Max total nodes in cluster reached: 20", 5*time.Minute),
				event(web, "cluster-autoscaler", ReasonNotTriggerScaleUp, "pod didn't trigger scale-up: max total nodes in cluster reached", time.Minute)},
			want: want{kind: KindClusterAutoscaler, verdict: VerdictNotTriggered, codes: []string{"max-nodes-total"}, texts: []string{"raise --max-nodes-total above 20"}},
		},
		{
			name: "a pod too big for every group's nodes says how big they are",
			pod:  unschedulable("huge", 10*time.Minute, requests("12")),
			objs: []any{statusConfigMap(caStatus, 5*time.Second), caNodes()},
			want: want{kind: KindClusterAutoscaler, verdict: VerdictNoEvent, codes: []string{codeSilent, codeNoGroupFits}, rules: []string{RuleSilent, RuleNoGroupFits},
				texts: []string{"node group eks-gpu-91bd0c7e's nodes have 8 cpu allocatable and the pod requests 12"}},
		},
		{
			name: "a running cluster-autoscaler ignores a pod below the expendable priority cutoff",
			pod: unschedulable("batch", 10*time.Minute, func(p *corev1.Pod) {
				p.Spec.Priority = new(int32)
				*p.Spec.Priority = -100
			}),
			objs: []any{statusConfigMap(caStatus, 5*time.Second), caNodes()},
			want: want{kind: KindClusterAutoscaler, verdict: VerdictNoEvent, codes: []string{"expendable"}, rules: []string{RuleSilent}, notRules: []string{RuleNotRunning},
				texts: []string{"priority -100 is below cluster-autoscaler's --expendable-pods-priority-cutoff"}},
		},
		{
			name: "a pod unschedulable for seconds is too new for a verdict",
			pod:  unschedulable("fresh", 20*time.Second),
			objs: []any{statusConfigMap(caStatus, 5*time.Second), caNodes()},
			want: want{kind: KindClusterAutoscaler, verdict: VerdictNoEvent, codes: []string{codeTooNew}, notRules: []string{RuleSilent}},
		},
		{
			name: "a status ConfigMap not written for an hour means cluster-autoscaler is not running",
			pod:  web,
			objs: []any{statusConfigMap(caStatus, time.Hour), caNodes()},
			want: want{kind: KindClusterAutoscaler, verdict: VerdictNoEvent, codes: []string{codeNotRunning}, rules: []string{RuleNotRunning}, notRules: []string{RuleSilent},
				texts: []string{"cluster-autoscaler is not running"}},
		},
		{
			name: "a fresh leader Lease tells cluster-autoscaler runs without a status ConfigMap",
			pod:  unschedulable("quiet", 10*time.Minute),
			objs: []any{caLease(now.Add(-3 * time.Second))},
			want: want{kind: KindClusterAutoscaler, verdict: VerdictNoEvent, codes: []string{codeSilent}, rules: []string{RuleSilent}, notRules: []string{RuleNotRunning}},
		},
		{
			name: "no autoscaler at all is an answer of its own",
			pod:  web,
			objs: []any{caNodes()},
			want: want{kind: KindNone, verdict: VerdictNone, codes: []string{"no-autoscaler"}, rules: []string{RuleNoAutoscaler}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := Read(snapshot(append(tc.objs, tc.pod)...), Options{Now: now})
			check(t, s.Explain(tc.pod, nil), tc.want)
		})
	}
}

func caLease(renewed time.Time) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
		"metadata": map[string]any{"namespace": "kube-system", "name": "cluster-autoscaler"},
		"spec":     map[string]any{"holderIdentity": "cluster-autoscaler-7d9f-x", "renewTime": renewed.Format("2006-01-02T15:04:05.000000Z07:00")},
	}}
	return u
}

func TestAPodThatFitsAnExistingNodeNeedsNoAutoscaler(t *testing.T) {
	web := unschedulable("web", time.Minute)
	s := Read(snapshot(statusConfigMap(caStatus, time.Second), web), Options{Now: now})
	if ex := s.Explain(web, &schedulingResultFeasible); ex != nil {
		t.Errorf("got %+v, want none", ex)
	}
}

func TestNodesAreMatchedToTheirGroupsByPlatformLabelsAndNames(t *testing.T) {
	cases := []struct {
		name  string
		node  *corev1.Node
		group string
		want  bool
	}{
		{"an EKS managed node group's ASG", node("a", map[string]string{"eks.amazonaws.com/nodegroup": "workers"}, "1"), "eks-workers-6ac6e2d4", true},
		{"a longer node group of the same prefix is another group", node("a", map[string]string{"eks.amazonaws.com/nodegroup": "workers"}, "1"), "eks-workers-large-6ac6e2d4", false},
		{"a GKE node pool's instance group by node name", node("gke-prod-pool-1-a1b2c3d4-x9z1", nil, "1"), "https://www.googleapis.com/compute/v1/projects/p/zones/z/instanceGroups/gke-prod-pool-1-a1b2c3d4-grp", true},
		{"an AKS agent pool's scale set", node("aks-user-12345-vmss000000", map[string]string{"kubernetes.azure.com/agentpool": "user"}, "1"), "aks-user-12345-vmss", true},
		{"a kops instance group", node("i-1", map[string]string{"kops.k8s.io/instancegroup": "nodes-us-east-1a"}, "1"), "nodes-us-east-1a.example.com", true},
		{"a node without a pool label", node("a", nil, "1"), "eks-workers-6ac6e2d4", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := groupTemplates([]GroupStatus{{Name: tc.group}, {Name: "other-group"}}, []*corev1.Node{tc.node})[tc.group] != nil
			if got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestNoAutoscalerFoundWhereItCouldNotLookSaysSo(t *testing.T) {
	web := unschedulable("web", time.Minute)
	s := Read(snapshot(web), Options{Now: now, Unreadable: []string{"cannot list configmaps in namespace kube-system: forbidden"}})
	ex := s.Explain(web, nil)
	if ex.Verdict != VerdictNone || !strings.Contains(ex.Summary, "see the warnings") || !strings.Contains(ex.Reasons[0].Message, "not readable: cannot list configmaps in namespace kube-system") {
		t.Errorf("got %+v", ex)
	}
}

func TestTheDaemonSetPodsOfAGroupsNodeRunOnItsNewNodesToo(t *testing.T) {
	yes := true
	agent := unschedulable("log-agent-x7", 0, requests("1"), func(p *corev1.Pod) {
		p.Spec.NodeName = "ip-10-0-1-1"
		p.Status = corev1.PodStatus{Phase: corev1.PodRunning}
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "DaemonSet", Name: "log-agent", UID: "uid-ds", Controller: &yes}}
	})
	for _, tc := range []struct {
		cpu  string
		fits bool
	}{{"3", true}, {"3500m", false}} {
		web := unschedulable("web", time.Minute, requests(tc.cpu))
		s := Read(snapshot(statusConfigMap(caStatus, time.Second), caNodes(), agent, web), Options{Now: now})
		if got := s.TemplateSources(); len(got) != 2 || got[0] != "ip-10-0-1-1" {
			t.Errorf("template sources %v", got)
		}
		w := want{kind: KindClusterAutoscaler, verdict: VerdictNoEvent, group: "eks-workers-6ac6e2d4", fits: tc.fits}
		if !tc.fits {
			w.texts = []string{"node group eks-workers-6ac6e2d4's nodes have 4 cpu allocatable (1 of it for the DaemonSet pods every new node runs) and the pod requests 3.5"}
		}
		check(t, s.Explain(web, nil), w)
	}
}

package autoscaler

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// nodePoolJSON is a karpenter.sh/v1 NodePool as the API returns it.
func nodePoolJSON(t *testing.T, name, spec, status string) *unstructured.Unstructured {
	if status == "" {
		status = `{"conditions": [{"type": "Ready", "status": "True", "reason": "Ready", "message": "", "lastTransitionTime": "2026-11-23T08:00:00Z"}]}`
	}
	return unstructuredOf(t, fmt.Sprintf(`{"apiVersion": "karpenter.sh/v1", "kind": "NodePool", "metadata": {"name": %q}, "spec": %s, "status": %s}`, name, spec, status))
}

// nodeClaimJSON is a NodeClaim of pool with the capacity and conditions given.
func nodeClaimJSON(t *testing.T, name, pool, capacity, conditions string) *unstructured.Unstructured {
	return unstructuredOf(t, fmt.Sprintf(`{"apiVersion": "karpenter.sh/v1", "kind": "NodeClaim",
		"metadata": {"name": %q, "labels": {"karpenter.sh/nodepool": %q}},
		"spec": {"nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "default"}, "requirements": []},
		"status": {"capacity": %s, "conditions": %s}}`, name, pool, capacity, conditions))
}

const (
	// generalPool allows amd64 on-demand instances in two zones and caps
	// the pool at 16 CPUs.
	generalPool = `{"template": {"metadata": {"labels": {"team": "shop"}}, "spec": {
		"nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "default"},
		"requirements": [
			{"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]},
			{"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["eu-west-1a", "eu-west-1b"]},
			{"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["on-demand"]}]}},
		"limits": {"cpu": "16", "memory": "64Gi"}}`
	// gpuPool is tainted for GPU work.
	gpuPool = `{"weight": 10, "template": {"spec": {
		"nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "gpu"},
		"requirements": [{"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": ["g5"]}],
		"taints": [{"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}]}}}`
	launched = `[{"type": "Launched", "status": "True", "reason": "Launched", "message": "", "lastTransitionTime": "2026-11-23T12:00:00Z"}]`
)

func TestKarpenter(t *testing.T) {
	web := unschedulable("web", 10*time.Minute)
	pools := func(t *testing.T) []any {
		return []any{nodePoolJSON(t, "general", generalPool, ""), nodePoolJSON(t, "gpu", gpuPool, ""), KindNodePool, KindNodeClaim}
	}
	cases := []struct {
		name string
		pod  *corev1.Pod
		objs func(t *testing.T, pod *corev1.Pod) []any
		want want
	}{
		{
			name: "a nomination names the NodeClaim and its NodePool",
			pod:  web,
			objs: func(t *testing.T, pod *corev1.Pod) []any {
				return append(pools(t), nodeClaimJSON(t, "general-x2z7k", "general", `{"cpu": "4", "memory": "16Gi"}`, launched),
					event(pod, "karpenter", ReasonNominated, "Pod should schedule on: nodeclaim/general-x2z7k", 30*time.Second))
			},
			want: want{kind: KindKarpenter, verdict: VerdictTriggered, rules: []string{RuleScaleUpTriggered}, notRules: []string{RuleScaleUpFailing},
				texts: []string{"Karpenter nominated nodeclaim/general-x2z7k 30s ago (NodePool general)"}},
		},
		{
			name: "a NodeClaim that did not launch fails the nomination",
			pod:  web,
			objs: func(t *testing.T, pod *corev1.Pod) []any {
				return append(pools(t), nodeClaimJSON(t, "general-x2z7k", "general", `{}`,
					`[{"type": "Launched", "status": "False", "reason": "InsufficientCapacity", "message": "creating instance, insufficient capacity", "lastTransitionTime": "2026-11-23T12:05:00Z"}]`),
					event(pod, "karpenter", ReasonNominated, "Pod should schedule on: nodeclaim/general-x2z7k", time.Minute))
			},
			want: want{kind: KindKarpenter, verdict: VerdictTriggered, codes: []string{"launch-failed"}, rules: []string{RuleScaleUpFailing},
				texts: []string{"nodeclaim/general-x2z7k did not launch (InsufficientCapacity: creating instance, insufficient capacity)"}},
		},
		{
			name: "a nominated NodeClaim that no longer exists failed or was removed",
			pod:  web,
			objs: func(t *testing.T, pod *corev1.Pod) []any {
				return append(pools(t), event(pod, "karpenter", ReasonNominated, "Pod should schedule on: nodeclaim/general-gone", 5*time.Minute))
			},
			want: want{kind: KindKarpenter, verdict: VerdictTriggered, codes: []string{"nodeclaim-gone"}, rules: []string{RuleScaleUpFailing}},
		},
		{
			name: "limits held by the pool's NodeClaims say how far to raise them",
			pod:  unschedulable("web", 10*time.Minute, requests("4")),
			objs: func(t *testing.T, pod *corev1.Pod) []any {
				return append(pools(t),
					nodeClaimJSON(t, "general-a", "general", `{"cpu": "8", "memory": "32Gi"}`, launched),
					nodeClaimJSON(t, "general-b", "general", `{"cpu": "6", "memory": "24Gi"}`, launched),
					event(pod, "karpenter", ReasonFailedScheduling, "Failed to schedule pod, all available instance types exceed limits for nodepool; did not tolerate taint", 20*time.Second))
			},
			want: want{kind: KindKarpenter, verdict: VerdictNotTriggered, codes: []string{"limits", "taint"}, rules: []string{RuleNotTriggered},
				texts: []string{"general: limits.cpu is 16 and its NodeClaims hold 14; the pod requests 4", "raise NodePool general's spec.limits.cpu from 16 to at least 18",
					"gpu: node(s) had untolerated taint(s) (taint nvidia.com/gpu=true:NoSchedule is not tolerated)"},
				group: "general", fits: false},
		},
		{
			name: "a label no NodePool offers is a requirements conflict",
			pod:  unschedulable("web", 10*time.Minute, selector("disktype", "ssd")),
			objs: func(t *testing.T, pod *corev1.Pod) []any {
				return append(pools(t), event(pod, "karpenter", ReasonFailedScheduling, `Failed to schedule pod, incompatible requirements, label "disktype" does not have known values`, 20*time.Second))
			},
			want: want{kind: KindKarpenter, verdict: VerdictNotTriggered, codes: []string{"requirements"}, rules: []string{RuleNotTriggered},
				texts: []string{"general: node(s) didn't match Pod's node affinity/selector (nodeSelector disktype=ssd: node has no label disktype)"},
				group: "general", fits: false},
		},
		{
			name: "a zone the pool allows among others is taken",
			pod:  unschedulable("web", 10*time.Minute, selector("topology.kubernetes.io/zone", "eu-west-1b")),
			objs: func(t *testing.T, pod *corev1.Pod) []any { return pools(t) },
			want: want{kind: KindKarpenter, verdict: VerdictNoEvent, codes: []string{codeSilent}, rules: []string{RuleSilent}, notRules: []string{RuleNoGroupFits},
				texts: []string{"no event from Karpenter in 10m; NodePool general could take it"}, group: "general", fits: true},
		},
		{
			name: "a zone the pool does not allow is not",
			pod:  unschedulable("web", 10*time.Minute, selector("topology.kubernetes.io/zone", "eu-west-1c")),
			objs: func(t *testing.T, pod *corev1.Pod) []any { return pools(t) },
			want: want{kind: KindKarpenter, verdict: VerdictNoEvent, codes: []string{"requirements"}, rules: []string{RuleNoGroupFits},
				texts: []string{"nodeSelector topology.kubernetes.io/zone=eu-west-1c: node has topology.kubernetes.io/zone=eu-west-1a"},
				group: "general", fits: false},
		},
		{
			name: "a well-known label a pool leaves open is the cloud provider's to offer",
			pod:  unschedulable("web", 10*time.Minute, tolerate("nvidia.com/gpu"), selector("kubernetes.io/arch", "arm64")),
			objs: func(t *testing.T, pod *corev1.Pod) []any { return pools(t) },
			want: want{kind: KindKarpenter, verdict: VerdictNoEvent, group: "gpu", fits: true},
		},
		{
			name: "a static NodePool and one not Ready launch nothing",
			pod:  web,
			objs: func(t *testing.T, pod *corev1.Pod) []any {
				return []any{KindNodePool,
					nodePoolJSON(t, "fixed", `{"replicas": 3, "template": {"spec": {"requirements": []}}}`, ""),
					nodePoolJSON(t, "broken", `{"template": {"spec": {"requirements": []}}}`,
						`{"conditions": [{"type": "Ready", "status": "False", "reason": "NodeClassNotReady", "message": "EC2NodeClass default not found", "lastTransitionTime": "2026-11-23T08:00:00Z"}]}`)}
			},
			want: want{kind: KindKarpenter, verdict: VerdictNoEvent, codes: []string{"static-nodepool", "nodepool-not-ready"}, rules: []string{RuleNoGroupFits},
				texts: []string{"NodePool broken is not Ready (NodeClassNotReady: EC2NodeClass default not found)", "NodePool fixed is static (spec.replicas: 3)"}},
		},
		{
			name: "limits.nodes reached stops the pool",
			pod:  web,
			objs: func(t *testing.T, pod *corev1.Pod) []any {
				return []any{KindNodePool, nodePoolJSON(t, "small", `{"template": {"spec": {"requirements": []}}, "limits": {"nodes": "1"}}`, ""),
					nodeClaimJSON(t, "small-a", "small", `{"cpu": "2"}`, launched)}
			},
			want: want{kind: KindKarpenter, verdict: VerdictNoEvent, codes: []string{"node-limits"}, rules: []string{RuleNoGroupFits},
				texts: []string{"raise NodePool small's spec.limits.nodes above 1"}},
		},
		{
			name: "Karpenter's API without a NodePool launches nothing",
			pod:  web,
			objs: func(t *testing.T, pod *corev1.Pod) []any { return []any{KindNodePool} },
			want: want{kind: KindKarpenter, verdict: VerdictNoEvent, codes: []string{"no-nodepool"}, rules: []string{RuleNoGroupFits}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := Read(snapshot(append(tc.objs(t, tc.pod), tc.pod)...), Options{Now: now})
			check(t, s.Explain(tc.pod, nil), tc.want)
		})
	}
}

func TestAutoscalerEventsOfAnotherPodOfTheSameNameDoNotCount(t *testing.T) {
	old := unschedulable("web", 10*time.Minute)
	web := unschedulable("web", 10*time.Minute, func(p *corev1.Pod) { p.UID = "uid-new" })
	s := Read(snapshot(statusConfigMap(caStatus, time.Second), web,
		event(old, "cluster-autoscaler", ReasonTriggeredScaleUp, "pod triggered scale-up: [{eks-workers-6ac6e2d4 2->3 (max: 3)}]", time.Minute)), Options{Now: now})
	if ex := s.Explain(web, nil); ex.Verdict != VerdictNoEvent {
		t.Errorf("got %s from the old pod's event", ex.Verdict)
	}
}

func TestWithBothAutoscalersTheOneThatSpokeAnswers(t *testing.T) {
	web := unschedulable("web", 10*time.Minute)
	s := Read(snapshot(statusConfigMap(caStatus, time.Second), KindNodePool, nodePoolJSON(t, "general", generalPool, ""), web,
		event(web, "cluster-autoscaler", ReasonNotTriggerScaleUp, "pod didn't trigger scale-up: 1 max node group size reached", time.Minute)), Options{Now: now})
	if ex := s.Explain(web, nil); ex.Kind != KindClusterAutoscaler || ex.Verdict != VerdictNotTriggered {
		t.Errorf("got %s/%s", ex.Kind, ex.Verdict)
	}
}

package drain

import (
	"sort"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/ktriage/ktriage/pkg/cluster"
)

// Small builders for test objects; each option mutates the object.

var now = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// node is a Ready node with the given allocatable cpu and memory.
func node(name, cpu, mem string, opts ...func(*corev1.Node)) *corev1.Node {
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("uid-" + name),
			Labels: map[string]string{corev1.LabelHostname: name}},
		Status: corev1.NodeStatus{
			Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu),
				corev1.ResourceMemory: resource.MustParse(mem), corev1.ResourcePods: resource.MustParse("110")},
			Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
		},
	}
	n.Status.Capacity = n.Status.Allocatable
	for _, o := range opts {
		o(n)
	}
	return n
}

func nodeLabels(kv ...string) func(*corev1.Node) {
	return func(n *corev1.Node) {
		for i := 0; i+1 < len(kv); i += 2 {
			n.Labels[kv[i]] = kv[i+1]
		}
	}
}

func nodeTaint(key, value string, effect corev1.TaintEffect) func(*corev1.Node) {
	return func(n *corev1.Node) {
		n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: key, Value: value, Effect: effect})
	}
}

func nodeNotReady(n *corev1.Node) {
	n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionUnknown, Reason: "NodeStatusUnknown"}}
}

type podOpt func(*corev1.Pod)

// pod is a Running, Ready pod on the node, without a controller.
func pod(ns, name, nodeName string, opts ...podOpt) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-" + ns + "-" + name),
			Labels: map[string]string{}, CreationTimestamp: metav1.NewTime(now.Add(-time.Hour))},
		Spec: corev1.PodSpec{NodeName: nodeName, SchedulerName: corev1.DefaultSchedulerName,
			Containers: []corev1.Container{{Name: "app", Image: "registry.example.com/app:1.0"}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{
			{Type: corev1.PodScheduled, Status: corev1.ConditionTrue},
			{Type: corev1.PodReady, Status: corev1.ConditionTrue}}},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

// ownerAPIVersion is the apiVersion of each controller kind: kubectl's
// DaemonSet filter checks it.
var ownerAPIVersion = map[string]string{"ReplicaSet": "apps/v1", "StatefulSet": "apps/v1", "DaemonSet": "apps/v1",
	"Job": "batch/v1", "ReplicationController": "v1"}

// ownedBy makes kind/name the pod's controller; pods naming the same
// controller share its UID.
func ownedBy(kind, name string) podOpt {
	return func(p *corev1.Pod) {
		api := ownerAPIVersion[kind]
		if api == "" {
			api = "example.com/v1"
		}
		yes := true
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: api, Kind: kind, Name: name,
			UID: types.UID("uid-" + kind + "-" + p.Namespace + "-" + name), Controller: &yes}}
	}
}

func podLabels(kv ...string) podOpt {
	return func(p *corev1.Pod) {
		for i := 0; i+1 < len(kv); i += 2 {
			p.Labels[kv[i]] = kv[i+1]
		}
	}
}

func requests(cpu, mem string) podOpt {
	return func(p *corev1.Pod) {
		rl := corev1.ResourceList{}
		if cpu != "" {
			rl[corev1.ResourceCPU] = resource.MustParse(cpu)
		}
		if mem != "" {
			rl[corev1.ResourceMemory] = resource.MustParse(mem)
		}
		p.Spec.Containers[0].Resources.Requests = rl
	}
}

func notReady(p *corev1.Pod) {
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue},
		{Type: corev1.PodReady, Status: corev1.ConditionFalse, Reason: "ContainersNotReady"}}
}

func phase(ph corev1.PodPhase) podOpt {
	return func(p *corev1.Pod) {
		p.Status.Phase = ph
		if ph != corev1.PodRunning {
			notReady(p)
		}
	}
}

func emptyDir(p *corev1.Pod) {
	p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: "scratch",
		VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
}

func hostPath(path string) podOpt {
	return func(p *corev1.Pod) {
		p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: "host",
			VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: path}}})
	}
}

func mirror(p *corev1.Pod) {
	p.Annotations = map[string]string{corev1.MirrorPodAnnotationKey: "hash"}
}

// terminating: deleted at since with a 30 s grace period, held by the
// finalizers.
func terminating(since time.Time, finalizers ...string) podOpt {
	return func(p *corev1.Pod) {
		grace := int64(30)
		t := metav1.NewTime(since)
		p.DeletionTimestamp = &t
		p.DeletionGracePeriodSeconds = &grace
		p.Finalizers = finalizers
	}
}

func podPriority(v int32) podOpt { return func(p *corev1.Pod) { p.Spec.Priority = &v } }

func nodeSelector(kv ...string) podOpt {
	return func(p *corev1.Pod) {
		p.Spec.NodeSelector = map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			p.Spec.NodeSelector[kv[i]] = kv[i+1]
		}
	}
}

func tolerate(key string, effect corev1.TaintEffect) podOpt {
	return func(p *corev1.Pod) {
		p.Spec.Tolerations = append(p.Spec.Tolerations, corev1.Toleration{Key: key, Operator: corev1.TolerationOpExists, Effect: effect})
	}
}

// requirePodOnSameNode: required pod affinity to pods labelled key=value,
// by hostname.
func requirePodOnSameNode(key, value string) podOpt {
	return func(p *corev1.Pod) {
		p.Spec.Affinity = &corev1.Affinity{PodAffinity: &corev1.PodAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
				LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{key: value}},
				TopologyKey:   corev1.LabelHostname,
			}},
		}}
	}
}

type pdbOpt func(*policyv1.PodDisruptionBudget)

// pdb selects the pods labelled app=app; its status says desired, current
// healthy, allowed and expected pods, observed at its generation.
func pdb(ns, name, app string, opts ...pdbOpt) *policyv1.PodDisruptionBudget {
	b := &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-pdb-" + ns + "-" + name), Generation: 1},
		Spec:       policyv1.PodDisruptionBudgetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}}},
		Status:     policyv1.PodDisruptionBudgetStatus{ObservedGeneration: 1},
	}
	for _, o := range opts {
		o(b)
	}
	return b
}

func minAvailable(v intstr.IntOrString) pdbOpt {
	return func(b *policyv1.PodDisruptionBudget) { b.Spec.MinAvailable = &v }
}

func maxUnavailable(v intstr.IntOrString) pdbOpt {
	return func(b *policyv1.PodDisruptionBudget) { b.Spec.MaxUnavailable = &v }
}

func pdbStatus(desired, current, allowed, expected int32) pdbOpt {
	return func(b *policyv1.PodDisruptionBudget) {
		b.Status.DesiredHealthy, b.Status.CurrentHealthy = desired, current
		b.Status.DisruptionsAllowed, b.Status.ExpectedPods = allowed, expected
		st, reason := metav1.ConditionTrue, policyv1.SufficientPodsReason
		if allowed <= 0 {
			st, reason = metav1.ConditionFalse, policyv1.InsufficientPodsReason
		}
		b.Status.Conditions = []metav1.Condition{{Type: policyv1.DisruptionAllowedCondition, Status: st, Reason: reason}}
	}
}

func generation(gen, observed int64) pdbOpt {
	return func(b *policyv1.PodDisruptionBudget) { b.Generation, b.Status.ObservedGeneration = gen, observed }
}

func evictionPolicy(p policyv1.UnhealthyPodEvictionPolicyType) pdbOpt {
	return func(b *policyv1.PodDisruptionBudget) { b.Spec.UnhealthyPodEvictionPolicy = &p }
}

func daemonSet(ns, name string) *appsv1.DaemonSet {
	return &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-DaemonSet-" + ns + "-" + name)}}
}

// snapshot builds a complete snapshot (every kind counts as loaded) from
// nodes, pods, budgets, DaemonSets and PriorityClasses.
func snapshot(objs ...any) *cluster.Snapshot {
	s := &cluster.Snapshot{}
	for _, o := range objs {
		switch v := o.(type) {
		case *corev1.Node:
			s.Nodes = append(s.Nodes, v)
		case *corev1.Pod:
			s.Pods = append(s.Pods, v)
		case *policyv1.PodDisruptionBudget:
			s.PDBs = append(s.PDBs, v)
		case *appsv1.DaemonSet:
			s.DaemonSets = append(s.DaemonSets, v)
		case *schedulingv1.PriorityClass:
			s.PriorityClasses = append(s.PriorityClasses, v)
		default:
			panic("snapshot: unsupported object")
		}
	}
	return s
}

// ruleIDs are the distinct rule IDs of the result's findings, sorted.
func ruleIDs(r *Result) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, f := range r.Findings {
		if !seen[f.RuleID] {
			seen[f.RuleID] = true
			out = append(out, f.RuleID)
		}
	}
	sort.Strings(out)
	return out
}

// findPod is the plan of ns/name on any drained node, nil when none.
func findPod(r *Result, key string) *PodPlan {
	for i := range r.Nodes {
		for j := range r.Nodes[i].Pods {
			p := &r.Nodes[i].Pods[j]
			if p.Namespace+"/"+p.Name == key {
				return p
			}
		}
	}
	return nil
}

package pending

import (
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/ktriage/ktriage/pkg/cluster"
)

var now = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func node(name string, cpu, mem string, mods ...func(*corev1.Node)) *corev1.Node {
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("uid-" + name), Labels: map[string]string{"kubernetes.io/hostname": name}},
		Status: corev1.NodeStatus{
			Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(mem), corev1.ResourcePods: resource.MustParse("110")},
			Conditions:  []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
		},
	}
	n.Status.Capacity = n.Status.Allocatable
	for _, m := range mods {
		m(n)
	}
	return n
}

func pod(ns, name string, mods ...func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-" + ns + "-" + name), CreationTimestamp: metav1.NewTime(now.Add(-5 * time.Minute))},
		Spec:       corev1.PodSpec{SchedulerName: DefaultScheduler, Containers: []corev1.Container{{Name: "app", Image: "registry.example.com/app:1.0"}}},
		Status:     corev1.PodStatus{Phase: corev1.PodPending},
	}
	for _, m := range mods {
		m(p)
	}
	return p
}

func requests(cpu, mem string) func(*corev1.Pod) {
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

func onNode(n string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Spec.NodeName = n
		p.Status.Phase = corev1.PodRunning
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue}}
	}
}

func unschedulableCondition(msg string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable, Message: msg}}
	}
}

func event(kind, ns, name, uid, reason, typ, msg string) *corev1.Event {
	return &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Namespace: ns, Name: name + "." + reason},
		InvolvedObject: corev1.ObjectReference{Kind: kind, Namespace: ns, Name: name, UID: types.UID(uid)},
		Reason:         reason, Type: typ, Message: msg, Count: 3,
		LastTimestamp: metav1.NewTime(now.Add(-time.Minute)),
	}
}

func snapshot(objs ...any) *cluster.Snapshot {
	s := &cluster.Snapshot{Loaded: map[cluster.Kind]bool{cluster.KindNode: true, cluster.KindPod: true, cluster.KindEvent: true, cluster.KindPVC: true, cluster.KindPV: true, cluster.KindStorageClass: true, cluster.KindSecret: true, cluster.KindConfigMap: true}}
	for _, o := range objs {
		switch v := o.(type) {
		case *corev1.Node:
			s.Nodes = append(s.Nodes, v)
		case *corev1.Pod:
			s.Pods = append(s.Pods, v)
		case *corev1.Event:
			s.Events = append(s.Events, v)
		case *corev1.PersistentVolumeClaim:
			s.PVCs = append(s.PVCs, v)
		case *corev1.PersistentVolume:
			s.PVs = append(s.PVs, v)
		case *storagev1.StorageClass:
			s.StorageClasses = append(s.StorageClasses, v)
		case *corev1.Secret:
			s.Secrets = append(s.Secrets, v)
		case *corev1.ConfigMap:
			s.ConfigMaps = append(s.ConfigMaps, v)
		case *corev1.ResourceQuota:
			s.ResourceQuotas = append(s.ResourceQuotas, v)
		case *corev1.LimitRange:
			s.LimitRanges = append(s.LimitRanges, v)
		case *appsv1.Deployment:
			s.Deployments = append(s.Deployments, v)
		case *appsv1.ReplicaSet:
			s.ReplicaSets = append(s.ReplicaSets, v)
		case *appsv1.StatefulSet:
			s.StatefulSets = append(s.StatefulSets, v)
		default:
			panic("snapshot: unsupported object")
		}
	}
	return s
}

func explainOne(s *cluster.Snapshot, p *corev1.Pod) (Explanation, Result) {
	res := Explain(s, []Subject{{Pod: p}}, nil, Options{Now: now})
	return res.Pods[0], res
}

func ruleIDs(res Result) []string {
	var out []string
	for _, f := range res.Findings {
		out = append(out, f.RuleID)
	}
	return out
}

func finding(res Result, id string) (msg, fix string, ok bool) {
	for _, f := range res.Findings {
		if f.RuleID == id {
			return f.Message, f.Fix, true
		}
	}
	return "", "", false
}

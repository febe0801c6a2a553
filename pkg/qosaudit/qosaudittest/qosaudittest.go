package qosaudittest

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ktriage/ktriage/pkg/cluster"
)

// requiredAnnotation is qosaudit.RequiredAnnotation, spelled out as users
// write it (this package cannot import qosaudit, whose tests use it).
const requiredAnnotation = "ktriage.io/qos-required"

// RL builds a ResourceList from name/quantity pairs: RL("cpu", "1", "memory", "1Gi").
func RL(kv ...string) corev1.ResourceList {
	out := corev1.ResourceList{}
	for i := 0; i < len(kv); i += 2 {
		out[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
	}
	return out
}

// LivePod is a running pod bound to node with the stored class, an optional
// controller and one container per ResourceRequirements (app, side, extra).
func LivePod(ns, name, node string, stored corev1.PodQOSClass, owner *metav1.OwnerReference, res ...corev1.ResourceRequirements) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: corev1.PodSpec{NodeName: node}, Status: corev1.PodStatus{QOSClass: stored, Phase: corev1.PodRunning}}
	if owner != nil {
		p.OwnerReferences = []metav1.OwnerReference{*owner}
	}
	for i, r := range res {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: []string{"app", "side", "extra"}[i], Resources: r})
	}
	return p
}

// Controller is an owner reference that marks its object as the controller.
func Controller(kind, name string) *metav1.OwnerReference {
	yes := true
	return &metav1.OwnerReference{Kind: kind, Name: name, Controller: &yes}
}

func guaranteed(cpu, mem string) corev1.ResourceRequirements {
	return corev1.ResourceRequirements{Requests: RL("cpu", cpu, "memory", mem), Limits: RL("cpu", cpu, "memory", mem)}
}

// LiveSnapshot: a Deployment mid-rollout (one Guaranteed, one Burstable pod),
// a BestEffort pod, a pod whose stored class disagrees with its spec, and a
// node whose memory limits exceed its allocatable.
func LiveSnapshot() *cluster.Snapshot {
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web-5d9f", OwnerReferences: []metav1.OwnerReference{*Controller("Deployment", "web")}}}
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-1"}, Status: corev1.NodeStatus{
		Capacity: RL("cpu", "4", "memory", "4Gi"), Allocatable: RL("cpu", "4", "memory", "3Gi")}}
	return &cluster.Snapshot{
		Loaded:      map[cluster.Kind]bool{cluster.KindPod: true, cluster.KindNode: true, cluster.KindLimitRange: true},
		Nodes:       []*corev1.Node{node},
		ReplicaSets: []*appsv1.ReplicaSet{rs},
		Namespaces: []*corev1.Namespace{{ObjectMeta: metav1.ObjectMeta{Name: "shop", Annotations: map[string]string{requiredAnnotation: "Burstable"}}},
			{ObjectMeta: metav1.ObjectMeta{Name: "kube-system"}}},
		LimitRanges: []*corev1.LimitRange{{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "lr"}}},
		Pods: []*corev1.Pod{
			LivePod("shop", "web-5d9f-a", "node-1", corev1.PodQOSGuaranteed, Controller("ReplicaSet", "web-5d9f"), guaranteed("1", "1Gi")),
			LivePod("shop", "web-5d9f-b", "node-1", corev1.PodQOSBurstable, Controller("ReplicaSet", "web-5d9f"),
				corev1.ResourceRequirements{Requests: RL("cpu", "1", "memory", "1Gi"), Limits: RL("cpu", "1", "memory", "3Gi")}),
			LivePod("shop", "scratch", "node-1", corev1.PodQOSBestEffort, nil, corev1.ResourceRequirements{}),
			LivePod("kube-system", "old", "node-1", corev1.PodQOSBestEffort, nil, corev1.ResourceRequirements{Requests: RL("memory", "100Mi")}),
		},
	}
}

// Manifests reads testdata/manifests.yaml of the calling test's package, as
// -f does with the namespace defaulted to "default".
func Manifests(t testing.TB) *cluster.Snapshot {
	t.Helper()
	snap, err := cluster.LoadFiles(cluster.FileOptions{Filenames: []string{"testdata/manifests.yaml"}})
	if err != nil {
		t.Fatal(err)
	}
	snap.DefaultNamespace("default")
	return snap
}

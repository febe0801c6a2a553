package cluster

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestTopOwner(t *testing.T) {
	ctrl := func(kind, name string) []metav1.OwnerReference {
		yes := true
		return []metav1.OwnerReference{{Kind: kind, Name: name, Controller: &yes}}
	}
	owned := func(ns, name string, refs []metav1.OwnerReference) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, OwnerReferences: refs}}
	}
	web := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web"}}
	s := &Snapshot{
		Deployments: []*appsv1.Deployment{web},
		ReplicaSets: []*appsv1.ReplicaSet{
			{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web-1", OwnerReferences: ctrl("Deployment", "web")}},
			{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "bare"}},
		},
		Jobs: []*batchv1.Job{{ObjectMeta: metav1.ObjectMeta{Namespace: "batch", Name: "nightly-1", OwnerReferences: ctrl("CronJob", "nightly")}}},
	}
	cases := []struct {
		name       string
		pod        *corev1.Pod
		kind, own  string
		wantObject bool
	}{
		{"a ReplicaSet's pod belongs to the Deployment above it", owned("shop", "web-1-a", ctrl("ReplicaSet", "web-1")), "Deployment", "web", true},
		{"a Job's pod belongs to the CronJob above it, known or not", owned("batch", "nightly-1-a", ctrl("Job", "nightly-1")), "CronJob", "nightly", false},
		{"a ReplicaSet without a controller is the top owner", owned("shop", "bare-a", ctrl("ReplicaSet", "bare")), "ReplicaSet", "bare", true},
		{"a ReplicaSet the snapshot lacks is named as the reference says", owned("shop", "gone-a", ctrl("ReplicaSet", "gone")), "ReplicaSet", "gone", false},
		{"the owner is looked up in the pod's namespace", owned("other", "web-1-a", ctrl("ReplicaSet", "web-1")), "ReplicaSet", "web-1", false},
		{"a custom controller is named, never looked up", owned("shop", "x", ctrl("Rollout", "web")), "Rollout", "web", false},
		{"a pod without a controller has no owner", owned("shop", "bare-pod", nil), "", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			kind, name, obj := s.TopOwner(tc.pod)
			if kind != tc.kind || name != tc.own || (obj != nil) != tc.wantObject {
				t.Errorf("got %s/%s (object %v), want %s/%s (object %v)", kind, name, obj != nil, tc.kind, tc.own, tc.wantObject)
			}
		})
	}
	if _, _, obj := s.TopOwner(owned("shop", "web-1-a", ctrl("ReplicaSet", "web-1"))); obj != web {
		t.Errorf("the Deployment's own object is returned: got %v", obj)
	}
}

package cluster

import (
	"reflect"
	"testing"
	"unsafe"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestInternerSharesWhatReplicasRepeatAndChangesNoValue(t *testing.T) {
	replica := func(name, image, mem string) *corev1.Pod {
		secs := int64(300)
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: "team-" + "a", Name: name, Labels: map[string]string{"app": "web", "pod-template-hash": "5d4f"},
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-5d4f", UID: "u1"}}},
			Spec: corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "app", Image: image,
				Resources: corev1.ResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse(mem)},
					Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(mem)}}}},
				Tolerations: []corev1.Toleration{{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: &secs}}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, QOSClass: corev1.PodQOSBurstable,
				Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}},
		}
	}
	pods := []*corev1.Pod{replica("web-1", "web:1", "1Gi"), replica("web-2", "web:1", "1024Mi"), replica("web-3", "web:2", "2Gi")}
	in := newInterner()
	for _, p := range pods {
		want := p.DeepCopy()
		trim(want, nil)
		trim(p, in)
		if !equality.Semantic.DeepEqual(p, want) || p.Spec.Containers[0].Resources.Requests.Memory().String() != want.Spec.Containers[0].Resources.Requests.Memory().String() {
			t.Errorf("interning changed %s:\n got %+v\nwant %+v", p.Name, p, want)
		}
	}
	same := func(what string, a, b any, want bool) {
		t.Helper()
		if got := reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer(); got != want {
			t.Errorf("%s shared: %v, want %v", what, got, want)
		}
	}
	a, b, c := pods[0], pods[1], pods[2]
	same("labels of two replicas", a.Labels, b.Labels, true)
	same("requests of two replicas", a.Spec.Containers[0].Resources.Requests, b.Spec.Containers[0].Resources.Requests, true)
	same("tolerations of two replicas", a.Spec.Tolerations, b.Spec.Tolerations, true)
	if unsafe.StringData(a.Spec.Containers[0].Image) != unsafe.StringData(b.Spec.Containers[0].Image) {
		t.Error("the image of two replicas is not shared")
	}
	same("requests of other amounts", a.Spec.Containers[0].Resources.Requests, c.Spec.Containers[0].Resources.Requests, false)
	if cap(a.Spec.Tolerations) != len(a.Spec.Tolerations) {
		t.Errorf("shared tolerations have room to append in place: cap %d, len %d", cap(a.Spec.Tolerations), len(a.Spec.Tolerations))
	}
}

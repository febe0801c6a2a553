package scheduling

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// quantities include values that round when summed (micro-cores, fractional
// bytes) and every suffix form.
var quantities = []string{"0", "1", "100u", "0.5m", "1m", "250m", "1.5", "3", "1e3", "100", "0.1", "1Ki", "1.5Gi", "64Mi", "2G", "1500m"}

func randomList(r *rand.Rand, names ...corev1.ResourceName) corev1.ResourceList {
	rl := corev1.ResourceList{}
	for _, n := range names {
		if r.IntN(3) > 0 {
			rl[n] = resource.MustParse(quantities[r.IntN(len(quantities))])
		}
	}
	return rl
}

// randomPod is mostly a plain pod, sometimes with what PodRequests treats
// specially: init and sidecar containers, overhead, pod-level resources,
// resized or allocated status, an infeasible resize, extended resources.
func randomPod(r *rand.Rand) *corev1.Pod {
	names := []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage}
	if r.IntN(8) == 0 {
		names = append(names, "example.com/gpu", "hugepages-2Mi")
	}
	p := &corev1.Pod{}
	for i := range 1 + r.IntN(3) {
		c := corev1.Container{Name: fmt.Sprint("c", i), Resources: corev1.ResourceRequirements{Requests: randomList(r, names...)}}
		p.Spec.Containers = append(p.Spec.Containers, c)
		if r.IntN(6) == 0 {
			p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, corev1.ContainerStatus{Name: c.Name, AllocatedResources: randomList(r, names...)})
		} else if r.IntN(6) == 0 {
			p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, corev1.ContainerStatus{Name: c.Name, Resources: &corev1.ResourceRequirements{Requests: randomList(r, names...)}})
		} else if r.IntN(2) == 0 {
			p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, corev1.ContainerStatus{Name: c.Name})
		}
	}
	if r.IntN(6) == 0 {
		always := corev1.ContainerRestartPolicyAlways
		ic := corev1.Container{Name: "init", Resources: corev1.ResourceRequirements{Requests: randomList(r, names...)}}
		if r.IntN(2) == 0 {
			ic.RestartPolicy = &always
		}
		p.Spec.InitContainers = append(p.Spec.InitContainers, ic)
	}
	if r.IntN(8) == 0 {
		p.Spec.Overhead = randomList(r, names...)
	}
	if r.IntN(8) == 0 {
		p.Spec.Resources = &corev1.ResourceRequirements{Requests: randomList(r, corev1.ResourceCPU, corev1.ResourceMemory)}
	}
	if r.IntN(10) == 0 {
		p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: corev1.PodResizePending, Status: corev1.ConditionTrue, Reason: corev1.PodReasonInfeasible})
	}
	if r.IntN(10) == 0 {
		p.Status.AllocatedResources = randomList(r, names...)
		p.Status.Resources = &corev1.ResourceRequirements{Requests: randomList(r, names...)}
	}
	return p
}

// The shortcut for plain pods charges exactly what PodRequests charges, for
// every pod, and is taken for the plain ones.
func TestExistingPodResourcesIsPodRequests(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	plain := 0
	for i := range 20000 {
		p := randomPod(r)
		// Each on its own copy: PodRequests can write into the pod it
		// reads (a pod-level quantity it adds overhead to in place).
		want := newResources(existingPodRequests(p.DeepCopy()))
		if got := existingPodResources(p.DeepCopy()); !reflect.DeepEqual(got, want) {
			t.Fatalf("pod %d %+v: charged %+v, PodRequests charges %+v", i, p, got, want)
		}
		if _, ok := containerRequestsOnly(p); ok {
			plain++
		}
	}
	if plain < 3000 {
		t.Errorf("only %d of 20000 pods took the plain path", plain)
	}
}

func BenchmarkExistingPodResources(b *testing.B) {
	p := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{
		{Name: "app", Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m"), corev1.ResourceMemory: resource.MustParse("256Mi")}}},
		{Name: "proxy", Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("50m"), corev1.ResourceMemory: resource.MustParse("64Mi")}}},
	}}, Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{Name: "app"}, {Name: "proxy"}}}}
	b.Run("plain", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			existingPodResources(p)
		}
	})
	b.Run("PodRequests", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			newResources(existingPodRequests(p))
		}
	})
}

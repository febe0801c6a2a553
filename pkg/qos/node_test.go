package qos

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	resourcehelper "k8s.io/component-helpers/resource"
)

var quantities = []string{"0", "1", "100u", "0.5m", "250m", "1.5", "1e3", "0.1", "1Ki", "1.5Gi", "64Mi", "2G", "1500m"}

func randomList(r *rand.Rand) corev1.ResourceList {
	rl := corev1.ResourceList{}
	for _, n := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory, "example.com/gpu"} {
		if r.IntN(3) > 0 {
			rl[n] = resource.MustParse(quantities[r.IntN(len(quantities))])
		}
	}
	return rl
}

func randomPod(r *rand.Rand) *corev1.Pod {
	p := &corev1.Pod{}
	req := func() corev1.ResourceRequirements {
		return corev1.ResourceRequirements{Requests: randomList(r), Limits: randomList(r)}
	}
	for i := range 1 + r.IntN(3) {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: fmt.Sprint("c", i), Resources: req()})
	}
	if r.IntN(6) == 0 {
		always := corev1.ContainerRestartPolicyAlways
		ic := corev1.Container{Name: "init", Resources: req()}
		if r.IntN(2) == 0 {
			ic.RestartPolicy = &always
		}
		p.Spec.InitContainers = append(p.Spec.InitContainers, ic)
	}
	if r.IntN(8) == 0 {
		p.Spec.Overhead = randomList(r)
	}
	if r.IntN(8) == 0 {
		rr := req()
		p.Spec.Resources = &rr
	}
	return p
}

// helperCommitment is NodeCommitment computed with the helpers for every
// pod: what the shortcut for plain pods must equal.
func helperCommitment(node *corev1.Node, pods []*corev1.Pod) []Commitment {
	out := make([]Commitment, len(computeResources))
	for i, name := range computeResources {
		out[i] = Commitment{Resource: name, Allocatable: value(name, node.Status.Allocatable[name])}
	}
	for _, p := range pods {
		reqs := resourcehelper.PodRequests(p, resourcehelper.PodResourcesOptions{})
		lims := resourcehelper.PodLimits(p, resourcehelper.PodResourcesOptions{})
		for i, name := range computeResources {
			out[i].Requests += value(name, reqs[name])
			if l, ok := lims[name]; ok && !l.IsZero() && allContainersLimited(p, name) {
				out[i].Limits += value(name, l)
			} else {
				out[i].Unbounded++
			}
		}
	}
	return out
}

func TestNodeCommitmentOfPlainPodsIsTheHelpers(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	node := &corev1.Node{Status: corev1.NodeStatus{Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("8"), corev1.ResourceMemory: resource.MustParse("32Gi")}}}
	plain := 0
	for i := range 5000 {
		var pods []*corev1.Pod
		for range 1 + r.IntN(4) {
			p := randomPod(r)
			if _, _, ok := containerTotals(p); ok {
				plain++
			}
			pods = append(pods, p)
		}
		copies := make([]*corev1.Pod, len(pods))
		for j, p := range pods {
			copies[j] = p.DeepCopy()
		}
		want := helperCommitment(node, copies)
		if got := NodeCommitment(node, pods); !reflect.DeepEqual(got, want) {
			t.Fatalf("case %d: %+v, the helpers give %+v", i, got, want)
		}
	}
	if plain < 3000 {
		t.Errorf("only %d pods took the plain path", plain)
	}
}

// helperMemoryRequest is MemoryRequestForEviction with the helpers for
// every pod.
func helperMemoryRequest(pod *corev1.Pod) resource.Quantity {
	q := resource.Quantity{Format: resource.BinarySI}
	podLevel := resourcehelper.IsPodLevelResourcesSet(pod)
	reqs := resourcehelper.PodRequests(pod, resourcehelper.PodResourcesOptions{SkipContainerLevelResources: podLevel, ExcludeOverhead: true})
	if r, ok := reqs[corev1.ResourceMemory]; ok {
		q.Add(r)
	}
	if o, ok := pod.Spec.Overhead[corev1.ResourceMemory]; ok && !q.IsZero() {
		q.Add(o)
	}
	return q
}

func TestMemoryRequestForEvictionIsTheHelpers(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for i := range 20000 {
		p := randomPod(r)
		want := helperMemoryRequest(p.DeepCopy())
		got := MemoryRequestForEviction(p)
		if got.Cmp(want) != 0 || got.Value() != want.Value() || got.String() != want.String() {
			t.Fatalf("pod %d: %s, the helpers give %s", i, got.String(), want.String())
		}
	}
}

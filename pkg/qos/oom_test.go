package qos

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The expected values below are computed by hand from the formula of
// k8s.io/kubernetes v1.37.2 pkg/kubelet/qos/policy.go GetContainerOOMScoreAdjust
// and pkg/kubelet/qos/helpers.go (minRegularContainerMemory,
// remainingPodMemReqPerContainer), with integer division as in Go:
//
//	adj = 1000 - 1000*req/capacity                      (no pod-level requests)
//	adj = 1000 - 1000*(req+remaining)/capacity          (pod-level requests set)
//	remaining = max(podMemReq - aggregateContainerMemReq, 0) / (containers + init containers)
//	sidecar:  adj = min(adj, 1000 - 1000*(minRegularReq [+ remaining])/capacity)
//	adj < 3 → 3;  adj == 1000 → 999
//
// A capacity of 4000 bytes keeps the arithmetic readable.
const capacity = 4000

func priorityPod(p *corev1.Pod, class string, prio int32) *corev1.Pod {
	p.Spec.PriorityClassName = class
	p.Spec.Priority = &prio
	return p
}

func annotated(p *corev1.Pod, k, v string) *corev1.Pod {
	p.Annotations = map[string]string{k: v}
	return p
}

func stored(p *corev1.Pod, c corev1.PodQOSClass) *corev1.Pod {
	p.Status.QOSClass = c
	return p
}

func TestContainerOOMScoreAdj(t *testing.T) {
	guaranteed := func() *corev1.Pod {
		return pod(c("a", rl("cpu", "1", "memory", "1000"), rl("cpu", "1", "memory", "1000")))
	}
	cases := []struct {
		name      string
		pod       *corev1.Pod
		container string
		want      int
	}{
		// Node-critical pods: -997 whatever their class.
		{"a system-node-critical BestEffort pod gets -997", priorityPod(pod(c("a", nil, nil)), "system-node-critical", 2000001000), "a", -997},
		{"a system-cluster-critical BestEffort pod is not node-critical: 1000", priorityPod(pod(c("a", nil, nil)), "system-cluster-critical", 2000000000), "a", 1000},
		{"the node-critical class name without critical priority is not enough: 1000", priorityPod(pod(c("a", nil, nil)), "system-node-critical", 1000), "a", 1000},
		{"a static pod (config.source file) with the node-critical class name gets -997",
			annotated(func() *corev1.Pod {
				p := pod(c("a", nil, nil))
				p.Spec.PriorityClassName = "system-node-critical"
				return p
			}(), "kubernetes.io/config.source", "file"), "a", -997},
		{"a mirror pod with the node-critical class name gets -997",
			annotated(func() *corev1.Pod {
				p := pod(c("a", nil, nil))
				p.Spec.PriorityClassName = "system-node-critical"
				return p
			}(), corev1.MirrorPodAnnotationKey, "x"), "a", -997},
		{"a pod from the apiserver source is not static: 1000",
			annotated(func() *corev1.Pod {
				p := pod(c("a", nil, nil))
				p.Spec.PriorityClassName = "system-node-critical"
				return p
			}(), "kubernetes.io/config.source", "api"), "a", 1000},

		// Class shortcuts.
		{"Guaranteed gets -997", guaranteed(), "a", -997},
		{"BestEffort gets 1000", pod(c("a", nil, nil)), "a", 1000},
		{"the stored class wins over the spec (GetPodQOS): stored Guaranteed", stored(pod(c("a", rl("memory", "1000"), nil)), G), "a", -997},
		{"the stored class wins over the spec: stored BestEffort", stored(pod(c("a", rl("memory", "1000"), nil)), BE), "a", 1000},

		// Burstable: 1000 - 1000*req/capacity.
		{"Burstable 1000 of 4000 bytes: 1000-250 = 750", pod(c("a", rl("memory", "1000"), nil)), "a", 750},
		{"Burstable 3980 of 4000: 1000-995 = 5", pod(c("a", rl("memory", "3980"), nil)), "a", 5},
		{"Burstable 3990 of 4000: 1000*3990/4000 truncates to 997, 3 is not below the floor", pod(c("a", rl("memory", "3990"), nil)), "a", 3},
		{"Burstable request equal to capacity: 0 is clamped to 3", pod(c("a", rl("memory", "4000"), nil)), "a", 3},
		{"Burstable request above capacity: -250 is clamped to 3", pod(c("a", rl("memory", "5000"), nil)), "a", 3},
		{"Burstable without memory request: 1000 becomes 999", pod(c("a", rl("cpu", "1"), nil)), "a", 999},
		{"Burstable 3 bytes: 3000/4000 truncates to 0, 1000 becomes 999", pod(c("a", rl("memory", "3"), nil)), "a", 999},
		{"Burstable 5 bytes: 5000/4000 = 1, 999", pod(c("a", rl("memory", "5"), nil)), "a", 999},
		{"Burstable 8 bytes: 8000/4000 = 2, 998", pod(c("a", rl("memory", "8"), nil)), "a", 998},
		{"a plain init container uses its own request: 1000-50 = 950",
			pod(initC("init", rl("memory", "200"), nil), c("a", rl("memory", "1000"), nil)), "init", 950},

		// Sidecars: never above the smallest regular container.
		{"a small sidecar is lowered to the smallest regular container's 750",
			pod(sidecar("s", rl("memory", "100"), nil), c("a", rl("memory", "2000"), nil), c("b", rl("memory", "1000"), nil)), "s", 750},
		{"the regular container beside it keeps its own 1000-500 = 500",
			pod(sidecar("s", rl("memory", "100"), nil), c("a", rl("memory", "2000"), nil), c("b", rl("memory", "1000"), nil)), "a", 500},
		{"a large sidecar keeps its own lower 1000-750 = 250",
			pod(sidecar("s", rl("memory", "3000"), nil), c("a", rl("memory", "1000"), nil)), "s", 250},
		{"a sidecar without request beside a container without memory request: 999",
			pod(sidecar("s", rl("cpu", "1"), nil), c("a", rl("cpu", "1"), nil)), "s", 999},

		// Pod-level requests: the unclaimed part is shared by every container.
		{"pod-level 3000, containers 1000 and 0: remaining (3000-1000)/2 = 1000, a: 1000-1000*2000/4000 = 500",
			withPodLevel(pod(c("a", rl("memory", "1000"), nil), c("b", rl("cpu", "1"), nil)), rl("cpu", "2", "memory", "3000"), nil), "a", 500},
		{"pod-level 3000, b without memory request: 1000-1000*1000/4000 = 750",
			withPodLevel(pod(c("a", rl("memory", "1000"), nil), c("b", rl("cpu", "1"), nil)), rl("cpu", "2", "memory", "3000"), nil), "b", 750},
		{"pod-level 4000 with a sidecar: aggregate 1200, remaining 1400, a: 1000-1000*2400/4000 = 400",
			withPodLevel(pod(sidecar("s", rl("memory", "200"), nil), c("a", rl("memory", "1000"), nil)), rl("memory", "4000"), nil), "a", 400},
		{"pod-level 4000 with a sidecar: s own 1000-400 = 600, lowered to the regular 1000-600 = 400",
			withPodLevel(pod(sidecar("s", rl("memory", "200"), nil), c("a", rl("memory", "1000"), nil)), rl("memory", "4000"), nil), "s", 400},
		{"pod-level requests without memory: nothing to share, 1000-250 = 750",
			withPodLevel(pod(c("a", rl("memory", "1000"), nil)), rl("cpu", "1"), nil), "a", 750},
		{"pod-level memory below the containers' (max with 0): 750",
			withPodLevel(pod(c("a", rl("memory", "1000"), nil)), rl("memory", "500"), nil), "a", 750},
		{"pod-level limits only are not requests: the container formula applies",
			withPodLevel(pod(c("a", rl("memory", "1000"), nil)), nil, rl("memory", "3000")), "a", 750},
		{"pod-level Guaranteed: -997",
			withPodLevel(pod(c("a", nil, nil)), rl("cpu", "1", "memory", "1000"), rl("cpu", "1", "memory", "1000")), "a", -997},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var container *corev1.Container
			for _, list := range [][]corev1.Container{tc.pod.Spec.InitContainers, tc.pod.Spec.Containers} {
				for i := range list {
					if list[i].Name == tc.container {
						container = &list[i]
					}
				}
			}
			if container == nil {
				t.Fatalf("no container %s", tc.container)
			}
			if got := ContainerOOMScoreAdj(tc.pod, container, capacity); got != tc.want {
				t.Errorf("oom_score_adj = %d, want %d (class %s)", got, tc.want, PodClass(tc.pod))
			}
		})
	}
}

func TestCriticalPods(t *testing.T) {
	cases := []struct {
		name               string
		pod                *corev1.Pod
		critical, nodeCrit bool
	}{
		{"an ordinary pod", pod(c("a", nil, nil)), false, false},
		{"priority 2000000000 is critical", priorityPod(pod(c("a", nil, nil)), "system-cluster-critical", 2000000000), true, false},
		{"priority 1999999999 is not", priorityPod(pod(c("a", nil, nil)), "high", 1999999999), false, false},
		{"system-node-critical with its priority is node-critical", priorityPod(pod(c("a", nil, nil)), "system-node-critical", 2000001000), true, true},
		{"a static pod is critical", annotated(pod(c("a", nil, nil)), "kubernetes.io/config.source", "file"), true, false},
		{"a mirror pod is critical", annotated(pod(c("a", nil, nil)), corev1.MirrorPodAnnotationKey, "h"), true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsCriticalPod(tc.pod); got != tc.critical {
				t.Errorf("IsCriticalPod = %v", got)
			}
			if got := IsNodeCriticalPod(tc.pod); got != tc.nodeCrit {
				t.Errorf("IsNodeCriticalPod = %v", got)
			}
		})
	}
}

func TestContainerOOMScoreAdjWithoutCapacity(t *testing.T) {
	// A node object without status.capacity.memory: the kubelet never runs
	// like that; the Burstable formula must not divide by zero.
	p := pod(c("a", rl("memory", "1000"), nil), c("b", rl("cpu", "1"), nil))
	if got := ContainerOOMScoreAdj(p, &p.Spec.Containers[0], 0); got != 3 {
		t.Errorf("with a request: %d, want the floor 3", got)
	}
	if got := ContainerOOMScoreAdj(p, &p.Spec.Containers[1], 0); got != 999 {
		t.Errorf("without a memory request: %d, want 999", got)
	}
}

func TestAllocatedPodDuringResize(t *testing.T) {
	// The spec asks for 2000 bytes, the kubelet still runs the container
	// with the 1000 it allocated: 1000 - 1000*1000/4000 = 750, not 500.
	p := pod(c("a", rl("memory", "2000"), nil))
	p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "a", AllocatedResources: rl("memory", "1000")}}
	a := AllocatedPod(p)
	if got := ContainerOOMScoreAdj(a, &a.Spec.Containers[0], capacity); got != 750 {
		t.Errorf("allocated: %d, want 750", got)
	}
	if got := ContainerOOMScoreAdj(p, &p.Spec.Containers[0], capacity); got != 500 {
		t.Errorf("spec: %d, want 500", got)
	}
	if p.Spec.Containers[0].Resources.Requests.Memory().Value() != 2000 {
		t.Error("AllocatedPod changed its argument")
	}
	pl := withPodLevel(pod(c("a", rl("memory", "1000"), nil)), rl("memory", "4000"), nil)
	pl.Status.AllocatedResources = rl("memory", "2000")
	// remaining (2000-1000)/1 = 1000: 1000 - 1000*2000/4000 = 500.
	if a := AllocatedPod(pl); ContainerOOMScoreAdj(a, &a.Spec.Containers[0], capacity) != 500 {
		t.Error("pod-level allocated resources not used")
	}
}

func TestSetsOOMScoreAdjOnlyOnLinux(t *testing.T) {
	for _, tc := range []struct {
		os, label string
		want      bool
	}{
		{"linux", "", true},
		{"windows", "", false},
		{"", "windows", false},
		{"", "linux", true},
		{"", "", true},
		// The kubelet's own report wins over a label someone edited.
		{"linux", "windows", true},
	} {
		n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{}}, Status: corev1.NodeStatus{NodeInfo: corev1.NodeSystemInfo{OperatingSystem: tc.os}}}
		if tc.label != "" {
			n.Labels[corev1.LabelOSStable] = tc.label
		}
		if got := SetsOOMScoreAdj(n); got != tc.want {
			t.Errorf("os %q label %q: %v, want %v", tc.os, tc.label, got, tc.want)
		}
	}
}

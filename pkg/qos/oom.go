package qos

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	resourcehelper "k8s.io/component-helpers/resource"
)

// OOM score adjustments the kubelet uses (pkg/kubelet/qos/policy.go).
const (
	GuaranteedOOMScoreAdj = -997
	BestEffortOOMScoreAdj = 1000
)

// The kubelet's markers of static and mirror pods and the priority values of
// critical pods (pkg/kubelet/types/pod_update.go, pkg/apis/scheduling).
const (
	configSourceAnnotation = "kubernetes.io/config.source"
	apiserverSource        = "api"
	systemCriticalPriority = 2 * 1000000000
	systemNodeCritical     = "system-node-critical"
)

// IsCriticalPod is pkg/kubelet/types.IsCriticalPod: a static pod, a mirror
// pod, or priority ≥ system-cluster-critical's. The kubelet never evicts one.
func IsCriticalPod(pod *corev1.Pod) bool {
	if src, ok := pod.Annotations[configSourceAnnotation]; ok && src != apiserverSource {
		return true
	}
	if _, ok := pod.Annotations[corev1.MirrorPodAnnotationKey]; ok {
		return true
	}
	return pod.Spec.Priority != nil && *pod.Spec.Priority >= systemCriticalPriority
}

// IsNodeCriticalPod is pkg/kubelet/types.IsNodeCriticalPod.
func IsNodeCriticalPod(pod *corev1.Pod) bool {
	return IsCriticalPod(pod) && pod.Spec.PriorityClassName == systemNodeCritical
}

// PodClass is the class the kubelet uses: the stored status.qosClass, else
// the computed one (v1 helper GetPodQOS).
func PodClass(pod *corev1.Pod) corev1.PodQOSClass {
	if pod.Status.QOSClass != "" {
		return pod.Status.QOSClass
	}
	return Class(pod)
}

// ContainerOOMScoreAdj ports GetContainerOOMScoreAdjust of
// k8s.io/kubernetes v1.37.2 pkg/kubelet/qos/policy.go (with helpers.go
// minRegularContainerMemory and remainingPodMemReqPerContainer), with the
// v1.37 default gates: PodLevelResources on, DRANodeAllocatableResources off
// (so a container's memory request is its spec request). memoryCapacity is
// the node's status.capacity memory in bytes.
func ContainerOOMScoreAdj(pod *corev1.Pod, container *corev1.Container, memoryCapacity int64) int {
	if IsNodeCriticalPod(pod) {
		return GuaranteedOOMScoreAdj
	}
	switch PodClass(pod) {
	case corev1.PodQOSGuaranteed:
		return GuaranteedOOMScoreAdj
	case corev1.PodQOSBestEffort:
		return BestEffortOOMScoreAdj
	}
	if memoryCapacity <= 0 {
		// The kubelet always knows its capacity; a node object without it
		// would divide by zero. Report the value for "no request at all".
		memoryCapacity = 1
	}

	containerMemReq := container.Resources.Requests.Memory().Value()
	var oomScoreAdjust, remainingReqPerContainer int64
	podLevel := resourcehelper.IsPodLevelRequestsSet(pod)
	if podLevel {
		remainingReqPerContainer = remainingPodMemReqPerContainer(pod)
		oomScoreAdjust = 1000 - (1000 * (containerMemReq + remainingReqPerContainer) / memoryCapacity)
	} else {
		oomScoreAdjust = 1000 - (1000*containerMemReq)/memoryCapacity
	}

	if isSidecar(pod, container) {
		minMemoryRequest := minRegularContainerMemory(pod)
		if podLevel {
			minMemoryRequest += remainingReqPerContainer
		}
		minMemoryOomScoreAdjust := 1000 - (1000*minMemoryRequest)/memoryCapacity
		if oomScoreAdjust > minMemoryOomScoreAdjust {
			oomScoreAdjust = minMemoryOomScoreAdjust
		}
	}

	if int(oomScoreAdjust) < (1000 + GuaranteedOOMScoreAdj) {
		return 1000 + GuaranteedOOMScoreAdj
	}
	if int(oomScoreAdjust) == BestEffortOOMScoreAdj {
		return int(oomScoreAdjust - 1)
	}
	return int(oomScoreAdjust)
}

// isSidecar: policy.go isSidecarContainer (restartPolicy Always and listed
// among the init containers, matched by name).
func isSidecar(pod *corev1.Pod, c *corev1.Container) bool {
	if !isRestartable(c) {
		return false
	}
	for i := range pod.Spec.InitContainers {
		if pod.Spec.InitContainers[i].Name == c.Name {
			return true
		}
	}
	return false
}

// minRegularContainerMemory: helpers.go. Only regular containers count.
func minRegularContainerMemory(pod *corev1.Pod) int64 {
	if len(pod.Spec.Containers) == 0 {
		return 0
	}
	v := pod.Spec.Containers[0].Resources.Requests.Memory().Value()
	for i := 1; i < len(pod.Spec.Containers); i++ {
		if m := pod.Spec.Containers[i].Resources.Requests.Memory().Value(); m < v {
			v = m
		}
	}
	return v
}

// remainingPodMemReqPerContainer: helpers.go. The pod-level memory request
// not claimed by the containers, shared equally by every container (init
// containers included).
func remainingPodMemReqPerContainer(pod *corev1.Pod) int64 {
	if pod.Spec.Resources.Requests.Memory().IsZero() {
		return 0
	}
	n := int64(len(pod.Spec.Containers) + len(pod.Spec.InitContainers))
	aggr := resourcehelper.AggregateContainerRequests(pod, resourcehelper.PodResourcesOptions{})
	remaining := pod.Spec.Resources.Requests.Memory().Value() - aggr.Memory().Value()
	remaining = max(remaining, 0)
	return remaining / n
}

// AllocatedPod returns the pod as the kubelet sizes it: requests replaced by
// what the kubelet allocated (status allocatedResources), which differ from
// the spec while an in-place resize is pending. The kubelet computes OOM
// score adjustments from the allocated resources. A pod with no allocated
// resources in its status is returned as it is (not a copy): callers only
// read the result.
func AllocatedPod(pod *corev1.Pod) *corev1.Pod {
	if !hasAllocatedResources(pod) {
		return pod
	}
	p := pod.DeepCopy()
	apply := func(list []corev1.Container, statuses []corev1.ContainerStatus) {
		for i := range list {
			for _, st := range statuses {
				if st.Name != list[i].Name || len(st.AllocatedResources) == 0 {
					continue
				}
				if list[i].Resources.Requests == nil {
					list[i].Resources.Requests = corev1.ResourceList{}
				}
				for k, v := range st.AllocatedResources {
					list[i].Resources.Requests[k] = v.DeepCopy()
				}
			}
		}
	}
	apply(p.Spec.Containers, p.Status.ContainerStatuses)
	apply(p.Spec.InitContainers, p.Status.InitContainerStatuses)
	if p.Spec.Resources != nil && len(p.Status.AllocatedResources) > 0 {
		if p.Spec.Resources.Requests == nil {
			p.Spec.Resources.Requests = corev1.ResourceList{}
		}
		for k, v := range p.Status.AllocatedResources {
			p.Spec.Resources.Requests[k] = v.DeepCopy()
		}
	}
	return p
}

// hasAllocatedResources says whether AllocatedPod would change anything.
func hasAllocatedResources(pod *corev1.Pod) bool {
	if pod.Spec.Resources != nil && len(pod.Status.AllocatedResources) > 0 {
		return true
	}
	for _, statuses := range [][]corev1.ContainerStatus{pod.Status.ContainerStatuses, pod.Status.InitContainerStatuses} {
		for i := range statuses {
			if len(statuses[i].AllocatedResources) > 0 {
				return true
			}
		}
	}
	return false
}

// SetsOOMScoreAdj says whether the kubelet of node gives containers an
// oom_score_adj: only on Linux, where it is part of the Linux container
// resources (pkg/kubelet/kuberuntime/kuberuntime_container_linux.go); the
// Windows container config has no such field. The node's
// reported operating system decides; the kubernetes.io/os label stands in when
// the kubelet has not reported yet.
func SetsOOMScoreAdj(node *corev1.Node) bool {
	os := node.Status.NodeInfo.OperatingSystem
	if os == "" {
		os = node.Labels[corev1.LabelOSStable]
	}
	return !strings.EqualFold(os, "windows")
}

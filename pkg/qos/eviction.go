package qos

import (
	"cmp"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	resourcehelper "k8s.io/component-helpers/resource"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
)

// UsageFunc returns a pod's memory working set in bytes, and false when no
// figure is known for the pod.
type UsageFunc func(pod *corev1.Pod) (int64, bool)

// EvictionCandidate is one pod in the kubelet's memory-pressure order.
type EvictionCandidate struct {
	Pod *corev1.Pod
	// MemoryRequest is the pod's memory request as the eviction manager
	// computes it (pod-level resources when set, init/sidecar rules, overhead).
	MemoryRequest int64
	// Usage is the working set used for ranking; UsageKnown is false when the
	// usage source had nothing for the pod (the kubelet then ranks it first).
	Usage      int64
	UsageKnown bool
	// ExceedsRequests: usage above MemoryRequest.
	ExceedsRequests bool
	Priority        int32
	// Critical pods (static, mirror, priority ≥ 2000000000) are never
	// evicted by the kubelet, whatever their rank.
	Critical bool
}

// RankMemoryPressure orders pods the way the kubelet's eviction manager does
// under memory pressure: k8s.io/kubernetes v1.37.2
// pkg/kubelet/eviction/helpers.go rankMemoryPressure =
// orderedBy(exceedMemoryRequests, priority, memory): pods without stats
// first, then pods whose usage exceeds their request, then lower priority,
// then larger usage above request. The kubelet's sort is not stable, so pods
// equal on all three keys may come in any order; here they come lowest QoS
// class first (a Guaranteed pod can never use more than its request, others
// can), then by namespace/name: one of the orders the kubelet can produce.
func RankMemoryPressure(pods []*corev1.Pod, usage UsageFunc) []EvictionCandidate {
	// Each candidate with its tie-break class rank, computed once per pod
	// rather than in every comparison.
	type ranked struct {
		EvictionCandidate
		classRank int
	}
	rs := make([]ranked, 0, len(pods))
	for _, p := range pods {
		c := EvictionCandidate{Pod: p, Priority: corev1helpers.PodPriority(p), Critical: IsCriticalPod(p)}
		req := MemoryRequestForEviction(p)
		c.MemoryRequest = req.Value()
		c.Usage, c.UsageKnown = usage(p)
		if c.UsageKnown {
			c.ExceedsRequests = resource.NewQuantity(c.Usage, resource.BinarySI).Cmp(req) == 1
		}
		rs = append(rs, ranked{c, Rank(PodClass(p))})
	}
	// The kubelet's keys, then the tie-break: one stable sort on both gives
	// the order of a stable sort by the tie-break followed by one by the keys.
	slices.SortStableFunc(rs, func(a, b ranked) int {
		for _, key := range memoryPressureKeys {
			if r := key(a.EvictionCandidate, b.EvictionCandidate); r != 0 {
				return r
			}
		}
		if a.classRank != b.classRank {
			return a.classRank - b.classRank
		}
		if a.Pod.Namespace != b.Pod.Namespace {
			return strings.Compare(a.Pod.Namespace, b.Pod.Namespace)
		}
		return strings.Compare(a.Pod.Name, b.Pod.Name)
	})
	out := make([]EvictionCandidate, len(rs))
	for i := range rs {
		out[i] = rs[i].EvictionCandidate
	}
	return out
}

// memoryPressureKeys are rankMemoryPressure's orderedBy keys.
var memoryPressureKeys = []func(a, b EvictionCandidate) int{exceedMemoryRequests, priority, memoryAboveRequest}

func exceedMemoryRequests(a, b EvictionCandidate) int {
	if !a.UsageKnown || !b.UsageKnown {
		return cmpBool(!a.UsageKnown, !b.UsageKnown)
	}
	return cmpBool(a.ExceedsRequests, b.ExceedsRequests)
}

func priority(a, b EvictionCandidate) int {
	switch {
	case a.Priority == b.Priority:
		return 0
	case a.Priority > b.Priority:
		return 1
	}
	return -1
}

func memoryAboveRequest(a, b EvictionCandidate) int {
	if !a.UsageKnown || !b.UsageKnown {
		return cmpBool(!a.UsageKnown, !b.UsageKnown)
	}
	// Usage and request are whole, non-negative byte counts: their
	// difference is exact in an int64. Larger first.
	return cmp.Compare(b.Usage-b.MemoryRequest, a.Usage-a.MemoryRequest)
}

// cmpBool places true before false.
func cmpBool(a, b bool) int {
	if a == b {
		return 0
	}
	if !b {
		return -1
	}
	return 1
}

// MemoryRequestForEviction ports pkg/api/v1/resource.GetResourceRequestQuantity
// for memory: pod-level requests when set, else the containers' effective
// request (init and sidecar rules), plus overhead when non-zero.
func MemoryRequestForEviction(pod *corev1.Pod) resource.Quantity {
	q := resource.Quantity{Format: resource.BinarySI}
	podLevel := resourcehelper.IsPodLevelResourcesSet(pod)
	if !podLevel && len(pod.Spec.InitContainers) == 0 {
		// The request is then the containers' sum: added up here, as
		// PodRequests adds them, without building its lists for every pod.
		for i := range pod.Spec.Containers {
			if r, ok := pod.Spec.Containers[i].Resources.Requests[corev1.ResourceMemory]; ok {
				q.Add(r)
			}
		}
	} else if r, ok := resourcehelper.PodRequests(pod, resourcehelper.PodResourcesOptions{SkipContainerLevelResources: podLevel, ExcludeOverhead: true})[corev1.ResourceMemory]; ok {
		q.Add(r)
	}
	if o, ok := pod.Spec.Overhead[corev1.ResourceMemory]; ok && !q.IsZero() {
		q.Add(o)
	}
	return q
}

// RequestsAsUsage is the usage estimate when no metrics are available: every
// pod uses exactly its memory request, and a pod without one uses some memory
// (one byte), so it counts as exceeding its zero request as any running
// BestEffort pod does.
func RequestsAsUsage(pod *corev1.Pod) (int64, bool) {
	req := MemoryRequestForEviction(pod)
	if req.IsZero() {
		return 1, true
	}
	return req.Value(), true
}

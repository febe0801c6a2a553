package qosaudit

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/ktriage/ktriage/pkg/report"
)

// Result is the qos-audit document: the common report (findings, warnings,
// metadata) and, at the top level, the pods, workloads, nodes and rollups
// sections, a contract scripts rely on.
type Result struct {
	report.Report `json:",inline"`
	// Pods are the live pods in scope, and the Pods of -f manifests.
	Pods []PodResult `json:"pods"`
	// Workloads are the manifests of -f (every kind with a pod template, and
	// Pods) with the class the apiserver will give their pods.
	Workloads []WorkloadResult `json:"workloads,omitempty"`
	// Nodes hold the kubelet's view of the nodes running pods in scope.
	Nodes   []NodeResult `json:"nodes"`
	Rollups Rollups      `json:"rollups"`
}

// WorkloadRef names the controller that owns a pod (top-most owner).
type WorkloadRef struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
}

// PodResult is one pod's class and how it was reached.
type PodResult struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	QOSClass  string `json:"qosClass"`
	// StoredQOSClass is status.qosClass of a live pod.
	StoredQOSClass string            `json:"storedQosClass,omitempty"`
	Node           string            `json:"node,omitempty"`
	Workload       *WorkloadRef      `json:"workload,omitempty"`
	Reason         string            `json:"reason"`
	Containers     []ContainerResult `json:"containers"`
}

// ContainerResult is one container's resources as the apiserver stores them.
type ContainerResult struct {
	Name     string            `json:"name"`
	Type     string            `json:"type"` // container, init, sidecar
	Requests map[string]string `json:"requests,omitempty"`
	Limits   map[string]string `json:"limits,omitempty"`
	// OOMScoreAdj is set for containers of pods bound to a known node.
	OOMScoreAdj *int `json:"oomScoreAdj,omitempty"`
}

// WorkloadResult is the predicted class of a manifest's pods.
type WorkloadResult struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	QOSClass  string `json:"qosClass"`
	// LimitRangeApplied: a LimitRange filled in requests or limits.
	LimitRangeApplied bool `json:"limitRangeApplied"`
	// LimitRangeChangedClass: without the LimitRange the class would be
	// ClassWithoutLimitRange.
	LimitRangeChangedClass bool     `json:"limitRangeChangedClass"`
	ClassWithoutLimitRange string   `json:"classWithoutLimitRange"`
	LimitRanges            []string `json:"limitRanges,omitempty"`
	LimitRangeChanges      []string `json:"limitRangeChanges,omitempty"`
	// LimitRangeConflicts are values several LimitRanges default
	// differently; the LimitRanger applies them in no fixed order.
	LimitRangeConflicts []string `json:"limitRangeConflicts,omitempty"`
	// PossibleQOSClasses, when set, are the classes the pods may get
	// depending on that order; QOSClass is the one for name order.
	PossibleQOSClasses []string `json:"possibleQosClasses,omitempty"`
	// LimitRangeViolations are why the apiserver will refuse the pods.
	LimitRangeViolations []string `json:"limitRangeViolations,omitempty"`
	// ValidationErrors are the apiserver's own validation errors on the
	// pods' resources after defaulting (e.g. a LimitRange default limit below
	// the request), in its words.
	ValidationErrors []string          `json:"validationErrors,omitempty"`
	Reason           string            `json:"reason"`
	Containers       []ContainerResult `json:"containers"`
	Source           *report.Source    `json:"source,omitempty"`
}

// NodeResult is what the kubelet of one node would do.
type NodeResult struct {
	Name           string `json:"name"`
	MemoryCapacity string `json:"memoryCapacity"`
	// UsageSource says where the memory usage used for the eviction order
	// came from: "metrics" (metrics.k8s.io, for at least one of the node's
	// pods; each entry says which) or "requests" (each pod assumed to use its
	// memory request).
	UsageSource string `json:"usageSource"`
	// Partial says why the eviction order ranks only some of the node's
	// pods (e.g. those of other namespaces could not be listed).
	Partial string `json:"partial,omitempty"`
	// NoOOMScoreAdj says why the containers have no oomScoreAdj (the kubelet
	// sets it only on Linux).
	NoOOMScoreAdj string          `json:"noOomScoreAdj,omitempty"`
	EvictionOrder []EvictionEntry `json:"evictionOrder"`
	Overcommit    []Overcommit    `json:"overcommit"`
}

// EvictionEntry is one pod in the memory-pressure eviction order.
type EvictionEntry struct {
	Rank          int    `json:"rank"`
	Namespace     string `json:"namespace"`
	Name          string `json:"name"`
	QOSClass      string `json:"qosClass"`
	Priority      int32  `json:"priority"`
	MemoryRequest string `json:"memoryRequest"`
	MemoryUsage   string `json:"memoryUsage,omitempty"`
	// UsageSource is "metrics" when the pod's usage came from metrics.k8s.io,
	// "requests" when its memory request stood in for it.
	UsageSource     string `json:"usageSource"`
	ExceedsRequests bool   `json:"exceedsRequests"`
	// Evictable is false for critical pods, which the kubelet never evicts.
	Evictable  bool           `json:"evictable"`
	Containers []ContainerOOM `json:"containers"`
}

// ContainerOOM is the oom_score_adj the kubelet gives a container.
type ContainerOOM struct {
	Name string `json:"name"`
	// OOMScoreAdj is left out on nodes whose kubelet sets none (Windows).
	OOMScoreAdj *int `json:"oomScoreAdj,omitempty"`
}

// Overcommit compares the pods' requests and limits with the node's allocatable.
type Overcommit struct {
	Resource    string `json:"resource"`
	Allocatable string `json:"allocatable"`
	Requests    string `json:"requests"`
	Limits      string `json:"limits"`
	// Percentages of allocatable.
	RequestsPercent int `json:"requestsPercent"`
	LimitsPercent   int `json:"limitsPercent"`
	// PodsWithoutLimit may use the whole node.
	PodsWithoutLimit int `json:"podsWithoutLimit"`
}

// Rollups count pods per class.
type Rollups struct {
	ByNamespace []ClassCount `json:"byNamespace"`
	ByWorkload  []ClassCount `json:"byWorkload"`
}

// ClassCount counts pods per class in one namespace or workload.
type ClassCount struct {
	Namespace  string `json:"namespace"`
	Kind       string `json:"kind,omitempty"`
	Name       string `json:"name,omitempty"`
	Guaranteed int    `json:"guaranteed"`
	Burstable  int    `json:"burstable"`
	BestEffort int    `json:"bestEffort"`
}

func (c *ClassCount) add(class string) {
	switch corev1.PodQOSClass(class) {
	case corev1.PodQOSGuaranteed:
		c.Guaranteed++
	case corev1.PodQOSBurstable:
		c.Burstable++
	default:
		c.BestEffort++
	}
}

// partialNodeReason is NodeResult.Partial for a node whose other pods could
// not be listed.
const partialNodeReason = "pods of other namespaces unknown"

// noOOMScoreAdjReason is NodeResult.NoOOMScoreAdj for a Windows node.
const noOOMScoreAdjReason = "Windows node: the kubelet sets oom_score_adj only on Linux"

func newResult(version string) *Result {
	return &Result{Report: report.New("QoSAuditReport", Plugin, version), Pods: []PodResult{}, Nodes: []NodeResult{}}
}

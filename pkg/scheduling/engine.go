package scheduling

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/ktriage/ktriage/pkg/cluster"
)

// Reason is one filter's verdict on one node.
type Reason struct {
	// Plugin is the scheduler plugin name, e.g. "TaintToleration".
	Plugin string `json:"plugin"`
	// Message is the scheduler's exact reason string, e.g.
	// "node(s) had untolerated taint(s)".
	Message string `json:"message"`
	// Detail says specifically what failed, e.g. "taint dedicated=gpu:NoSchedule
	// is not tolerated", "cpu: requested 3, free 1.5 of 4".
	Detail string `json:"detail,omitempty"`
	// Unresolvable is true when preemption cannot help on this node.
	Unresolvable bool `json:"unresolvable,omitempty"`
	// Reported is true for the reasons kube-scheduler itself records for the
	// node: those of the first failing plugin in filter order (it stops there).
	// The other reasons are found by running the remaining filters anyway.
	Reported bool `json:"reported"`

	// Structured evidence for fixes, set by the plugins it applies to.

	// Taints are the node's untolerated NoSchedule/NoExecute taints
	// (TaintToleration).
	Taints []corev1.Taint `json:"taints,omitempty"`
	// Shortfall is the resource the node lacks (NodeResourcesFit).
	Shortfall *Shortfall `json:"shortfall,omitempty"`
	// Pods are the existing pods behind the failure, as namespace/name:
	// host port holders, pods matched by (anti-)affinity, users of a
	// ReadWriteOncePod claim. A long list is cut; PodCount then says how
	// many there are in all.
	Pods []string `json:"pods,omitempty"`
	// PodCount is the number of pods behind the failure when Pods is cut.
	PodCount int `json:"podCount,omitempty"`
}

// Shortfall is one resource a node cannot give the pod. Amounts are
// Kubernetes quantities.
type Shortfall struct {
	Resource    string `json:"resource"`
	Requested   string `json:"requested"`
	Allocatable string `json:"allocatable"`
	// InUse is what the node's pods already request.
	InUse string `json:"inUse"`
	Free  string `json:"free"`
}

// NodeResult is every failing filter for one node (empty Reasons: it fits).
type NodeResult struct {
	Name    string   `json:"name"`
	Reasons []Reason `json:"reasons"`
}

// Result is the outcome of evaluating a pod against all nodes.
type Result struct {
	// PreFilter is set when the pod fails before any node is looked at; the
	// scheduler then counts that reason against every node.
	PreFilter *Reason      `json:"preFilter,omitempty"`
	Nodes     []NodeResult `json:"nodes"`
	// Feasible names the nodes where the pod fits.
	Feasible []string `json:"feasible"`
	// Message is what kube-scheduler would write into the PodScheduled
	// condition: "0/N nodes are available: ... preemption: ...".
	Message string `json:"message,omitempty"`
	// ran names the filter plugins that ran (see Passing).
	ran []string
	// Unevaluated names the filter plugins that apply to the pod but could
	// not run because the objects they read were not loaded (no permission,
	// or not in the input): the result may be wrong about them.
	Unevaluated []string `json:"unevaluated,omitempty"`
	// Resources describes, for each resource the pod requests, the free
	// amounts on the nodes that pass every filter except NodeResourcesFit.
	Resources []ResourceFit `json:"resources,omitempty"`
	// Fragmentation holds the Resources entries where the free amounts add
	// up to the request, no single eligible node has enough free, and some
	// eligible node is big enough for it.
	Fragmentation []ResourceFit `json:"fragmentation,omitempty"`
	// Preemption is set when evicting lower-priority pods would let the pod
	// schedule: the node the scheduler would nominate and its victims.
	Preemption *Preemption `json:"preemption,omitempty"`
	// PreemptionBlocked says why preemption cannot place the pod when the
	// message ends in its failure (preemptionPolicy Never, or no node with
	// victims to evict).
	PreemptionBlocked *PreemptionBlocked `json:"preemptionBlocked,omitempty"`
	// Spread explains the pod's DoNotSchedule topology spread constraints
	// (which domains count and why) when one rejects a node.
	Spread []SpreadConstraint `json:"spread,omitempty"`
	// Warnings name checks the snapshot could not support, e.g. a kind that
	// was not loaded.
	Warnings []string `json:"warnings,omitempty"`
}

// Preemption is the outcome of the scheduler's preemption dry run.
type Preemption struct {
	Node string `json:"node"`
	// Victims are the pods that would be evicted, as namespace/name, most
	// important first.
	Victims []string `json:"victims"`
	// PDBViolations counts victims whose eviction a PodDisruptionBudget
	// does not allow.
	PDBViolations int `json:"pdbViolations,omitempty"`
}

// ResourceFit is one requested resource against the nodes that pass every
// other filter ("eligible" nodes). Amounts are Kubernetes quantities.
type ResourceFit struct {
	Resource  string `json:"resource"`
	Requested string `json:"requested"`
	// EligibleNodes counts the nodes that pass every filter but
	// NodeResourcesFit.
	EligibleNodes int `json:"eligibleNodes"`
	// LargestFree is the most any eligible node has free, on
	// LargestFreeNode: the largest request that fits anywhere.
	LargestFree     string `json:"largestFree"`
	LargestFreeNode string `json:"largestFreeNode,omitempty"`
	// TotalFree sums the free amount over the eligible nodes.
	TotalFree string `json:"totalFree"`
	// Fits is true when some eligible node has enough.
	Fits bool `json:"fits"`
	// LargestAllocatable is the most any eligible node can hold at all (its
	// allocatable, whatever runs there), on LargestAllocatableNode.
	LargestAllocatable     string `json:"largestAllocatable,omitempty"`
	LargestAllocatableNode string `json:"largestAllocatableNode,omitempty"`
	// Fragmented: TotalFree covers the request, no node's free amount does,
	// and some node's allocatable could hold it.
	Fragmented bool `json:"fragmented,omitempty"`
	// TooLarge: the request is above every eligible node's allocatable, so
	// freeing capacity cannot help: only a smaller request or a bigger node.
	TooLarge bool `json:"tooLarge,omitempty"`
	// Message says it in one sentence.
	Message string `json:"message"`
}

// Options tune an evaluation.
type Options struct{}

// Evaluate runs the scheduler's filters for pod on every node of snap.
func Evaluate(pod *corev1.Pod, snap *cluster.Snapshot, opts Options) Result {
	return NewEngine(snap).Evaluate(pod, opts)
}

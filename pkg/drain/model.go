package drain

import (
	"time"

	"github.com/ktriage/ktriage/pkg/report"
	"github.com/ktriage/ktriage/pkg/scheduling"
)

// Options are kubectl drain's flags that change what it does.
type Options struct {
	// Nodes are drained in this order after all of them are cordoned, as
	// `kubectl drain NODE...` does.
	Nodes              []string
	Force              bool
	IgnoreDaemonSets   bool
	DeleteEmptyDirData bool
	DisableEviction    bool
	PodSelector        string
	// GracePeriodSeconds is --grace-period (-1: the pod's own).
	GracePeriodSeconds int
	// SkipWaitForDeleteTimeoutSeconds is --skip-wait-for-delete-timeout.
	SkipWaitForDeleteTimeoutSeconds int
	// Now is the time the drain starts (pods deleted long ago are skipped).
	Now time.Time
}

// Verdict is the outcome of a drain.
type Verdict string

// Verdicts.
const (
	// Safe: kubectl drain finishes and every replacement finds a node.
	Safe Verdict = "safe"
	// Unschedulable: the drain finishes but some pods stay Pending.
	Unschedulable Verdict = "unschedulable"
	// Blocked: kubectl drain fails or waits for ever.
	Blocked Verdict = "blocked"
)

// Action is what kubectl drain does with a pod.
type Action string

// Actions.
const (
	ActionEvict   Action = "evict"
	ActionDelete  Action = "delete"
	ActionSkip    Action = "skip"
	ActionBlocked Action = "blocked"
)

// Result is the whole answer. Its JSON field names are a contract.
type Result struct {
	Verdict Verdict `json:"verdict"`
	// Reasons say why the verdict is not safe, each in a sentence.
	Reasons []string `json:"reasons"`
	// Fixes are the smallest changes that unblock the drain.
	Fixes     []string         `json:"fixes,omitempty"`
	Nodes     []NodePlan       `json:"nodes"`
	PDBs      []BudgetMath     `json:"pdbs"`
	Capacity  []Capacity       `json:"capacity"`
	Preempted []Preempted      `json:"preempted"`
	Order     []OrderStep      `json:"order,omitempty"`
	Findings  []report.Finding `json:"-"`
	Warnings  []string         `json:"-"`
}

// NodePlan is one drained node and what happens to each of its pods.
type NodePlan struct {
	Name    string  `json:"name"`
	Verdict Verdict `json:"verdict"`
	// Errors are kubectl drain's own errors for the node, as it prints them.
	Errors []string  `json:"errors,omitempty"`
	Pods   []PodPlan `json:"pods"`
}

// PodPlan is one pod of a drained node.
type PodPlan struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Owner is the pod's controller as Kind/name, empty for a bare pod.
	Owner  string `json:"owner,omitempty"`
	Action Action `json:"action"`
	// Reason says why, in kubectl's or the Eviction API's words.
	Reason string `json:"reason"`
	// Replaced: the pod's controller recreates it elsewhere.
	Replaced bool `json:"replaced"`
	// Destination is where the replacement is scheduled; empty when it
	// stays Pending or the pod is not replaced.
	Destination string `json:"destination"`
	// Pending explains why the replacement stays Pending.
	Pending *Pending `json:"pending,omitempty"`
	// Round is the eviction round in which the pod leaves (1: at once);
	// 0 when it never does.
	Round int `json:"round,omitempty"`
}

// Pending is why-pending's explanation of a replacement that finds no node.
type Pending struct {
	// Message is what kube-scheduler would write in the PodScheduled
	// condition.
	Message string                  `json:"message"`
	Nodes   []scheduling.NodeResult `json:"nodes,omitempty"`
}

// BudgetMath is one PodDisruptionBudget the drain touches.
type BudgetMath struct {
	Namespace          string `json:"namespace"`
	Name               string `json:"name"`
	DesiredHealthy     int32  `json:"desiredHealthy"`
	CurrentHealthy     int32  `json:"currentHealthy"`
	DisruptionsAllowed int32  `json:"disruptionsAllowed"`
	ExpectedPods       int32  `json:"expectedPods"`
	// Evicted counts the budget's pods the drain evicts; Pods counts those
	// it must evict.
	Evicted int `json:"evicted"`
	Pods    int `json:"pods"`
	// Blocks is true when the budget keeps the drain from finishing.
	Blocks bool   `json:"blocks"`
	Reason string `json:"reason,omitempty"`
}

// Capacity is a remaining node's requests before and after the drain.
type Capacity struct {
	Node        string  `json:"node"`
	Allocatable Amounts `json:"allocatable"`
	Before      Amounts `json:"before"`
	After       Amounts `json:"after"`
}

// Amounts are cpu, memory and pod count as Kubernetes quantities.
type Amounts struct {
	CPU    string `json:"cpu"`
	Memory string `json:"memory"`
	Pods   int64  `json:"pods"`
}

// Preempted is a pod on another node that a replacement preempts.
type Preempted struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Node      string `json:"node"`
	// By is the replacement that preempts it, as namespace/name.
	By string `json:"by"`
	// Destination is where its own replacement lands, empty when it stays
	// Pending or is not replaced.
	Destination string `json:"destination"`
	Replaced    bool   `json:"replaced"`
}

// OrderStep is one node of a one-after-another plan.
type OrderStep struct {
	Step    int      `json:"step"`
	Node    string   `json:"node"`
	Verdict Verdict  `json:"verdict"`
	Reasons []string `json:"reasons,omitempty"`
}

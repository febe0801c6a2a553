package drain

import "github.com/ktriage/ktriage/pkg/report"

// Plugin is the name rules and reports carry.
const Plugin = "drain-preflight"

// Rule IDs are a contract (scripts, --ignore, annotations): never reuse or
// renumber one. DP10x: kubectl drain's own filters; DP11x: the Eviction API
// and budgets; DP12x: where replacements land; DP13x: waiting for pods to
// go; DP14x: risks that do not stop the drain.
const (
	RuleDaemonSet        = "DP101"
	RuleUnmanaged        = "DP102"
	RuleLocalStorage     = "DP103"
	RuleFilterError      = "DP104"
	RuleBudgetBlocks     = "DP110"
	RuleMultipleBudgets  = "DP111"
	RuleBudgetNegative   = "DP112"
	RuleBudgetStale      = "DP113"
	RuleReplacementStuck = "DP120"
	RulePreemption       = "DP121"
	RuleNotReplaced      = "DP122"
	RuleFinalizer        = "DP130"
	RuleStuckTerminating = "DP131"
	RuleSingleReplica    = "DP140"
	RuleLocalData        = "DP141"
	RuleZoneBound        = "DP142"
	RuleUnknownOwner     = "DP143"
)

func init() {
	e, w := report.SeverityError, report.SeverityWarning
	r := func(id string, sev report.Severity, title, desc, fix string) report.Rule {
		return report.Rule{ID: id, Plugin: Plugin, Severity: sev, Title: title, Description: desc, Fix: fix}
	}
	report.Register(
		r(RuleDaemonSet, e, "DaemonSet pods without --ignore-daemonsets", "kubectl drain refuses to start while the node runs DaemonSet-managed pods and --ignore-daemonsets is not set: \"cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore)\".", "Add --ignore-daemonsets: DaemonSet pods stay on the node and tolerate the cordon."),
		r(RuleUnmanaged, e, "pods without a controller", "kubectl drain refuses to delete pods that declare no controller unless --force is set: nothing recreates them.", "Move the pod to a controller (Deployment, StatefulSet, Job), or add --force and accept that it is gone."),
		r(RuleLocalStorage, e, "pods with emptyDir data", "kubectl drain refuses pods with emptyDir volumes unless --delete-emptydir-data is set: the data is lost with the pod.", "Add --delete-emptydir-data once the data is known to be disposable."),
		r(RuleFilterError, e, "kubectl drain cannot decide a pod", "kubectl drain could not classify a pod (for example its DaemonSet could not be read) and stops before evicting anything.", "Follow kubectl's message; for an orphaned DaemonSet pod, --force deletes it."),
		r(RuleBudgetBlocks, e, "PodDisruptionBudget never allows the eviction", "The Eviction API answers 429 for the pod and the budget never recovers during the drain (maxUnavailable 0, minAvailable equal to the replicas, pods that are not healthy, or replacements that find no node): kubectl drain retries for ever.", "Relax the budget, add capacity for the replacements, or scale the workload up first."),
		r(RuleMultipleBudgets, e, "pod selected by several PodDisruptionBudgets", "The Eviction API answers 500 (\"This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.\") and kubectl drain fails for the pod.", "Make the budgets' selectors disjoint so that each pod has at most one."),
		r(RuleBudgetNegative, e, "PodDisruptionBudget with negative disruptions allowed", "The Eviction API refuses every eviction (403) while status.disruptionsAllowed is negative.", "Check the disruption controller's view of the budget (kubectl describe pdb)."),
		r(RuleBudgetStale, w, "PodDisruptionBudget status is stale", "status.observedGeneration is behind metadata.generation: the Eviction API answers 429 until the disruption controller has processed the budget.", "Check that kube-controller-manager runs its disruption controller; the drain goes on once the status is current."),
		r(RuleReplacementStuck, e, "replacement stays Pending", "A pod's controller recreates it, but no remaining node passes the scheduler's filters: it stays Pending after the drain.", "Add capacity (a node like the drained one), or relax the pod's constraints; the per-node reasons say which."),
		r(RulePreemption, w, "replacement preempts lower-priority pods", "A replacement only fits by preempting lower-priority pods on another node, as kube-scheduler would.", "Add capacity, or accept that the lower-priority pods are evicted."),
		r(RuleNotReplaced, w, "pod is not recreated", "The pod has no controller (deleted with --force) or is a DaemonSet pod: nothing places it elsewhere.", "Recreate it by hand if it is needed."),
		r(RuleFinalizer, w, "pod held by finalizers", "After eviction kubectl drain waits until the pod is gone; finalizers keep it until their controller removes them.", "Make sure the finalizer's controller runs, or set --skip-wait-for-delete-timeout."),
		r(RuleStuckTerminating, e, "pod terminating for too long", "The pod has been terminating longer than its grace period and still has finalizers: kubectl drain waits for it for ever.", "Remove the finalizer's cause, or set --skip-wait-for-delete-timeout to a value below the pod's terminating time."),
		r(RuleSingleReplica, w, "only replica of its workload", "The pod is its workload's only replica: the workload is down until the replacement is ready.", "Scale the workload to two replicas (with a PodDisruptionBudget) before the drain."),
		r(RuleLocalData, w, "data stays on the node", "The pod uses a hostPath volume or a local PersistentVolume: its data stays on the drained node.", "Copy the data away, or make sure the replacement does not need it."),
		r(RuleZoneBound, w, "volume bound to the node's zone", "The pod's PersistentVolume is bound to the drained node's zone: its replacement can only run in that zone.", "Keep capacity in that zone for the replacement."),
		r(RuleUnknownOwner, w, "pod owned by an unknown controller", "The pod's controller is not a built-in workload: the drain assumes it recreates the pod like a ReplicaSet would.", "Check how that controller handles evicted pods."),
	)
}

package pending

import "github.com/ktriage/ktriage/pkg/report"

// Plugin is the name rules and reports carry.
const Plugin = "why-pending"

// Rule IDs. They are a contract (scripts, --ignore, annotations): never reuse
// or renumber one. WP10x: before the scheduler; WP11x: scheduler filters;
// WP12x: volumes; WP13x: pods never created; WP14x–WP17x: scheduled but not
// running; WP18x: scheduler state; WP19x: the node autoscaler
// (pkg/autoscaler).
const (
	RuleGated             = "WP101"
	RuleNoScheduler       = "WP102"
	RuleUnschedulable     = "WP110"
	RuleTaint             = "WP111"
	RuleNodeAffinity      = "WP112"
	RuleResources         = "WP113"
	RuleHostPort          = "WP114"
	RulePodAffinity       = "WP115"
	RuleTopologySpread    = "WP116"
	RuleCordoned          = "WP117"
	RuleNodeName          = "WP118"
	RuleVolumeTopology    = "WP119"
	RulePVCMissing        = "WP120"
	RulePVCNoClass        = "WP121"
	RuleClassMissing      = "WP122"
	RuleNoMatchingPV      = "WP123"
	RuleWaitForConsumer   = "WP124"
	RuleQuota             = "WP130"
	RuleLimitRange        = "WP131"
	RuleAdmission         = "WP132"
	RuleNotCreated        = "WP133"
	RuleImageNotFound     = "WP140"
	RuleImageUnauthorized = "WP141"
	RuleImageInvalid      = "WP142"
	RuleImagePull         = "WP143"
	RuleMissingObject     = "WP150"
	RuleSandbox           = "WP151"
	RuleContainerCreating = "WP152"
	RuleInitContainer     = "WP160"
	RuleNodeGone          = "WP170"
	RuleNodeNotReady      = "WP171"
	RulePreemption        = "WP180"
	RuleStaleCondition    = "WP181"
	RuleNominated         = "WP182"
	RuleIncomplete        = "WP183"
	RulePreemptionBlocked = "WP184"
	RuleWaitingScheduler  = "WP185"
)

func init() {
	e, w, i := report.SeverityError, report.SeverityWarning, report.SeverityInfo
	r := func(id string, sev report.Severity, title, desc, fix string) report.Rule {
		return report.Rule{ID: id, Plugin: Plugin, Severity: sev, Title: title, Description: desc, Fix: fix}
	}
	report.Register(
		r(RuleGated, e, "scheduling gates", "The pod has spec.schedulingGates; the scheduler ignores it until every gate is removed.", "Remove the gates (the controller that added them normally does) or delete the pod."),
		r(RuleNoScheduler, e, "no scheduler serves the pod", "No running scheduler has looked at the pod: it has no PodScheduled condition and no scheduler event, while it is old enough to have been seen.", "Set spec.schedulerName to a running scheduler (default-scheduler) or start the scheduler it names."),
		r(RuleUnschedulable, e, "no node passes the scheduler's filters", "kube-scheduler's filters reject every node; the simulated message is what kube-scheduler writes into the PodScheduled condition.", "Apply the specific fixes of the WP111–WP119 findings for the same pod."),
		r(RuleTaint, e, "untolerated taint", "Nodes carry NoSchedule/NoExecute taints the pod does not tolerate.", "Add the tolerations shown to the pod template, or remove the taint from a node."),
		r(RuleNodeAffinity, e, "node selector or affinity matches no node", "The pod's nodeSelector or required node affinity matches no node's labels.", "Label a node as shown or change the selector to labels nodes have."),
		r(RuleResources, e, "insufficient resources", "No node has enough allocatable resources left for the pod's requests (including pods count, ephemeral storage, extended resources, init/sidecar and pod-level rules).", "Lower the requests to what fits (the largest fitting request is named), free capacity, or add nodes."),
		r(RuleHostPort, e, "host port in use", "The pod asks for a hostPort that pods already use on the nodes.", "Drop the hostPort (use a Service) or pick a free port."),
		r(RulePodAffinity, e, "inter-pod affinity", "Required pod affinity finds no matching pod, or anti-affinity (the pod's or an existing pod's) excludes the nodes.", "Relax the affinity to preferred, change its selector or topology key, or add nodes in new topology domains."),
		r(RuleTopologySpread, e, "topology spread", "Placing the pod on any node would exceed a DoNotSchedule topology spread constraint's maxSkew.", "Raise maxSkew, use whenUnsatisfiable: ScheduleAnyway, or add nodes in the lacking domains."),
		r(RuleCordoned, e, "cordoned node", "Nodes are marked unschedulable (kubectl cordon).", "Uncordon a node once its maintenance is over."),
		r(RuleNodeName, e, "spec.nodeName", "The pod names a node in spec.nodeName that does not exist or fails.", "Fix or remove spec.nodeName."),
		r(RuleVolumeTopology, e, "volume topology", "The pod's volumes restrict the nodes it can use (PV node affinity, zones, CSI volume limits, volume restrictions).", "Use a volume reachable from schedulable nodes, or schedule the pod where its volume lives."),
		r(RulePVCMissing, e, "PersistentVolumeClaim missing", "The pod uses a PersistentVolumeClaim that does not exist; the scheduler refuses it.", "Create the PersistentVolumeClaim."),
		r(RulePVCNoClass, e, "PVC without StorageClass", "An unbound claim names no StorageClass and the cluster has no default class, so nothing provisions a volume.", "Set storageClassName, mark a class default, or create a matching PersistentVolume."),
		r(RuleClassMissing, e, "StorageClass missing", "An unbound claim names a StorageClass that does not exist.", "Create the StorageClass or fix storageClassName."),
		r(RuleNoMatchingPV, e, "no matching PersistentVolume", "An unbound claim has no available PersistentVolume that matches it and no dynamic provisioner to create one.", "Create a PersistentVolume matching class, size, access modes and volume mode."),
		r(RuleWaitForConsumer, i, "WaitForFirstConsumer", "The claim's StorageClass binds only once a pod using it is scheduled; the claim being Pending is normal until then.", "Look at the pod's other causes; the claim follows the pod."),
		r(RuleQuota, e, "ResourceQuota exceeded", "The controller cannot create pods because they would exceed a ResourceQuota.", "Raise the quota's hard limit to at least used+requested, or lower the pods' requests or replicas."),
		r(RuleLimitRange, e, "LimitRange violated", "The controller cannot create pods because their requests or limits violate a LimitRange.", "Bring the containers' requests/limits inside the LimitRange, or change the LimitRange."),
		r(RuleAdmission, e, "admission denied", "An admission controller (Pod Security, a webhook) refuses the pods.", "Change the pod template as the denial says, or the policy."),
		r(RuleNotCreated, e, "pods not created", "The workload's controller did not create its pods.", "Read the controller's FailedCreate event shown and fix its cause."),
		r(RuleImageNotFound, e, "image not found", "The registry says the image or tag does not exist.", "Fix the image name or tag, or push the image."),
		r(RuleImageUnauthorized, e, "image pull unauthorized", "The registry refused the pull (authorization), or an imagePullSecret the pod names is missing.", "Create the imagePullSecret (kubectl create secret docker-registry) and reference it, or fix its credentials."),
		r(RuleImageInvalid, e, "invalid image name", "The image reference cannot be parsed.", "Fix the image reference (lowercase repository, valid tag or digest)."),
		r(RuleImagePull, e, "image pull failing", "The kubelet cannot pull an image.", "Read the kubelet's message shown; check the registry is reachable from the node."),
		r(RuleMissingObject, e, "missing ConfigMap, Secret or PVC", "A volume or environment reference names a ConfigMap, Secret or claim that does not exist, so the container cannot start.", "Create the object, or mark the reference optional."),
		r(RuleSandbox, e, "pod sandbox creation failing", "The container runtime cannot create the pod sandbox (network plugin, runtime handler, cgroups).", "Fix the node's CNI plugin or runtime as the message says."),
		r(RuleContainerCreating, w, "containers still being created", "The pod is bound to a node but its containers have not started yet.", "Look at the pod's events on the node (kubectl describe pod)."),
		r(RuleInitContainer, e, "init container not finished", "An init container is failing, crash-looping or still running, so the app containers do not start.", "Read the init container's logs (kubectl logs POD -c NAME --previous) and fix its failure."),
		r(RuleNodeGone, e, "node gone", "The pod is bound to a node that no longer exists.", "Delete the pod so its controller recreates it elsewhere."),
		r(RuleNodeNotReady, e, "node not ready", "The pod is bound to a node that is NotReady or unreachable.", "Repair the node, or drain/delete it so the pods move."),
		r(RulePreemption, i, "preemption could help", "Evicting lower-priority pods would make room: the failing filters are all resolvable on these nodes.", "Give the pod a higher PriorityClass, or let the scheduler preempt (preemptionPolicy)."),
		r(RuleStaleCondition, w, "scheduler message disagrees", "The pod's PodScheduled condition differs from what the scheduler would write now: the condition is stale (the cluster changed since) or the scheduler runs another version or configuration. The finding shows both messages and what the cluster shows changed since the verdict: pods bound, deleted or preempted, nodes added, cordoned, relabelled or tainted, node conditions.", "Wait for the scheduler's next attempt, or check its version and profile."),
		r(RuleIncomplete, w, "scheduler filters not evaluated", "Filters that apply to the pod could not run because the objects they read were not loaded (no permission to list them, or not in the -f / --cluster-state input), so the simulation may call a node suitable that the scheduler rejects.", "Grant get/list on the kinds named (or include them in the input) and run again."),
		r(RulePreemptionBlocked, i, "preemption cannot help", "The scheduler's preemption cannot place the pod: its preemptionPolicy is Never, or on the node nearest to taking it the pods that would have to go have a priority not below the pod's (PodDisruptionBudgets covering them are named). A warning when a PriorityClass, the policy or a budget stands in the way.", "Give the pod a PriorityClass above the pods in the way (with preemptionPolicy PreemptLowerPriority), add capacity, or relax the budget that protects them."),
		r(RuleWaitingScheduler, i, "waiting for its scheduler", "The pod names another scheduler that shows in the cluster (pods it bound, its events, its leader Lease in kube-system) but has not acted on the pod yet; a warning once the pod is older than --scheduler-timeout.", "Check that scheduler's health and logs, or set spec.schedulerName: default-scheduler."),
		r(RuleNominated, i, "nominated node", "The scheduler preempted pods for this pod on its nominated node and waits for them to leave.", "Wait for the victims to terminate (their grace period)."),
	)
}

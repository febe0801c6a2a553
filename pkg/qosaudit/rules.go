package qosaudit

import "github.com/ktriage/ktriage/pkg/report"

// Plugin is the name rules and reports carry.
const Plugin = "qos-audit"

// RequiredAnnotation on a pod, a workload or a namespace names the lowest QoS
// class its pods may have (Guaranteed, Burstable or BestEffort).
const RequiredAnnotation = "ktriage.io/qos-required"

// Rule IDs: a contract (scripts, --ignore, annotations); never reuse one.
const (
	RuleBestEffort        = "QA101"
	RuleNoMemoryLimit     = "QA102"
	RuleMemoryNotEqual    = "QA103"
	RuleNoRequests        = "QA104"
	RuleCPULimit          = "QA105"
	RuleNoLimitRange      = "QA106"
	RuleMixedClasses      = "QA107"
	RuleRequiredClass     = "QA108"
	RuleStoredMismatch    = "QA109"
	RuleLimitRangeChanged = "QA110"
	RuleMemoryOvercommit  = "QA111"
	RuleRequestOvercommit = "QA112"
	RuleLimitRangeRejects = "QA113"
)

func init() {
	e, w, i := report.SeverityError, report.SeverityWarning, report.SeverityInfo
	r := func(id string, sev report.Severity, title, desc, fix string) report.Rule {
		return report.Rule{ID: id, Plugin: Plugin, Severity: sev, Title: title, Description: desc, Fix: fix}
	}
	report.Register(
		r(RuleBestEffort, w, "BestEffort pod",
			"No container sets a cpu or memory request or limit, so the pod is BestEffort: the kubelet evicts it first under memory pressure and its containers get oom_score_adj 1000, the first the kernel kills.",
			"Set cpu and memory requests (and a memory limit) on every container."),
		r(RuleNoMemoryLimit, w, "container without memory limit",
			"A container has no memory limit (and the pod none at pod level): it can grow until the node runs out of memory, and the pod is at best Burstable.",
			"Set resources.limits.memory on the container, equal to the request for a Guaranteed pod."),
		r(RuleMemoryNotEqual, w, "memory request differs from limit in a pod that should be Guaranteed",
			"The pod is Burstable only because memory requests and limits differ, while its other settings (or a required class) ask for Guaranteed. Burstable pods are evicted before Guaranteed ones and get a higher oom_score_adj.",
			"Set the memory request equal to the memory limit."),
		r(RuleNoRequests, w, "container without requests",
			"A container sets neither a cpu nor a memory request: the scheduler reserves nothing for it, so the node can be overcommitted by it.",
			"Set cpu and memory requests to what the container needs."),
		r(RuleCPULimit, i, "CPU limit set",
			"A CPU limit makes the kernel throttle the container (CFS quota) even when the node has idle CPU; latency-sensitive services often suffer from it.",
			"Drop the CPU limit and rely on the request, unless the pod must be Guaranteed (then keep limit = request)."),
		r(RuleNoLimitRange, i, "namespace without LimitRange",
			"The namespace has no LimitRange, so containers without requests or limits stay BestEffort or unbounded.",
			"Create a LimitRange with default and defaultRequest for cpu and memory in the namespace."),
		r(RuleMixedClasses, w, "pods of one workload differ in class",
			"Pods of the same workload have different QoS classes, e.g. during a rollout that changed resources or after a LimitRange changed; they are evicted and OOM-killed differently.",
			"Finish or restart the rollout so every pod runs the current template."),
		r(RuleRequiredClass, e, "required QoS class not met",
			"The pod's class is below the class required by --require or by the ktriage.io/qos-required annotation on the pod, its workload or its namespace.",
			"Change requests and limits so the pod reaches the required class (Guaranteed: cpu and memory requests equal limits in every container)."),
		r(RuleStoredMismatch, e, "stored class differs from the computed one",
			"status.qosClass, set by the apiserver on create and never changed, differs from the class computed from the pod's spec: the pod was created by an apiserver with other rules or feature gates (e.g. PodLevelResources), or its resources were resized.",
			"Recreate the pod to get a class that matches its spec; check the apiserver's feature gates."),
		r(RuleLimitRangeChanged, i, "LimitRange changes the class",
			"The namespace's LimitRange fills in requests or limits the manifest leaves out, which changes the class the pod gets.",
			"Set the requests and limits in the manifest so its class does not depend on the namespace."),
		r(RuleMemoryOvercommit, w, "memory limits overcommit the node",
			"The memory limits of the pods on the node add up to more than its allocatable memory (or some pods have no limit): if they use what they may, the node runs out of memory and the kubelet evicts or the kernel OOM-kills.",
			"Lower memory limits towards requests, set limits on unbounded pods, or move pods off the node."),
		r(RuleRequestOvercommit, e, "requests exceed allocatable",
			"The requests of the pods on the node add up to more than its allocatable: the scheduler would not allow it, so pods were bound directly (static pods, spec.nodeName) or the node shrank.",
			"Move pods off the node or raise its allocatable."),
		r(RuleLimitRangeRejects, e, "apiserver refuses the pods",
			"After defaulting, the pod's resources break the namespace's LimitRange (min, max or maxLimitRequestRatio) or the apiserver's own validation (a request above its limit, often a limit a LimitRange default set below the manifest's request; pod-level resources below the containers'): the apiserver refuses the pod, and a workload's controller fails to create pods (FailedCreate events).",
			"Bring requests and limits inside the LimitRange's bounds and requests at or below limits (set the limit in the manifest where a LimitRange default is too low), or change the LimitRange."),
	)
}

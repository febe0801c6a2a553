package autoscaler

import (
	"fmt"
	"strings"

	"github.com/ktriage/ktriage/pkg/report"
)

// Rule IDs of the autoscaler's findings. They belong to why-pending's WP19x
// range and are a contract: never reuse or renumber one.
const (
	RuleScaleUpTriggered = "WP190"
	RuleNotTriggered     = "WP191"
	RuleSilent           = "WP192"
	RuleNoAutoscaler     = "WP193"
	RuleNotRunning       = "WP194"
	RuleNoGroupFits      = "WP195"
	RuleScaleUpFailing   = "WP196"
)

// Rules documents the findings; the plugin that reports them registers them
// under its name (Plugin is left empty here).
var Rules = []report.Rule{
	{ID: RuleScaleUpTriggered, Severity: report.SeverityInfo, Title: "autoscaler is adding a node",
		Description: "The node autoscaler decided to add a node for the pod: cluster-autoscaler's TriggeredScaleUp event (node group and sizes) or Karpenter's nomination of a NodeClaim. The pod binds once the node is Ready.",
		Fix:         "Wait for the node; new cloud nodes usually take one to five minutes."},
	{ID: RuleNotTriggered, Severity: report.SeverityError, Title: "autoscaler will not add a node",
		Description: "The node autoscaler looked at the pod and will not add a node for it: cluster-autoscaler's NotTriggerScaleUp event or Karpenter's FailedScheduling event. Each reason is put in words and pinned on the node group or NodePool it concerns (from the status ConfigMap, the NodePools and a check of the pod against each group's template node).",
		Fix:         "Apply the fix of each reason: raise a group's max or a NodePool's limits, tolerate its taints, match its labels, or lower the pod's requests."},
	{ID: RuleSilent, Severity: report.SeverityWarning, Title: "autoscaler ignores the pod",
		Description: "The scheduler found the pod unschedulable minutes ago and the running autoscaler has said nothing about it: it is not watching it (no Unschedulable condition, a DaemonSet pod, a priority below cluster-autoscaler's expendable cutoff, a scale-up delay, a preempting pod) or filters it out.",
		Fix:         "Fix what keeps the autoscaler away from the pod, or read the autoscaler's log for it."},
	{ID: RuleNoAutoscaler, Severity: report.SeverityInfo, Title: "no autoscaler",
		Description: "No node autoscaler was found (no cluster-autoscaler status ConfigMap, Lease or Deployment, no Karpenter NodePool): no node is added for an unschedulable pod.",
		Fix:         "Add capacity the pod fits on, or run a node autoscaler."},
	{ID: RuleNotRunning, Severity: report.SeverityWarning, Title: "autoscaler not running",
		Description: "The node autoscaler is installed but not running or not working: its status ConfigMap or leader Lease is stale, its Deployment has no ready replica, it is still initializing, or it finds the cluster unhealthy.",
		Fix:         "Start or repair the autoscaler and read its log."},
	{ID: RuleNoGroupFits, Severity: report.SeverityError, Title: "no node group or NodePool can take the pod",
		Description: "Checked like the autoscaler checks a node it could add (the scheduler's filters on each node group's or NodePool's template node, its max size, backoff, limits and readiness), no group can take the pod, so no node will come for it.",
		Fix:         "Apply the fix named for the group that should take the pod."},
	{ID: RuleScaleUpFailing, Severity: report.SeverityWarning, Title: "scale-up failed or stalled",
		Description: "The autoscaler asked for a node for the pod but the scale-up failed (cloud provider error, backoff, a NodeClaim that did not launch) or the node has not registered in time.",
		Fix:         "Fix the cloud provider error named; the autoscaler retries."},
}

// Findings turns the explanation into findings about obj (the pod).
func (e *Explanation) Findings(obj report.ObjectRef) []report.Finding {
	if e == nil {
		return nil
	}
	who := string(e.Kind)
	if e.Kind == KindKarpenter {
		who = "Karpenter"
	}
	var out []report.Finding
	add := func(rule string, sev report.Severity, msg string, reasons []Reason) {
		out = append(out, report.Finding{RuleID: rule, Severity: sev, Object: obj, Message: msg, Fix: fixes(reasons),
			Details: map[string]any{"autoscaler": string(e.Kind), "verdict": string(e.Verdict), "reasons": reasons, "nodeGroups": e.NodeGroups}})
	}
	health := pick(e.Reasons, codeNotRunning, codeInitializing, "cluster-unhealthy")
	if len(health) > 0 {
		add(RuleNotRunning, report.SeverityWarning, joinMessages(health), health)
	}
	switch e.Verdict {
	case VerdictNone:
		add(RuleNoAutoscaler, report.SeverityInfo, joinMessages(e.Reasons), e.Reasons)
	case VerdictTriggered:
		add(RuleScaleUpTriggered, report.SeverityInfo, e.Summary, nil)
		if len(e.Reasons) > 0 {
			add(RuleScaleUpFailing, report.SeverityWarning, joinMessages(e.Reasons), e.Reasons)
		}
	case VerdictNotTriggered:
		add(RuleNotTriggered, report.SeverityError, fmt.Sprintf("%s will not add a node: %s", who, joinMessages(e.Reasons)), e.Reasons)
	case VerdictNoEvent:
		ignored := pick(e.Reasons, silenceCodes...)
		if len(ignored) > 0 && len(health) == 0 {
			add(RuleSilent, report.SeverityWarning, joinMessages(ignored), ignored)
		}
		if nofit := groupReasons(e.Reasons); len(nofit) > 0 {
			what := "no node group can take the pod"
			if e.Kind == KindKarpenter {
				what = "no NodePool can take the pod"
			}
			add(RuleNoGroupFits, report.SeverityError, what+": "+joinMessages(nofit), nofit)
		}
	}
	return out
}

// silenceCodes are the reasons an autoscaler says nothing about a pod.
var silenceCodes = []string{codeSilent, "not-marked-unschedulable", "daemonset", "preempting", "expendable", "scale-up-delay", "scale-up-in-progress"}

// groupReasons are the reasons a silence analysis found against the groups.
func groupReasons(rs []Reason) []Reason {
	var out []Reason
	for _, r := range rs {
		if r.Source == "simulation" || r.NodeGroup != "" || r.Code == "no-nodepool" {
			out = append(out, r)
		}
	}
	return out
}

func pick(rs []Reason, codes ...string) []Reason {
	var out []Reason
	for _, r := range rs {
		for _, c := range codes {
			if r.Code == c {
				out = append(out, r)
			}
		}
	}
	return out
}

func joinMessages(rs []Reason) string {
	msgs := make([]string, 0, len(rs))
	for _, r := range rs {
		msgs = append(msgs, r.Message)
	}
	return strings.Join(msgs, "; ")
}

// fixes lists each distinct fix on its own line.
func fixes(rs []Reason) string {
	var out []string
	seen := map[string]bool{}
	for _, r := range rs {
		if r.Fix != "" && !seen[r.Fix] {
			seen[r.Fix] = true
			out = append(out, r.Fix)
		}
	}
	return strings.Join(out, "\n")
}

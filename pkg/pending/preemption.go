package pending

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/ktriage/ktriage/pkg/report"
	"github.com/ktriage/ktriage/pkg/scheduling"
)

// preemptionBlockedFinding says in words why the scheduler's preemption
// cannot place the pod: the pod may not preempt, or on the node nearest to
// taking it the pods that would have to go have a priority the pod cannot
// evict (and budgets that protect them); and what changes that.
func (a *analyzer) preemptionBlockedFinding(pod *corev1.Pod, ex *Explanation, pb *scheduling.PreemptionBlocked) {
	self := fmt.Sprintf("the pod (priority %d%s)", pb.Priority, classOf(pb.PriorityClass))
	var msg string
	var fixes []string
	var blockers []scheduling.BlockingPod
	budgets := map[string]bool{}
	var budgetList []string
	if pb.Nearest != nil {
		for _, p := range pb.Nearest.Pods {
			if !p.Preemptible {
				blockers = append(blockers, p)
			}
			for _, b := range p.Budgets {
				if !budgets[b] {
					budgets[b] = true
					budgetList = append(budgetList, b)
				}
			}
		}
	}
	switch {
	case pb.PolicyNever:
		msg = fmt.Sprintf("preemption cannot help: %s has preemptionPolicy Never (%s), so the scheduler evicts nothing for it", self, pb.PolicyFrom)
		fixes = append(fixes, "let it preempt: give it a PriorityClass with preemptionPolicy: PreemptLowerPriority"+aboveHint(pb))
	case pb.Nearest == nil:
		msg = fmt.Sprintf("preemption cannot help: no node takes %s even with every other pod gone; what rejects it is not other pods", self)
	case len(blockers) > 0:
		msg = fmt.Sprintf("preemption cannot help: %s may only evict pods of lower priority", self)
		fixes = append(fixes, "give the pod a PriorityClass"+aboveHint(pb))
	default:
		msg = fmt.Sprintf("preemption found no victims for %s", self)
	}
	if pb.Nearest != nil {
		msg += fmt.Sprintf("; on node %s, the nearest to taking it, %s would have to go", pb.Nearest.Node, describeLeavers(pb.Nearest.Pods))
		if len(blockers) > 0 && !pb.PolicyNever {
			msg += fmt.Sprintf("; %s not below %d", priorityVerb(blockers), pb.Priority)
		}
		fixes = append(fixes, fmt.Sprintf("or add capacity so nothing has to go: a node like %s with room for the pod's requests beside its pods", pb.Nearest.Node))
	}
	if len(budgetList) > 0 {
		msg += "; PodDisruptionBudget " + strings.Join(budgetList, ", ") + " protects them"
		fixes = append(fixes, "preemption breaks PodDisruptionBudget "+strings.Join(budgetList, ", ")+" only when nothing else makes room: raise its maxUnavailable or the workload's replicas if those pods may go")
	}
	fix := strings.Join(fixes, "; ")
	if fix == "" {
		fix = "apply the fixes of the other findings for this pod: preemption does not change what rejects it"
	}
	details := map[string]any{"priority": pb.Priority, "policyNever": pb.PolicyNever}
	if pb.Nearest != nil {
		details["node"] = pb.Nearest.Node
		details["pods"] = pb.Nearest.Pods
	}
	if len(pb.HigherClasses) > 0 {
		details["higherPriorityClasses"] = pb.HigherClasses
	}
	ex.Evidence = append(ex.Evidence, msg)
	// Context when everything runs at the default priority; a warning when
	// priorities, the policy or budgets are what stand in the way.
	sev := report.SeverityInfo
	if pb.PolicyNever || len(budgetList) > 0 || pb.PriorityClass != "" || len(blockers) > 0 && blockers[0].Priority != 0 {
		sev = report.SeverityWarning
	}
	a.add(ex, RulePreemptionBlocked, sev, msg, fix, details)
}

func classOf(name string) string {
	if name == "" {
		return ""
	}
	return ", PriorityClass " + name
}

// describeLeavers names the pods with their priorities and budgets.
func describeLeavers(pods []scheduling.BlockingPod) string {
	const max = 5
	var parts []string
	for i, p := range pods {
		if i == max {
			parts = append(parts, fmt.Sprintf("and %d more", len(pods)-max))
			break
		}
		s := fmt.Sprintf("%s (priority %d%s)", p.Pod, p.Priority, classOf(p.PriorityClass))
		parts = append(parts, s)
	}
	if len(pods) == 1 {
		return "pod " + parts[0]
	}
	return "pods " + strings.Join(parts, ", ")
}

func priorityVerb(blockers []scheduling.BlockingPod) string {
	if len(blockers) == 1 {
		return blockers[0].Pod + "'s priority is"
	}
	return fmt.Sprintf("%d of them have a priority", len(blockers))
}

// aboveHint names a value above every pod that would have to go, and the
// classes that already have one.
func aboveHint(pb *scheduling.PreemptionBlocked) string {
	highest := int32(-1 << 31)
	if pb.Nearest != nil {
		for _, p := range pb.Nearest.Pods {
			highest = max(highest, p.Priority)
		}
	}
	if pb.Nearest == nil || highest < pb.Priority {
		return ""
	}
	s := fmt.Sprintf(" whose value is above %d", highest)
	if len(pb.HigherClasses) > 0 {
		var names []string
		for i, c := range pb.HigherClasses {
			if i == 3 {
				break
			}
			names = append(names, fmt.Sprintf("%s (%d)", c.Name, c.Value))
		}
		return s + ": priorityClassName: " + pb.HigherClasses[0].Name + " (classes above it: " + strings.Join(names, ", ") + ")"
	}
	return s + fmt.Sprintf(" (none exists yet: kubectl create priorityclass <name> --value=%d --preemption-policy=PreemptLowerPriority, then set priorityClassName)", highest+1)
}

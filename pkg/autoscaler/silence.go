package autoscaler

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Reason codes of a silence that are the autoscaler's own state or the
// pod's, rather than its word about the pod.
const (
	codeNotRunning   = "not-running"
	codeSilent       = "silent"
	codeTooNew       = "too-new"
	codeNoGroupFits  = "no-group-fits"
	codeInitializing = "initializing"
)

// silence explains an autoscaler that said nothing about the pod: it does
// not run, the pod is too new for it, or something about the pod makes it
// look away; and, from the groups' template checks, which groups could take
// the pod (takers) or that none can (groupReasons say why).
func (s *State) silence(ex *Explanation, pod *corev1.Pod, who string, running *bool, groupReasons []Reason, noneCanTake bool, takers []string) {
	since, marked := unschedulableSince(pod)
	waited := s.now.Sub(since)
	var head string
	if running != nil && !*running {
		ex.Reasons = append(ex.Reasons, Reason{Code: codeNotRunning, Source: "status",
			Message: displayName(who) + " is not running (" + strings.Join(ex.Evidence, "; ") + ")",
			Fix:     runFix(who)})
		head = displayName(who) + " is not running"
	}
	if s.ca != nil && who == sourceClusterAutoscaler && s.ca.status != nil {
		st := s.ca.status
		if st.AutoscalerStatus == "Initializing" {
			ex.Reasons = append(ex.Reasons, Reason{Code: codeInitializing, Source: "status",
				Message: "cluster-autoscaler is still initializing (autoscalerStatus: Initializing)",
				Fix:     "wait for it to finish starting; if it stays so, read its log (it cannot list the cloud provider's node groups)"})
		}
		if st.ClusterHealth == "Unhealthy" {
			ex.Reasons = append(ex.Reasons, Reason{Code: "cluster-unhealthy", Source: "status",
				Message: "cluster-autoscaler finds the cluster unhealthy (too many unready nodes) and does not scale it",
				Fix:     "repair or remove the unready nodes (the limits are --max-total-unready-percentage and --ok-total-unready-count)"})
		}
	}
	podReasons := s.podIgnored(pod, who, marked, waited)
	ex.Reasons = append(ex.Reasons, podReasons...)
	if head == "" && len(podReasons) > 0 {
		head = "no event: " + podReasons[0].Message
	}
	if head == "" {
		if waited < s.opts.Grace {
			ex.Reasons = append(ex.Reasons, Reason{Code: codeTooNew, Source: "pod",
				Message: fmt.Sprintf("unschedulable for only %s: %s reacts within seconds to a minute; look again shortly", age(waited), displayName(who))})
			head = fmt.Sprintf("no event yet (unschedulable for %s)", age(waited))
		} else {
			ex.Reasons = append(ex.Reasons, Reason{Code: codeSilent, Source: "event",
				Message: fmt.Sprintf("%s has said nothing about the pod in the %s since it was marked unschedulable", displayName(who), age(waited)),
				Fix:     silentFix(who, pod)})
			head = fmt.Sprintf("no event from %s in %s", displayName(who), age(waited))
		}
	}
	group := "node group"
	if who == sourceKarpenter {
		group = "NodePool"
	}
	switch {
	case noneCanTake:
		ex.Reasons = append(ex.Reasons, groupReasons...)
		head += "; no " + group + " can take the pod"
	case len(takers) > 0:
		head += fmt.Sprintf("; %s %s could take it", group, joinCut(takers, 3))
	}
	ex.Summary = head
}

// podIgnored lists what about the pod makes the autoscaler look away.
func (s *State) podIgnored(pod *corev1.Pod, who string, marked bool, waited time.Duration) []Reason {
	var out []Reason
	if !marked {
		sched := pod.Spec.SchedulerName
		if sched == "" {
			sched = corev1.DefaultSchedulerName
		}
		fix := fmt.Sprintf("make sure the pod's scheduler (%s) runs and marks pods it cannot place", sched)
		if who == sourceClusterAutoscaler && sched != corev1.DefaultSchedulerName {
			fix += fmt.Sprintf(", or list it in cluster-autoscaler's --bypassed-scheduler-names=%s", sched)
		}
		out = append(out, Reason{Code: "not-marked-unschedulable", Source: "pod",
			Message: fmt.Sprintf("the pod has no PodScheduled=False condition with reason Unschedulable: %s only acts on pods their scheduler (%s) gave up on", displayName(who), sched),
			Fix:     fix})
	}
	for _, ref := range pod.OwnerReferences {
		if ref.Controller != nil && *ref.Controller && ref.Kind == "DaemonSet" {
			out = append(out, Reason{Code: "daemonset", Source: "pod",
				Message: displayName(who) + " never adds a node for a DaemonSet's pod: it is meant for one existing node",
				Fix:     "make room on the DaemonSet pod's node (evict or shrink other pods), or lower its requests"})
		}
	}
	if n := pod.Status.NominatedNodeName; n != "" {
		msg := fmt.Sprintf("the scheduler nominated node %s after preempting pods there: cluster-autoscaler counts the pod as fitting it", n)
		if who == sourceKarpenter {
			msg = fmt.Sprintf("the scheduler nominated node %s after preempting pods there: Karpenter leaves preempting pods alone", n)
		}
		out = append(out, Reason{Code: "preempting", Source: "pod", Message: msg, Fix: "wait for the preempted pods to leave the node"})
	}
	if who != sourceClusterAutoscaler {
		return out
	}
	if p := pod.Spec.Priority; p != nil && *p < expendableCutoff {
		out = append(out, Reason{Code: "expendable", Source: "pod",
			Message: fmt.Sprintf("the pod's priority %d is below cluster-autoscaler's --expendable-pods-priority-cutoff (-10 by default): expendable pods never trigger a scale-up", *p),
			Fix:     "give the pod a PriorityClass of at least -10, or lower cluster-autoscaler's --expendable-pods-priority-cutoff"})
	}
	if v := pod.Annotations[podScaleUpDelayAnnotation]; v != "" {
		if d, err := time.ParseDuration(v); err == nil && waited < d {
			out = append(out, Reason{Code: "scale-up-delay", Source: "pod",
				Message: fmt.Sprintf("the pod's annotation %s=%s holds its scale-up back for %s more", podScaleUpDelayAnnotation, v, age(d-waited)),
				Fix:     "wait, or remove the annotation"})
		}
	}
	if s.ca != nil && s.ca.status != nil {
		var growing []string
		for _, g := range s.ca.status.NodeGroups {
			if g.ScaleUp == "InProgress" {
				growing = append(growing, g.Name)
			}
		}
		if len(growing) > 0 || s.ca.status.ClusterScaleUp == "InProgress" {
			msg := "a scale-up is in progress"
			if len(growing) > 0 {
				msg += " (" + strings.Join(growing, ", ") + ")"
			}
			out = append(out, Reason{Code: "scale-up-in-progress", Source: "status",
				Message: msg + ": cluster-autoscaler counts the pod against the nodes being added and reports again once they join",
				Fix:     "wait for the new nodes to register (at most --max-node-provision-time, 15 minutes by default)"})
		}
	}
	return out
}

// displayName is how messages name an autoscaler.
func displayName(who string) string {
	if who == sourceKarpenter {
		return "Karpenter"
	}
	return who
}

func runFix(who string) string {
	if who == sourceKarpenter {
		return "start Karpenter's controller (its Deployment, usually in kube-system or karpenter) and read its log"
	}
	return "start cluster-autoscaler (kubectl -n kube-system get deploy,pods | grep cluster-autoscaler) and read its log"
}

func silentFix(who string, pod *corev1.Pod) string {
	if who == sourceKarpenter {
		return fmt.Sprintf("read Karpenter's log for the pod (kubectl logs -n kube-system deploy/karpenter | grep %s)", pod.Name)
	}
	return fmt.Sprintf("read cluster-autoscaler's log for the pod (kubectl -n kube-system logs deploy/cluster-autoscaler | grep %s): --new-pod-scale-up-delay and its pod filters can hold it back", pod.Name)
}

// caGroupReasons say, group by group, why none takes the pod: the status
// keeps it from growing, or the pod does not fit its template node.
func (s *State) caGroupReasons(pod *corev1.Pod, groups *caGroupSet) ([]Reason, bool) {
	if len(groups.list) == 0 {
		return nil, false
	}
	var out []Reason
	for _, ng := range groups.list {
		canGrow := ng.CanScaleUp == nil || *ng.CanScaleUp
		fits := ng.Fits == nil || *ng.Fits
		if canGrow && fits {
			return nil, false
		}
		if !canGrow {
			for _, b := range ng.Blockers {
				switch {
				case strings.HasPrefix(b, "at its max size"):
					out = append(out, maxSizeReason(ng, "status", ""))
				case strings.HasPrefix(b, "in backoff"):
					out = append(out, s.backoffReason(ng, "status", ""))
				case strings.HasPrefix(b, "unhealthy"):
					out = append(out, unhealthyReason(ng.Name, "status", ""))
				}
			}
		}
		if !fits {
			r := groups.sim[ng.Name]
			if groups.pre != nil {
				out = append(out, groupFilterReason(codeNoGroupFits, ng.Name, *groups.pre, pod, "simulation", ""))
			}
			for _, rs := range r.Reasons {
				out = append(out, groupFilterReason(codeNoGroupFits, ng.Name, rs, pod, "simulation", ""))
			}
		}
	}
	return out, true
}

package pending

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// change is one thing in the cluster that changed after the scheduler's
// verdict, as the snapshot shows it.
type change struct {
	At   time.Time `json:"at"`
	Node string    `json:"node,omitempty"`
	What string    `json:"what"`
}

// maxChanges caps the changes a stale verdict lists.
const maxChanges = 8

// verdictTime is when the scheduler's stored verdict was written: the
// PodScheduled condition's lastTransitionTime, or the last FailedScheduling
// event for the pod when that is later (the message is updated on every
// attempt, the transition time only on the first).
func (a *analyzer) verdictTime(pod *corev1.Pod, cond *corev1.PodCondition) (time.Time, string) {
	t, what := cond.LastTransitionTime.Time, "the condition's lastTransitionTime"
	for _, e := range a.events("Pod", pod.Namespace, pod.Name, string(pod.UID)) {
		if e.Reason == "FailedScheduling" && eventTime(e).After(t) {
			t, what = eventTime(e), "the last FailedScheduling event"
		}
	}
	return t, what
}

// changesSince lists what the snapshot shows changed after since: nodes
// added, cordoned, uncordoned, relabelled, tainted or changing condition;
// pods bound, being deleted or deleted (their events). Changes on the nodes
// in focus (where the pod fits now) come first.
func (a *analyzer) changesSince(since time.Time, self *corev1.Pod, focus []string) []change {
	var out []change
	// API timestamps have whole seconds: a change in the verdict's own
	// second counts.
	since = since.Truncate(time.Second)
	add := func(at time.Time, node, what string) {
		if !at.Before(since) {
			out = append(out, change{At: at, Node: node, What: what})
		}
	}
	for _, n := range a.snap.Nodes {
		nodeChanges(n, add)
	}
	for _, p := range a.snap.Pods {
		if p.UID == self.UID || p.Spec.NodeName == "" {
			continue
		}
		podChanges(p, add)
	}
	seen := map[string]bool{}
	for _, e := range a.snap.Events {
		if e.InvolvedObject.UID == self.UID || eventTime(e).Before(since) {
			continue
		}
		what, node := eventChange(e)
		if what == "" || seen[what] {
			continue
		}
		seen[what] = true
		out = append(out, change{At: eventTime(e), Node: node, What: what})
	}
	inFocus := map[string]bool{}
	for _, n := range focus {
		inFocus[n] = true
	}
	sort.SliceStable(out, func(i, j int) bool {
		fi, fj := inFocus[out[i].Node], inFocus[out[j].Node]
		if fi != fj {
			return fi
		}
		return out[i].At.Before(out[j].At)
	})
	return dedupeChanges(out)
}

// nodeChanges adds what the node's own fields date: its creation, its
// taints (cordoning among them), its conditions' transitions and the
// writes its managed fields record.
func nodeChanges(n *corev1.Node, add func(at time.Time, node, what string)) {
	add(n.CreationTimestamp.Time, n.Name, "node "+n.Name+" added")
	for _, t := range n.Spec.Taints {
		if t.TimeAdded == nil {
			continue
		}
		if t.Key == corev1.TaintNodeUnschedulable {
			add(t.TimeAdded.Time, n.Name, "node "+n.Name+" cordoned")
			continue
		}
		add(t.TimeAdded.Time, n.Name, fmt.Sprintf("node %s tainted %s", n.Name, taintString(t)))
	}
	for _, c := range n.Status.Conditions {
		switch c.Type {
		case corev1.NodeReady, corev1.NodeMemoryPressure, corev1.NodeDiskPressure, corev1.NodePIDPressure, corev1.NodeNetworkUnavailable:
			add(c.LastTransitionTime.Time, n.Name, fmt.Sprintf("node %s condition %s became %s", n.Name, c.Type, c.Status))
		}
	}
	for _, mf := range n.ManagedFields {
		if mf.Time == nil || mf.Subresource != "" || mf.FieldsV1 == nil {
			continue
		}
		if what := nodeFieldsChanged(mf.FieldsV1.GetRawBytes(), n); what != "" {
			add(mf.Time.Time, n.Name, fmt.Sprintf("node %s: %s (by %s)", n.Name, what, mf.Manager))
		}
	}
}

// podChanges adds when a scheduled pod was bound (or created, when its
// PodScheduled condition has no time) and when its deletion was asked.
func podChanges(p *corev1.Pod, add func(at time.Time, node, what string)) {
	name := p.Namespace + "/" + p.Name
	if c := podScheduledCondition(p); c != nil && c.Status == corev1.ConditionTrue && !c.LastTransitionTime.IsZero() {
		add(c.LastTransitionTime.Time, p.Spec.NodeName, fmt.Sprintf("pod %s bound to %s", name, p.Spec.NodeName))
	} else {
		add(p.CreationTimestamp.Time, p.Spec.NodeName, fmt.Sprintf("pod %s created on %s", name, p.Spec.NodeName))
	}
	if p.DeletionTimestamp != nil {
		asked := p.DeletionTimestamp.Time
		if p.DeletionGracePeriodSeconds != nil {
			asked = asked.Add(-time.Duration(*p.DeletionGracePeriodSeconds) * time.Second)
		}
		add(asked, p.Spec.NodeName, fmt.Sprintf("pod %s on %s is being deleted", name, p.Spec.NodeName))
	}
}

// eventChange reads a change from an event: a pod killed, preempted or
// deleted by its controller, a node cordoned, uncordoned, registered,
// removed or changing readiness. what is empty for any other event.
func eventChange(e *corev1.Event) (what, node string) {
	io := e.InvolvedObject
	switch {
	case io.Kind == "Pod" && (e.Reason == "Killing" || e.Reason == "Preempted"):
		node = e.Source.Host
		what = fmt.Sprintf("pod %s/%s deleted (%s)", io.Namespace, io.Name, strings.ToLower(e.Reason))
		if e.Reason == "Preempted" {
			what = fmt.Sprintf("pod %s/%s preempted", io.Namespace, io.Name)
		}
	case e.Reason == "SuccessfulDelete" && strings.HasPrefix(e.Message, "Deleted pod: "):
		what = fmt.Sprintf("pod %s/%s deleted by %s %s", io.Namespace, strings.TrimPrefix(e.Message, "Deleted pod: "), strings.ToLower(io.Kind), io.Name)
	case io.Kind == "Node":
		node = io.Name
		switch e.Reason {
		case "NodeNotSchedulable":
			what = "node " + io.Name + " cordoned"
		case "NodeSchedulable":
			what = "node " + io.Name + " uncordoned"
		case "RegisteredNode":
			what = "node " + io.Name + " registered"
		case "RemovingNode", "DeletingNode":
			what = "node " + io.Name + " removed"
		case "NodeReady", "NodeNotReady":
			what = "node " + io.Name + " " + strings.TrimPrefix(e.Reason, "Node")
		}
	}
	return what, node
}

func dedupeChanges(cs []change) []change {
	seen := map[string]bool{}
	out := cs[:0]
	for _, c := range cs {
		if !seen[c.What] {
			seen[c.What] = true
			out = append(out, c)
		}
	}
	return out
}

// nodeFieldsChanged reads a managedFields entry of a node (fieldsV1) for
// the fields the scheduler reads: labels, taints, spec.unschedulable.
func nodeFieldsChanged(raw []byte, n *corev1.Node) string {
	var f map[string]any
	if json.Unmarshal(raw, &f) != nil {
		return ""
	}
	var what []string
	if md, ok := f["f:metadata"].(map[string]any); ok {
		if _, ok := md["f:labels"]; ok {
			what = append(what, "labels set")
		}
	}
	if spec, ok := f["f:spec"].(map[string]any); ok {
		if _, ok := spec["f:unschedulable"]; ok {
			if n.Spec.Unschedulable {
				what = append(what, "cordoned")
			} else {
				what = append(what, "spec.unschedulable set")
			}
		}
		if _, ok := spec["f:taints"]; ok {
			what = append(what, "taints set")
		}
	}
	return strings.Join(what, ", ")
}

// describeChanges renders changes for a finding.
func describeChanges(cs []change, since time.Time, sinceWhat string, now time.Time) string {
	head := fmt.Sprintf("since %s (%s, %s ago)", since.UTC().Format(time.RFC3339), sinceWhat, age(now.Sub(since)))
	if len(cs) == 0 {
		return head + " nothing the snapshot shows changed: the scheduler may run another version or configuration, or the change left no trace (events expire after an hour)"
	}
	var parts []string
	for i, c := range cs {
		if i == maxChanges {
			parts = append(parts, fmt.Sprintf("and %d more", len(cs)-maxChanges))
			break
		}
		parts = append(parts, fmt.Sprintf("%s (%s ago)", c.What, age(now.Sub(c.At))))
	}
	return head + ": " + strings.Join(parts, "; ")
}

// staleVerdict explains a verdict that differs from the simulation: both
// messages, and what changed since the scheduler wrote it.
func (a *analyzer) staleVerdict(pod *corev1.Pod, cond *corev1.PodCondition, focus []string) (string, map[string]any) {
	since, what := a.verdictTime(pod, cond)
	if since.IsZero() {
		return "", nil
	}
	cs := a.changesSince(since, pod, focus)
	ex := describeChanges(cs, since, what, a.now)
	if cs == nil {
		cs = []change{}
	}
	return ex, map[string]any{"since": metav1.NewTime(since), "changes": cs}
}

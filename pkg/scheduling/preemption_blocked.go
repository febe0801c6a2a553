package scheduling

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// PreemptionBlocked says why preemption cannot place a pod: whether it may
// preempt at all, and on the node nearest to taking it, which pods would
// have to leave, their priorities against the pod's and the budgets that
// protect them.
type PreemptionBlocked struct {
	Priority      int32  `json:"priority"`
	PriorityClass string `json:"priorityClass,omitempty"`
	// PolicyNever: the pod may not preempt; PolicyFrom says where that
	// comes from ("spec.preemptionPolicy" or "PriorityClass <name>").
	PolicyNever bool   `json:"policyNever,omitempty"`
	PolicyFrom  string `json:"policyFrom,omitempty"`
	// Nearest is the node where the fewest pods would have to leave for the
	// pod to fit, whatever their priority; nil when no node takes the pod
	// even emptied: other pods are not what rejects it.
	Nearest *NearestNode `json:"nearest,omitempty"`
	// HigherClasses are PriorityClasses (not system-*) whose value is above
	// every pod that would have to leave, lowest first.
	HigherClasses []PriorityClassValue `json:"higherClasses,omitempty"`
}

// NearestNode is a node and the pods that would have to leave it.
type NearestNode struct {
	Node string `json:"node"`
	// Pods would have to leave, most important first.
	Pods []BlockingPod `json:"pods"`
}

// BlockingPod is a pod that would have to leave a node for the pod to fit.
type BlockingPod struct {
	// Pod is namespace/name.
	Pod           string `json:"pod"`
	Priority      int32  `json:"priority"`
	PriorityClass string `json:"priorityClass,omitempty"`
	// Preemptible: its priority is below the pod's, so the scheduler may
	// evict it.
	Preemptible bool `json:"preemptible"`
	// Budgets are the PodDisruptionBudgets covering it that allow no
	// further disruption once the pods before it have gone, as
	// "name (N disruptions allowed)".
	Budgets []string `json:"budgets,omitempty"`
}

// PriorityClassValue is a PriorityClass and its value.
type PriorityClassValue struct {
	Name  string `json:"name"`
	Value int32  `json:"value"`
}

// preemptionBlocked explains a failed preemption: on each node the
// scheduler would try (rejected for reasons evicting pods can change), the
// pods that would have to leave whatever their priority; the nearest node
// needs the fewest, then the fewest the pod may not evict.
func (c *cycle) preemptionBlocked(preFail *Reason, statuses [][]Reason) *PreemptionBlocked {
	pb := &PreemptionBlocked{Priority: c.e.priorityOf(c.pod), PriorityClass: c.pod.Spec.PriorityClassName}
	if c.e.preemptionPolicyOf(c.pod) == corev1.PreemptNever {
		pb.PolicyNever = true
		// Admission copies the class's policy into the spec: name the class
		// when it is where the policy comes from.
		pb.PolicyFrom = "spec.preemptionPolicy"
		for _, pc := range c.e.snap.PriorityClasses {
			if pc != nil && pc.Name == c.pod.Spec.PriorityClassName && pc.PreemptionPolicy != nil && *pc.PreemptionPolicy == corev1.PreemptNever {
				pb.PolicyFrom = "PriorityClass " + pc.Name
			}
		}
	}
	var best []*corev1.Pod
	bestNode := ""
	for i, st := range statuses {
		resolvable := preFail != nil && !preFail.Unresolvable || preFail == nil && len(st) > 0 && !st[0].Unresolvable
		if !resolvable {
			continue
		}
		ni := c.nodes[i]
		leavers, ok := c.leaversOn(ni)
		if !ok {
			continue
		}
		if bestNode == "" || c.nearer(leavers, best) {
			best, bestNode = leavers, ni.node.Name
		}
	}
	if bestNode == "" {
		return pb
	}
	pb.Nearest = &NearestNode{Node: bestNode, Pods: c.blockingPods(best)}
	highest := pb.Priority
	for _, p := range pb.Nearest.Pods {
		highest = max(highest, p.Priority)
	}
	for _, pc := range c.e.snap.PriorityClasses {
		if pc != nil && pc.Value > highest && !strings.HasPrefix(pc.Name, "system-") {
			pb.HigherClasses = append(pb.HigherClasses, PriorityClassValue{Name: pc.Name, Value: pc.Value})
		}
	}
	sort.Slice(pb.HigherClasses, func(i, j int) bool {
		a, b := pb.HigherClasses[i], pb.HigherClasses[j]
		if a.Value != b.Value {
			return a.Value < b.Value
		}
		return a.Name < b.Name
	})
	return pb
}

// leaversOn is SelectVictimsOnNode with every pod a potential victim: the
// pods that would have to leave for the pod to fit, keeping the most
// important ones it fits beside. ok is false when the pod does not fit even
// on the emptied node.
func (c *cycle) leaversOn(ni *nodeInfo) ([]*corev1.Pod, bool) {
	reduced := &nodeInfo{node: ni.node, allocatable: ni.allocatable}
	if len(c.filterWithNominated(reduced)) > 0 {
		return nil, false
	}
	pods := append([]*corev1.Pod(nil), ni.pods...)
	sort.SliceStable(pods, func(i, j int) bool { return c.moreImportant(pods[i], pods[j]) })
	var leavers []*corev1.Pod
	for _, p := range pods {
		trial := reduced.clone()
		trial.addPod(c.e, p)
		if len(c.filterWithNominated(trial)) == 0 {
			reduced = trial
			continue
		}
		leavers = append(leavers, p)
	}
	return leavers, true
}

// nearer: fewer pods to leave, then fewer the pod may not evict, then a
// lower highest priority among them.
func (c *cycle) nearer(a, b []*corev1.Pod) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	prio := c.e.priorityOf(c.pod)
	blocked := func(ps []*corev1.Pod) (n int, highest int32) {
		highest = -1 << 31
		for _, p := range ps {
			pr := c.e.priorityOf(p)
			if pr >= prio {
				n++
			}
			highest = max(highest, pr)
		}
		return n, highest
	}
	na, ha := blocked(a)
	nb, hb := blocked(b)
	if na != nb {
		return na < nb
	}
	return ha < hb
}

// blockingPods describes the leavers with the budgets each would break.
func (c *cycle) blockingPods(pods []*corev1.Pod) []BlockingPod {
	prio := c.e.priorityOf(c.pod)
	allowed := make([]int32, len(c.e.snap.PDBs))
	for i, pdb := range c.e.snap.PDBs {
		if pdb != nil {
			allowed[i] = pdb.Status.DisruptionsAllowed
		}
	}
	out := make([]BlockingPod, 0, len(pods))
	for _, p := range pods {
		pr := c.e.priorityOf(p)
		bp := BlockingPod{Pod: p.Namespace + "/" + p.Name, Priority: pr, PriorityClass: p.Spec.PriorityClassName, Preemptible: pr < prio}
		for i, pdb := range c.e.snap.PDBs {
			if len(p.Labels) == 0 || !spendsBudget(p, pdb) {
				continue
			}
			allowed[i]--
			if allowed[i] < 0 {
				bp.Budgets = append(bp.Budgets, fmt.Sprintf("%s (%d disruptions allowed)", pdb.Name, pdb.Status.DisruptionsAllowed))
			}
		}
		out = append(out, bp)
	}
	return out
}

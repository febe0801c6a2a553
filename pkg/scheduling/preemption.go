package scheduling

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

const (
	msgPreemptionNotHelpful = "Preemption is not helpful for scheduling"
	msgNoVictims            = "No preemption victims found for incoming pod"
)

// priorityOf is the pod's priority: spec.priority (set by admission), else
// its PriorityClass's value or the global default class's from the snapshot
// (pods read from manifests have no spec.priority yet).
func (e *Engine) priorityOf(p *corev1.Pod) int32 {
	if p.Spec.Priority != nil {
		return *p.Spec.Priority
	}
	for _, pc := range e.snap.PriorityClasses {
		if pc == nil {
			continue
		}
		if p.Spec.PriorityClassName != "" && pc.Name == p.Spec.PriorityClassName {
			return pc.Value
		}
	}
	if p.Spec.PriorityClassName == "" {
		for _, pc := range e.snap.PriorityClasses {
			if pc != nil && pc.GlobalDefault {
				return pc.Value
			}
		}
	}
	return 0
}

// preemptionPolicyOf is spec.preemptionPolicy, else the PriorityClass's.
func (e *Engine) preemptionPolicyOf(p *corev1.Pod) corev1.PreemptionPolicy {
	if p.Spec.PreemptionPolicy != nil {
		return *p.Spec.PreemptionPolicy
	}
	for _, pc := range e.snap.PriorityClasses {
		if pc != nil && pc.Name == p.Spec.PriorityClassName && pc.PreemptionPolicy != nil {
			return *pc.PreemptionPolicy
		}
	}
	return corev1.PreemptLowerPriority
}

// filterWithNominated is RunFilterPluginsWithNominatedPods: when pods of
// equal or higher priority are nominated to the node, the filters first run
// as if they were there; if that passes, they run again without them.
func (c *cycle) filterWithNominated(ni *nodeInfo) []Reason {
	noms := c.nominatedFor(ni.node.Name)
	if len(noms) == 0 {
		return c.runFilters(ni)
	}
	with := ni.clone()
	for _, p := range noms {
		with.addPod(c.e, p)
	}
	if r := c.runFilters(with); len(r) > 0 {
		names := make([]string, 0, len(noms))
		for _, p := range noms {
			names = append(names, p.Namespace+"/"+p.Name)
		}
		for i := range r {
			r[i].Detail += fmt.Sprintf(" (counting pods nominated to this node: %s)", strings.Join(names, ", "))
		}
		return r
	}
	return c.runFilters(ni)
}

func (c *cycle) nominatedFor(node string) []*corev1.Pod {
	var out []*corev1.Pod
	prio := c.e.priorityOf(c.pod)
	for _, p := range c.e.nominated[node] {
		if p.UID != c.pod.UID && !(p.Namespace == c.pod.Namespace && p.Name == c.pod.Name) && c.e.priorityOf(p) >= prio {
			out = append(out, p)
		}
	}
	return out
}

func (ni *nodeInfo) clone() *nodeInfo {
	cp := &nodeInfo{node: ni.node, allocatable: ni.allocatable, pods: append([]*corev1.Pod(nil), ni.pods...),
		antiPods: append([]*corev1.Pod(nil), ni.antiPods...)}
	cp.requested = ni.requested.clone()
	return cp
}

func (r resources) clone() resources {
	cp := r
	if r.scalar != nil {
		cp.scalar = make(map[corev1.ResourceName]int64, len(r.scalar))
		for k, v := range r.scalar {
			cp.scalar[k] = v
		}
	}
	return cp
}

// preemptionMessage is DefaultPreemption's PostFilter message: why the pod
// may not preempt, the dry run's per-node outcome when no node would do,
// or the node it would preempt on.
func (c *cycle) preemptionMessage(preFail *Reason, statuses [][]Reason) string {
	if c.postFilterNotFound {
		return "not found"
	}
	if c.e.preemptionPolicyOf(c.pod) == corev1.PreemptNever {
		c.preemptionFailed = true
		return "preemption: not eligible due to preemptionPolicy=Never."
	}
	prio := c.e.priorityOf(c.pod)
	if nnn := c.pod.Status.NominatedNodeName; nnn != "" {
		idx := c.e.nodeIndex(nnn)
		unresolvable := idx < 0 || preFail != nil && preFail.Unresolvable ||
			preFail == nil && len(statuses[idx]) > 0 && statuses[idx][0].Unresolvable
		if !unresolvable {
			for _, p := range c.byName[nnn].pods {
				if c.e.priorityOf(p) < prio && terminatingByPreemption(p) {
					return "preemption: not eligible due to a terminating pod on the nominated node."
				}
			}
		}
	}

	n := len(c.nodes)
	var failed [][]Reason
	candidates := map[string]*candidate{}
	var order []string
	for i, st := range statuses {
		// Only nodes rejected as Unschedulable (resolvable) are tried.
		resolvable := preFail != nil && !preFail.Unresolvable || preFail == nil && len(st) > 0 && !st[0].Unresolvable
		if !resolvable {
			continue
		}
		ni := c.nodes[i]
		cand, status := c.selectVictims(ni)
		if cand == nil {
			failed = append(failed, status)
			continue
		}
		candidates[ni.node.Name] = cand
		order = append(order, ni.node.Name)
	}
	if len(candidates) == 0 {
		c.preemptionFailed = true
		return fmt.Sprintf("preemption: 0/%d nodes are available:%s", n, histogramWithAbsent(failed, n, msgPreemptionNotHelpful))
	}
	node, tied := pickOneNode(candidates, order)
	cand := candidates[node]
	p := &Preemption{Node: node, PDBViolations: cand.pdbViolations}
	for _, v := range cand.victims {
		p.Victims = append(p.Victims, v.Namespace+"/"+v.Name)
	}
	c.preemption = p
	if len(tied) > 1 {
		c.warnings = append(c.warnings, fmt.Sprintf("preemption could pick any of nodes %s (the scheduler's choice among equals is random); the message names %s",
			strings.Join(tied, ", "), node))
	}
	if tried := len(order) + len(failed); len(order) > max(100, tried/10) {
		c.warnings = append(c.warnings, "the scheduler tries preemption on a random subset of large clusters; it may nominate another node")
	}
	return fmt.Sprintf("preemption: found a potential placement for pod on node %s, preempting %d victims", node, len(cand.victims))
}

func terminatingByPreemption(p *corev1.Pod) bool {
	if p.DeletionTimestamp == nil {
		return false
	}
	for _, cond := range p.Status.Conditions {
		if cond.Type == corev1.DisruptionTarget {
			return cond.Status == corev1.ConditionTrue && cond.Reason == corev1.PodReasonPreemptionByScheduler
		}
	}
	return false
}

type candidate struct {
	victims       []*corev1.Pod
	pdbViolations int
}

// selectVictims is SelectVictimsOnNode: remove every lower-priority pod; if
// the pod then fits, add them back most important first (PDB-violating ones
// first) keeping out only those without which it does not fit. It returns
// the node's failure status when preemption cannot help there.
func (c *cycle) selectVictims(ni *nodeInfo) (*candidate, []Reason) {
	prio := c.e.priorityOf(c.pod)
	hasVictim := false
	for _, p := range ni.pods {
		hasVictim = hasVictim || c.e.priorityOf(p) < prio
	}
	if !hasVictim {
		return nil, []Reason{{Message: msgNoVictims, Unresolvable: true}}
	}
	var potential []*corev1.Pod
	reduced := &nodeInfo{node: ni.node, allocatable: ni.allocatable}
	for _, p := range ni.pods {
		if c.e.priorityOf(p) < prio {
			potential = append(potential, p)
			continue
		}
		reduced.addPod(c.e, p)
	}
	if len(potential) == 0 {
		return nil, []Reason{{Message: msgNoVictims, Unresolvable: true}}
	}
	if st := firstStatus(c.filterWithNominated(reduced)); len(st) > 0 {
		return nil, st
	}
	sort.SliceStable(potential, func(i, j int) bool { return c.moreImportant(potential[i], potential[j]) })
	violating, nonViolating := c.e.splitByPDB(potential)
	cand := &candidate{}
	reprieve := func(p *corev1.Pod) bool {
		trial := reduced.clone()
		trial.addPod(c.e, p)
		if len(c.filterWithNominated(trial)) == 0 {
			reduced = trial
			return true
		}
		cand.victims = append(cand.victims, p)
		return false
	}
	for _, p := range violating {
		if !reprieve(p) {
			cand.pdbViolations++
		}
	}
	for _, p := range nonViolating {
		reprieve(p)
	}
	if len(violating) > 0 && len(nonViolating) > 0 {
		sort.SliceStable(cand.victims, func(i, j int) bool { return c.moreImportant(cand.victims[i], cand.victims[j]) })
	}
	return cand, nil
}

// moreImportant orders victims: higher priority, then earlier start.
func (c *cycle) moreImportant(a, b *corev1.Pod) bool {
	pa, pb := c.e.priorityOf(a), c.e.priorityOf(b)
	if pa != pb {
		return pa > pb
	}
	return startTime(a).Before(startTime(b))
}

func startTime(p *corev1.Pod) time.Time {
	if p.Status.StartTime != nil {
		return p.Status.StartTime.Time
	}
	return time.Now()
}

// splitByPDB is FilterVictimsWithPDBViolation.
func (e *Engine) splitByPDB(pods []*corev1.Pod) (violating, nonViolating []*corev1.Pod) {
	pdbs := e.snap.PDBs
	allowed := make([]int32, len(pdbs))
	for i, pdb := range pdbs {
		allowed[i] = pdb.Status.DisruptionsAllowed
	}
	for _, p := range pods {
		if podViolatesPDB(p, pdbs, allowed) {
			violating = append(violating, p)
		} else {
			nonViolating = append(nonViolating, p)
		}
	}
	return violating, nonViolating
}

func podViolatesPDB(p *corev1.Pod, pdbs []*policyv1.PodDisruptionBudget, allowed []int32) bool {
	if len(p.Labels) == 0 {
		return false
	}
	for i, pdb := range pdbs {
		if !spendsBudget(p, pdb) {
			continue
		}
		allowed[i]--
		if allowed[i] < 0 {
			return true
		}
	}
	return false
}

// pickOneNode is pickOneNodeForPreemption: fewest PDB violations, lowest
// highest victim priority, smallest priority sum, fewest victims, latest
// start of the highest-priority victims. The scheduler breaks remaining ties
// by map order; this picks the first by name and returns the tie.
func pickOneNode(cands map[string]*candidate, order []string) (string, []string) {
	all := append([]string(nil), order...)
	sort.Strings(all)
	scores := []func(*candidate) int64{
		func(c *candidate) int64 { return -int64(c.pdbViolations) },
		func(c *candidate) int64 {
			if len(c.victims) == 0 {
				return math.MaxInt64
			}
			return -int64(priorityValue(c.victims[0]))
		},
		func(c *candidate) int64 {
			var sum int64
			for _, p := range c.victims {
				sum += int64(priorityValue(p)) + int64(math.MaxInt32+1)
			}
			return -sum
		},
		func(c *candidate) int64 { return -int64(len(c.victims)) },
		func(c *candidate) int64 {
			if len(c.victims) == 0 {
				return math.MinInt64
			}
			return earliestStart(c.victims).UnixNano()
		},
	}
	for _, f := range scores {
		best := int64(math.MinInt64)
		var sel []string
		for _, n := range all {
			s := f(cands[n])
			if s > best {
				best, sel = s, nil
			}
			if s == best {
				sel = append(sel, n)
			}
		}
		if len(sel) == 1 {
			return sel[0], nil
		}
		all = sel
	}
	return all[0], all
}

func priorityValue(p *corev1.Pod) int32 {
	if p.Spec.Priority != nil {
		return *p.Spec.Priority
	}
	return 0
}

func earliestStart(victims []*corev1.Pod) time.Time {
	earliest := startTime(victims[0])
	maxPrio := priorityValue(victims[0])
	for _, p := range victims {
		switch pr := priorityValue(p); {
		case pr == maxPrio:
			if t := startTime(p); t.Before(earliest) {
				earliest = t
			}
		case pr > maxPrio:
			maxPrio, earliest = pr, startTime(p)
		}
	}
	return earliest
}

func (e *Engine) nodeIndex(name string) int {
	for i, ni := range e.nodes {
		if ni.node.Name == name {
			return i
		}
	}
	return -1
}

// spendsBudget reports whether evicting p spends one of pdb's disruptions:
// the budget is in p's namespace, its selector (an empty one matches
// nothing) matches p, and the API server has not already counted p as
// disrupted.
func spendsBudget(p *corev1.Pod, pdb *policyv1.PodDisruptionBudget) bool {
	if pdb == nil || pdb.Namespace != p.Namespace {
		return false
	}
	sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
	if err != nil || sel.Empty() || !sel.Matches(labels.Set(p.Labels)) {
		return false
	}
	_, disrupted := pdb.Status.DisruptedPods[p.Name]
	return !disrupted
}

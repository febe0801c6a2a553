package scheduling

import (
	"sort"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	v1helper "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
	"k8s.io/klog/v2"
)

// Changing the engine's view of the cluster, as the scheduler's cache changes
// while a drain unfolds: nodes are cordoned, pods leave and replacements are
// bound. These calls must not run concurrently with Evaluate; every change
// drops the caches that depend on node contents.

// Cordon marks the node unschedulable, as `kubectl cordon` does, with the
// taint the node lifecycle controller then adds. It reports whether the node
// is known.
func (e *Engine) Cordon(name string) bool {
	ni := e.byName[name]
	if ni == nil {
		return false
	}
	n := ni.node.DeepCopy()
	n.Spec.Unschedulable = true
	taint := corev1.Taint{Key: corev1.TaintNodeUnschedulable, Effect: corev1.TaintEffectNoSchedule}
	if !hasTaint(n.Spec.Taints, taint) {
		n.Spec.Taints = append(n.Spec.Taints, taint)
	}
	ni.node = n
	e.changed()
	return true
}

// Bind counts a copy of pod on the node from now on, as the scheduler's
// cache does once it binds a pod, and returns that copy. The pod must not be
// counted anywhere yet (Remove it first).
func (e *Engine) Bind(pod *corev1.Pod, node string) *corev1.Pod {
	ni := e.byName[node]
	if ni == nil {
		return nil
	}
	p := pod.DeepCopy()
	p.Spec.NodeName = node
	p.Status.NominatedNodeName = ""
	if p.Status.Phase == "" || p.Status.Phase == corev1.PodPending {
		p.Status.Phase = corev1.PodRunning
	}
	e.podReq[p] = existingPodResources(p)
	if hasRequiredAntiAffinity(p) {
		if e.antiTerms == nil {
			e.antiTerms = map[*corev1.Pod][]*affinityTerm{}
		}
		e.antiTerms[p] = parseAntiTerms(p)
	}
	ni.addPod(e, p)
	e.podHost[podKey(p)] = ni
	e.changed()
	return p
}

// Remove stops counting the pod (matched by UID, else namespace/name) on its
// node and returns the engine's copy of it, or nil when it was not counted.
func (e *Engine) Remove(pod *corev1.Pod) *corev1.Pod {
	key := podKey(pod)
	ni := e.podHost[key]
	if ni == nil {
		return nil
	}
	var removed *corev1.Pod
	rebuilt := &nodeInfo{node: ni.node, allocatable: ni.allocatable}
	for _, p := range ni.pods {
		if podKey(p) == key {
			removed = p
			continue
		}
		rebuilt.addPod(e, p)
	}
	*ni = *rebuilt
	delete(e.podHost, key)
	e.changed()
	return removed
}

// PodsOn returns the pods the engine counts on the node.
func (e *Engine) PodsOn(node string) []*corev1.Pod {
	if ni := e.byName[node]; ni != nil {
		return append([]*corev1.Pod(nil), ni.pods...)
	}
	return nil
}

// Priority is the pod's priority as the scheduler orders its queue and
// picks preemption victims: spec.priority, else its PriorityClass's value or
// the global default class's.
func (e *Engine) Priority(p *corev1.Pod) int32 { return e.priorityOf(p) }

// PodKey identifies a pod across the engine's copies of it (Bind returns a
// copy): its UID, else namespace/name.
func PodKey(p *corev1.Pod) string { return podKey(p) }

// Usage is what a node's pods request against its allocatable.
type Usage struct {
	Allocatable corev1.ResourceList
	Requested   corev1.ResourceList
}

// UsageOf returns the node's requested cpu, memory and pod count against its
// allocatable, as NodeResourcesFit counts them; false for an unknown node.
func (e *Engine) UsageOf(node string) (Usage, bool) {
	ni := e.byName[node]
	if ni == nil {
		return Usage{}, false
	}
	return Usage{
		Allocatable: ni.allocatable.cpuMemPods(ni.allocatable.allowedPods),
		Requested:   ni.requested.cpuMemPods(int64(len(ni.pods))),
	}, true
}

// changed drops what was computed from the nodes' former contents.
func (e *Engine) changed() {
	e.mu.Lock()
	e.equivalent = nil
	e.termCounts = nil
	e.mu.Unlock()
}

// SelectHost picks among a result's feasible nodes the one kube-scheduler's
// default scoring prefers: the weighted sum of NodeResourcesFit
// (LeastAllocated), NodeResourcesBalancedAllocation, TaintToleration
// (PreferNoSchedule) and NodeAffinity (preferred terms). The scheduler breaks
// ties at random; this takes the first by name, so the choice is stable. ""
// when nothing is feasible.
func (e *Engine) SelectHost(pod *corev1.Pod, res Result) string {
	if len(res.Feasible) == 0 {
		return ""
	}
	names := append([]string(nil), res.Feasible...)
	sort.Strings(names)
	req := nonZeroRequests(pod)
	preferred, _ := nodeaffinity.NewPreferredSchedulingTerms(preferredTerms(pod))
	raw := make([]nodeScores, len(names))
	for i, n := range names {
		ni := e.byName[n]
		if ni == nil {
			continue
		}
		used := req.plus(ni.nonZeroRequested())
		raw[i] = nodeScores{
			fit:      leastAllocated(used, ni.allocatable),
			balanced: balanced(used, ni.allocatable),
			taints:   int64(countIntolerablePreferNoSchedule(pod, ni.node)),
		}
		if preferred != nil {
			raw[i].affinity = preferred.Score(ni.node)
		}
	}
	// TaintToleration and NodeAffinity normalize over the feasible nodes:
	// fewer intolerable taints and more preferred weight score higher.
	var maxTaints, maxAffinity int64
	for _, s := range raw {
		maxTaints = max(maxTaints, s.taints)
		maxAffinity = max(maxAffinity, s.affinity)
	}
	best, bestScore := "", int64(-1)
	for i, s := range raw {
		total := s.fit + s.balanced
		if maxTaints > 0 {
			total += 3 * (maxScore - s.taints*maxScore/maxTaints)
		} else {
			total += 3 * maxScore
		}
		if maxAffinity > 0 {
			total += 2 * (s.affinity * maxScore / maxAffinity)
		}
		if total > bestScore {
			best, bestScore = names[i], total
		}
	}
	return best
}

const maxScore = 100

// nonZeroRequested is the node's pods' requests as scoring counts them.
func (ni *nodeInfo) nonZeroRequested() cpuMem {
	if ni.nonZero == nil {
		var sum cpuMem
		for _, p := range ni.pods {
			sum = sum.plus(nonZeroRequests(p))
		}
		ni.nonZero = &sum
	}
	return *ni.nonZero
}

type nodeScores struct{ fit, balanced, taints, affinity int64 }

// Defaults the scheduler's scoring assumes for containers that request
// nothing (schedutil.DefaultMilliCPURequest, DefaultMemoryRequest).
const (
	defaultMilliCPURequest = 100
	defaultMemoryRequest   = 200 * 1024 * 1024
)

type cpuMem struct{ milliCPU, memory int64 }

func (a cpuMem) plus(b cpuMem) cpuMem { return cpuMem{a.milliCPU + b.milliCPU, a.memory + b.memory} }

// nonZeroRequests is the pod's cpu and memory request with the scheduler's
// scoring defaults for containers that set none.
func nonZeroRequests(p *corev1.Pod) cpuMem {
	var r cpuMem
	for _, c := range p.Spec.Containers {
		cpu, mem := c.Resources.Requests.Cpu().MilliValue(), c.Resources.Requests.Memory().Value()
		if _, ok := c.Resources.Requests[corev1.ResourceCPU]; !ok {
			cpu = defaultMilliCPURequest
		}
		if _, ok := c.Resources.Requests[corev1.ResourceMemory]; !ok {
			mem = defaultMemoryRequest
		}
		r.milliCPU += cpu
		r.memory += mem
	}
	return r
}

func leastAllocated(used cpuMem, alloc resources) int64 {
	score := func(req, capacity int64) int64 {
		if capacity == 0 || req > capacity {
			return 0
		}
		return (capacity - req) * maxScore / capacity
	}
	return (score(used.milliCPU, alloc.milliCPU) + score(used.memory, alloc.memory)) / 2
}

func balanced(used cpuMem, alloc resources) int64 {
	if alloc.milliCPU == 0 || alloc.memory == 0 {
		return 0
	}
	fc := min(1, float64(used.milliCPU)/float64(alloc.milliCPU))
	fm := min(1, float64(used.memory)/float64(alloc.memory))
	d := fc - fm
	if d < 0 {
		d = -d
	}
	return int64((1 - d/2) * maxScore)
}

func preferredTerms(p *corev1.Pod) []corev1.PreferredSchedulingTerm {
	if a := p.Spec.Affinity; a != nil && a.NodeAffinity != nil {
		return a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution
	}
	return nil
}

func countIntolerablePreferNoSchedule(p *corev1.Pod, n *corev1.Node) int {
	var tolerations []corev1.Toleration
	for _, t := range p.Spec.Tolerations {
		if t.Effect == "" || t.Effect == corev1.TaintEffectPreferNoSchedule {
			tolerations = append(tolerations, t)
		}
	}
	count := 0
	for i := range n.Spec.Taints {
		t := &n.Spec.Taints[i]
		if t.Effect == corev1.TaintEffectPreferNoSchedule && !v1helper.TolerationsTolerateTaint(klog.Background(), tolerations, t, false) {
			count++
		}
	}
	return count
}

func hasTaint(taints []corev1.Taint, t corev1.Taint) bool {
	for _, x := range taints {
		if x.Key == t.Key && x.Effect == t.Effect {
			return true
		}
	}
	return false
}

// cpuMemPods renders cpu and memory, with the given pod count.
func (r resources) cpuMemPods(pods int64) corev1.ResourceList {
	return corev1.ResourceList{
		corev1.ResourceCPU:    *resource.NewMilliQuantity(r.milliCPU, resource.DecimalSI),
		corev1.ResourceMemory: *resource.NewQuantity(r.memory, resource.BinarySI),
		corev1.ResourcePods:   *resource.NewQuantity(pods, resource.DecimalSI),
	}
}

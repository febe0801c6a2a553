package qosaudit

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/pkg/qos"
	"github.com/ktriage/ktriage/pkg/report"
)

// nodeResults builds the per-node eviction order, OOM score adjustments and
// overcommit, for the nodes running pods in scope (or --node).
func nodeResults(r *Result, snap *cluster.Snapshot, scope []*corev1.Pod, opts AnalysisOptions, podIndex map[podName]int) []NodeResult {
	want := wantedNodes(scope, opts.Node)
	byNode := map[string][]*corev1.Pod{}
	for _, p := range snap.Pods {
		if want[p.Spec.NodeName] && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
			byNode[p.Spec.NodeName] = append(byNode[p.Spec.NodeName], p)
		}
	}
	a := &nodeAnalysis{r: r, usage: usageByName(opts.Usage), podIndex: podIndex, bytes: map[int64]string{}}
	out := []NodeResult{}
	partial := map[string][]string{} // node names by why their pods are unknown
	for _, node := range snap.Nodes {
		if !want[node.Name] {
			continue
		}
		n := a.nodeResult(node, byNode[node.Name])
		if why, ok := opts.PartialNodes[node.Name]; ok {
			n.Partial = partialNodeReason
			partial[why] = append(partial[why], node.Name)
		}
		out = append(out, n)
	}
	warnPartial(r, partial)
	return out
}

// wantedNodes are the nodes of the pods in scope, or only node when set.
func wantedNodes(scope []*corev1.Pod, node string) map[string]bool {
	want := map[string]bool{}
	if node != "" {
		want[node] = true
		return want
	}
	for _, p := range scope {
		if p.Spec.NodeName != "" {
			want[p.Spec.NodeName] = true
		}
	}
	return want
}

// warnPartial says, once per reason, which nodes' eviction order ranks only
// the pods known.
func warnPartial(r *Result, partial map[string][]string) {
	for _, why := range slices.Sorted(maps.Keys(partial)) {
		msg := fmt.Sprintf("eviction order partial on %s: %s", list("node", partial[why]), partialNodeReason)
		if why != "" {
			msg += " (" + why + ")"
		}
		r.Warn(msg)
	}
}

// memoryUsage is the memory working set of pods from metrics.k8s.io. A pod
// metrics-server has no figure for (just started, or its node not scraped)
// still has kubelet stats: its memory request stands in for its usage, not
// the kubelet's "no stats" rank.
type memoryUsage map[podName]int64

// usageByName keys AnalysisOptions.Usage ("namespace/name") by podName.
func usageByName(usage map[string]int64) memoryUsage {
	out := make(memoryUsage, len(usage))
	for k, v := range usage {
		if ns, name, ok := strings.Cut(k, "/"); ok {
			out[podName{ns, name}] = v
		}
	}
	return out
}

func (m memoryUsage) fromMetrics(p *corev1.Pod) bool {
	_, ok := m[nameOf(p)]
	return ok
}

func (m memoryUsage) of(p *corev1.Pod) (int64, bool) {
	if v, ok := m[nameOf(p)]; ok {
		return v, true
	}
	return qos.RequestsAsUsage(p)
}

// nodeAnalysis is what every node's eviction order reads and fills.
type nodeAnalysis struct {
	r        *Result
	usage    memoryUsage
	podIndex map[podName]int // into r.Pods
	// bytes are byteString's answers: pods of a workload request the same.
	bytes map[int64]string
}

// nodeResult is one node's eviction order and overcommit, from its pods
// that have not finished.
func (a *nodeAnalysis) nodeResult(node *corev1.Node, pods []*corev1.Pod) NodeResult {
	// Only a node without metrics for any of its pods falls back entirely.
	source := "requests"
	for _, p := range pods {
		if a.usage.fromMetrics(p) {
			source = "metrics"
			break
		}
	}
	n := NodeResult{Name: node.Name, MemoryCapacity: qstr(node.Status.Capacity[corev1.ResourceMemory]), UsageSource: source}
	if !qos.SetsOOMScoreAdj(node) {
		n.NoOOMScoreAdj = noOOMScoreAdjReason
	}
	n.EvictionOrder = a.evictionOrder(node, pods)
	n.Overcommit = overcommit(a.r, node, pods)
	return n
}

// evictionOrder ranks the node's pods as the kubelet does under memory
// pressure, with the oom_score_adj of each container, which it also sets on
// the containers of the pods in scope (r.Pods, by podIndex).
func (a *nodeAnalysis) evictionOrder(node *corev1.Node, pods []*corev1.Pod) []EvictionEntry {
	setsOOM := qos.SetsOOMScoreAdj(node)
	capacity := node.Status.Capacity.Memory().Value()
	out := make([]EvictionEntry, 0, len(pods))
	for i, c := range qos.RankMemoryPressure(pods, a.usage.of) {
		e := EvictionEntry{Rank: i + 1, Namespace: c.Pod.Namespace, Name: c.Pod.Name, QOSClass: string(qos.PodClass(c.Pod)), Priority: c.Priority,
			MemoryRequest: a.byteString(c.MemoryRequest), UsageSource: "requests", ExceedsRequests: c.ExceedsRequests, Evictable: !c.Critical}
		if a.usage.fromMetrics(c.Pod) {
			e.UsageSource = "metrics"
			e.MemoryUsage = byteString(c.Usage)
		}
		var pr *PodResult
		if i, ok := a.podIndex[nameOf(c.Pod)]; ok {
			pr = &a.r.Pods[i]
		}
		allocated := qos.AllocatedPod(c.Pod)
		e.Containers = make([]ContainerOOM, 0, len(allocated.Spec.InitContainers)+len(allocated.Spec.Containers))
		visit(allocated, func(ctr *corev1.Container, _ string) {
			if !setsOOM {
				e.Containers = append(e.Containers, ContainerOOM{Name: ctr.Name})
				return
			}
			adj := new(qos.ContainerOOMScoreAdj(allocated, ctr, capacity))
			e.Containers = append(e.Containers, ContainerOOM{Name: ctr.Name, OOMScoreAdj: adj})
			if pr != nil {
				pr.setOOMScoreAdj(ctr.Name, adj)
			}
		})
		out = append(out, e)
	}
	return out
}

// setOOMScoreAdj shares adj with the eviction entry: neither changes it.
func (p *PodResult) setOOMScoreAdj(container string, adj *int) {
	for k := range p.Containers {
		if p.Containers[k].Name == container {
			p.Containers[k].OOMScoreAdj = adj
		}
	}
}

func (a *nodeAnalysis) byteString(v int64) string {
	s, ok := a.bytes[v]
	if !ok {
		s = byteString(v)
		a.bytes[v] = s
	}
	return s
}

// overcommit compares the requests and limits of the node's pods with its
// allocatable, reporting requests above it (QA112) and memory limits above
// it (QA111).
func overcommit(r *Result, node *corev1.Node, pods []*corev1.Pod) []Overcommit {
	var out []Overcommit
	ref := report.RefFor("Node", node)
	for _, c := range qos.NodeCommitment(node, pods) {
		o := Overcommit{Resource: string(c.Resource), Allocatable: amount(c.Resource, c.Allocatable), Requests: amount(c.Resource, c.Requests),
			Limits: amount(c.Resource, c.Limits), RequestsPercent: percent(c.Requests, c.Allocatable), LimitsPercent: percent(c.Limits, c.Allocatable),
			PodsWithoutLimit: c.Unbounded}
		out = append(out, o)
		if c.RequestsOvercommitted() {
			r.Add(report.Finding{RuleID: RuleRequestOvercommit, Severity: report.SeverityError, Object: ref,
				Message: fmt.Sprintf("%s requests %s exceed allocatable %s (%d%%)", c.Resource, o.Requests, o.Allocatable, o.RequestsPercent),
				Fix:     "Move pods off the node or raise its allocatable.", Details: map[string]any{"resource": o.Resource, "requestsPercent": o.RequestsPercent}})
		}
		if c.Resource == corev1.ResourceMemory && c.LimitsOvercommitted() {
			msg := fmt.Sprintf("memory limits %s exceed allocatable %s (%d%%)", o.Limits, o.Allocatable, o.LimitsPercent)
			if c.Unbounded > 0 {
				msg += fmt.Sprintf(", and %d pod(s) have no memory limit", c.Unbounded)
			}
			r.Add(report.Finding{RuleID: RuleMemoryOvercommit, Severity: report.SeverityWarning, Object: ref, Message: msg,
				Fix:     "Lower memory limits towards requests, or move pods off the node.",
				Details: map[string]any{"limitsPercent": o.LimitsPercent, "podsWithoutLimit": c.Unbounded}})
		}
	}
	return out
}

func byteString(v int64) string { return resource.NewQuantity(v, resource.BinarySI).String() }

func amount(name corev1.ResourceName, v int64) string {
	if name == corev1.ResourceCPU {
		return resource.NewMilliQuantity(v, resource.DecimalSI).String()
	}
	return byteString(v)
}

func percent(v, of int64) int {
	if of <= 0 {
		return 0
	}
	return int(v * 100 / of)
}

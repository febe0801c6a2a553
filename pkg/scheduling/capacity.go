package scheduling

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
)

// Passing lists, per filter plugin that ran, the nodes it lets through
// (whatever the other plugins say), for fixes such as "only these nodes
// carry the label". It is computed on demand: few callers need it.
func (r Result) Passing() map[string][]string {
	ran, nodes := r.ran, r.Nodes
	out := make(map[string][]string, len(ran))
	for _, pl := range ran {
		out[pl] = []string{}
	}
	failed := func(reasons []Reason, pl string) bool {
		for _, r := range reasons {
			if r.Plugin == pl {
				return true
			}
		}
		return false
	}
	for _, n := range nodes {
		for _, pl := range ran {
			if !failed(n.Reasons, pl) {
				out[pl] = append(out[pl], n.Name)
			}
		}
	}
	return out
}

// resourceFits compares each requested resource with the free amounts of
// the eligible nodes: those whose only failing plugin (if any) is
// NodeResourcesFit.
func (c *cycle) resourceFits(nodes []NodeResult, preFail *Reason) []ResourceFit {
	type want struct {
		name corev1.ResourceName
		v    int64
	}
	var wants []want
	for _, n := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage} {
		if v := c.req.get(n); v > 0 {
			wants = append(wants, want{n, v})
		}
	}
	for _, n := range c.scalarNames {
		if v := c.req.scalar[n]; v > 0 {
			wants = append(wants, want{n, v})
		}
	}
	if len(wants) == 0 {
		return nil
	}
	var eligible []*nodeInfo
	if preFail == nil {
		for i, n := range nodes {
			ok := true
			for _, r := range n.Reasons {
				if r.Plugin != nodeResourcesFitPlugin.name {
					ok = false
				}
			}
			if ok {
				eligible = append(eligible, c.nodes[i])
			}
		}
	}
	out := make([]ResourceFit, 0, len(wants))
	for _, w := range wants {
		rf := ResourceFit{Resource: string(w.name), Requested: formatAmount(w.name, w.v), EligibleNodes: len(eligible)}
		var largest, total, biggest int64
		counted := 0
		for _, ni := range eligible {
			if c.delegatedToDRA(w.name, ni) {
				continue
			}
			counted++
			alloc := ni.allocatable.get(w.name)
			free := max(0, alloc-ni.requested.get(w.name))
			total += free
			if free > largest || rf.LargestFreeNode == "" {
				largest, rf.LargestFreeNode = free, ni.node.Name
			}
			if alloc > biggest || rf.LargestAllocatableNode == "" {
				biggest, rf.LargestAllocatableNode = alloc, ni.node.Name
			}
		}
		rf.LargestFree, rf.TotalFree = formatAmount(w.name, largest), formatAmount(w.name, total)
		if counted > 0 {
			rf.LargestAllocatable = formatAmount(w.name, biggest)
		}
		rf.Fits = largest >= w.v && len(eligible) > 0
		// Only a request some node could hold is a matter of where the free
		// capacity lies; above every allocatable, no node is big enough.
		rf.TooLarge = !rf.Fits && counted > 0 && biggest < w.v
		rf.Fragmented = !rf.Fits && !rf.TooLarge && total >= w.v && len(eligible) > 1
		switch {
		case len(eligible) == 0:
			rf.LargestFreeNode = ""
			rf.Message = fmt.Sprintf("%s: no node passes the other filters, so no amount of free %s helps", w.name, w.name)
		case rf.Fits:
			rf.Message = fmt.Sprintf("%s: requests %s; %s has %s free", w.name, rf.Requested, rf.LargestFreeNode, rf.LargestFree)
		case rf.TooLarge:
			rf.Message = fmt.Sprintf("%s: requests %s, but no node is big enough: the largest allocatable of the %d eligible node(s) is %s (%s)",
				w.name, rf.Requested, counted, rf.LargestAllocatable, rf.LargestAllocatableNode)
		case rf.Fragmented:
			rf.Message = fmt.Sprintf("%s: requests %s; the %d eligible nodes have %s free in total but at most %s on one node (%s): the free capacity is fragmented; a request of %s or less fits",
				w.name, rf.Requested, len(eligible), rf.TotalFree, rf.LargestFree, rf.LargestFreeNode, rf.LargestFree)
		default:
			rf.Message = fmt.Sprintf("%s: requests %s; the %d eligible nodes have only %s free in total, at most %s on %s; a request of %s or less fits",
				w.name, rf.Requested, len(eligible), rf.TotalFree, rf.LargestFree, rf.LargestFreeNode, rf.LargestFree)
		}
		out = append(out, rf)
	}
	return out
}

package pending

import (
	"cmp"
	"slices"
	"strconv"

	"github.com/ktriage/ktriage/pkg/report"
	"github.com/ktriage/ktriage/pkg/scheduling"
)

// MaxExampleNodes is how many nodes a NodeReasonGroup names, and how many
// feasible nodes an explanation keeps once its node lists are dropped.
const MaxExampleNodes = 3

// NodeReasonGroup is one reason the filters reject nodes for a pod, with the
// nodes it applies to counted, as kube-scheduler's FitError message groups
// them ("3 Insufficient cpu"). Its size does not depend on the number of
// nodes: it names at most MaxExampleNodes of them.
type NodeReasonGroup struct {
	// Plugin is the filter plugin that gives the reason (empty for nodes a
	// PreFilter restriction left out before filtering).
	Plugin string `json:"plugin,omitempty"`
	// Message is the reason as kube-scheduler words it.
	Message string `json:"message"`
	// RuleID is the finding that explains the reason and its fix, when the
	// pod has one.
	RuleID string `json:"ruleID,omitempty"`
	// Reported: kube-scheduler counts the reason in its message (it is the
	// first failing filter of these nodes, or a PreFilter failure). The other
	// groups are what the remaining filters reject the same nodes for.
	Reported bool `json:"reported"`
	// PreFilter: the reason failed the pod before any node was looked at;
	// the scheduler counts it against every node.
	PreFilter bool `json:"preFilter,omitempty"`
	// Count is the number of nodes with the reason.
	Count int `json:"count"`
	// Nodes names the first MaxExampleNodes of them by name.
	Nodes []string `json:"nodes"`
	// Truncated is true when Nodes names fewer than Count.
	Truncated bool `json:"truncated,omitempty"`
}

type groupKey struct {
	reported bool
	plugin   string
	message  string
}

// groupNodeReasons groups the per-node results by reason: the scheduler's
// own (Reported) first, then the others, each sorted as kube-scheduler sorts
// its message's "<count> <reason>" items (sort.Strings), ties by plugin.
// A node counts once per reason.
func groupNodeReasons(res scheduling.Result) []NodeReasonGroup {
	var groups []NodeReasonGroup
	index := map[groupKey]int{}
	if pf := res.PreFilter; pf != nil && len(res.Nodes) > 0 {
		g := NodeReasonGroup{Plugin: pf.Plugin, Message: pf.Message, Reported: true, PreFilter: true}
		for _, n := range res.Nodes {
			g.add(n.Name)
		}
		groups = append(groups, g)
	}
	for _, n := range res.Nodes {
		for i, r := range n.Reasons {
			if slices.ContainsFunc(n.Reasons[:i], func(o scheduling.Reason) bool { return sameReason(o, r) }) {
				continue
			}
			k := groupKey{reported: r.Reported, plugin: r.Plugin, message: r.Message}
			gi, ok := index[k]
			if !ok {
				gi = len(groups)
				index[k] = gi
				groups = append(groups, NodeReasonGroup{Plugin: r.Plugin, Message: r.Message, Reported: r.Reported})
			}
			groups[gi].add(n.Name)
		}
	}
	for i := range groups {
		groups[i].Truncated = groups[i].Count > len(groups[i].Nodes)
	}
	slices.SortStableFunc(groups, compareGroups)
	return groups
}

func sameReason(a, b scheduling.Reason) bool {
	return a.Reported == b.Reported && a.Plugin == b.Plugin && a.Message == b.Message
}

// add counts a node and keeps it among the examples if it is one of the
// first MaxExampleNodes by name, without holding every name.
func (g *NodeReasonGroup) add(node string) {
	g.Count++
	if len(g.Nodes) == MaxExampleNodes && node >= g.Nodes[MaxExampleNodes-1] {
		return
	}
	i, _ := slices.BinarySearch(g.Nodes, node)
	if len(g.Nodes) < MaxExampleNodes {
		g.Nodes = slices.Insert(g.Nodes, i, node)
		return
	}
	copy(g.Nodes[i+1:], g.Nodes[i:MaxExampleNodes-1])
	g.Nodes[i] = node
}

// compareGroups orders reported reasons first, then by the scheduler's
// "<count> <reason>" string, then by plugin.
func compareGroups(a, b NodeReasonGroup) int {
	if a.Reported != b.Reported {
		if a.Reported {
			return -1
		}
		return 1
	}
	if c := cmp.Compare(strconv.Itoa(a.Count)+" "+a.Message, strconv.Itoa(b.Count)+" "+b.Message); c != 0 {
		return c
	}
	return cmp.Compare(a.Plugin, b.Plugin)
}

// linkRules names, in each group, the finding that explains its plugin's
// failures, among the findings of one explanation.
func linkRules(groups []NodeReasonGroup, findings []report.Finding) {
	rules := map[string]bool{}
	for _, f := range findings {
		rules[f.RuleID] = true
	}
	for i := range groups {
		if rule := pluginRule(groups[i].Plugin); rules[rule] {
			groups[i].RuleID = rule
		}
	}
}

// DropNodeLists leaves an explanation whose size does not grow with the
// cluster: the per-node results go (NodeReasons keeps them grouped) and the
// feasible nodes are cut to the first MaxExampleNodes by name
// (FeasibleCount keeps their number).
func (ex *Explanation) DropNodeLists() {
	ex.Nodes = nil
	if len(ex.Feasible) > MaxExampleNodes {
		ex.Feasible = firstNames(ex.Feasible, MaxExampleNodes)
	}
}

package scheduling

import (
	"fmt"
	"math"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/klog/v2"
)

const (
	msgSpread             = "node(s) didn't match pod topology spread constraints"
	msgSpreadMissingLabel = msgSpread + " (missing required label)"
)

// spreadConstraint is a DoNotSchedule constraint with its parsed selector.
type spreadConstraint struct {
	api        corev1.TopologySpreadConstraint
	selector   labels.Selector
	minDomains int32
	// counts: matching pods per topology value over eligible nodes.
	counts map[string]int
	// keyed: the matchLabelKeys the pod has, as key=value, merged into
	// selector.
	keyed []string
	// why: per domain, the policy that makes it count (or not) when one
	// decides it (spreadWhy, computed on first use).
	why map[string]string
}

// spreadState is the plugin's PreFilter state.
type spreadState struct {
	constraints []*spreadConstraint
}

// podTopologySpreadPlugin is PodTopologySpread with the default (system)
// defaulting: only the pod's own DoNotSchedule constraints filter.
var podTopologySpreadPlugin = plugin{
	name: "PodTopologySpread",
	preFilter: func(c *cycle) preResult {
		s, err := c.spreadPreFilter()
		if err != nil {
			return preResult{reasons: []Reason{{Message: err.Error(), Unresolvable: true}}}
		}
		if len(s.constraints) == 0 {
			return preResult{skip: true}
		}
		c.spread = s
		return preResult{}
	},
	filter: func(c *cycle, ni *nodeInfo) []Reason {
		return c.spreadFilter(ni)
	},
}

func (c *cycle) spreadPreFilter() (*spreadState, error) {
	s := &spreadState{}
	for _, tsc := range c.pod.Spec.TopologySpreadConstraints {
		if tsc.WhenUnsatisfiable != corev1.DoNotSchedule {
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(tsc.LabelSelector)
		if err != nil {
			return nil, fmt.Errorf("obtaining pod's hard topology spread constraints: %w", err)
		}
		var keyed []string
		if len(tsc.MatchLabelKeys) > 0 {
			set := labels.Set{}
			for _, k := range tsc.MatchLabelKeys {
				if v, ok := c.pod.Labels[k]; ok {
					set[k] = v
					keyed = append(keyed, k+"="+v)
				}
			}
			if len(set) > 0 {
				merged := labels.SelectorFromSet(set)
				if reqs, ok := sel.Requirements(); ok {
					for _, r := range reqs {
						merged = merged.Add(r)
					}
					sel = merged
				}
			}
		}
		md := int32(1)
		if tsc.MinDomains != nil {
			md = *tsc.MinDomains
		}
		s.constraints = append(s.constraints, &spreadConstraint{api: tsc, selector: sel, minDomains: md, counts: map[string]int{}, keyed: keyed})
	}
	if len(s.constraints) == 0 {
		return s, nil
	}
	for _, ni := range c.nodes {
		c.spreadCountNode(s, ni, ni.pods, 1)
	}
	return s, nil
}

// spreadCountNode adds (delta 1) or removes (-1) the matching pods of one
// node to the per-domain counts, for the nodes the constraints include.
func (c *cycle) spreadCountNode(s *spreadState, ni *nodeInfo, pods []*corev1.Pod, delta int) {
	node := ni.node
	for _, sc := range s.constraints {
		if _, ok := node.Labels[sc.api.TopologyKey]; !ok {
			return // every topology key must be present
		}
	}
	for _, sc := range s.constraints {
		if !c.spreadIncludesNode(sc, node) {
			continue
		}
		v := node.Labels[sc.api.TopologyKey]
		n := 0
		if !sc.selector.Empty() {
			for _, p := range pods {
				if p.DeletionTimestamp == nil && p.Namespace == c.pod.Namespace && sc.selector.Matches(labels.Set(p.Labels)) {
					n++
				}
			}
		}
		sc.counts[v] += delta * n
	}
}

// spreadIncludesNode applies nodeAffinityPolicy (default Honor) and
// nodeTaintsPolicy (default Ignore).
func (c *cycle) spreadIncludesNode(sc *spreadConstraint, node *corev1.Node) bool {
	if sc.api.NodeAffinityPolicy == nil || *sc.api.NodeAffinityPolicy == corev1.NodeInclusionPolicyHonor {
		if ok, _ := c.requiredAffinity.Match(node); !ok {
			return false
		}
	}
	if sc.api.NodeTaintsPolicy != nil && *sc.api.NodeTaintsPolicy == corev1.NodeInclusionPolicyHonor {
		if _, untolerated := corev1helpers.FindMatchingUntoleratedTaint(klog.Background(), node.Spec.Taints, c.pod.Spec.Tolerations,
			func(t *corev1.Taint) bool {
				return t.Effect == corev1.TaintEffectNoSchedule || t.Effect == corev1.TaintEffectNoExecute
			}, false); untolerated {
			return false
		}
	}
	return true
}

// minMatch is the global minimum of a constraint, 0 when fewer domains than
// minDomains are eligible.
func (sc *spreadConstraint) minMatch() (int, string) {
	minNum, minVal := math.MaxInt32, ""
	vals := make([]string, 0, len(sc.counts))
	for v := range sc.counts {
		vals = append(vals, v)
	}
	sort.Strings(vals)
	for _, v := range vals {
		if sc.counts[v] < minNum {
			minNum, minVal = sc.counts[v], v
		}
	}
	if len(sc.counts) < int(sc.minDomains) {
		return 0, ""
	}
	return minNum, minVal
}

func (c *cycle) spreadFilter(ni *nodeInfo) []Reason {
	s := c.spreadFor(ni)
	if s == nil {
		return nil
	}
	node := ni.node
	podLabels := labels.Set(c.pod.Labels)
	for i, sc := range s.constraints {
		tpVal, ok := node.Labels[sc.api.TopologyKey]
		if !ok {
			return []Reason{{Message: msgSpreadMissingLabel, Unresolvable: true,
				Detail: fmt.Sprintf("node has no label %s (topologyKey of a DoNotSchedule spread constraint)", sc.api.TopologyKey)}}
		}
		minNum, minVal := sc.minMatch()
		self := 0
		if sc.selector.Matches(podLabels) {
			self = 1
		}
		match := sc.counts[tpVal]
		if skew := match + self - minNum; skew > int(sc.api.MaxSkew) {
			where := fmt.Sprintf("the minimum is %d", minNum)
			if minVal != "" {
				where = fmt.Sprintf("the minimum is %d in %s=%s", minNum, sc.api.TopologyKey, minVal)
			} else if len(sc.counts) < int(sc.minDomains) {
				where = fmt.Sprintf("the minimum counts as 0 because only %d of minDomains %d domains are eligible", len(sc.counts), sc.minDomains)
			}
			if why := c.spreadWhy(c.spread.constraints[i])[minVal]; minVal != "" && why != "" {
				where += ", which " + why
			}
			return []Reason{{Message: msgSpread, Detail: fmt.Sprintf(
				"%s=%s already has %d matching pod(s) (selector %s); placing this pod there makes skew %d > maxSkew %d (%s)",
				sc.api.TopologyKey, tpVal, match, spreadSelectorString(sc.selector), skew, sc.api.MaxSkew, where)}}
		}
	}
	return nil
}

// spreadFor returns the spread state for evaluating ni: the cycle's, or
// during a preemption dry run, one recomputed without the removed pods.
func (c *cycle) spreadFor(ni *nodeInfo) *spreadState {
	if c.spread == nil {
		return nil
	}
	if orig, ok := c.byName[ni.node.Name]; ok && orig != ni {
		cp := &spreadState{}
		for _, sc := range c.spread.constraints {
			counts := make(map[string]int, len(sc.counts))
			for k, v := range sc.counts {
				counts[k] = v
			}
			cp.constraints = append(cp.constraints, &spreadConstraint{api: sc.api, selector: sc.selector, minDomains: sc.minDomains, counts: counts, keyed: sc.keyed})
		}
		c.spreadCountNode(cp, orig, orig.pods, -1)
		c.spreadCountNode(cp, ni, ni.pods, 1)
		return cp
	}
	return c.spread
}

// spreadSelectorString is selectorString with a requirement written twice
// said once: the API server already merges matchLabelKeys into the
// selector as "key in (value)", and the scheduler merges them again as
// "key=value".
func spreadSelectorString(s labels.Selector) string {
	reqs, ok := s.Requirements()
	if !ok || len(reqs) == 0 {
		return selectorString(s)
	}
	var parts []string
	seen := map[string]bool{}
	for _, r := range reqs {
		str := r.String()
		if vals := r.Values().List(); len(vals) == 1 && (r.Operator() == selection.In || r.Operator() == selection.Equals || r.Operator() == selection.DoubleEquals) {
			str = r.Key() + "=" + vals[0]
		}
		if !seen[str] {
			seen[str] = true
			parts = append(parts, str)
		}
	}
	return strings.Join(parts, ", ")
}

func selectorString(s labels.Selector) string {
	str := s.String()
	if str == "" {
		return "<everything>"
	}
	return strings.ReplaceAll(str, ",", ", ")
}

package scheduling

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/klog/v2"
)

// SpreadConstraint explains one of the pod's DoNotSchedule topology spread
// constraints: which domains count toward its skew, and the policy that
// decides when one does (nodeAffinityPolicy, nodeTaintsPolicy, minDomains,
// matchLabelKeys).
type SpreadConstraint struct {
	TopologyKey string `json:"topologyKey"`
	MaxSkew     int32  `json:"maxSkew"`
	// Selector is the label selector pods are counted by, matchLabelKeys
	// merged in; MatchLabelKeys are the key=value pairs they added.
	Selector       string   `json:"selector"`
	MatchLabelKeys []string `json:"matchLabelKeys,omitempty"`
	MinDomains     int32    `json:"minDomains,omitempty"`
	// NodeAffinityPolicy and NodeTaintsPolicy as in effect (defaults
	// filled in: Honor and Ignore).
	NodeAffinityPolicy string `json:"nodeAffinityPolicy"`
	NodeTaintsPolicy   string `json:"nodeTaintsPolicy"`
	// Min is the smallest number of matching pods in a domain that counts:
	// the skew is measured against it (0 when fewer domains count than
	// minDomains).
	Min int `json:"min"`
	// Counting is the number of domains that count.
	Counting int `json:"counting"`
	// Domains are the domains (all of them, or when there are many: those a
	// policy decides, the fullest and the emptiest), sorted by value;
	// DomainCount says how many there are when the list is cut.
	Domains     []SpreadDomain `json:"domains"`
	DomainCount int            `json:"domainCount,omitempty"`
	// Summary says it in one sentence.
	Summary string `json:"summary"`
}

// SpreadDomain is one topology domain of a spread constraint.
type SpreadDomain struct {
	Value    string `json:"value"`
	Matching int    `json:"matching"`
	Counts   bool   `json:"counts"`
	// Why names the policy that makes the domain count or not, and the
	// nodes it applies to, when a policy decides it.
	Why string `json:"why,omitempty"`
}

const (
	failsAffinity = "fails the pod's nodeSelector/affinity"
	failAffinity  = "fail the pod's nodeSelector/affinity"
	hasTaints     = "has taints the pod does not tolerate"
	haveTaints    = "have taints the pod does not tolerate"
)

// maxSpreadDomains caps the domains a SpreadConstraint lists.
const maxSpreadDomains = 12

// spreadNodes is what one domain's nodes say about a constraint.
type spreadNodes struct {
	all, missingKey, affinityFail, taintFail, included []string
}

// spreadDomainNodes groups the nodes having the constraint's topology key
// by domain.
func (c *cycle) spreadDomainNodes(sc *spreadConstraint) map[string]*spreadNodes {
	out := map[string]*spreadNodes{}
	for _, ni := range c.nodes {
		node := ni.node
		v, ok := node.Labels[sc.api.TopologyKey]
		if !ok {
			continue
		}
		d := out[v]
		if d == nil {
			d = &spreadNodes{}
			out[v] = d
		}
		d.all = append(d.all, node.Name)
		allKeys := true
		for _, other := range c.spread.constraints {
			if _, ok := node.Labels[other.api.TopologyKey]; !ok {
				allKeys = false
			}
		}
		if !allKeys {
			d.missingKey = append(d.missingKey, node.Name)
			continue
		}
		if ok, _ := c.requiredAffinity.Match(node); !ok {
			d.affinityFail = append(d.affinityFail, node.Name)
		}
		if _, untolerated := corev1helpers.FindMatchingUntoleratedTaint(klog.Background(), node.Spec.Taints, c.pod.Spec.Tolerations,
			func(t *corev1.Taint) bool {
				return t.Effect == corev1.TaintEffectNoSchedule || t.Effect == corev1.TaintEffectNoExecute
			}, false); untolerated {
			d.taintFail = append(d.taintFail, node.Name)
		}
		if c.spreadIncludesNode(sc, node) {
			d.included = append(d.included, node.Name)
		}
	}
	return out
}

func policyOf(p *corev1.NodeInclusionPolicy, def corev1.NodeInclusionPolicy) corev1.NodeInclusionPolicy {
	if p == nil {
		return def
	}
	return *p
}

// spreadWhy says, per domain, which policy makes it count or not, when one
// decides it; cached on the constraint.
func (c *cycle) spreadWhy(sc *spreadConstraint) map[string]string {
	if sc.why != nil {
		return sc.why
	}
	sc.why = map[string]string{}
	affinity := policyOf(sc.api.NodeAffinityPolicy, corev1.NodeInclusionPolicyHonor)
	taints := policyOf(sc.api.NodeTaintsPolicy, corev1.NodeInclusionPolicyIgnore)
	affinityName := "nodeAffinityPolicy: " + string(affinity)
	if sc.api.NodeAffinityPolicy == nil {
		affinityName += " (the default)"
	}
	taintsName := "nodeTaintsPolicy: " + string(taints)
	if sc.api.NodeTaintsPolicy == nil {
		taintsName += " (the default)"
	}
	for v, d := range c.spreadDomainNodes(sc) {
		var why []string
		if len(d.included) > 0 {
			// Counted: say so when every counted node is one the pod
			// itself cannot use.
			if affinity == corev1.NodeInclusionPolicyIgnore && subset(d.included, d.affinityFail) {
				why = append(why, affinityName+"; "+nodesPhrase(d.included, len(d.all), failsAffinity, failAffinity))
			}
			if taints == corev1.NodeInclusionPolicyIgnore && subset(d.included, d.taintFail) {
				why = append(why, taintsName+"; "+nodesPhrase(d.included, len(d.all), hasTaints, haveTaints))
			}
			if len(why) > 0 {
				sc.why[v] = "counts only because of " + strings.Join(why, ", and ")
			}
			continue
		}
		if len(d.missingKey) > 0 {
			why = append(why, fmt.Sprintf("%s lack the label of another DoNotSchedule constraint's topologyKey", nodeList(d.missingKey)))
		}
		if affinity == corev1.NodeInclusionPolicyHonor && len(d.affinityFail) > 0 {
			why = append(why, affinityName+": "+nodesPhrase(d.affinityFail, len(d.all), failsAffinity, failAffinity))
		}
		if taints == corev1.NodeInclusionPolicyHonor && len(d.taintFail) > 0 {
			why = append(why, taintsName+": "+nodesPhrase(d.taintFail, len(d.all), hasTaints, haveTaints))
		}
		sc.why[v] = "does not count: " + strings.Join(why, "; ")
	}
	return sc.why
}

// nodesPhrase: "its only node n1 fails …" / "its nodes n1, n2 fail …" /
// "nodes n1, n2 of its 5 fail …", with the verb for one and for several.
func nodesPhrase(nodes []string, total int, one, several string) string {
	switch {
	case total == 1:
		return "its only node " + nodes[0] + " " + one
	case len(nodes) == total:
		return "its nodes " + nodeList(nodes) + " " + several
	case len(nodes) == 1:
		return fmt.Sprintf("node %s of its %d %s", nodes[0], total, one)
	}
	return fmt.Sprintf("nodes %s of its %d %s", nodeList(nodes), total, several)
}

func nodeList(nodes []string) string {
	if len(nodes) > 3 {
		return strings.Join(nodes[:3], ", ") + fmt.Sprintf(" and %d more", len(nodes)-3)
	}
	return strings.Join(nodes, ", ")
}

func subset(a, b []string) bool {
	in := make(map[string]bool, len(b))
	for _, x := range b {
		in[x] = true
	}
	for _, x := range a {
		if !in[x] {
			return false
		}
	}
	return true
}

// spreadExplanation describes every constraint of the pod's spread state.
func (c *cycle) spreadExplanation() []SpreadConstraint {
	if c.spread == nil {
		return nil
	}
	var out []SpreadConstraint
	for _, sc := range c.spread.constraints {
		why := c.spreadWhy(sc)
		minNum, _ := sc.minMatch()
		e := SpreadConstraint{TopologyKey: sc.api.TopologyKey, MaxSkew: sc.api.MaxSkew, Selector: spreadSelectorString(sc.selector),
			MatchLabelKeys: sc.keyed, Min: minNum, Counting: len(sc.counts),
			NodeAffinityPolicy: string(policyOf(sc.api.NodeAffinityPolicy, corev1.NodeInclusionPolicyHonor)),
			NodeTaintsPolicy:   string(policyOf(sc.api.NodeTaintsPolicy, corev1.NodeInclusionPolicyIgnore))}
		if sc.api.MinDomains != nil {
			e.MinDomains = *sc.api.MinDomains
		}
		values := map[string]bool{}
		for v := range sc.counts {
			values[v] = true
		}
		for v := range why {
			values[v] = true
		}
		for v := range values {
			_, counts := sc.counts[v]
			e.Domains = append(e.Domains, SpreadDomain{Value: v, Matching: sc.counts[v], Counts: counts, Why: why[v]})
		}
		sort.Slice(e.Domains, func(i, j int) bool { return e.Domains[i].Value < e.Domains[j].Value })
		if len(e.Domains) > maxSpreadDomains {
			e.DomainCount = len(e.Domains)
			e.Domains = keepTelling(e.Domains, minNum)
		}
		e.Summary = spreadSummary(e)
		out = append(out, e)
	}
	return out
}

// keepTelling cuts a long domain list to the domains a policy decides, then
// the emptiest and fullest counted ones.
func keepTelling(ds []SpreadDomain, minNum int) []SpreadDomain {
	var keep []SpreadDomain
	var rest []SpreadDomain
	for _, d := range ds {
		if d.Why != "" && len(keep) < maxSpreadDomains/2 {
			keep = append(keep, d)
		} else if d.Counts {
			rest = append(rest, d)
		}
	}
	sort.SliceStable(rest, func(i, j int) bool { return rest[i].Matching < rest[j].Matching })
	for i := 0; len(keep) < maxSpreadDomains && len(rest) > 0; i++ {
		if i%2 == 0 {
			keep, rest = append(keep, rest[0]), rest[1:]
		} else {
			keep, rest = append(keep, rest[len(rest)-1]), rest[:len(rest)-1]
		}
	}
	sort.Slice(keep, func(i, j int) bool { return keep[i].Value < keep[j].Value })
	return keep
}

// spreadSummary: "topology.kubernetes.io/zone (maxSkew 1, selector
// app=web): zone-a counts (2 matching, skew 2); zone-b counts (0 matching,
// skew 0) only because of nodeAffinityPolicy: Ignore; ...".
func spreadSummary(e SpreadConstraint) string {
	head := fmt.Sprintf("%s (maxSkew %d, selector %s", e.TopologyKey, e.MaxSkew, e.Selector)
	if len(e.MatchLabelKeys) > 0 {
		head += "; matchLabelKeys added " + strings.Join(e.MatchLabelKeys, ", ") + " from the pod's labels"
	}
	head += ")"
	var parts []string
	for _, d := range e.Domains {
		if d.Counts {
			p := fmt.Sprintf("%s counts (%d matching, skew %d)", d.Value, d.Matching, d.Matching-e.Min)
			if d.Why != "" {
				p += " " + strings.TrimPrefix(d.Why, "counts ")
			}
			parts = append(parts, p)
			continue
		}
		parts = append(parts, d.Value+" "+d.Why)
	}
	if e.DomainCount > 0 {
		parts = append(parts, fmt.Sprintf("… (%d domains in all)", e.DomainCount))
	}
	s := head + ": " + strings.Join(parts, "; ")
	if e.MinDomains > 0 && int32(e.Counting) < e.MinDomains {
		s += fmt.Sprintf("; only %d domain(s) count, fewer than minDomains %d, so the minimum is taken as 0", e.Counting, e.MinDomains)
	}
	return s
}

package scheduling

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/ktriage/ktriage/pkg/topn"
)

const (
	msgExistingAntiAffinity = "node(s) didn't satisfy existing pods anti-affinity rules"
	msgPodAffinity          = "node(s) didn't match pod affinity rules"
	msgPodAntiAffinity      = "node(s) didn't match pod anti-affinity rules"
)

// affinityTerm is a parsed PodAffinityTerm (the scheduler's AffinityTerm).
type affinityTerm struct {
	api         corev1.PodAffinityTerm
	namespaces  map[string]bool
	nsSelector  labels.Selector
	selector    labels.Selector
	topologyKey string
	// resolved: the namespaceSelector was turned into names (the incoming
	// pod's terms); selected are the namespaces it matched.
	resolved bool
	selected []string
}

func newAffinityTerm(owner *corev1.Pod, t corev1.PodAffinityTerm) (*affinityTerm, error) {
	sel, err := metav1.LabelSelectorAsSelector(t.LabelSelector)
	if err != nil {
		return nil, err
	}
	nsSel, err := metav1.LabelSelectorAsSelector(t.NamespaceSelector)
	if err != nil {
		return nil, err
	}
	ns := map[string]bool{}
	if len(t.Namespaces) == 0 && t.NamespaceSelector == nil {
		ns[owner.Namespace] = true
	}
	for _, n := range t.Namespaces {
		ns[n] = true
	}
	return &affinityTerm{api: t, namespaces: ns, nsSelector: nsSel, selector: sel, topologyKey: t.TopologyKey}, nil
}

// matches is AffinityTerm.Matches: the pod's namespace is named or selected,
// and its labels match.
func (t *affinityTerm) matches(p *corev1.Pod, nsLabels labels.Set) bool {
	if t.namespaces[p.Namespace] || t.nsSelector.Matches(nsLabels) {
		return t.selector.Matches(labels.Set(p.Labels))
	}
	return false
}

// String names the term by its own topology key, label selector and the
// namespaces it applies to: listed, or what its namespaceSelector resolved
// to ("no namespace matches env in (prod)").
func (t *affinityTerm) String() string {
	s := fmt.Sprintf("topologyKey %s, selector %s", t.topologyKey, selectorString(t.selector))
	sel := t.api.NamespaceSelector
	switch {
	case sel != nil && len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0:
		s += ", every namespace (namespaceSelector {})"
	case sel != nil && !t.resolved:
		s += ", namespaceSelector " + metav1.FormatLabelSelector(sel)
		if len(t.api.Namespaces) > 0 {
			s += ", namespaces " + strings.Join(t.api.Namespaces, ",")
		}
	case sel != nil && len(t.selected) == 0:
		if len(t.api.Namespaces) > 0 {
			s += ", namespaces " + strings.Join(t.api.Namespaces, ",")
		}
		s += ", no namespace matches " + metav1.FormatLabelSelector(sel)
	case sel != nil:
		s += ", namespaces " + namespaceList(append(append([]string(nil), t.api.Namespaces...), t.selected...))
		s += " (namespaceSelector " + metav1.FormatLabelSelector(sel)
		if len(t.api.Namespaces) > 0 {
			s += " selects " + namespaceList(t.selected) + ", the others are listed"
		}
		s += ")"
	case len(t.api.Namespaces) > 0:
		s += ", namespaces " + strings.Join(t.api.Namespaces, ",")
	}
	return s
}

func namespaceList(ns []string) string {
	const max = 5
	if len(ns) > max {
		return strings.Join(ns[:max], ", ") + fmt.Sprintf(" and %d more", len(ns)-max)
	}
	return strings.Join(ns, ", ")
}

func requiredTerms(p *corev1.Pod, anti bool) ([]*affinityTerm, error) {
	a := p.Spec.Affinity
	var api []corev1.PodAffinityTerm
	switch {
	case a == nil:
	case anti && a.PodAntiAffinity != nil:
		api = a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution
	case !anti && a.PodAffinity != nil:
		api = a.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution
	}
	out := make([]*affinityTerm, 0, len(api))
	for _, t := range api {
		at, err := newAffinityTerm(p, t)
		if err != nil {
			return nil, err
		}
		out = append(out, at)
	}
	return out, nil
}

type topologyPair struct{ key, value string }

// affinityState is InterPodAffinity's PreFilter state.
type affinityState struct {
	affinity, anti []*affinityTerm
	nsLabels       labels.Set
	// existingAnti counts, per topology pair, the existing pods whose
	// required anti-affinity matches the incoming pod; existingAntiPods
	// holds them.
	existingAnti     map[topologyPair]int
	existingAntiPods map[topologyPair][]podAt
	// affinityCounts / antiCounts: matches of the incoming pod's terms,
	// summed over the terms (as the scheduler counts); antiPods holds, per
	// anti-affinity term, the pods it matches.
	affinityCounts map[topologyPair]int
	antiCounts     map[topologyPair]int
	antiPods       map[termPair][]podAt
	// described caches, per pod list and topology pair, what a reason says
	// about the pods: every node of a topology domain shares it, and
	// building it per node is quadratic on large clusters.
	described map[describedKey]describedPods
	// shared, when the counts are shared (termCounts), caches the
	// description of antiPods for every pod with the same terms.
	shared *describedCache
}

// termPair is one anti-affinity term (by index) in one topology domain.
type termPair struct {
	term int
	tp   topologyPair
}

// describedCache is a describe cache that pods evaluated concurrently share.
type describedCache struct {
	mu sync.Mutex
	m  map[termPair]describedPods
}

// podAt is an existing pod and the node it runs on. Each pod appears at
// most once per topology pair.
type podAt struct {
	pod  *corev1.Pod
	node string
}

type describedKey struct {
	existing bool
	tp       termPair
}

// describedPods is what a reason says about the pods behind it.
type describedPods struct {
	names []string // sorted namespace/name, at most maxReasonPods
	total int      // set when names is cut
	text  string   // "pods ns/a on n1, ns/b on n2 and N more"
}

// maxReasonPods caps the pods one reason names: the count says the rest.
const maxReasonPods = 10

// describe says what a reason says about the pods an anti-affinity term
// matches in a domain, or (existing, term -1) the existing pods whose
// anti-affinity rejects the pod there.
func (s *affinityState) describe(existing bool, tp termPair) describedPods {
	if !existing && s.shared != nil {
		s.shared.mu.Lock()
		defer s.shared.mu.Unlock()
		if d, ok := s.shared.m[tp]; ok {
			return d
		}
		d := s.describeNow(existing, tp)
		s.shared.m[tp] = d
		return d
	}
	k := describedKey{existing, tp}
	if d, ok := s.described[k]; ok {
		return d
	}
	d := s.describeNow(existing, tp)
	if s.described == nil {
		s.described = map[describedKey]describedPods{}
	}
	s.described[k] = d
	return d
}

// describeNow builds what a reason says about the pods of a term and
// topology pair.
func (s *affinityState) describeNow(existing bool, tp termPair) describedPods {
	entries := s.antiPods[tp]
	if existing {
		entries = s.existingAntiPods[tp.tp]
	}
	first := topn.Sorted(entries, maxReasonPods, func(a, b podAt) bool { return lessPod(a.pod, b.pod) })
	d := describedPods{names: make([]string, len(first))}
	located := make([]string, len(first))
	for i, e := range first {
		d.names[i] = e.pod.Namespace + "/" + e.pod.Name
		located[i] = d.names[i] + " on " + e.node
	}
	if len(entries) > len(first) {
		d.total = len(entries)
	}
	d.text = listPods(located, len(entries))
	return d
}

// lessPod orders pods as the strings "namespace/name" sort, without
// building them.
func lessPod(a, b *corev1.Pod) bool {
	if a.Namespace == b.Namespace {
		return a.Name < b.Name
	}
	x, y := a.Namespace, b.Namespace
	n := min(len(x), len(y))
	if x[:n] != y[:n] {
		return x[:n] < y[:n]
	}
	// One namespace is a prefix of the other: the shorter one is followed by
	// '/', the longer one by its next character.
	if len(x) < len(y) {
		return '/' < y[len(x)]
	}
	return x[len(y)] < '/'
}

// interPodAffinityPlugin is InterPodAffinity.
var interPodAffinityPlugin = plugin{
	name:  "InterPodAffinity",
	needs: interPodAffinityNeeds,
	preFilter: func(c *cycle) preResult {
		s, err := c.affinityPreFilter(c.nodes)
		if err != nil {
			return preResult{reasons: []Reason{{Message: "parsing pod: " + err.Error(), Unresolvable: true}}}
		}
		if len(s.existingAnti) == 0 && len(s.affinity) == 0 && len(s.anti) == 0 {
			return preResult{skip: true}
		}
		c.affinity = s
		return preResult{}
	},
	filter: func(c *cycle, ni *nodeInfo) []Reason {
		return c.affinityFilter(ni)
	},
}

func (c *cycle) namespaceLabels(ns string) labels.Set {
	if n := c.e.namespaces[ns]; n != nil {
		return labels.Merge(n.Labels, nil)
	}
	return nil
}

// mergeNamespaces resolves a term's namespaceSelector into names, as the
// plugin does for the incoming pod's terms.
func (c *cycle) mergeNamespaces(t *affinityTerm) {
	if t.nsSelector.Empty() {
		return
	}
	t.resolved = true
	for _, n := range c.e.snap.Namespaces {
		if n != nil && t.nsSelector.Matches(labels.Set(n.Labels)) {
			if !t.namespaces[n.Name] {
				t.selected = append(t.selected, n.Name)
			}
			t.namespaces[n.Name] = true
		}
	}
	sort.Strings(t.selected)
	t.nsSelector = labels.Nothing()
}

func (c *cycle) affinityPreFilter(nodes []*nodeInfo) (*affinityState, error) {
	s := &affinityState{
		existingAnti: map[topologyPair]int{}, existingAntiPods: map[topologyPair][]podAt{},
		affinityCounts: map[topologyPair]int{}, antiCounts: map[topologyPair]int{},
		antiPods: map[termPair][]podAt{},
	}
	var err error
	if s.affinity, err = requiredTerms(c.pod, false); err != nil {
		return nil, err
	}
	if s.anti, err = requiredTerms(c.pod, true); err != nil {
		return nil, err
	}
	for _, t := range s.affinity {
		c.mergeNamespaces(t)
	}
	for _, t := range s.anti {
		c.mergeNamespaces(t)
	}
	s.nsLabels = c.namespaceLabels(c.pod.Namespace)
	for _, ni := range nodes {
		c.countExistingAnti(s, ni, 1)
	}
	if len(s.affinity) == 0 && len(s.anti) == 0 {
		return s, nil
	}
	// What the incoming pod's terms match depends on the terms only: pods
	// with the same terms share the counts (read-only; dry runs clone).
	cacheable := len(nodes) == len(c.e.nodes) && c.pod.Spec.NodeName == ""
	var key string
	if cacheable {
		key = termsKey(s.affinity, s.anti)
		c.e.mu.Lock()
		tc, ok := c.e.termCounts[key]
		c.e.mu.Unlock()
		if ok {
			s.affinityCounts, s.antiCounts, s.antiPods, s.shared = tc.affinityCounts, tc.antiCounts, tc.antiPods, tc.described
			return s, nil
		}
	}
	for _, ni := range nodes {
		c.countIncoming(s, ni, 1)
	}
	if cacheable {
		c.e.mu.Lock()
		if c.e.termCounts == nil {
			c.e.termCounts = map[string]termCounts{}
		}
		s.shared = &describedCache{m: map[termPair]describedPods{}}
		c.e.termCounts[key] = termCounts{affinityCounts: s.affinityCounts, antiCounts: s.antiCounts, antiPods: s.antiPods, described: s.shared}
		c.e.mu.Unlock()
	}
	return s, nil
}

// termCounts is what an incoming pod's required (anti-)affinity terms match
// among the snapshot's pods.
type termCounts struct {
	affinityCounts, antiCounts map[topologyPair]int
	antiPods                   map[termPair][]podAt
	described                  *describedCache
}

// termsKey identifies terms by everything matching reads: topology key,
// label selector, namespaces (merged from the namespaceSelector).
func termsKey(affinity, anti []*affinityTerm) string {
	var b strings.Builder
	for i, terms := range [][]*affinityTerm{affinity, anti} {
		for _, t := range terms {
			ns := make([]string, 0, len(t.namespaces))
			for n := range t.namespaces {
				ns = append(ns, n)
			}
			sort.Strings(ns)
			fmt.Fprintf(&b, "%d\x00%s\x00%s\x00%s\x00%s\x01", i, t.topologyKey, t.selector.String(), t.nsSelector.String(), strings.Join(ns, ","))
		}
	}
	return b.String()
}

// affinityCountNode adds (1) or removes (-1) one node's pods to the counts.
func (c *cycle) affinityCountNode(s *affinityState, ni *nodeInfo, delta int) {
	c.countExistingAnti(s, ni, delta)
	c.countIncoming(s, ni, delta)
}

// record adds delta to a topology pair's count for pod p on node, and lists
// or unlists p unless listed says it already is.
func record(m map[topologyPair]int, names map[topologyPair][]podAt, listed *[]topologyPair, node *corev1.Node, key string, p *corev1.Pod, delta int) {
	tp, ok := countPair(m, node, key, delta)
	if !ok || names == nil || slices.Contains(*listed, tp) {
		return
	}
	*listed = append(*listed, tp)
	listPod(names, tp, p, node.Name, delta)
}

// recordTerm adds delta to a topology pair's count for pod p on node, and
// lists or unlists p under the term that matched it.
func recordTerm(m map[topologyPair]int, names map[termPair][]podAt, term int, node *corev1.Node, key string, p *corev1.Pod, delta int) {
	if tp, ok := countPair(m, node, key, delta); ok {
		listPod(names, termPair{term, tp}, p, node.Name, delta)
	}
}

// countPair adds delta to the count of node's topology pair for key (a
// count that falls to 0 is removed); false when the node has no such label.
func countPair(m map[topologyPair]int, node *corev1.Node, key string, delta int) (topologyPair, bool) {
	v, ok := node.Labels[key]
	if !ok {
		return topologyPair{}, false
	}
	tp := topologyPair{key, v}
	m[tp] += delta
	if m[tp] <= 0 {
		delete(m, tp)
	}
	return tp, true
}

// listPod lists p on node under k (delta > 0) or unlists it.
func listPod[K comparable](names map[K][]podAt, k K, p *corev1.Pod, node string, delta int) {
	if delta > 0 {
		names[k] = append(names[k], podAt{pod: p, node: node})
		return
	}
	kept := make([]podAt, 0, len(names[k]))
	for _, e := range names[k] {
		if e.pod != p {
			kept = append(kept, e)
		}
	}
	names[k] = kept
}

// countExistingAnti adds (1) or removes (-1) the node's pods whose required
// anti-affinity rejects the incoming pod.
func (c *cycle) countExistingAnti(s *affinityState, ni *nodeInfo, delta int) {
	var listed []topologyPair
	for _, p := range ni.antiPods {
		listed = listed[:0]
		for _, t := range c.e.existingAntiTerms(p) {
			if t.matches(c.pod, s.nsLabels) {
				record(s.existingAnti, s.existingAntiPods, &listed, ni.node, t.topologyKey, p, delta)
			}
		}
	}
}

// countIncoming adds (1) or removes (-1) the node's pods that the incoming
// pod's required affinity and anti-affinity terms match.
func (c *cycle) countIncoming(s *affinityState, ni *nodeInfo, delta int) {
	var listed []topologyPair
	for _, p := range ni.pods {
		if len(s.affinity) > 0 && podMatchesAllTerms(s.affinity, p) {
			for _, t := range s.affinity {
				record(s.affinityCounts, nil, &listed, ni.node, t.topologyKey, p, delta)
			}
		}
		for i, t := range s.anti {
			if t.matches(p, nil) {
				recordTerm(s.antiCounts, s.antiPods, i, ni.node, t.topologyKey, p, delta)
			}
		}
	}
}

func hasRequiredAntiAffinity(p *corev1.Pod) bool {
	a := p.Spec.Affinity
	return a != nil && a.PodAntiAffinity != nil && len(a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution) > 0
}

// existingAntiTerms returns an existing pod's parsed required anti-affinity:
// NewEngine parses it once for the snapshot's pods, since every incoming pod
// is checked against it.
func (e *Engine) existingAntiTerms(p *corev1.Pod) []*affinityTerm {
	if terms, ok := e.antiTerms[p]; ok {
		return terms
	}
	return parseAntiTerms(p)
}

// parseAntiTerms parses a pod's required anti-affinity; a pod whose terms do
// not parse (the API server rejects such pods) has none.
func parseAntiTerms(p *corev1.Pod) []*affinityTerm {
	terms, err := requiredTerms(p, true)
	if err != nil {
		return nil
	}
	return terms
}

func podMatchesAllTerms(terms []*affinityTerm, p *corev1.Pod) bool {
	if len(terms) == 0 {
		return false
	}
	for _, t := range terms {
		if !t.matches(p, nil) {
			return false
		}
	}
	return true
}

func (c *cycle) affinityFor(ni *nodeInfo) *affinityState {
	if c.affinity == nil {
		return nil
	}
	if orig, ok := c.byName[ni.node.Name]; ok && orig != ni {
		// Preemption dry run: recount with this node's remaining pods.
		s := c.affinity.clone()
		c.affinityCountNode(s, orig, -1)
		c.affinityCountNode(s, ni, 1)
		return s
	}
	return c.affinity
}

func (c *cycle) affinityFilter(ni *nodeInfo) []Reason {
	s := c.affinityFor(ni)
	if s == nil {
		return nil
	}
	node := ni.node
	if len(s.affinity) > 0 {
		podsExist := true
		for _, t := range s.affinity {
			v, ok := node.Labels[t.topologyKey]
			if !ok {
				return []Reason{{Message: msgPodAffinity, Unresolvable: true,
					Detail: fmt.Sprintf("node has no label %s (topologyKey of required pod affinity)", t.topologyKey)}}
			}
			if s.affinityCounts[topologyPair{t.topologyKey, v}] <= 0 {
				podsExist = false
			}
		}
		if !podsExist && !(len(s.affinityCounts) == 0 && podMatchesAllTerms(s.affinity, c.pod)) {
			var terms []string
			for _, t := range s.affinity {
				terms = append(terms, "("+t.String()+")")
			}
			detail := fmt.Sprintf("no pod matching the required pod affinity %s runs in this node's %s", strings.Join(terms, " and "), topologyOf(node, s.affinity))
			if len(s.affinityCounts) == 0 {
				detail = fmt.Sprintf("no pod anywhere matches the required pod affinity %s", strings.Join(terms, " and "))
			}
			return []Reason{{Message: msgPodAffinity, Unresolvable: true, Detail: detail}}
		}
	}
	for _, t := range s.anti {
		if v, ok := node.Labels[t.topologyKey]; ok {
			tp := topologyPair{t.topologyKey, v}
			if s.antiCounts[tp] > 0 {
				// The scheduler sums the terms' matches per domain: name
				// the terms that match pods here, each with its own pods.
				var names []string
				var parts []string
				total := 0
				for j, tj := range s.anti {
					if tj.topologyKey != t.topologyKey || len(s.antiPods[termPair{j, tp}]) == 0 {
						continue
					}
					d := s.describe(false, termPair{j, tp})
					names = append(names, d.names...)
					total += max(d.total, len(d.names))
					parts = append(parts, fmt.Sprintf("the pod's required anti-affinity (%s) matches %s", tj.String(), d.text))
				}
				r := Reason{Message: msgPodAntiAffinity, Pods: dedupe(names), Detail: strings.Join(parts, "; ") + fmt.Sprintf(" in %s=%s", tp.key, tp.value)}
				if total > len(r.Pods) {
					r.PodCount = total
				}
				return []Reason{r}
			}
		}
	}
	if len(s.existingAnti) > 0 {
		keys := make([]string, 0, len(node.Labels))
		for k := range node.Labels {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			tp := topologyPair{k, node.Labels[k]}
			if s.existingAnti[tp] > 0 {
				d := s.describe(true, termPair{-1, tp})
				return []Reason{{Message: msgExistingAntiAffinity, Pods: d.names, PodCount: d.total, Detail: fmt.Sprintf(
					"required anti-affinity of %s rejects this pod in %s=%s", d.text, tp.key, tp.value)}}
			}
		}
	}
	return nil
}

func topologyOf(node *corev1.Node, terms []*affinityTerm) string {
	var parts []string
	for _, t := range terms {
		parts = append(parts, t.topologyKey+"="+node.Labels[t.topologyKey])
	}
	return strings.Join(dedupe(parts), ", ")
}

// listPods names the first of total pods in a sentence.
func listPods(first []string, total int) string {
	const maxListed = 5
	if total > maxListed {
		return fmt.Sprintf("pods %s and %d more", strings.Join(first[:maxListed], ", "), total-maxListed)
	}
	if total == 1 {
		return "pod " + first[0]
	}
	return "pods " + strings.Join(first, ", ")
}

func (s *affinityState) clone() *affinityState {
	cp := *s
	cp.existingAnti = cloneCounts(s.existingAnti)
	cp.affinityCounts = cloneCounts(s.affinityCounts)
	cp.antiCounts = cloneCounts(s.antiCounts)
	cp.existingAntiPods = cloneNames(s.existingAntiPods)
	cp.antiPods = cloneTermNames(s.antiPods)
	cp.described, cp.shared = nil, nil
	return &cp
}

// cloneNames copies the map; the full slice expression makes a later append
// copy instead of writing into the original's backing array.
func cloneNames(m map[topologyPair][]podAt) map[topologyPair][]podAt {
	out := make(map[topologyPair][]podAt, len(m))
	for k, v := range m {
		out[k] = v[:len(v):len(v)]
	}
	return out
}

// cloneTermNames is cloneNames for per-term lists.
func cloneTermNames(m map[termPair][]podAt) map[termPair][]podAt {
	out := make(map[termPair][]podAt, len(m))
	for k, v := range m {
		out[k] = v[:len(v):len(v)]
	}
	return out
}

func cloneCounts(m map[topologyPair]int) map[topologyPair]int {
	out := make(map[topologyPair]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

package autoscaler

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	resourcehelper "k8s.io/component-helpers/resource"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"

	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/pkg/scheduling"
)

// Karpenter's API (sigs.k8s.io/karpenter pkg/apis/v1) and traces.
var (
	NodePoolResource  = schema.GroupVersionResource{Group: "karpenter.sh", Version: "v1", Resource: "nodepools"}
	NodeClaimResource = schema.GroupVersionResource{Group: "karpenter.sh", Version: "v1", Resource: "nodeclaims"}
)

// Snapshot kinds the NodePool and NodeClaim lists are recorded under in
// cluster.Snapshot.Loaded.
const (
	KindNodePool  cluster.Kind = "NodePool"
	KindNodeClaim cluster.Kind = "NodeClaim"
)

const (
	karpenterGroup = "karpenter.sh"
	// nodePoolLabel is on every node and NodeClaim of a NodePool.
	nodePoolLabel = "karpenter.sh/nodepool"
	// karpenterLease is Karpenter's leader-election Lease (--leader-election-name).
	karpenterLease = "karpenter-leader-election"
	// registrationTTL: Karpenter deletes a NodeClaim whose node has not
	// registered within 15 minutes of launch.
	registrationTTL = 15 * time.Minute
	// Karpenter's pod events (pkg/controllers/provisioning/scheduling/events.go):
	//   Nominated         Pod should schedule on: nodeclaim/default-x2z7k[, node/ip-10-0-1-2]
	//   FailedScheduling  Failed to schedule pod, <error>[; <error>...]
	ReasonNominated        = "Nominated"
	ReasonFailedScheduling = "FailedScheduling"
)

// wellKnownLabels are the node labels Karpenter lets a pod require even
// when a NodePool does not constrain them: the cloud provider picks an
// instance type and offering that has them (pkg/apis/v1/labels.go).
var wellKnownLabels = map[string]bool{
	corev1.LabelTopologyZone:       true,
	corev1.LabelTopologyRegion:     true,
	corev1.LabelInstanceTypeStable: true,
	corev1.LabelArchStable:         true,
	corev1.LabelOSStable:           true,
	corev1.LabelWindowsBuild:       true,
	"karpenter.sh/capacity-type":   true,
}

// wellKnownPrefixes are the cloud providers' own well-known labels
// (instance family, size, GPU, ...).
var wellKnownPrefixes = []string{"karpenter.k8s.aws/", "karpenter.azure.com/", "karpenter.k8s.gcp/"}

func isWellKnown(key string) bool {
	if wellKnownLabels[key] {
		return true
	}
	for _, p := range wellKnownPrefixes {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

type nodePool struct {
	Metadata metav1.ObjectMeta `json:"metadata"`
	Spec     struct {
		Template struct {
			Metadata struct {
				Labels map[string]string `json:"labels"`
			} `json:"metadata"`
			Spec struct {
				Requirements []corev1.NodeSelectorRequirement `json:"requirements"`
				Taints       []corev1.Taint                   `json:"taints"`
			} `json:"spec"`
		} `json:"template"`
		Limits   corev1.ResourceList `json:"limits"`
		Weight   *int32              `json:"weight"`
		Replicas *int64              `json:"replicas"`
	} `json:"spec"`
	Status struct {
		Conditions []metav1.Condition `json:"conditions"`
	} `json:"status"`
}

type nodeClaim struct {
	Metadata metav1.ObjectMeta `json:"metadata"`
	Status   struct {
		NodeName   string              `json:"nodeName"`
		Capacity   corev1.ResourceList `json:"capacity"`
		Conditions []metav1.Condition  `json:"conditions"`
	} `json:"status"`
}

type karpState struct {
	pools    []*nodePool
	claims   []*nodeClaim
	running  *bool
	evidence []string
}

func readKarpenter(snap *cluster.Snapshot, now time.Time) *karpState {
	k := &karpState{}
	seen := map[string]bool{}
	for _, u := range snap.Other {
		gvk := u.GroupVersionKind()
		if gvk.Group != karpenterGroup || seen[gvk.Kind+"/"+u.GetName()] {
			continue
		}
		seen[gvk.Kind+"/"+u.GetName()] = true
		switch gvk.Kind {
		case "NodePool":
			var np nodePool
			if decode(u, &np) == nil {
				k.pools = append(k.pools, &np)
			}
		case "NodeClaim":
			var nc nodeClaim
			if decode(u, &nc) == nil {
				k.claims = append(k.claims, &nc)
			}
		}
	}
	if len(k.pools) == 0 && !snap.Loaded[KindNodePool] {
		return nil
	}
	sort.Slice(k.pools, func(i, j int) bool {
		wi, wj := int32(0), int32(0)
		if w := k.pools[i].Spec.Weight; w != nil {
			wi = *w
		}
		if w := k.pools[j].Spec.Weight; w != nil {
			wj = *w
		}
		if wi != wj {
			return wi > wj
		}
		return k.pools[i].Metadata.Name < k.pools[j].Metadata.Name
	})
	yes, no := true, false
	for _, u := range snap.Other {
		if u.GetName() != karpenterLease {
			continue
		}
		if l := findLease([]*unstructured.Unstructured{u}, u.GetNamespace(), karpenterLease); l != nil && !l.renewed.IsZero() {
			if now.Sub(l.renewed) <= leaseSlack {
				k.running = &yes
				k.evidence = append(k.evidence, fmt.Sprintf("Lease %s/%s renewed %s ago by %s", l.namespace, l.name, age(now.Sub(l.renewed)), l.holder))
			} else {
				k.running = &no
				k.evidence = append(k.evidence, fmt.Sprintf("Lease %s/%s last renewed %s ago", l.namespace, l.name, age(now.Sub(l.renewed))))
			}
		}
	}
	if k.running == nil {
		if d := karpenterDeployment(snap.Deployments); d != nil {
			ready := d.Status.ReadyReplicas > 0
			k.running = &ready
			k.evidence = append(k.evidence, fmt.Sprintf("Deployment %s/%s has %d ready replica(s)", d.Namespace, d.Name, d.Status.ReadyReplicas))
		}
	}
	return k
}

func karpenterDeployment(ds []*appsv1.Deployment) *appsv1.Deployment {
	for _, d := range ds {
		if d.Name == "karpenter" {
			return d
		}
	}
	return nil
}

// decode reads an unstructured object into a typed view of it.
func decode(u *unstructured.Unstructured, into any) error {
	b, err := u.MarshalJSON()
	if err != nil {
		return err
	}
	return json.Unmarshal(b, into)
}

// poolCheck is one NodePool as it concerns the pod.
type poolCheck struct {
	ng NodeGroup
	// reasons say why the NodePool does not take the pod.
	reasons []Reason
}

// karpChecks checks the pod against every NodePool, highest weight first:
// static pools and pools not Ready launch nothing, limits.nodes caps the
// NodeClaims, and the scheduler's filters run on a node built from the
// pool's template with its remaining limits as allocatable.
func (s *State) karpChecks(pod *corev1.Pod) ([]poolCheck, []string) {
	k := s.karp
	var notes []string
	checks := make([]poolCheck, 0, len(k.pools))
	var templates []*corev1.Node
	for _, np := range k.pools {
		name := np.Metadata.Name
		c := poolCheck{ng: NodeGroup{Name: name, Weight: np.Spec.Weight, Template: "nodepool"}}
		claims, inUse := k.usage(name)
		c.ng.NodeClaims = ptr(claims)
		c.ng.Limits = quantities(np.Spec.Limits)
		c.ng.InUse = quantities(inUse)
		can := true
		if np.Spec.Replicas != nil {
			can = false
			c.reasons = append(c.reasons, Reason{Code: "static-nodepool", NodeGroup: name, Source: "status",
				Message: fmt.Sprintf("NodePool %s is static (spec.replicas: %d): Karpenter keeps that many nodes and launches none for pending pods", name, *np.Spec.Replicas),
				Fix:     fmt.Sprintf("raise NodePool %s's spec.replicas, or let a dynamic NodePool take the pod", name),
				short:   name + " is static"})
		}
		for _, cond := range np.Status.Conditions {
			if cond.Type == "Ready" && cond.Status != metav1.ConditionTrue {
				can = false
				c.reasons = append(c.reasons, Reason{Code: "nodepool-not-ready", NodeGroup: name, Source: "status",
					Message: fmt.Sprintf("NodePool %s is not Ready (%s: %s): Karpenter does not launch from it", name, cond.Reason, oneLine(cond.Message)),
					Fix:     fmt.Sprintf("fix what the condition says, usually its NodeClass (kubectl describe nodepool %s)", name),
					short:   name + " not Ready (" + cond.Reason + ")"})
			}
		}
		if limit, ok := np.Spec.Limits["nodes"]; ok && int64(claims) >= limit.Value() {
			can = false
			c.reasons = append(c.reasons, Reason{Code: "node-limits", NodeGroup: name, Source: "status",
				Message: fmt.Sprintf("NodePool %s's limits.nodes is %s and it has %d NodeClaims", name, limit.String(), claims),
				Fix:     fmt.Sprintf("raise NodePool %s's spec.limits.nodes above %d", name, claims),
				short:   fmt.Sprintf("%s at limits.nodes (%d)", name, claims)})
		}
		c.ng.CanScaleUp = ptr(can)
		t, n := poolTemplate(np, pod, inUse)
		notes = append(notes, n...)
		templates = append(templates, t)
		checks = append(checks, c)
	}
	if len(templates) == 0 {
		return checks, notes
	}
	results, pre := s.simulate(pod, templates)
	for i := range checks {
		c := &checks[i]
		np := k.pools[i]
		r := results[templateName(c.ng.Name)]
		c.ng.Fits = ptr(pre == nil && len(r.Reasons) == 0)
		if pre != nil {
			c.reasons = append(c.reasons, Reason{Code: "scheduler-filter", NodeGroup: c.ng.Name, Source: "simulation",
				Message: c.ng.Name + ": " + reasonWords(*pre), Fix: filterFix(*pre, "", pod), short: c.ng.Name + ": " + pre.Message})
		}
		for _, rs := range r.Reasons {
			c.reasons = append(c.reasons, poolReason(np, rs, c.ng.InUse, pod))
		}
		for _, r := range c.reasons {
			c.ng.Blockers = append(c.ng.Blockers, strings.TrimPrefix(r.Message, c.ng.Name+": "))
		}
	}
	return checks, notes
}

// poolReason words a scheduler reason on a NodePool's template node.
func poolReason(np *nodePool, rs scheduling.Reason, inUse map[string]string, pod *corev1.Pod) Reason {
	name := np.Metadata.Name
	r := Reason{NodeGroup: name, Source: "simulation", Message: name + ": " + reasonWords(rs), short: name + ": " + rs.Message}
	switch rs.Plugin {
	case "TaintToleration":
		r.Code = "taint"
		r.Fix = filterFix(rs, "NodePool "+name, pod) + " (spec.template.spec.taints)"
	case "NodeAffinity":
		r.Code = "requirements"
		r.Fix = fmt.Sprintf("make the pod's nodeSelector or node affinity match NodePool %s (%s), or widen its spec.template.spec.requirements or labels", name, oneLine(rs.Detail))
	case "NodeResourcesFit":
		r.Code = "scheduler-filter"
		r.Fix = filterFix(rs, "NodePool "+name, pod)
		if sf := rs.Shortfall; sf != nil {
			if limit, ok := np.Spec.Limits[corev1.ResourceName(sf.Resource)]; ok {
				used := inUse[sf.Resource]
				if used == "" {
					used = "0"
				}
				need := resource.MustParse(used)
				if req, err := resource.ParseQuantity(sf.Requested); err == nil {
					need.Add(req)
				}
				r.Code = "limits"
				r.Message = fmt.Sprintf("%s: limits.%s is %s and its NodeClaims hold %s; the pod requests %s", name, sf.Resource, limit.String(), used, sf.Requested)
				r.short = fmt.Sprintf("%s: limits.%s %s of %s used", name, sf.Resource, used, limit.String())
				r.Fix = fmt.Sprintf("raise NodePool %s's spec.limits.%s from %s to at least %s, or remove NodeClaims it no longer needs", name, sf.Resource, limit.String(), need.String())
			}
		}
	default:
		r.Code = "scheduler-filter"
		r.Fix = filterFix(rs, "NodePool "+name, pod)
	}
	return r
}

// usage counts a NodePool's NodeClaims and sums their capacity.
func (k *karpState) usage(pool string) (int, corev1.ResourceList) {
	n := 0
	sum := corev1.ResourceList{}
	for _, c := range k.claims {
		if c.Metadata.Labels[nodePoolLabel] != pool {
			continue
		}
		n++
		for r, q := range c.Status.Capacity {
			v := sum[r]
			v.Add(q)
			sum[r] = v
		}
	}
	return n, sum
}

func quantities(rl corev1.ResourceList) map[string]string {
	if len(rl) == 0 {
		return nil
	}
	out := make(map[string]string, len(rl))
	for k, v := range rl {
		out[string(k)] = v.String()
	}
	return out
}

// unbounded stands for a resource no limit caps: the cloud provider's
// instance types decide, which the cluster does not show.
var unbounded = corev1.ResourceList{
	corev1.ResourceCPU:              resource.MustParse("100k"),
	corev1.ResourceMemory:           resource.MustParse("1Pi"),
	corev1.ResourceEphemeralStorage: resource.MustParse("1Pi"),
	corev1.ResourcePods:             resource.MustParse("110"),
}

// poolTemplate builds the node a NodePool would launch for the pod: its
// template labels, a value for each requirement (the one the pod asks for
// when the requirement allows it), the well-known labels the pod asks for
// that the pool leaves open, its taints (not its startupTaints, which
// Karpenter expects to go away), and as allocatable what its limits leave.
func poolTemplate(np *nodePool, pod *corev1.Pod, inUse corev1.ResourceList) (*corev1.Node, []string) {
	name := np.Metadata.Name
	var notes []string
	wants := podWants(pod)
	if len(wants) == 0 {
		wants = []map[string][]string{{}}
	}
	var node *corev1.Node
	required := nodeaffinity.GetRequiredNodeAffinity(pod)
	for i, w := range wants {
		n := &corev1.Node{}
		n.Name = templateName(name)
		n.Labels = poolLabels(np, w)
		if match, err := required.Match(n); i == 0 || err == nil && match {
			node = n
			if err == nil && match {
				break
			}
		}
	}
	node.Spec.Taints = append([]corev1.Taint(nil), np.Spec.Template.Spec.Taints...)
	node.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}
	alloc := corev1.ResourceList{}
	for r, q := range unbounded {
		alloc[r] = q
	}
	requests := resourcehelper.PodRequests(pod, resourcehelper.PodResourcesOptions{})
	for r, q := range requests {
		if _, known := unbounded[r]; !known && !q.IsZero() {
			alloc[r] = q
			if _, limited := np.Spec.Limits[r]; !limited {
				notes = append(notes, fmt.Sprintf("NodePool %s: whether an instance type offers %s is the cloud provider's to say; assumed here", name, r))
			}
		}
	}
	for r, limit := range np.Spec.Limits {
		if r == "nodes" {
			continue
		}
		left := limit.DeepCopy()
		if used, ok := inUse[r]; ok {
			left.Sub(used)
		}
		if left.Sign() < 0 {
			left = resource.MustParse("0")
		}
		alloc[r] = left
	}
	node.Status.Allocatable = alloc
	node.Status.Capacity = alloc
	return node, notes
}

// podWants lists, per required node affinity term (ORed), the values the
// pod asks of each label key, the nodeSelector included in each.
func podWants(pod *corev1.Pod) []map[string][]string {
	base := map[string][]string{}
	for k, v := range pod.Spec.NodeSelector {
		base[k] = []string{v}
	}
	var terms []corev1.NodeSelectorTerm
	if a := pod.Spec.Affinity; a != nil && a.NodeAffinity != nil && a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil {
		terms = a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	}
	if len(terms) == 0 {
		return []map[string][]string{base}
	}
	out := make([]map[string][]string, 0, len(terms))
	for _, t := range terms {
		w := map[string][]string{}
		for k, v := range base {
			w[k] = v
		}
		for _, e := range t.MatchExpressions {
			switch e.Operator {
			case corev1.NodeSelectorOpIn:
				w[e.Key] = e.Values
			case corev1.NodeSelectorOpExists:
				if _, ok := w[e.Key]; !ok {
					w[e.Key] = []string{"any"}
				}
			case corev1.NodeSelectorOpGt, corev1.NodeSelectorOpLt:
				if len(e.Values) == 1 {
					if n, err := strconv.ParseInt(e.Values[0], 10, 64); err == nil {
						if e.Operator == corev1.NodeSelectorOpGt {
							n++
						} else {
							n--
						}
						w[e.Key] = []string{strconv.FormatInt(n, 10)}
					}
				}
			}
		}
		out = append(out, w)
	}
	return out
}

// poolLabels are a NodePool's node labels for a pod wanting w.
func poolLabels(np *nodePool, w map[string][]string) map[string]string {
	name := np.Metadata.Name
	labels := map[string]string{}
	for k, v := range np.Spec.Template.Metadata.Labels {
		labels[k] = v
	}
	defined := map[string]bool{}
	for _, r := range np.Spec.Template.Spec.Requirements {
		defined[r.Key] = true
		if _, fixed := np.Spec.Template.Metadata.Labels[r.Key]; fixed {
			continue
		}
		want := w[r.Key]
		switch r.Operator {
		case corev1.NodeSelectorOpIn:
			if v, ok := firstIn(want, r.Values); ok {
				labels[r.Key] = v
			} else if len(r.Values) > 0 {
				labels[r.Key] = r.Values[0]
			}
		case corev1.NodeSelectorOpNotIn:
			for _, v := range want {
				if !slices.Contains(r.Values, v) {
					labels[r.Key] = v
					break
				}
			}
		case corev1.NodeSelectorOpExists:
			labels[r.Key] = "any"
			if len(want) > 0 {
				labels[r.Key] = want[0]
			}
		case corev1.NodeSelectorOpGt, corev1.NodeSelectorOpLt:
			labels[r.Key] = boundValue(r, want)
		}
	}
	for k, vs := range w {
		if _, set := labels[k]; set || defined[k] || len(vs) == 0 || !isWellKnown(k) {
			continue
		}
		labels[k] = vs[0]
	}
	labels[nodePoolLabel] = name
	labels[corev1.LabelHostname] = templateName(name)
	return labels
}

// boundValue picks a value for a Gt/Lt requirement: the pod's if it
// satisfies it, else the nearest one that does.
func boundValue(r corev1.NodeSelectorRequirement, want []string) string {
	if len(r.Values) != 1 {
		return ""
	}
	bound, err := strconv.ParseInt(r.Values[0], 10, 64)
	if err != nil {
		return ""
	}
	for _, v := range want {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && (r.Operator == corev1.NodeSelectorOpGt && n > bound || r.Operator == corev1.NodeSelectorOpLt && n < bound) {
			return v
		}
	}
	if r.Operator == corev1.NodeSelectorOpGt {
		return strconv.FormatInt(bound+1, 10)
	}
	return strconv.FormatInt(bound-1, 10)
}

func firstIn(want, allowed []string) (string, bool) {
	for _, v := range want {
		if slices.Contains(allowed, v) {
			return v, true
		}
	}
	return "", false
}

// explainKarpenter reads Karpenter's last word about the pod and checks its
// NodePools.
func (s *State) explainKarpenter(pod *corev1.Pod, evs []*corev1.Event) *Explanation {
	k := s.karp
	ex := &Explanation{Kind: KindKarpenter, Running: k.running, Events: toEvents(evs)}
	ex.Evidence = append(ex.Evidence, k.evidence...)
	checks, notes := s.karpChecks(pod)
	ex.Evidence = append(ex.Evidence, notes...)
	var poolReasons []Reason
	var fitting []string
	for _, c := range checks {
		ex.NodeGroups = append(ex.NodeGroups, c.ng)
		if *c.ng.Fits && *c.ng.CanScaleUp {
			fitting = append(fitting, c.ng.Name)
		}
		poolReasons = append(poolReasons, c.reasons...)
	}
	if len(checks) == 0 {
		poolReasons = []Reason{{Code: "no-nodepool", Source: "status",
			Message: "Karpenter's NodePool API is served but there is no NodePool: Karpenter launches no node",
			Fix:     "create a NodePool (and its NodeClass) the pod fits"}}
	} else if len(fitting) > 0 {
		ex.Evidence = append(ex.Evidence, "NodePool(s) the pod fits, as far as the cluster shows (instance types and offerings are the cloud provider's): "+strings.Join(fitting, ", "))
	}
	last := lastEvent(evs, ReasonNominated, ReasonFailedScheduling)
	if last != nil {
		ex.Evidence = append(ex.Evidence, s.lastWord("Karpenter", last))
	}
	switch {
	case last != nil && last.Reason == ReasonNominated:
		s.karpNominated(ex, last)
	case last != nil:
		ex.Verdict = VerdictNotTriggered
		ex.Reasons = append(ex.Reasons, poolReasonsBlocking(checks, poolReasons)...)
		ex.Reasons = append(ex.Reasons, karpEventReasons(last.Message, ex.Reasons)...)
		ex.Summary = "Karpenter cannot place the pod: " + joinCut(shorts(ex.Reasons), 3)
	default:
		ex.Verdict = VerdictNoEvent
		s.silence(ex, pod, sourceKarpenter, k.running, poolReasons, len(fitting) == 0, fitting)
	}
	return ex
}

// poolReasonsBlocking keeps the reasons of the pools that cannot take the
// pod (all of them when none can).
func poolReasonsBlocking(checks []poolCheck, all []Reason) []Reason {
	if len(checks) == 0 {
		return all
	}
	var out []Reason
	for _, c := range checks {
		if !*c.ng.Fits || !*c.ng.CanScaleUp {
			out = append(out, c.reasons...)
		}
	}
	return out
}

var (
	nominatedClaimRe = regexp.MustCompile(`nodeclaim/([^,\s]+)`)
	nominatedNodeRe  = regexp.MustCompile(`\bnode/([^,\s]+)`)
	olderPoolRe      = regexp.MustCompile(`incompatible with nodepool "([^"]+)"`)
)

// karpNominated: Karpenter nominated a NodeClaim (new) or a node (existing
// or in flight) for the pod. The node is coming unless its NodeClaim failed.
func (s *State) karpNominated(ex *Explanation, e *corev1.Event) {
	ex.Verdict = VerdictTriggered
	at := eventTime(e)
	var target []string
	claimName := ""
	if m := nominatedClaimRe.FindStringSubmatch(e.Message); m != nil {
		claimName = m[1]
		target = append(target, "nodeclaim/"+claimName)
	}
	if m := nominatedNodeRe.FindStringSubmatch(e.Message); m != nil {
		target = append(target, "node/"+m[1])
	}
	ex.Summary = fmt.Sprintf("Karpenter nominated %s %s ago", strings.Join(target, ", "), age(s.now.Sub(at)))
	if claimName == "" {
		return
	}
	var claim *nodeClaim
	for _, c := range s.karp.claims {
		if c.Metadata.Name == claimName {
			claim = c
		}
	}
	if claim == nil {
		if s.snap.Loaded[KindNodeClaim] {
			ex.Reasons = append(ex.Reasons, Reason{Code: "nodeclaim-gone", Source: "status", Raw: e.Message,
				Message: fmt.Sprintf("nodeclaim/%s no longer exists: its launch failed or it was removed; Karpenter tries again", claimName),
				Fix:     "read Karpenter's log and the NodePool's events for the failed launch"})
		}
	} else {
		pool := claim.Metadata.Labels[nodePoolLabel]
		if pool != "" {
			ex.Summary += " (NodePool " + pool + ")"
		}
		launched := conditionOf(claim.Status.Conditions, "Launched")
		registered := conditionOf(claim.Status.Conditions, "Registered")
		switch {
		case launched != nil && launched.Status == metav1.ConditionFalse:
			ex.Reasons = append(ex.Reasons, Reason{Code: "launch-failed", NodeGroup: pool, Source: "status",
				Message: fmt.Sprintf("nodeclaim/%s did not launch (%s: %s)", claimName, launched.Reason, oneLine(launched.Message)),
				Fix:     "fix what the cloud provider says (capacity, quota, the NodeClass); Karpenter retries with another NodeClaim"})
		case launched != nil && launched.Status == metav1.ConditionTrue && (registered == nil || registered.Status != metav1.ConditionTrue) && s.now.Sub(launched.LastTransitionTime.Time) > registrationTTL:
			ex.Reasons = append(ex.Reasons, Reason{Code: "not-registered", NodeGroup: pool, Source: "status",
				Message: fmt.Sprintf("nodeclaim/%s launched %s ago but its node has not registered", claimName, age(s.now.Sub(launched.LastTransitionTime.Time))),
				Fix:     "look at the instance's boot (user data, kubelet bootstrap, network to the API server)"})
		}
	}
	if len(ex.Reasons) > 0 {
		ex.Summary += "; " + ex.Reasons[0].Short()
	}
}

func conditionOf(cs []metav1.Condition, t string) *metav1.Condition {
	for i := range cs {
		if cs[i].Type == t {
			return &cs[i]
		}
	}
	return nil
}

// karpEventReasons puts the errors of Karpenter's FailedScheduling message
// in words, leaving out the kinds of cause the NodePool checks already
// explain.
func karpEventReasons(msg string, have []Reason) []Reason {
	covered := map[string]bool{}
	for _, r := range have {
		covered[r.Code] = true
	}
	body := strings.TrimPrefix(msg, "Failed to schedule pod, ")
	var out []Reason
	seen := map[string]bool{}
	for _, part := range strings.Split(body, "; ") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		code, words, fix := karpErrorWords(part)
		if covered[code] || seen[code] {
			continue
		}
		seen[code] = true
		r := Reason{Code: code, Source: "event", Raw: msg, Message: words, Fix: fix}
		if m := olderPoolRe.FindStringSubmatch(part); m != nil {
			r.NodeGroup = m[1]
		}
		out = append(out, r)
	}
	return out
}

// karpErrorWords classifies one of Karpenter's scheduling errors
// (pkg/controllers/provisioning/scheduling).
func karpErrorWords(part string) (code, words, fix string) {
	p := strings.ToLower(part)
	switch {
	case strings.HasPrefix(p, "ignoring pod"):
		return "ignored", "Karpenter ignores the pod: " + part, "fix what the message says about the pod's requirements or volumes"
	case strings.Contains(p, "did not tolerate taint"):
		return "taint", "a NodePool's taint is not tolerated (" + part + ")", "add the toleration to the pod, or remove the taint from the NodePool's spec.template.spec.taints"
	case strings.Contains(p, "incompatible volume requirements"):
		return "volume-topology", "the pod's volumes restrict it to where no NodePool launches (" + part + ")", "use a StorageClass or volume in a zone a NodePool covers"
	case strings.Contains(p, "incompatible requirements"):
		return "requirements", "the pod's node selector or affinity conflicts with every NodePool's requirements (" + part + ")", "change the pod's nodeSelector or affinity, or a NodePool's requirements"
	case strings.Contains(p, "node limits have been exhausted"):
		return "node-limits", "a NodePool's limits.nodes is reached", "raise the NodePool's spec.limits.nodes"
	case strings.Contains(p, "exceed limits for nodepool"):
		return "limits", "a NodePool's limits leave no instance type that fits", "raise the NodePool's spec.limits"
	case strings.Contains(p, "minvalues"):
		return "min-values", "a NodePool's minValues cannot be met (" + part + ")", "lower the requirements' minValues or widen their values"
	case strings.Contains(p, "no instance type"), strings.Contains(p, "filtered out all available instance types"):
		return "instance-types", "no instance type a NodePool allows meets the pod's requirements and requests (" + part + ")", "lower the pod's requests, or allow bigger or other instance types in the NodePool's requirements"
	case strings.Contains(p, "volume limit"):
		return "volume-limits", "every instance type would exceed its volume attachment limit (" + part + ")", "use fewer volumes per pod, or instance types with more attachments"
	case strings.Contains(p, "dynamic resource"):
		return "dra", "Karpenter does not provision for the pod's resource claims (" + part + ")", "give the pod a node with the devices by other means"
	case strings.Contains(p, "reserved offering"), strings.Contains(p, "reserved offerings"):
		return "reserved", "capacity reservations are full (" + part + ")", "free or add reserved capacity, or allow on-demand or spot"
	}
	return "other", part, ""
}

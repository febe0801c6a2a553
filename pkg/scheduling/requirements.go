package scheduling

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/ktriage/ktriage/pkg/cluster"
)

// Requirement is a kind of object a scheduler plugin reads to evaluate a
// pod, besides nodes and pods.
type Requirement struct {
	// Plugin is the filter plugin that reads it, or "DefaultPreemption"
	// for the preemption dry run.
	Plugin string       `json:"plugin"`
	Kind   cluster.Kind `json:"kind"`
	// Namespace limits a namespaced kind to one namespace; "" is every
	// namespace (and the only value for cluster-scoped kinds).
	Namespace string `json:"namespace,omitempty"`
}

const defaultPreemptionName = "DefaultPreemption"

// Requirements lists what evaluating pod against the engine's snapshot
// reads besides nodes and pods, plugin by plugin: a loader that loads them
// all lets every filter run. Some depend on the snapshot (an existing pod's
// anti-affinity selecting namespaces by label, a CSINode's volume limits),
// so a loader asks again once nodes and pods are in.
//
// A filter plugin whose requirement's kind the snapshot records as not
// loaded does not run: Evaluate reports it in Result.Unevaluated.
func (e *Engine) Requirements(pod *corev1.Pod) []Requirement {
	var out []Requirement
	for _, pl := range filterPlugins {
		if pl.needs != nil {
			out = append(out, pl.needs(e, pod)...)
		}
	}
	return append(out, e.preemptionNeeds(pod)...)
}

// Planner answers Requirements for pods against a snapshot without
// building an Engine: a loader that asks round by round what to load next
// would otherwise index every pod (per node, with summed requests) each
// round, for requirements that read only the pods' required anti-affinity
// and whether a node holds a pod.
type Planner struct{ e *Engine }

// NewPlanner indexes of snap what Requirements reads. snap must not change
// while the Planner is in use.
func NewPlanner(snap *cluster.Snapshot) *Planner {
	if snap == nil {
		snap = &cluster.Snapshot{}
	}
	e := &Engine{snap: snap}
	nodes := make(map[string]bool, len(snap.Nodes))
	for _, n := range snap.Nodes {
		if n != nil {
			nodes[n.Name] = true
		}
	}
	for _, p := range snap.Pods {
		if p == nil {
			continue
		}
		e.indexAntiTerms(p)
		if !e.podOnNode && countsOnNode(p) && nodes[p.Spec.NodeName] {
			e.podOnNode = true
		}
	}
	return &Planner{e: e}
}

// Requirements is Engine.Requirements.
func (pl *Planner) Requirements(pod *corev1.Pod) []Requirement {
	return pl.e.Requirements(pod)
}

// missingFor names the kinds a plugin needs for pod that the snapshot
// records as not loaded. A snapshot without a Loaded map (built in code)
// has everything.
func (e *Engine) missingFor(pl plugin, pod *corev1.Pod) []string {
	if e.snap.Loaded == nil || pl.needs == nil {
		return nil
	}
	seen := map[cluster.Kind]bool{}
	var out []string
	for _, r := range pl.needs(e, pod) {
		if !e.snap.Loaded[r.Kind] && !seen[r.Kind] {
			seen[r.Kind] = true
			out = append(out, string(r.Kind))
		}
	}
	return out
}

func reqs(plugin, namespace string, kinds ...cluster.Kind) []Requirement {
	out := make([]Requirement, 0, len(kinds))
	for _, k := range kinds {
		ns := ""
		if k == cluster.KindPVC || k == cluster.KindResourceClaim {
			ns = namespace
		}
		out = append(out, Requirement{Plugin: plugin, Kind: k, Namespace: ns})
	}
	return out
}

func hasPVCVolume(pod *corev1.Pod) bool {
	for _, v := range pod.Spec.Volumes {
		if v.PersistentVolumeClaim != nil {
			return true
		}
	}
	return false
}

// VolumeRestrictions reads the pod's claims (for ReadWriteOncePod); its
// in-tree disk check reads pods only.
func volumeRestrictionsNeeds(_ *Engine, pod *corev1.Pod) []Requirement {
	if !hasPVCVolume(pod) {
		return nil
	}
	return reqs("VolumeRestrictions", pod.Namespace, cluster.KindPVC)
}

// VolumeBinding reads claims, volumes, classes, and CSIDrivers (storage
// capacity) for a pod with claims or generic ephemeral volumes.
func volumeBindingNeeds(_ *Engine, pod *corev1.Pod) []Requirement {
	if len(podClaims(pod)) == 0 {
		return nil
	}
	return reqs("VolumeBinding", pod.Namespace, cluster.KindPVC, cluster.KindPV, cluster.KindStorageClass, cluster.KindCSIDriver)
}

// VolumeZone reads claims, their volumes and classes.
func volumeZoneNeeds(_ *Engine, pod *corev1.Pod) []Requirement {
	if !hasPVCVolume(pod) {
		return nil
	}
	return reqs("VolumeZone", pod.Namespace, cluster.KindPVC, cluster.KindPV, cluster.KindStorageClass)
}

// NodeVolumeLimits reads CSINodes (limits, migration) and CSIDrivers for a
// pod with claims or migratable in-tree volumes; once a node declares a
// limit it counts every pod's volumes there (their claims in any
// namespace) and the node's VolumeAttachments.
func nodeVolumeLimitsNeeds(e *Engine, pod *corev1.Pod) []Requirement {
	claims, inline := false, false
	for i := range pod.Spec.Volumes {
		v := &pod.Spec.Volumes[i]
		claims = claims || v.PersistentVolumeClaim != nil || v.Ephemeral != nil
		inline = inline || translator.IsInlineMigratable(v)
	}
	if !claims && !inline {
		return nil
	}
	const name = "NodeVolumeLimits"
	out := reqs(name, pod.Namespace, cluster.KindCSINode, cluster.KindCSIDriver)
	if claims {
		out = append(out, reqs(name, pod.Namespace, cluster.KindPVC, cluster.KindPV, cluster.KindStorageClass)...)
	}
	if e.anyVolumeLimit() {
		out = append(out, reqs(name, "", cluster.KindPVC, cluster.KindPV, cluster.KindStorageClass, cluster.KindVolumeAttachment)...)
	}
	return out
}

// anyVolumeLimit: some CSINode declares how many volumes its node takes.
func (e *Engine) anyVolumeLimit() bool {
	for _, n := range e.snap.CSINodes {
		if n == nil {
			continue
		}
		for _, d := range n.Spec.Drivers {
			if d.Allocatable != nil && d.Allocatable.Count != nil {
				return true
			}
		}
	}
	return false
}

// InterPodAffinity reads Namespaces when a term selects namespaces by
// label: one of the pod's own required terms, or an existing pod's required
// anti-affinity that would match the pod's labels (then the pod's
// namespace's labels decide).
func interPodAffinityNeeds(e *Engine, pod *corev1.Pod) []Requirement {
	if e.namespaceSelectorMatters(pod) {
		return reqs("InterPodAffinity", "", cluster.KindNamespace)
	}
	return nil
}

func (e *Engine) namespaceSelectorMatters(pod *corev1.Pod) bool {
	if a := pod.Spec.Affinity; a != nil {
		var terms []corev1.PodAffinityTerm
		if a.PodAffinity != nil {
			terms = append(terms, a.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution...)
		}
		if a.PodAntiAffinity != nil {
			terms = append(terms, a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution...)
		}
		for _, t := range terms {
			if selectsNamespacesByLabel(t) {
				return true
			}
		}
	}
	for p, terms := range e.antiTerms {
		if p.Spec.NodeName == "" {
			continue
		}
		for _, t := range terms {
			if selectsNamespacesByLabel(t.api) && t.selector.Matches(labels.Set(pod.Labels)) {
				return true
			}
		}
	}
	return false
}

// selectsNamespacesByLabel: a namespaceSelector that is neither absent nor
// empty (an empty one selects every namespace without reading any).
func selectsNamespacesByLabel(t corev1.PodAffinityTerm) bool {
	s := t.NamespaceSelector
	return s != nil && (len(s.MatchLabels) > 0 || len(s.MatchExpressions) > 0)
}

// DynamicResources reads the pod's ResourceClaims, DeviceClasses and
// ResourceSlices; for extended resources it reads DeviceClasses to know
// whether a class provides them.
func dynamicResourcesNeeds(_ *Engine, pod *corev1.Pod) []Requirement {
	if len(pod.Spec.ResourceClaims) > 0 {
		return reqs(dynamicResourcesName, pod.Namespace, cluster.KindResourceClaim, cluster.KindDeviceClass, cluster.KindResourceSlice)
	}
	if len(extendedResources(pod)) > 0 {
		return reqs(dynamicResourcesName, "", cluster.KindDeviceClass)
	}
	return nil
}

// extendedResources are the extended resources the pod requests, sorted.
func extendedResources(pod *corev1.Pod) []corev1.ResourceName {
	var out []corev1.ResourceName
	for _, name := range sortedScalarNames(incomingPodRequests(pod)) {
		if isExtendedResourceName(name) {
			out = append(out, name)
		}
	}
	return out
}

// preemptionNeeds: once a node holds pods, the preemption dry run weighs
// PodDisruptionBudgets (of any namespace), and explaining a preemption that
// cannot help names the pods' budgets and the PriorityClasses above them.
func (e *Engine) preemptionNeeds(*corev1.Pod) []Requirement {
	if e.anyPodOnNode() {
		return []Requirement{{Plugin: defaultPreemptionName, Kind: cluster.KindPDB}, {Plugin: defaultPreemptionName, Kind: cluster.KindPriorityClass}}
	}
	return nil
}

// anyPodOnNode: some node holds a pod.
func (e *Engine) anyPodOnNode() bool {
	if e.byName == nil {
		return e.podOnNode // a Planner's
	}
	for _, ni := range e.nodes {
		if len(ni.pods) > 0 {
			return true
		}
	}
	return false
}

// notSimulated records that a plugin let a node pass only because a check
// the scheduler makes is not simulated here: the plugin counts as not
// evaluated, and why says what was left out.
func (c *cycle) notSimulated(plugin, why string) {
	if c.partial == nil {
		c.partial = map[string][]string{}
	}
	for _, w := range c.partial[plugin] {
		if w == why {
			return
		}
	}
	c.partial[plugin] = append(c.partial[plugin], why)
}

// addPartial reports the plugins notSimulated recorded.
func (c *cycle) addPartial(res *Result) {
	if len(c.partial) == 0 {
		return
	}
	names := make([]string, 0, len(c.partial))
	for n := range c.partial {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if !slices.Contains(res.Unevaluated, n) {
			res.Unevaluated = append(res.Unevaluated, n)
		}
		res.Warnings = append(res.Warnings, fmt.Sprintf("%s not fully evaluated: %s", n, strings.Join(c.partial[n], "; ")))
	}
}

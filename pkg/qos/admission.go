package qos

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	resourcehelper "k8s.io/component-helpers/resource"
)

// LimitRangerAnnotation is the annotation the LimitRanger admission plugin
// writes on pods it changed.
const LimitRangerAnnotation = "kubernetes.io/limit-ranger"

// Admission is what the apiserver makes of a pod on create, before it
// computes status.qosClass.
type Admission struct {
	// Pod is the pod after API defaulting, LimitRanger and pod-level defaulting.
	Pod *corev1.Pod
	// Class is the QoS class the apiserver will store.
	Class corev1.PodQOSClass
	// ClassWithoutLimitRanges is the class the pod would get in a namespace
	// without LimitRanges.
	ClassWithoutLimitRanges corev1.PodQOSClass
	// LimitRangeChanges are LimitRanger's own words for what it set, e.g.
	// "cpu, memory request for container app" (as in its annotation).
	LimitRangeChanges []string
	// LimitRanges names the LimitRanges that set something.
	LimitRanges []string
	// Violations are LimitRanger's reasons to refuse the pod (min, max,
	// maxLimitRequestRatio), in its words; empty when the pod is admitted.
	Violations []string
	// Invalid are the apiserver's own validation errors on the admitted
	// pod's resources (a request above its limit, often a limit a LimitRange
	// default set below the manifest's request); empty when valid.
	Invalid []ResourceError
	// DefaultConflicts are values several LimitRanges default differently,
	// e.g. "memory limit for container app: 512Mi (lr-a), 1Gi (lr-b)". The
	// LimitRanger reads LimitRanges from an informer cache in no fixed order
	// and the first to default a value wins, so the pod may get any of them.
	DefaultConflicts []string
	// PossibleClasses are the classes the pod can get over the orders the
	// conflicting LimitRanges may be applied in (sorted, Class among them);
	// more than one means the prediction is uncertain.
	PossibleClasses []corev1.PodQOSClass
}

// Refused says whether the apiserver refuses the pod.
func (a Admission) Refused() bool { return len(a.Violations) > 0 || len(a.Invalid) > 0 }

// LimitRangeApplied says whether a LimitRange filled in a request or limit.
func (a Admission) LimitRangeApplied() bool { return len(a.LimitRangeChanges) > 0 }

// LimitRangeChangedClass says whether the LimitRange defaults changed the class.
func (a Admission) LimitRangeChangedClass() bool { return a.Class != a.ClassWithoutLimitRanges }

// Admit applies to a pod (a manifest, or a workload's pod template) what the
// apiserver applies on create, in its order, and computes the class:
//  1. API defaulting: container and init container requests default to their
//     limits (pkg/apis/core/v1/defaults.go SetDefaults_Pod);
//  2. LimitRanger admission (mutating) with the namespace's LimitRanges
//     (plugin/pkg/admission/limitranger/admission.go PodMutateLimitFunc);
//  3. pod-level resource defaulting (pkg/api/pod/util.go
//     DefaultPodLevelResources, called from PrepareForCreate);
//  4. the class (PrepareForCreate: qos.GetPodQOS);
//  5. pod validation of the resources (ValidatePodResources), naming the
//     LimitRange that supplied a value in an error;
//  6. LimitRanger validation (min, max, maxLimitRequestRatio).
//
// limitRanges should be the LimitRanges of the pod's namespace. They are
// applied in name order (the order the apiserver lists them); LimitRanges from
// manifests get their API defaults first. The LimitRanger itself takes them
// in its informer's order, which is not defined: where two default the same
// value differently, DefaultConflicts and PossibleClasses say so.
func Admit(pod *corev1.Pod, limitRanges []*corev1.LimitRange) Admission {
	base := pod.DeepCopy()
	DefaultContainerRequests(base)

	without := base.DeepCopy()
	DefaultPodLevelResources(without)

	admitted := base.DeepCopy()
	lrs := append([]*corev1.LimitRange(nil), limitRanges...)
	sort.SliceStable(lrs, func(i, j int) bool { return lrs[i].Name < lrs[j].Name })
	a := Admission{ClassWithoutLimitRanges: Class(without)}
	setBy := map[string]string{}
	for _, lr := range lrs {
		before := admitted.DeepCopy()
		changes := MutateLimitRange(admitted, lr)
		if len(changes) > 0 {
			a.LimitRanges = append(a.LimitRanges, lr.Name)
			a.LimitRangeChanges = append(a.LimitRangeChanges, changes...)
			defaultedValues(before, admitted, lr.Name, setBy)
		}
	}
	DefaultPodLevelResources(admitted)
	// Strategy validation runs in PrepareForCreate's wake, before the
	// validating admission plugins.
	for _, e := range ValidatePodResources(admitted) {
		explainDefaults(admitted, &e, setBy)
		a.Invalid = append(a.Invalid, e)
	}
	// The validating half of LimitRanger runs after PrepareForCreate.
	for _, lr := range lrs {
		a.Violations = append(a.Violations, ValidateLimitRange(lr, admitted)...)
	}
	a.Pod = admitted
	a.Class = Class(admitted)
	a.PossibleClasses = []corev1.PodQOSClass{a.Class}
	var involved []*corev1.LimitRange
	a.DefaultConflicts, involved = defaultConflicts(base, lrs)
	if len(involved) > 1 {
		a.PossibleClasses = possibleClasses(base, lrs, involved, a.Class)
	}
	return a
}

// defaultConflicts finds the values the pod leaves unset that two or more
// LimitRanges default differently, and the LimitRanges involved.
func defaultConflicts(base *corev1.Pod, lrs []*corev1.LimitRange) ([]string, []*corev1.LimitRange) {
	if len(lrs) < 2 {
		return nil, nil
	}
	defaults := make([]corev1.ResourceRequirements, len(lrs))
	for i, lr := range lrs {
		defaults[i] = defaultContainerResourceRequirements(DefaultLimitRange(lr))
	}
	var notes []string
	involved := map[int]bool{}
	check := func(c *corev1.Container, prefix, what string, set corev1.ResourceList, pick func(corev1.ResourceRequirements) corev1.ResourceList) {
		names := map[corev1.ResourceName]bool{}
		for _, d := range defaults {
			for k := range pick(d) {
				if _, ok := set[k]; !ok {
					names[k] = true
				}
			}
		}
		sorted := make([]string, 0, len(names))
		for k := range names {
			sorted = append(sorted, string(k))
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			var parts []string
			var who []int
			distinct := false
			for i, d := range defaults {
				v, ok := pick(d)[corev1.ResourceName(k)]
				if !ok {
					continue
				}
				if len(who) > 0 {
					first := pick(defaults[who[0]])[corev1.ResourceName(k)]
					distinct = distinct || first.Cmp(v) != 0
				}
				parts = append(parts, fmt.Sprintf("%s (%s)", v.String(), lrs[i].Name))
				who = append(who, i)
			}
			if !distinct {
				continue
			}
			for _, i := range who {
				involved[i] = true
			}
			notes = append(notes, fmt.Sprintf("%s %s for %s %s: %s", k, what, prefix, c.Name, strings.Join(parts, ", ")))
		}
	}
	for _, group := range []struct {
		prefix string
		list   []corev1.Container
	}{{"container", base.Spec.Containers}, {"init container", base.Spec.InitContainers}} {
		for i := range group.list {
			c := &group.list[i]
			check(c, group.prefix, "request", c.Resources.Requests, func(r corev1.ResourceRequirements) corev1.ResourceList { return r.Requests })
			check(c, group.prefix, "limit", c.Resources.Limits, func(r corev1.ResourceRequirements) corev1.ResourceList { return r.Limits })
		}
	}
	var out []*corev1.LimitRange
	for i, lr := range lrs {
		if involved[i] {
			out = append(out, lr)
		}
	}
	return notes, out
}

// maxPermuted bounds the conflicting LimitRanges whose every order is tried;
// above it only rotations and their reverses are.
const maxPermuted = 6

// possibleClasses computes the class for the orders the involved LimitRanges
// can be applied in. The others default only values no other LimitRange
// defaults differently, so their place in the order does not matter.
func possibleClasses(base *corev1.Pod, lrs, involved []*corev1.LimitRange, class corev1.PodQOSClass) []corev1.PodQOSClass {
	seen := map[corev1.PodQOSClass]bool{class: true}
	isInvolved := map[*corev1.LimitRange]bool{}
	for _, lr := range involved {
		isInvolved[lr] = true
	}
	var rest []*corev1.LimitRange
	for _, lr := range lrs {
		if !isInvolved[lr] {
			rest = append(rest, lr)
		}
	}
	try := func(order []*corev1.LimitRange) {
		p := base.DeepCopy()
		for _, lr := range append(append([]*corev1.LimitRange(nil), order...), rest...) {
			MutateLimitRange(p, lr)
		}
		DefaultPodLevelResources(p)
		seen[Class(p)] = true
	}
	for _, order := range orders(involved) {
		try(order)
	}
	var out []corev1.PodQOSClass
	for _, c := range []corev1.PodQOSClass{corev1.PodQOSBestEffort, corev1.PodQOSBurstable, corev1.PodQOSGuaranteed} {
		if seen[c] {
			out = append(out, c)
		}
	}
	return out
}

// orders lists every permutation of lrs, or, above maxPermuted, each rotation
// and its reverse (every LimitRange first and last at least once).
func orders(lrs []*corev1.LimitRange) [][]*corev1.LimitRange {
	var out [][]*corev1.LimitRange
	if len(lrs) > maxPermuted {
		for i := range lrs {
			rot := append(append([]*corev1.LimitRange(nil), lrs[i:]...), lrs[:i]...)
			rev := make([]*corev1.LimitRange, len(rot))
			for j := range rot {
				rev[len(rot)-1-j] = rot[j]
			}
			out = append(out, rot, rev)
		}
		return out
	}
	var permute func(k int, cur []*corev1.LimitRange)
	permute = func(k int, cur []*corev1.LimitRange) {
		if k == len(cur) {
			out = append(out, append([]*corev1.LimitRange(nil), cur...))
			return
		}
		for i := k; i < len(cur); i++ {
			cur[k], cur[i] = cur[i], cur[k]
			permute(k+1, cur)
			cur[k], cur[i] = cur[i], cur[k]
		}
	}
	permute(0, append([]*corev1.LimitRange(nil), lrs...))
	return out
}

// DefaultContainerRequests is the resource part of SetDefaults_Pod
// (pkg/apis/core/v1/defaults.go): a container (or init container) with a limit
// and no request for a resource gets the limit as its request.
func DefaultContainerRequests(pod *corev1.Pod) {
	for _, list := range [][]corev1.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
		for i := range list {
			r := &list[i].Resources
			if r.Limits == nil {
				continue
			}
			if r.Requests == nil {
				r.Requests = corev1.ResourceList{}
			}
			for name, v := range r.Limits {
				if _, ok := r.Requests[name]; !ok {
					r.Requests[name] = v.DeepCopy()
				}
			}
		}
	}
}

// DefaultLimitRange applies SetDefaults_LimitRangeItem
// (pkg/apis/core/v1/defaults.go) to a copy: for Container items a missing
// default limit is the max, a missing default request is the default limit,
// else the min. The apiserver does this when a LimitRange is created, so it
// matters for LimitRanges read from manifests.
func DefaultLimitRange(lr *corev1.LimitRange) *corev1.LimitRange {
	lr = lr.DeepCopy()
	for i := range lr.Spec.Limits {
		item := &lr.Spec.Limits[i]
		if item.Type != corev1.LimitTypeContainer {
			continue
		}
		if item.Default == nil {
			item.Default = corev1.ResourceList{}
		}
		if item.DefaultRequest == nil {
			item.DefaultRequest = corev1.ResourceList{}
		}
		for k, v := range item.Max {
			if _, ok := item.Default[k]; !ok {
				item.Default[k] = v.DeepCopy()
			}
		}
		for k, v := range item.Default {
			if _, ok := item.DefaultRequest[k]; !ok {
				item.DefaultRequest[k] = v.DeepCopy()
			}
		}
		for k, v := range item.Min {
			if _, ok := item.DefaultRequest[k]; !ok {
				item.DefaultRequest[k] = v.DeepCopy()
			}
		}
	}
	return lr
}

// MutateLimitRange is LimitRanger's PodMutateLimitFunc: every container, then
// every init container, gets the LimitRange's Container default limits and
// default requests for the resources it does not set. It returns the parts of
// the kubernetes.io/limit-ranger annotation the plugin writes.
func MutateLimitRange(pod *corev1.Pod, lr *corev1.LimitRange) []string {
	defaults := defaultContainerResourceRequirements(DefaultLimitRange(lr))
	var notes []string
	for i := range pod.Spec.Containers {
		notes = mergeContainerResources(&pod.Spec.Containers[i], &defaults, "container", notes)
	}
	for i := range pod.Spec.InitContainers {
		notes = mergeContainerResources(&pod.Spec.InitContainers[i], &defaults, "init container", notes)
	}
	return notes
}

// defaultContainerResourceRequirements: limitranger/admission.go.
func defaultContainerResourceRequirements(lr *corev1.LimitRange) corev1.ResourceRequirements {
	r := corev1.ResourceRequirements{Requests: corev1.ResourceList{}, Limits: corev1.ResourceList{}}
	for _, item := range lr.Spec.Limits {
		if item.Type != corev1.LimitTypeContainer {
			continue
		}
		for k, v := range item.DefaultRequest {
			r.Requests[k] = v.DeepCopy()
		}
		for k, v := range item.Default {
			r.Limits[k] = v.DeepCopy()
		}
	}
	return r
}

// mergeContainerResources: limitranger/admission.go. Like the plugin it
// leaves empty (non-nil) maps behind, which makes no difference to the class.
func mergeContainerResources(c *corev1.Container, defaults *corev1.ResourceRequirements, prefix string, notes []string) []string {
	var setRequests, setLimits []string
	if c.Resources.Limits == nil {
		c.Resources.Limits = corev1.ResourceList{}
	}
	if c.Resources.Requests == nil {
		c.Resources.Requests = corev1.ResourceList{}
	}
	for k, v := range defaults.Limits {
		if _, ok := c.Resources.Limits[k]; !ok {
			c.Resources.Limits[k] = v.DeepCopy()
			setLimits = append(setLimits, string(k))
		}
	}
	for k, v := range defaults.Requests {
		if _, ok := c.Resources.Requests[k]; !ok {
			c.Resources.Requests[k] = v.DeepCopy()
			setRequests = append(setRequests, string(k))
		}
	}
	if len(setRequests) > 0 {
		sort.Strings(setRequests)
		notes = append(notes, strings.Join(setRequests, ", ")+fmt.Sprintf(" request for %s %s", prefix, c.Name))
	}
	if len(setLimits) > 0 {
		sort.Strings(setLimits)
		notes = append(notes, strings.Join(setLimits, ", ")+fmt.Sprintf(" limit for %s %s", prefix, c.Name))
	}
	return notes
}

// DefaultPodLevelResources ports pkg/api/pod/util.go DefaultPodLevelResources
// (PodLevelResources and PodLevelResourcesFixDefaulting are on by default in
// v1.37): when the pod sets pod-level resources, (1) missing pod-level
// hugepage limits become the containers' aggregate limits, (2) missing
// pod-level requests become the containers' aggregate requests (cpu, memory)
// or the pod-level limit, (3) missing pod-level limits become max(pod-level
// request, aggregate container limits) when every container has that limit.
func DefaultPodLevelResources(pod *corev1.Pod) {
	r := pod.Spec.Resources
	if r == nil || (len(r.Requests) == 0 && len(r.Limits) == 0) {
		return
	}
	// The aggregation sees containers only, as the apiserver's conversion does.
	containersOnly := &corev1.Pod{Spec: corev1.PodSpec{Containers: pod.Spec.Containers, InitContainers: pod.Spec.InitContainers}}

	// (1) hugepage limits.
	lims := r.Limits
	if lims == nil {
		lims = corev1.ResourceList{}
	}
	for k, v := range resourcehelper.AggregateContainerLimits(containersOnly, resourcehelper.PodResourcesOptions{}) {
		if !resourcehelper.IsSupportedPodLevelResource(k) || !isHugePages(k) {
			continue
		}
		if _, ok := r.Requests[k]; ok {
			continue
		}
		if _, ok := lims[k]; !ok {
			lims[k] = v
		}
	}
	if len(lims) > 0 {
		r.Limits = lims
	}

	// (2) requests.
	reqs := r.Requests
	if reqs == nil {
		reqs = corev1.ResourceList{}
	}
	for k, v := range resourcehelper.AggregateContainerRequests(containersOnly, resourcehelper.PodResourcesOptions{}) {
		if _, ok := reqs[k]; !ok && resourcehelper.IsSupportedPodLevelResource(k) && isOvercommitAllowed(k) {
			reqs[k] = v
		}
	}
	for k, v := range r.Limits {
		if _, ok := reqs[k]; !ok && resourcehelper.IsSupportedPodLevelResource(k) {
			reqs[k] = v.DeepCopy()
		}
	}
	if len(reqs) > 0 {
		r.Requests = reqs
	}

	// (3) limits.
	candidates := map[corev1.ResourceName]bool{}
	for k := range r.Requests {
		if !resourcehelper.IsSupportedPodLevelResource(k) {
			continue
		}
		if _, ok := r.Limits[k]; !ok {
			candidates[k] = true
		}
	}
	for _, list := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range list {
			for k := range candidates {
				if _, ok := list[i].Resources.Limits[k]; !ok {
					delete(candidates, k)
				}
			}
		}
	}
	if len(candidates) == 0 {
		return
	}
	aggr := resourcehelper.AggregateContainerLimits(containersOnly, resourcehelper.PodResourcesOptions{})
	for k := range candidates {
		v, ok := aggr[k]
		if !ok {
			continue
		}
		if req := r.Requests[k]; req.Cmp(v) > 0 {
			v = req
		}
		if r.Limits == nil {
			r.Limits = corev1.ResourceList{}
		}
		r.Limits[k] = v
	}
}

func isHugePages(name corev1.ResourceName) bool {
	return strings.HasPrefix(string(name), corev1.ResourceHugePagesPrefix)
}

// isOvercommitAllowed: pkg/apis/core/helper IsOvercommitAllowed.
func isOvercommitAllowed(name corev1.ResourceName) bool {
	native := !strings.Contains(string(name), "/") || strings.Contains(string(name), corev1.ResourceDefaultNamespacePrefix)
	return native && !isHugePages(name)
}

package qos

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	resourcehelper "k8s.io/component-helpers/resource"
)

// ResourceError is one reason the apiserver's pod validation refuses the
// admitted pod's resources.
type ResourceError struct {
	// Message is the apiserver's own words, e.g.
	// `spec.containers[0].resources.requests: Invalid value: "1Gi": must be less than or equal to memory limit of 512Mi`.
	Message string
	// Container names the container concerned; empty for pod-level checks.
	Container string
	// Defaulted says which of the values involved a LimitRange supplied, e.g.
	// `memory limit 512Mi of container app from LimitRange defaults`.
	Defaulted []string

	// The values involved, to find the LimitRange that set them.
	refs []valueRef
}

func (e ResourceError) String() string {
	var notes []string
	if e.Container != "" {
		notes = append(notes, "container "+e.Container)
	}
	notes = append(notes, e.Defaulted...)
	if len(notes) == 0 {
		return e.Message
	}
	return e.Message + " (" + strings.Join(notes, "; ") + ")"
}

// valueRef points at one container request or limit.
type valueRef struct {
	list  string // "containers" or "initContainers"
	index int
	kind  string // "requests" or "limits"
	name  corev1.ResourceName
}

func (r valueRef) key() string { return fmt.Sprintf("%s/%d/%s/%s", r.list, r.index, r.kind, r.name) }

// ValidatePodResources ports the resource checks of the apiserver's pod
// validation (pkg/apis/core/validation/validation.go), which run after API
// defaulting, LimitRanger and pod-level defaulting:
//   - validateResourceRequirements for every container, init container and the
//     pod-level resources: a request above its limit; for resources that
//     cannot be overcommitted (hugepages, extended) a request other than its
//     limit, or no limit; hugepages without cpu or memory;
//   - validatePodResourceConsistency (PodLevelResources, on in v1.37):
//     pod-level requests at least the containers' aggregate requests,
//     pod-level hugepage limits at least the containers' aggregate limits, and
//     no container limit above the pod-level limit.
//
// Resource names and quantities are not checked: the manifest parser already
// refuses what the apiserver would.
func ValidatePodResources(pod *corev1.Pod) []ResourceError {
	var out []ResourceError
	for _, l := range []struct {
		name string
		list []corev1.Container
	}{{"containers", pod.Spec.Containers}, {"initContainers", pod.Spec.InitContainers}} {
		for i := range l.list {
			c := &l.list[i]
			path := field.NewPath("spec").Child(l.name).Index(i).Child("resources")
			for _, e := range validateRequirements(&c.Resources, path, l.name, i) {
				e.Container = c.Name
				out = append(out, e)
			}
		}
	}
	r := pod.Spec.Resources
	if r == nil {
		return out
	}
	path := field.NewPath("spec", "resources")
	out = append(out, validateRequirements(r, path, "", -1)...)

	// validatePodResourceConsistency.
	containersOnly := &corev1.Pod{Spec: corev1.PodSpec{Containers: pod.Spec.Containers, InitContainers: pod.Spec.InitContainers}}
	aggrReqs := resourcehelper.AggregateContainerRequests(containersOnly, resourcehelper.PodResourcesOptions{})
	for _, name := range sortedResourceNames(aggrReqs) {
		podReq, ok := r.Requests[name]
		if !ok {
			continue
		}
		if ctr := aggrReqs[name]; ctr.Cmp(podReq) > 0 {
			out = append(out, ResourceError{
				Message: field.Invalid(path.Child("requests").Key(string(name)), podReq.String(), fmt.Sprintf("must be greater than or equal to aggregate container requests of %s", ctr.String())).Error(),
				refs:    containerRefs(pod, "requests", name)})
		}
	}
	aggrLims := resourcehelper.AggregateContainerLimits(containersOnly, resourcehelper.PodResourcesOptions{})
	for _, name := range sortedResourceNames(aggrLims) {
		if !isHugePages(name) {
			continue
		}
		podLim, ok := r.Limits[name]
		if !ok {
			continue
		}
		if ctr := aggrLims[name]; ctr.Cmp(podLim) > 0 {
			out = append(out, ResourceError{
				Message: field.Invalid(path.Child("limits").Key(string(name)), podLim.String(), fmt.Sprintf("must be greater than or equal to aggregate container limits of %s", ctr.String())).Error(),
				refs:    containerRefs(pod, "limits", name)})
		}
	}
	// Only regular containers, as the apiserver checks.
	for i, c := range pod.Spec.Containers {
		for _, name := range sortedResourceNames(c.Resources.Limits) {
			podLim, ok := r.Limits[name]
			if !ok {
				continue
			}
			if lim := c.Resources.Limits[name]; lim.Cmp(podLim) > 0 {
				out = append(out, ResourceError{Container: c.Name,
					Message: field.Invalid(path.Child("containers").Index(i).Key(string(name)).Child("limits"), lim.String(), fmt.Sprintf("must be less than or equal to pod limits of %s", podLim.String())).Error(),
					refs:    []valueRef{{"containers", i, "limits", name}}})
			}
		}
	}
	return out
}

// validateRequirements: validateResourceRequirements, its request/limit
// checks. list and index locate a container (list "" for pod-level).
func validateRequirements(r *corev1.ResourceRequirements, path *field.Path, list string, index int) []ResourceError {
	var out []ResourceError
	limPath, reqPath := path.Child("limits"), path.Child("requests")
	ref := func(kind string, name corev1.ResourceName) []valueRef {
		if list == "" {
			return nil
		}
		return []valueRef{{list, index, kind, name}}
	}
	cpuOrMemory, hugePages := false, false
	for name := range r.Limits {
		if isHugePages(name) {
			hugePages = true
		}
		if name == corev1.ResourceCPU || name == corev1.ResourceMemory {
			cpuOrMemory = true
		}
	}
	for _, name := range sortedResourceNames(r.Requests) {
		req := r.Requests[name]
		if lim, ok := r.Limits[name]; ok {
			refs := append(ref("requests", name), ref("limits", name)...)
			if req.Cmp(lim) != 0 && !isOvercommitAllowed(name) {
				out = append(out, ResourceError{Message: field.Invalid(reqPath, req.String(), fmt.Sprintf("must be equal to %s limit of %s", name, lim.String())).Error(), refs: refs})
			} else if req.Cmp(lim) > 0 {
				out = append(out, ResourceError{Message: field.Invalid(reqPath, req.String(), fmt.Sprintf("must be less than or equal to %s limit of %s", name, lim.String())).Error(), refs: refs})
			}
		} else if !isOvercommitAllowed(name) {
			out = append(out, ResourceError{Message: field.Required(limPath, "Limit must be set for non overcommitable resources").Error(), refs: ref("requests", name)})
		}
		if isHugePages(name) {
			hugePages = true
		}
		if name == corev1.ResourceCPU || name == corev1.ResourceMemory {
			cpuOrMemory = true
		}
	}
	if !cpuOrMemory && hugePages {
		out = append(out, ResourceError{Message: field.Forbidden(path, "HugePages require cpu or memory").Error()})
	}
	return out
}

// containerRefs are every container's and init container's value of a resource.
func containerRefs(pod *corev1.Pod, kind string, name corev1.ResourceName) []valueRef {
	var out []valueRef
	for i := range pod.Spec.Containers {
		out = append(out, valueRef{"containers", i, kind, name})
	}
	for i := range pod.Spec.InitContainers {
		out = append(out, valueRef{"initContainers", i, kind, name})
	}
	return out
}

// defaultedValues records which LimitRange set which container value: the
// values present in after and absent in before.
func defaultedValues(before, after *corev1.Pod, lrName string, into map[string]string) {
	for _, l := range []struct {
		name          string
		before, after []corev1.Container
	}{{"containers", before.Spec.Containers, after.Spec.Containers}, {"initContainers", before.Spec.InitContainers, after.Spec.InitContainers}} {
		for i := range l.after {
			for _, kind := range []string{"requests", "limits"} {
				was, now := l.before[i].Resources.Requests, l.after[i].Resources.Requests
				if kind == "limits" {
					was, now = l.before[i].Resources.Limits, l.after[i].Resources.Limits
				}
				for name := range now {
					if _, ok := was[name]; !ok {
						k := valueRef{l.name, i, kind, name}.key()
						if _, set := into[k]; !set {
							into[k] = lrName
						}
					}
				}
			}
		}
	}
}

// explainDefaults fills in e.Defaulted from what the LimitRanges set.
func explainDefaults(pod *corev1.Pod, e *ResourceError, setBy map[string]string) {
	for _, r := range e.refs {
		lr, ok := setBy[r.key()]
		if !ok {
			continue
		}
		list := pod.Spec.Containers
		what := "container"
		if r.list == "initContainers" {
			list, what = pod.Spec.InitContainers, "init container"
		}
		c := list[r.index]
		v := c.Resources.Requests[r.name]
		kind := "request"
		if r.kind == "limits" {
			v, kind = c.Resources.Limits[r.name], "limit"
		}
		of := ""
		if c.Name != e.Container {
			of = fmt.Sprintf(" of %s %s", what, c.Name)
		}
		e.Defaulted = append(e.Defaulted, fmt.Sprintf("%s %s %s%s set by the default of LimitRange %s", r.name, kind, v.String(), of, lr))
	}
}

func sortedResourceNames(l corev1.ResourceList) []corev1.ResourceName {
	out := make([]corev1.ResourceName, 0, len(l))
	for k := range l {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

package qos

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	resourcehelper "k8s.io/component-helpers/resource"
)

// Commitment is how much of one resource of a node the pods on it request
// and may use at most.
type Commitment struct {
	Resource corev1.ResourceName
	// Allocatable, Requests and Limits are in milli-units for cpu and in
	// units (bytes) for memory.
	Allocatable int64
	Requests    int64
	Limits      int64
	// Unbounded counts pods without a limit for the resource: their use is
	// bounded only by the node, so Limits understates the commitment.
	Unbounded int
}

// RequestsOvercommitted says the pods request more than the node offers.
func (c Commitment) RequestsOvercommitted() bool { return c.Requests > c.Allocatable }

// LimitsOvercommitted says the pods may use more than the node offers.
func (c Commitment) LimitsOvercommitted() bool { return c.Limits > c.Allocatable }

// NodeCommitment adds up the cpu and memory requests and limits of the pods on
// a node (as the scheduler counts them: init and sidecar rules, pod-level
// resources, overhead) against the node's allocatable. Pods that have
// finished are left out.
func NodeCommitment(node *corev1.Node, pods []*corev1.Pod) []Commitment {
	out := make([]Commitment, len(computeResources))
	for i, name := range computeResources {
		out[i] = Commitment{Resource: name, Allocatable: value(name, node.Status.Allocatable[name])}
	}
	for _, p := range pods {
		if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		if reqs, lims, ok := containerTotals(p); ok {
			for i, name := range computeResources {
				c := &out[i]
				c.Requests += value(name, reqs[i])
				if lims[i] != nil && !lims[i].IsZero() && allContainersLimited(p, name) {
					c.Limits += value(name, *lims[i])
				} else {
					c.Unbounded++
				}
			}
			continue
		}
		// Once per pod, for every resource: the helpers build new lists.
		reqs := resourcehelper.PodRequests(p, resourcehelper.PodResourcesOptions{})
		lims := resourcehelper.PodLimits(p, resourcehelper.PodResourcesOptions{})
		for i, name := range computeResources {
			c := &out[i]
			c.Requests += value(name, reqs[name])
			if l, ok := lims[name]; ok && !l.IsZero() && allContainersLimited(p, name) {
				c.Limits += value(name, l)
			} else {
				c.Unbounded++
			}
		}
	}
	return out
}

// containerTotals are PodRequests and PodLimits of computeResources (nil:
// no container names the limit) for a pod whose totals are its containers'
// sums: regular containers only, no overhead, no pod-level resources. Every
// pod of a node is added up, and most are such pods, so these build no
// ResourceList; ok is false for any other pod.
func containerTotals(p *corev1.Pod) (reqs []resource.Quantity, lims []*resource.Quantity, ok bool) {
	if len(p.Spec.InitContainers) > 0 || p.Spec.Overhead != nil || p.Spec.Resources != nil ||
		len(p.Status.NodeAllocatableResourceClaimStatuses) > 0 {
		return nil, nil, false
	}
	reqs = make([]resource.Quantity, len(computeResources))
	lims = make([]*resource.Quantity, len(computeResources))
	// Summed as Quantities and rounded once by the caller, as the helpers
	// sum them.
	for i := range p.Spec.Containers {
		r := &p.Spec.Containers[i].Resources
		for j, name := range computeResources {
			if q, ok := r.Requests[name]; ok {
				reqs[j].Add(q)
			}
			if q, ok := r.Limits[name]; ok {
				if lims[j] == nil {
					lims[j] = &resource.Quantity{}
				}
				lims[j].Add(q)
			}
		}
	}
	return reqs, lims, true
}

// allContainersLimited: a pod is bounded for a resource when it sets a
// pod-level limit, or every container that runs alongside others does.
func allContainersLimited(p *corev1.Pod, name corev1.ResourceName) bool {
	if p.Spec.Resources != nil {
		if l, ok := p.Spec.Resources.Limits[name]; ok && !l.IsZero() {
			return true
		}
	}
	for i := range p.Spec.Containers {
		if l, ok := p.Spec.Containers[i].Resources.Limits[name]; !ok || l.IsZero() {
			return false
		}
	}
	for i := range p.Spec.InitContainers {
		c := &p.Spec.InitContainers[i]
		if !isRestartable(c) {
			continue
		}
		if l, ok := c.Resources.Limits[name]; !ok || l.IsZero() {
			return false
		}
	}
	return true
}

func value(name corev1.ResourceName, q resource.Quantity) int64 {
	if name == corev1.ResourceCPU {
		return q.MilliValue()
	}
	return q.Value()
}

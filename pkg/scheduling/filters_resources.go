package scheduling

import (
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
)

const msgTooManyPods = "Too many pods"

// insufficient is one resource a node lacks for the pod.
type insufficient struct {
	name        corev1.ResourceName
	requested   int64 // what the pod asks for
	used        int64 // already requested on the node
	allocatable int64
}

func (r insufficient) reason() string {
	if r.name == corev1.ResourcePods {
		return msgTooManyPods
	}
	return "Insufficient " + string(r.name)
}

func (r insufficient) free() int64 { return max(0, r.allocatable-r.used) }

// detailOf says what the node lacks, from the amounts formatted in s.
func (r insufficient) detailOf(s *Shortfall) string {
	if r.name == corev1.ResourcePods {
		return fmt.Sprintf("pods: node allows %d, already has %d", r.allocatable, r.used)
	}
	return string(r.name) + ": requests " + s.Requested + ", node allocatable " + s.Allocatable +
		", already requested " + s.InUse + ", free " + s.Free
}

func (r insufficient) shortfall() *Shortfall {
	return &Shortfall{Resource: string(r.name), Requested: formatAmount(r.name, r.requested), Allocatable: formatAmount(r.name, r.allocatable),
		InUse: formatAmount(r.name, r.used), Free: formatAmount(r.name, r.free())}
}

// unresolvable is true when even an empty node is too small, so evicting
// pods (preemption) cannot help.
func (r insufficient) unresolvable() bool {
	return r.name != corev1.ResourcePods && r.requested > r.allocatable
}

// nodeResourcesFitPlugin is NodeResourcesFit: the pod's requests must fit in
// allocatable minus what the node's pods already request.
var nodeResourcesFitPlugin = plugin{
	name: "NodeResourcesFit",
	filter: func(c *cycle, ni *nodeInfo) []Reason {
		var out []Reason
		unresolvable := false
		for _, r := range c.fits(ni) {
			unresolvable = unresolvable || r.unresolvable()
			sf := r.shortfall()
			out = append(out, Reason{Message: r.reason(), Detail: r.detailOf(sf), Shortfall: sf})
		}
		// The plugin returns one status for all resources: its code is
		// UnschedulableAndUnresolvable when any of them is.
		for i := range out {
			out[i].Unresolvable = unresolvable
		}
		return out
	},
}

// fits is the plugin's fitsRequest: pods count, cpu, memory,
// ephemeral-storage and scalar resources, in that order (scalar resources
// sorted by name; the scheduler's own order is a map's and its message
// sorts anyway).
func (c *cycle) fits(ni *nodeInfo) []insufficient {
	var out []insufficient
	if int64(len(ni.pods))+1 > ni.allocatable.allowedPods {
		out = append(out, insufficient{name: corev1.ResourcePods, requested: 1,
			used: int64(len(ni.pods)), allocatable: ni.allocatable.allowedPods})
	}
	req := c.req
	if req.milliCPU == 0 && req.memory == 0 && req.ephemeralStorage == 0 && len(req.scalar) == 0 {
		return out
	}
	check := func(name corev1.ResourceName, want int64) {
		alloc, used := ni.allocatable.get(name), ni.requested.get(name)
		if want > 0 && want > alloc-used {
			out = append(out, insufficient{name: name, requested: want, used: used, allocatable: alloc})
		}
	}
	check(corev1.ResourceCPU, req.milliCPU)
	check(corev1.ResourceMemory, req.memory)
	check(corev1.ResourceEphemeralStorage, req.ephemeralStorage)
	for _, name := range c.scalarNames {
		if c.delegatedToDRA(name, ni) {
			continue
		}
		check(name, req.scalar[name])
	}
	return out
}

// delegatedToDRA mirrors shouldDelegateResourceToDRA: an extended resource
// the node does not advertise is left to DynamicResources when a
// DeviceClass provides it.
func (c *cycle) delegatedToDRA(name corev1.ResourceName, ni *nodeInfo) bool {
	if ni.allocatable.scalar[name] > 0 {
		return false
	}
	dc := c.e.deviceClassForResource(name)
	if dc == nil {
		return false
	}
	c.notSimulated(dynamicResourcesName, fmt.Sprintf(
		"extended resource %s comes from DeviceClass %s on nodes that do not advertise it; allocating its devices is not simulated", name, dc.Name))
	return true
}

func sortedScalarNames(r resources) []corev1.ResourceName {
	names := make([]corev1.ResourceName, 0, len(r.scalar))
	for n := range r.scalar {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return names[i] < names[j] })
	return names
}

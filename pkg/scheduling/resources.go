package scheduling

import (
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
)

// resources mirrors the scheduler's framework.Resource: cpu in millicores,
// everything else in units, pods as a count, scalar resources (extended,
// hugepages, prefixed native, attachable volumes) by name.
type resources struct {
	milliCPU         int64
	memory           int64
	ephemeralStorage int64
	allowedPods      int64
	scalar           map[corev1.ResourceName]int64
}

func newResources(rl corev1.ResourceList) resources {
	var r resources
	r.add(rl)
	return r
}

// add is framework.Resource.Add.
func (r *resources) add(rl corev1.ResourceList) {
	for name, q := range rl {
		switch name {
		case corev1.ResourceCPU:
			r.milliCPU += q.MilliValue()
		case corev1.ResourceMemory:
			r.memory += q.Value()
		case corev1.ResourcePods:
			r.allowedPods += q.Value()
		case corev1.ResourceEphemeralStorage:
			r.ephemeralStorage += q.Value()
		default:
			if isScalarResourceName(name) {
				r.addScalar(name, q.Value())
			}
		}
	}
}

// addResources adds another summed amount.
func (r *resources) addResources(o resources) {
	r.milliCPU += o.milliCPU
	r.memory += o.memory
	r.ephemeralStorage += o.ephemeralStorage
	r.allowedPods += o.allowedPods
	for k, v := range o.scalar {
		r.addScalar(k, v)
	}
}

// setMax is framework.Resource.SetMaxResource.
func (r *resources) setMax(rl corev1.ResourceList) {
	for name, q := range rl {
		switch name {
		case corev1.ResourceCPU:
			r.milliCPU = max(r.milliCPU, q.MilliValue())
		case corev1.ResourceMemory:
			r.memory = max(r.memory, q.Value())
		case corev1.ResourceEphemeralStorage:
			r.ephemeralStorage = max(r.ephemeralStorage, q.Value())
		default:
			if isScalarResourceName(name) {
				if r.scalar == nil {
					r.scalar = map[corev1.ResourceName]int64{}
				}
				r.scalar[name] = max(r.scalar[name], q.Value())
			}
		}
	}
}

func (r *resources) addScalar(name corev1.ResourceName, v int64) {
	if r.scalar == nil {
		r.scalar = map[corev1.ResourceName]int64{}
	}
	r.scalar[name] += v
}

// get returns the amount of one resource in the scheduler's unit.
func (r *resources) get(name corev1.ResourceName) int64 {
	switch name {
	case corev1.ResourceCPU:
		return r.milliCPU
	case corev1.ResourceMemory:
		return r.memory
	case corev1.ResourceEphemeralStorage:
		return r.ephemeralStorage
	case corev1.ResourcePods:
		return r.allowedPods
	}
	return r.scalar[name]
}

// isScalarResourceName is the scheduler's util.IsScalarResourceName.
func isScalarResourceName(name corev1.ResourceName) bool {
	return isExtendedResourceName(name) || strings.HasPrefix(string(name), corev1.ResourceHugePagesPrefix) ||
		strings.Contains(string(name), corev1.ResourceDefaultNamespacePrefix) ||
		strings.HasPrefix(string(name), corev1.ResourceAttachableVolumesPrefix)
}

// isExtendedResourceName is the core/v1 helper of the same name: a
// domain-qualified name outside kubernetes.io that is valid as a quota key.
func isExtendedResourceName(name corev1.ResourceName) bool {
	s := string(name)
	if !strings.Contains(s, "/") || strings.Contains(s, corev1.ResourceDefaultNamespacePrefix) ||
		strings.HasPrefix(s, corev1.DefaultResourceRequestsPrefix) {
		return false
	}
	return len(validation.IsQualifiedName(corev1.DefaultResourceRequestsPrefix+s)) == 0
}

// formatAmount prints an amount in the scheduler's unit the way kubectl
// would: cpu as cores ("1.5", "250m"), memory and storage in binary units
// when exact, counts as plain numbers.
func formatAmount(name corev1.ResourceName, v int64) string {
	switch {
	case name == corev1.ResourceCPU:
		return strconv.FormatFloat(float64(v)/1000, 'f', -1, 64)
	case name == corev1.ResourceMemory || name == corev1.ResourceEphemeralStorage ||
		strings.HasPrefix(string(name), corev1.ResourceHugePagesPrefix):
		return resource.NewQuantity(v, resource.BinarySI).String()
	}
	return resource.NewQuantity(v, resource.DecimalSI).String()
}

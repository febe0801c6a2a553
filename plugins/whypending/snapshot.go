package whypending

import (
	"k8s.io/apimachinery/pkg/types"

	"github.com/ktriage/ktriage/pkg/cluster"
)

// merge adds src's objects (the kinds why-pending loads) to dst, keeping one
// copy of each object.
func merge(dst, src *cluster.Snapshot) {
	if src == nil {
		return
	}
	if dst.Loaded == nil {
		dst.Loaded = map[cluster.Kind]bool{}
	}
	for k, v := range src.Loaded {
		if v {
			dst.Loaded[k] = true
		}
	}
	dst.Warnings = append(dst.Warnings, src.Warnings...)
	dst.Nodes = appendNew(dst.Nodes, src.Nodes)
	dst.Pods = appendNew(dst.Pods, src.Pods)
	dst.Events = appendNew(dst.Events, src.Events)
	dst.PVCs = appendNew(dst.PVCs, src.PVCs)
	dst.PVs = appendNew(dst.PVs, src.PVs)
	dst.StorageClasses = appendNew(dst.StorageClasses, src.StorageClasses)
	dst.CSINodes = appendNew(dst.CSINodes, src.CSINodes)
	dst.CSIDrivers = appendNew(dst.CSIDrivers, src.CSIDrivers)
	dst.ConfigMaps = appendNew(dst.ConfigMaps, src.ConfigMaps)
	dst.Secrets = appendNew(dst.Secrets, src.Secrets)
	dst.ResourceQuotas = appendNew(dst.ResourceQuotas, src.ResourceQuotas)
	dst.LimitRanges = appendNew(dst.LimitRanges, src.LimitRanges)
	dst.Deployments = appendNew(dst.Deployments, src.Deployments)
	dst.ReplicaSets = appendNew(dst.ReplicaSets, src.ReplicaSets)
	dst.StatefulSets = appendNew(dst.StatefulSets, src.StatefulSets)
	dst.DaemonSets = appendNew(dst.DaemonSets, src.DaemonSets)
	dst.Jobs = appendNew(dst.Jobs, src.Jobs)
	dst.CronJobs = appendNew(dst.CronJobs, src.CronJobs)
	dst.ResourceClaims = appendNew(dst.ResourceClaims, src.ResourceClaims)
	dst.DeviceClasses = appendNew(dst.DeviceClasses, src.DeviceClasses)
	dst.ResourceSlices = appendNew(dst.ResourceSlices, src.ResourceSlices)
	dst.PriorityClasses = appendNew(dst.PriorityClasses, src.PriorityClasses)
	dst.RuntimeClasses = appendNew(dst.RuntimeClasses, src.RuntimeClasses)
	dst.PDBs = appendNew(dst.PDBs, src.PDBs)
	dst.Namespaces = appendNew(dst.Namespaces, src.Namespaces)
	dst.Other = appendNew(dst.Other, src.Other)
}

type object interface {
	GetUID() types.UID
	GetNamespace() string
	GetName() string
}

func appendNew[T object](dst, src []T) []T {
	if len(src) == 0 {
		return dst
	}
	seen := make(map[string]bool, len(dst))
	for _, o := range dst {
		seen[identity(o)] = true
	}
	for _, o := range src {
		if id := identity(o); !seen[id] {
			seen[id] = true
			dst = append(dst, o)
		}
	}
	return dst
}

func identity(o object) string {
	if uid := o.GetUID(); uid != "" {
		return string(uid)
	}
	return o.GetNamespace() + "/" + o.GetName()
}

// fresh copies a snapshot's exported fields into a new value, so lookup
// indexes a snapshot may cache are rebuilt from the merged slices.
func fresh(s *cluster.Snapshot) *cluster.Snapshot {
	out := &cluster.Snapshot{Loaded: map[cluster.Kind]bool{}}
	merge(out, s)
	return out
}

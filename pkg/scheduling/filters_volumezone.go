package scheduling

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/component-helpers/storage/volume"
)

const msgVolumeZoneConflict = "node(s) had no available volume zone"

// pvTopology is one zone/region label of a bound PV.
type pvTopology struct {
	pv     string
	key    string
	values map[string]bool
}

var volumeTopologyLabels = []string{
	corev1.LabelFailureDomainBetaZone, corev1.LabelFailureDomainBetaRegion,
	corev1.LabelTopologyZone, corev1.LabelTopologyRegion,
}

// volumeZonePlugin is VolumeZone: a bound PV's zone and region labels must
// match the node's.
var volumeZonePlugin = plugin{
	name:  "VolumeZone",
	needs: volumeZoneNeeds,
	preFilter: func(c *cycle) preResult {
		var tops []pvTopology
		fail := func(msg string) preResult {
			return preResult{reasons: []Reason{{Message: msg, Unresolvable: true}}}
		}
		for _, v := range c.pod.Spec.Volumes {
			if v.PersistentVolumeClaim == nil {
				continue
			}
			name := v.PersistentVolumeClaim.ClaimName
			if name == "" {
				return fail("PersistentVolumeClaim had no name")
			}
			pvc := c.e.pvc(c.pod.Namespace, name)
			if pvc == nil {
				return fail(fmt.Sprintf("persistentvolumeclaim %q not found", name))
			}
			if pvc.Spec.VolumeName == "" {
				class := volume.GetPersistentVolumeClaimClass(pvc)
				if class == "" {
					return fail("PersistentVolumeClaim had no pv name and storageClass name")
				}
				sc := c.e.storageClass(class)
				if sc == nil {
					return fail(fmt.Sprintf("storageclass.storage.k8s.io %q not found", class))
				}
				if sc.VolumeBindingMode == nil {
					return fail(fmt.Sprintf("VolumeBindingMode not set for StorageClass %q", class))
				}
				if *sc.VolumeBindingMode == storagev1.VolumeBindingWaitForFirstConsumer {
					continue
				}
				return fail("PersistentVolume had no name")
			}
			pv := c.e.pvs[pvc.Spec.VolumeName]
			if pv == nil {
				r := fail(fmt.Sprintf("persistentvolume %q not found", pvc.Spec.VolumeName))
				r.reasons[0].Detail = fmt.Sprintf("PersistentVolumeClaim %s/%s is bound to PersistentVolume %s, which does not exist", pvc.Namespace, pvc.Name, pvc.Spec.VolumeName)
				return r
			}
			for _, key := range volumeTopologyLabels {
				if val, ok := pv.Labels[key]; ok {
					set := map[string]bool{}
					for _, z := range strings.Split(val, "__") {
						if z = strings.TrimSpace(z); z != "" {
							set[z] = true
						}
					}
					tops = append(tops, pvTopology{pv: pv.Name, key: key, values: set})
				}
			}
		}
		if len(tops) == 0 {
			return preResult{skip: true}
		}
		c.pvTopologies = tops
		return preResult{}
	},
	filter: func(c *cycle, ni *nodeInfo) []Reason {
		if len(c.pvTopologies) == 0 {
			return nil
		}
		node := ni.node
		constrained := false
		for _, l := range volumeTopologyLabels {
			if _, ok := node.Labels[l]; ok {
				constrained = true
			}
		}
		if !constrained {
			return nil
		}
		for _, t := range c.pvTopologies {
			v, ok := node.Labels[t.key]
			if !ok {
				v, ok = node.Labels[gaTopologyLabel(t.key)]
			}
			if !ok || !t.values[v] {
				have := "no " + t.key + " label"
				if ok {
					have = t.key + "=" + v
				}
				return []Reason{{Message: msgVolumeZoneConflict, Unresolvable: true, Detail: fmt.Sprintf(
					"PersistentVolume %s is labeled %s=%s; node has %s", t.pv, t.key, strings.Join(slices.Sorted(maps.Keys(t.values)), "__"), have)}}
			}
		}
		return nil
	},
}

func gaTopologyLabel(l string) string {
	switch l {
	case corev1.LabelFailureDomainBetaRegion:
		return corev1.LabelTopologyRegion
	case corev1.LabelFailureDomainBetaZone:
		return corev1.LabelTopologyZone
	}
	return l
}

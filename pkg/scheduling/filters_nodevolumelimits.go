package scheduling

import (
	"fmt"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/component-helpers/storage/ephemeral"
	"k8s.io/component-helpers/storage/volume"
	csitrans "k8s.io/csi-translation-lib"
	csilibplugins "k8s.io/csi-translation-lib/plugins"
	"k8s.io/klog/v2"
)

const msgMaxVolumeCount = "node(s) exceed max volume count"

// translator maps in-tree volume sources to the CSI drivers they migrated
// to, as NodeVolumeLimits does.
var translator = csitrans.New()

// nodeVolumeLimitsPlugin is NodeVolumeLimits: the CSINode's per-driver
// allocatable count must hold the pod's new volumes, counting claims,
// in-tree volumes migrated to CSI (inline or through a PersistentVolume)
// and the node's VolumeAttachments.
var nodeVolumeLimitsPlugin = plugin{
	name:  "NodeVolumeLimits",
	needs: nodeVolumeLimitsNeeds,
	preFilter: func(c *cycle) preResult {
		for i := range c.pod.Spec.Volumes {
			v := &c.pod.Spec.Volumes[i]
			if v.PersistentVolumeClaim != nil || v.Ephemeral != nil || translator.IsInlineMigratable(v) {
				return preResult{}
			}
		}
		return preResult{skip: true}
	},
	filter: func(c *cycle, ni *nodeInfo) []Reason {
		if len(c.pod.Spec.Volumes) == 0 {
			return nil
		}
		csiNode := c.e.csiNode(ni.node.Name)
		newVols := map[string]string{}
		if err := c.e.attachableVolumes(c.pod, csiNode, true, newVols); err != nil {
			return []Reason{{Message: err.Error(), Unresolvable: true}}
		}
		if len(newVols) == 0 {
			return nil
		}
		for _, driver := range sortedValues(newVols) {
			if !c.e.csiDriverInstalled(driver, csiNode) {
				return []Reason{{Message: fmt.Sprintf("%s CSI driver is not installed on the node", driver),
					Detail: fmt.Sprintf("CSIDriver %s sets preventPodSchedulingIfMissing and the node's CSINode does not list it", driver)}}
			}
		}
		limits := map[string]int64{}
		if csiNode != nil {
			for _, d := range csiNode.Spec.Drivers {
				if d.Allocatable != nil && d.Allocatable.Count != nil {
					limits[d.Name] = int64(*d.Allocatable.Count)
				}
			}
		}
		if len(limits) == 0 {
			return nil
		}
		attached := map[string]string{}
		for _, p := range ni.pods {
			_ = c.e.attachableVolumes(p, csiNode, false, attached)
		}
		used, byPods, byAttachments := map[string]int{}, map[string]int{}, map[string]int{}
		for id, driver := range attached {
			delete(newVols, id)
			used[driver]++
			byPods[driver]++
		}
		for id, driver := range c.e.nodeVolumeAttachments(ni.node.Name) {
			if _, ok := attached[id]; !ok {
				used[driver]++
				byAttachments[driver]++
			}
		}
		want := map[string]int{}
		for _, driver := range newVols {
			want[driver]++
		}
		for _, driver := range sortedValues(newVols) {
			if limit, ok := limits[driver]; ok && used[driver]+want[driver] > int(limit) {
				inUse := fmt.Sprintf("%d attached by its pods", byPods[driver])
				if byAttachments[driver] > 0 {
					inUse += fmt.Sprintf(" and %d more by VolumeAttachments", byAttachments[driver])
				}
				return []Reason{{Message: msgMaxVolumeCount, Detail: fmt.Sprintf(
					"CSI driver %s: node allows %d volumes, %s, the pod adds %d", driver, limit, inUse, want[driver])}}
			}
		}
		return nil
	},
}

// nodeVolumeAttachments is getNodeVolumeAttachmentInfo: the CSI volumes
// attached to the node, as "driver/handle" → driver.
func (e *Engine) nodeVolumeAttachments(node string) map[string]string {
	out := map[string]string{}
	for _, va := range e.snap.VolumeAttachments {
		if va == nil || va.Spec.NodeName != node || va.Spec.Attacher == "" || va.Spec.Source.PersistentVolumeName == nil {
			continue
		}
		pv := e.pvs[*va.Spec.Source.PersistentVolumeName]
		if pv == nil || pv.Spec.CSI == nil {
			continue
		}
		out[va.Spec.Attacher+"/"+pv.Spec.CSI.VolumeHandle] = va.Spec.Attacher
	}
	return out
}

func sortedValues(m map[string]string) []string {
	set := map[string]bool{}
	for _, v := range m {
		set[v] = true
	}
	return slices.Sorted(maps.Keys(set))
}

func (e *Engine) csiNode(name string) *storagev1.CSINode {
	for _, n := range e.snap.CSINodes {
		if n != nil && n.Name == name {
			return n
		}
	}
	return nil
}

func (e *Engine) csiDriver(name string) *storagev1.CSIDriver {
	for _, d := range e.snap.CSIDrivers {
		if d != nil && d.Name == name {
			return d
		}
	}
	return nil
}

// csiDriverInstalled: a driver that opts into preventPodSchedulingIfMissing
// must be listed by the node's CSINode.
func (e *Engine) csiDriverInstalled(driver string, csiNode *storagev1.CSINode) bool {
	d := e.csiDriver(driver)
	if d == nil || d.Spec.PreventPodSchedulingIfMissing == nil || !*d.Spec.PreventPodSchedulingIfMissing {
		return true
	}
	if csiNode == nil {
		return false
	}
	for _, nd := range csiNode.Spec.Drivers {
		if nd.Name == driver {
			return true
		}
	}
	return false
}

// attachableVolumes is filterAttachableVolumes: it adds the pod's CSI
// volumes, and its in-tree volumes migrated to CSI, as "driver/handle" →
// driver.
func (e *Engine) attachableVolumes(p *corev1.Pod, csiNode *storagev1.CSINode, newPod bool, out map[string]string) error {
	for i := range p.Spec.Volumes {
		v := &p.Spec.Volumes[i]
		var name string
		switch {
		case v.PersistentVolumeClaim != nil:
			name = v.PersistentVolumeClaim.ClaimName
		case v.Ephemeral != nil:
			name = ephemeral.VolumeClaimName(p, v)
		default:
			if err := inlineAttachable(v, csiNode, p.Namespace, out); err != nil {
				return err
			}
			continue
		}
		if name == "" {
			return fmt.Errorf("PersistentVolumeClaim had no name")
		}
		pvc := e.pvc(p.Namespace, name)
		if pvc == nil {
			if newPod {
				return fmt.Errorf("looking up PVC %s/%s: persistentvolumeclaim %q not found", p.Namespace, name, name)
			}
			continue
		}
		if v.Ephemeral != nil {
			if err := ephemeral.VolumeIsForPod(p, pvc); err != nil {
				return err
			}
		}
		driver, handle := e.csiDriverInfo(csiNode, pvc)
		if driver != "" && handle != "" {
			out[driver+"/"+handle] = driver
		}
	}
	return nil
}

// inlineAttachable is checkAttachableInlineVolume: an in-tree volume counts
// against its CSI driver once the node's CSINode exists for a plugin whose
// migration is on.
func inlineAttachable(v *corev1.Volume, csiNode *storagev1.CSINode, namespace string, out map[string]string) error {
	if !translator.IsInlineMigratable(v) {
		return nil
	}
	plugin, err := translator.GetInTreePluginNameFromSpec(nil, v)
	if err != nil {
		return fmt.Errorf("looking up provisioner name for volume %s: %w", v.Name, err)
	}
	if !csiMigrationOn(csiNode, plugin) {
		return nil
	}
	pv, err := translator.TranslateInTreeInlineVolumeToCSI(klog.Background(), v, namespace)
	if err != nil || pv == nil {
		return fmt.Errorf("converting volume(%s) from inline to csi: %w", v.Name, err)
	}
	driver, err := translator.GetCSINameFromInTreeName(plugin)
	if err != nil {
		return fmt.Errorf("looking up CSI driver name for provisioner %s: %w", plugin, err)
	}
	if pv.Spec.CSI != nil {
		out[driver+"/"+pv.Spec.CSI.VolumeHandle] = driver
	}
	return nil
}

// csiMigrationOn is isCSIMigrationOn: the in-tree plugins whose CSI
// migration is always on, for a node with a CSINode.
func csiMigrationOn(csiNode *storagev1.CSINode, plugin string) bool {
	if csiNode == nil {
		return false
	}
	switch plugin {
	case csilibplugins.AWSEBSInTreePluginName, csilibplugins.PortworxVolumePluginName, csilibplugins.GCEPDInTreePluginName,
		csilibplugins.AzureDiskInTreePluginName, csilibplugins.CinderInTreePluginName:
		return true
	}
	return false
}

// csiDriverInfo is getCSIDriverInfo: the driver and volume handle of a
// claim's volume (translated when it is an in-tree one), else of the
// volume its StorageClass would provision.
func (e *Engine) csiDriverInfo(csiNode *storagev1.CSINode, pvc *corev1.PersistentVolumeClaim) (string, string) {
	if pvc.Spec.VolumeName != "" {
		if pv := e.pvs[pvc.Spec.VolumeName]; pv != nil {
			src := pv.Spec.CSI
			if src == nil {
				if !translator.IsPVMigratable(pv) {
					return "", ""
				}
				plugin, err := translator.GetInTreePluginNameFromSpec(pv, nil)
				if err != nil || !csiMigrationOn(csiNode, plugin) {
					return "", ""
				}
				csiPV, err := translator.TranslateInTreePVToCSI(klog.Background(), pv)
				if err != nil || csiPV.Spec.CSI == nil {
					return "", ""
				}
				src = csiPV.Spec.CSI
			}
			return src.Driver, src.VolumeHandle
		}
	}
	class := volume.GetPersistentVolumeClaimClass(pvc)
	if class == "" {
		return "", ""
	}
	sc := e.storageClass(class)
	if sc == nil {
		return "", ""
	}
	// Not a real handle: it only has to differ from every other volume's.
	handle := "unbound-" + pvc.Namespace + "/" + pvc.Name
	if translator.IsMigratableIntreePluginByName(sc.Provisioner) {
		if !csiMigrationOn(csiNode, sc.Provisioner) {
			return "", ""
		}
		driver, err := translator.GetCSINameFromInTreeName(sc.Provisioner)
		if err != nil {
			return "", ""
		}
		return driver, handle
	}
	return sc.Provisioner, handle
}

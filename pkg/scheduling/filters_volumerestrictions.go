package scheduling

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

const (
	msgDiskConflict = "node(s) had no available disk"
	msgRWOPConflict = "node(s) unavailable due to PersistentVolumeClaim with ReadWriteOncePod access mode already in-use by another pod"
)

// restrictionsState is VolumeRestrictions' PreFilter state.
type restrictionsState struct {
	// rwopUsers names, per ReadWriteOncePod claim of the pod, the pods
	// already using it.
	rwopUsers map[string][]string
	needsDisk bool
}

// volumeRestrictionsPlugin is VolumeRestrictions: in-tree disks that only
// one pod may mount, and ReadWriteOncePod claims already in use.
var volumeRestrictionsPlugin = plugin{
	name:  "VolumeRestrictions",
	needs: volumeRestrictionsNeeds,
	preFilter: func(c *cycle) preResult {
		s := &restrictionsState{rwopUsers: map[string][]string{}}
		for i := range c.pod.Spec.Volumes {
			if needsRestrictionsCheck(&c.pod.Spec.Volumes[i]) {
				s.needsDisk = true
			}
		}
		var rwop []string
		for _, v := range c.pod.Spec.Volumes {
			if v.PersistentVolumeClaim == nil {
				continue
			}
			pvc := c.e.pvc(c.pod.Namespace, v.PersistentVolumeClaim.ClaimName)
			if pvc == nil {
				return preResult{reasons: []Reason{{Unresolvable: true,
					Message: fmt.Sprintf("persistentvolumeclaim %q not found", v.PersistentVolumeClaim.ClaimName),
					Detail: fmt.Sprintf("volume %q refers to PersistentVolumeClaim %s/%s, which does not exist",
						v.Name, c.pod.Namespace, v.PersistentVolumeClaim.ClaimName)}}}
			}
			for _, m := range pvc.Spec.AccessModes {
				if m == corev1.ReadWriteOncePod {
					rwop = append(rwop, pvc.Name)
				}
			}
		}
		for _, name := range rwop {
			for _, ni := range c.nodes {
				for _, p := range ni.pods {
					if p.Namespace != c.pod.Namespace || p.UID == c.pod.UID && p.UID != "" {
						continue
					}
					for _, v := range p.Spec.Volumes {
						if v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == name {
							s.rwopUsers[name] = append(s.rwopUsers[name], p.Namespace+"/"+p.Name+" on "+ni.node.Name)
						}
					}
				}
			}
		}
		if !s.needsDisk && len(s.rwopUsers) == 0 {
			return preResult{skip: true}
		}
		c.restrictions = s
		return preResult{}
	},
	filter: func(c *cycle, ni *nodeInfo) []Reason {
		s := c.restrictions
		if s == nil {
			return nil
		}
		if s.needsDisk {
			for i := range c.pod.Spec.Volumes {
				v := &c.pod.Spec.Volumes[i]
				if !needsRestrictionsCheck(v) {
					continue
				}
				for _, p := range ni.pods {
					if isVolumeConflict(v, p) {
						return []Reason{{Message: msgDiskConflict, Detail: fmt.Sprintf(
							"volume %q uses a disk that pod %s/%s already mounts on this node", v.Name, p.Namespace, p.Name)}}
					}
				}
			}
		}
		if len(s.rwopUsers) > 0 {
			users := c.rwopUsersOn(ni)
			if len(users) > 0 {
				return []Reason{{Message: msgRWOPConflict, Detail: strings.Join(users, "; ")}}
			}
		}
		return nil
	},
}

// rwopUsersOn lists the ReadWriteOncePod conflicts; the check is cluster
// wide, except that a preemption dry run removes this node's victims.
func (c *cycle) rwopUsersOn(ni *nodeInfo) []string {
	removed := map[string]bool{}
	if orig, ok := c.byName[ni.node.Name]; ok && orig != ni {
		kept := map[*corev1.Pod]bool{}
		for _, p := range ni.pods {
			kept[p] = true
		}
		for _, p := range orig.pods {
			if !kept[p] {
				removed[p.Namespace+"/"+p.Name+" on "+ni.node.Name] = true
			}
		}
	}
	var out []string
	claims := make([]string, 0, len(c.restrictions.rwopUsers))
	for name := range c.restrictions.rwopUsers {
		claims = append(claims, name)
	}
	sort.Strings(claims)
	for _, name := range claims {
		for _, u := range c.restrictions.rwopUsers[name] {
			if !removed[u] {
				out = append(out, fmt.Sprintf("PersistentVolumeClaim %s (ReadWriteOncePod) is in use by pod %s", name, u))
			}
		}
	}
	return out
}

func needsRestrictionsCheck(v *corev1.Volume) bool {
	return v.GCEPersistentDisk != nil || v.AWSElasticBlockStore != nil || v.RBD != nil || v.ISCSI != nil
}

// isVolumeConflict is the plugin's check for in-tree disks.
func isVolumeConflict(v *corev1.Volume, p *corev1.Pod) bool {
	for _, ev := range p.Spec.Volumes {
		switch {
		case v.GCEPersistentDisk != nil && ev.GCEPersistentDisk != nil:
			if v.GCEPersistentDisk.PDName == ev.GCEPersistentDisk.PDName && !(v.GCEPersistentDisk.ReadOnly && ev.GCEPersistentDisk.ReadOnly) {
				return true
			}
		case v.AWSElasticBlockStore != nil && ev.AWSElasticBlockStore != nil:
			if v.AWSElasticBlockStore.VolumeID == ev.AWSElasticBlockStore.VolumeID {
				return true
			}
		case v.ISCSI != nil && ev.ISCSI != nil:
			if v.ISCSI.IQN == ev.ISCSI.IQN && !(v.ISCSI.ReadOnly && ev.ISCSI.ReadOnly) {
				return true
			}
		case v.RBD != nil && ev.RBD != nil:
			if haveOverlap(v.RBD.CephMonitors, ev.RBD.CephMonitors) && v.RBD.RBDPool == ev.RBD.RBDPool &&
				v.RBD.RBDImage == ev.RBD.RBDImage && !(v.RBD.ReadOnly && ev.RBD.ReadOnly) {
				return true
			}
		}
	}
	return false
}

func haveOverlap(a, b []string) bool {
	m := map[string]bool{}
	for _, v := range a {
		m[v] = true
	}
	for _, v := range b {
		if m[v] {
			return true
		}
	}
	return false
}

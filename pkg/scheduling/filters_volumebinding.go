package scheduling

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	storagelisters "k8s.io/client-go/listers/storage/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/component-helpers/storage/ephemeral"
	"k8s.io/component-helpers/storage/volume"
)

const (
	msgUnboundImmediate = "pod has unbound immediate PersistentVolumeClaims"
	msgVolumeNodeConfl  = "node(s) didn't match PersistentVolume's node affinity"
	msgVolumeBindConfl  = "node(s) didn't find available persistent volumes to bind"
	msgVolumePVNotExist = "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)"
)

// podClaim is one PVC a pod's volume refers to.
type podClaim struct {
	volume    string
	name      string
	ephemeral bool
}

func podClaims(pod *corev1.Pod) []podClaim {
	var out []podClaim
	for i := range pod.Spec.Volumes {
		v := &pod.Spec.Volumes[i]
		switch {
		case v.PersistentVolumeClaim != nil:
			out = append(out, podClaim{volume: v.Name, name: v.PersistentVolumeClaim.ClaimName})
		case v.Ephemeral != nil:
			out = append(out, podClaim{volume: v.Name, name: ephemeral.VolumeClaimName(pod, v), ephemeral: true})
		}
	}
	return out
}

// volumeState is VolumeBinding's PreFilter state.
type volumeState struct {
	bound, unboundDelay []*corev1.PersistentVolumeClaim
	// pvsByClass are the PVs candidates for unbound delayed claims.
	pvsByClass map[string][]*corev1.PersistentVolume
}

func (e *Engine) pvc(namespace, name string) *corev1.PersistentVolumeClaim {
	return e.pvcs[namespace+"/"+name]
}

// storageClassLister wraps the snapshot's StorageClasses for the
// component-helpers that take a lister (built once in NewEngine).
func newStorageClassLister(classes []*storagev1.StorageClass) storagelisters.StorageClassLister {
	idx := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{})
	for _, sc := range classes {
		if sc != nil {
			_ = idx.Add(sc)
		}
	}
	return storagelisters.NewStorageClassLister(idx)
}

func isPVCFullyBound(pvc *corev1.PersistentVolumeClaim) bool {
	return pvc.Spec.VolumeName != "" && metav1.HasAnnotation(pvc.ObjectMeta, volume.AnnBindCompleted)
}

// volumeBindingPlugin is VolumeBinding.
var volumeBindingPlugin = plugin{
	name:  "VolumeBinding",
	needs: volumeBindingNeeds,
	preFilter: func(c *cycle) preResult {
		claims := podClaims(c.pod)
		if len(claims) == 0 {
			return preResult{skip: true}
		}
		// podHasPVCs: every claim must exist, not be lost nor deleting.
		for _, pc := range claims {
			pvc := c.e.pvc(c.pod.Namespace, pc.name)
			if pvc == nil {
				msg := fmt.Sprintf("persistentvolumeclaim %q not found", pc.name)
				if pc.ephemeral {
					msg = fmt.Sprintf("waiting for ephemeral volume controller to create the persistentvolumeclaim %q", pc.name)
				}
				return preResult{reasons: []Reason{{Message: msg, Unresolvable: true,
					Detail: fmt.Sprintf("volume %q refers to PersistentVolumeClaim %s/%s, which does not exist", pc.volume, c.pod.Namespace, pc.name)}}}
			}
			if pvc.Status.Phase == corev1.ClaimLost {
				return preResult{reasons: []Reason{{Unresolvable: true,
					Message: fmt.Sprintf("persistentvolumeclaim %q bound to non-existent persistentvolume %q", pvc.Name, pvc.Spec.VolumeName)}}}
			}
			if pvc.DeletionTimestamp != nil {
				return preResult{reasons: []Reason{{Unresolvable: true,
					Message: fmt.Sprintf("persistentvolumeclaim %q is being deleted", pvc.Name)}}}
			}
			if pc.ephemeral {
				if err := ephemeral.VolumeIsForPod(c.pod, pvc); err != nil {
					return preResult{reasons: []Reason{{Message: err.Error(), Unresolvable: true}}}
				}
			}
		}
		s := &volumeState{pvsByClass: map[string][]*corev1.PersistentVolume{}}
		var immediate []string
		for _, pc := range claims {
			pvc := c.e.pvc(c.pod.Namespace, pc.name)
			if isPVCFullyBound(pvc) {
				s.bound = append(s.bound, pvc)
				continue
			}
			delay, err := volume.IsDelayBindingMode(pvc, c.e.scLister)
			if err != nil {
				return preResult{reasons: []Reason{{Message: err.Error(), Unresolvable: true}}}
			}
			if delay && pvc.Spec.VolumeName == "" {
				s.unboundDelay = append(s.unboundDelay, pvc)
				continue
			}
			immediate = append(immediate, c.e.unboundClaimDetail(pvc))
		}
		if len(immediate) > 0 {
			return preResult{reasons: []Reason{{Message: msgUnboundImmediate, Unresolvable: true,
				Detail: strings.Join(immediate, "; ")}}}
		}
		for _, pvc := range s.unboundDelay {
			class := volume.GetPersistentVolumeClaimClass(pvc)
			if _, done := s.pvsByClass[class]; done {
				continue
			}
			var pvs []*corev1.PersistentVolume
			for _, pv := range c.e.snap.PVs {
				if pv != nil && volume.GetPersistentVolumeClass(pv) == class {
					pvs = append(pvs, pv)
				}
			}
			s.pvsByClass[class] = pvs
		}
		c.volumes = s
		return preResult{}
	},
	filter: func(c *cycle, ni *nodeInfo) []Reason {
		return c.volumeBindingFilter(ni.node)
	},
}

// unboundClaimDetail says why an immediate-binding claim is still unbound.
func (e *Engine) unboundClaimDetail(pvc *corev1.PersistentVolumeClaim) string {
	name := pvc.Namespace + "/" + pvc.Name
	class := volume.GetPersistentVolumeClaimClass(pvc)
	if pvc.Spec.VolumeName != "" {
		if pv := e.pvs[pvc.Spec.VolumeName]; pv == nil {
			return fmt.Sprintf("PersistentVolumeClaim %s names volume %s, which does not exist", name, pvc.Spec.VolumeName)
		}
		return fmt.Sprintf("PersistentVolumeClaim %s is pre-bound to PersistentVolume %s but the binding is not complete", name, pvc.Spec.VolumeName)
	}
	if class == "" {
		return fmt.Sprintf("PersistentVolumeClaim %s has no StorageClass and no PersistentVolume matches it", name)
	}
	sc := e.storageClass(class)
	if sc == nil {
		return fmt.Sprintf("PersistentVolumeClaim %s uses StorageClass %q, which does not exist", name, class)
	}
	return fmt.Sprintf("PersistentVolumeClaim %s (StorageClass %s, provisioner %s, volumeBindingMode Immediate) is not bound: no matching PersistentVolume and no volume provisioned yet", name, class, sc.Provisioner)
}

func (e *Engine) storageClass(name string) *storagev1.StorageClass {
	for _, sc := range e.snap.StorageClasses {
		if sc != nil && sc.Name == name {
			return sc
		}
	}
	return nil
}

// volumeBindingFilter is FindPodVolumes: bound PVs' node affinity, then a
// matching PV or dynamic provisioning for each delayed claim.
func (c *cycle) volumeBindingFilter(node *corev1.Node) []Reason {
	s := c.volumes
	if s == nil {
		return nil
	}
	var out []Reason
	var affinityDetails, missing []string
	for _, pvc := range s.bound {
		pv := c.e.pvs[pvc.Spec.VolumeName]
		if pv == nil {
			missing = append(missing, fmt.Sprintf("PersistentVolumeClaim %s/%s is bound to PersistentVolume %s, which does not exist", pvc.Namespace, pvc.Name, pvc.Spec.VolumeName))
			break
		}
		if err := volume.CheckNodeAffinity(pv, node.Labels); err != nil {
			affinityDetails = append(affinityDetails, pvNodeAffinityDetail(pv, pvc, node))
			break
		}
	}
	unboundOK := true
	var unboundDetails []string
	if len(affinityDetails) == 0 && len(missing) == 0 && len(s.unboundDelay) > 0 {
		unboundOK, unboundDetails = c.unboundDelayedFit(node)
	}
	if len(affinityDetails) > 0 {
		out = append(out, Reason{Message: msgVolumeNodeConfl, Unresolvable: true, Detail: strings.Join(affinityDetails, "; ")})
	}
	if !unboundOK {
		out = append(out, Reason{Message: msgVolumeBindConfl, Unresolvable: true, Detail: strings.Join(unboundDetails, "; ")})
	}
	if len(missing) > 0 {
		out = append(out, Reason{Message: msgVolumePVNotExist, Unresolvable: true, Detail: strings.Join(missing, "; ")})
	}
	return out
}

// unboundDelayedFit checks WaitForFirstConsumer claims on one node: a
// selected-node annotation pins them; otherwise a matching available PV or
// a provisioner whose allowedTopologies admit the node.
func (c *cycle) unboundDelayedFit(node *corev1.Node) (bool, []string) {
	var toMatch, toProvision []*corev1.PersistentVolumeClaim
	for _, pvc := range c.volumes.unboundDelay {
		if sel, ok := pvc.Annotations[volume.AnnSelectedNode]; ok {
			if sel != node.Name {
				return false, []string{fmt.Sprintf("PersistentVolumeClaim %s/%s is being provisioned for node %s", pvc.Namespace, pvc.Name, sel)}
			}
			toProvision = append(toProvision, pvc)
			continue
		}
		toMatch = append(toMatch, pvc)
	}
	sort.SliceStable(toMatch, func(i, j int) bool {
		a, b := toMatch[i].Spec.Resources.Requests[corev1.ResourceStorage], toMatch[j].Spec.Resources.Requests[corev1.ResourceStorage]
		return a.Cmp(b) < 0
	})
	chosen := map[string]*corev1.PersistentVolume{}
	for _, pvc := range toMatch {
		class := volume.GetPersistentVolumeClaimClass(pvc)
		pv, err := volume.FindMatchingVolume(pvc, c.volumes.pvsByClass[class], node, chosen, true, true)
		if err != nil {
			return false, []string{err.Error()}
		}
		if pv == nil {
			toProvision = append(toProvision, pvc)
			continue
		}
		chosen[pv.Name] = pv
	}
	for _, pvc := range toProvision {
		class := volume.GetPersistentVolumeClaimClass(pvc)
		name := pvc.Namespace + "/" + pvc.Name
		sc := c.e.storageClass(class)
		if class == "" || sc == nil {
			// The scheduler reports these as errors, not as a conflict.
			return false, []string{fmt.Sprintf("PersistentVolumeClaim %s: no PersistentVolume matches and StorageClass %q cannot provision", name, class)}
		}
		if sc.Provisioner == "" || sc.Provisioner == volume.NotSupportedProvisioner {
			return false, []string{fmt.Sprintf("PersistentVolumeClaim %s: no available PersistentVolume of StorageClass %s fits this node and the class does not provision (%s)", name, class, sc.Provisioner)}
		}
		if !matchTopologySelectorTerms(sc.AllowedTopologies, node.Labels) {
			return false, []string{fmt.Sprintf("PersistentVolumeClaim %s: StorageClass %s's allowedTopologies exclude this node", name, class)}
		}
		if _, sized := pvc.Spec.Resources.Requests[corev1.ResourceStorage]; sized {
			if d := c.e.csiDriver(sc.Provisioner); d != nil && d.Spec.StorageCapacity != nil && *d.Spec.StorageCapacity {
				c.notSimulated("VolumeBinding", fmt.Sprintf(
					"CSI driver %s publishes storage capacity: whether a node has room to provision PersistentVolumeClaim %s (CSIStorageCapacity) is not checked", sc.Provisioner, name))
			}
		}
	}
	return true, nil
}

// matchTopologySelectorTerms is v1helper.MatchTopologySelectorTerms: no
// terms match everything; otherwise any term whose every expression has the
// node's value among its values.
func matchTopologySelectorTerms(terms []corev1.TopologySelectorTerm, nodeLabels map[string]string) bool {
	if len(terms) == 0 {
		return true
	}
	for _, t := range terms {
		ok := len(t.MatchLabelExpressions) > 0
		for _, e := range t.MatchLabelExpressions {
			v, has := nodeLabels[e.Key]
			in := false
			for _, want := range e.Values {
				in = in || (has && v == want)
			}
			ok = ok && in
		}
		if ok {
			return true
		}
	}
	return false
}

// pvNodeAffinityDetail names the PV, its required terms and the node's
// values for the keys they use.
func pvNodeAffinityDetail(pv *corev1.PersistentVolume, pvc *corev1.PersistentVolumeClaim, node *corev1.Node) string {
	var reqs []string
	keys := map[string]bool{}
	if pv.Spec.NodeAffinity != nil && pv.Spec.NodeAffinity.Required != nil {
		for _, t := range pv.Spec.NodeAffinity.Required.NodeSelectorTerms {
			var parts []string
			for _, r := range t.MatchExpressions {
				parts = append(parts, formatNodeRequirement(r))
				keys[r.Key] = true
			}
			reqs = append(reqs, strings.Join(parts, ", "))
		}
	}
	var have []string
	for k := range keys {
		if v, ok := node.Labels[k]; ok {
			have = append(have, k+"="+v)
		} else {
			have = append(have, "no label "+k)
		}
	}
	sort.Strings(have)
	return fmt.Sprintf("PersistentVolume %s (bound to PersistentVolumeClaim %s/%s) requires nodes with %s; node has %s",
		pv.Name, pvc.Namespace, pvc.Name, strings.Join(reqs, " or "), strings.Join(have, ", "))
}

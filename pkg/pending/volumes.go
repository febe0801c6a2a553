package pending

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	volumehelpers "k8s.io/component-helpers/storage/volume"

	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/pkg/report"
)

const (
	annDefaultClass     = "storageclass.kubernetes.io/is-default-class"
	annBetaDefaultClass = "storageclass.beta.kubernetes.io/is-default-class"
	annSelectedNode     = "volume.kubernetes.io/selected-node"
	noProvisioner       = "kubernetes.io/no-provisioner"
)

// claimNames lists the PVCs the pod uses, with generic ephemeral volumes
// under the name their controller gives them (<pod>-<volume>).
func claimNames(pod *corev1.Pod) []string {
	var out []string
	for _, v := range pod.Spec.Volumes {
		switch {
		case v.PersistentVolumeClaim != nil:
			out = append(out, v.PersistentVolumeClaim.ClaimName)
		case v.Ephemeral != nil:
			out = append(out, pod.Name+"-"+v.Name)
		}
	}
	return out
}

func (a *analyzer) pvc(ns, name string) *corev1.PersistentVolumeClaim {
	for _, c := range a.snap.PVCs {
		if c.Namespace == ns && c.Name == name {
			return c
		}
	}
	return nil
}

func (a *analyzer) storageClass(name string) *storagev1.StorageClass {
	for _, sc := range a.snap.StorageClasses {
		if sc.Name == name {
			return sc
		}
	}
	return nil
}

func (a *analyzer) defaultClasses() []string {
	var out []string
	for _, sc := range a.snap.StorageClasses {
		if sc.Annotations[annDefaultClass] == "true" || sc.Annotations[annBetaDefaultClass] == "true" {
			out = append(out, sc.Name)
		}
	}
	return out
}

// checkVolumes explains missing and unbound claims; it returns true when a
// claim keeps the pod from being scheduled at all (missing, or unbound with
// Immediate binding), which is what the scheduler's VolumeBinding PreFilter
// refuses.
func (a *analyzer) checkVolumes(pod *corev1.Pod, ex *Explanation) bool {
	names := claimNames(pod)
	if len(names) == 0 || !a.snap.Loaded[cluster.KindPVC] {
		return false
	}
	blocked := false
	for _, name := range names {
		claim := a.pvc(pod.Namespace, name)
		if claim == nil {
			blocked = true
			ex.Reason = fmt.Sprintf("PersistentVolumeClaim %q not found", name)
			ex.Evidence = append(ex.Evidence, fmt.Sprintf("persistentvolumeclaim %q not found in namespace %s", name, pod.Namespace))
			a.add(ex, RulePVCMissing, report.SeverityError,
				fmt.Sprintf("the pod uses PersistentVolumeClaim %s/%s, which does not exist", pod.Namespace, name),
				fmt.Sprintf("create it:\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: %s\n  namespace: %s\nspec:\n  accessModes: [ReadWriteOnce]\n  resources:\n    requests:\n      storage: 1Gi", name, pod.Namespace),
				map[string]any{"claim": name})
			continue
		}
		if claim.Status.Phase == corev1.ClaimBound {
			continue
		}
		if a.explainUnboundClaim(pod, claim, ex) {
			blocked = true
		}
	}
	return blocked
}

// explainUnboundClaim says why a claim is not bound; true when it blocks
// scheduling by itself.
func (a *analyzer) explainUnboundClaim(pod *corev1.Pod, claim *corev1.PersistentVolumeClaim, ex *Explanation) bool {
	ref := fmt.Sprintf("%s/%s", claim.Namespace, claim.Name)
	if claim.Status.Phase == corev1.ClaimLost {
		ex.Reason = fmt.Sprintf("PersistentVolumeClaim %s lost its volume %s", claim.Name, claim.Spec.VolumeName)
		a.add(ex, RuleNoMatchingPV, report.SeverityError,
			fmt.Sprintf("claim %s is Lost: its PersistentVolume %q is gone", ref, claim.Spec.VolumeName),
			"restore the PersistentVolume, or recreate the claim (its data is lost)", map[string]any{"claim": claim.Name, "volumeName": claim.Spec.VolumeName})
		return true
	}
	className := volumehelpers.GetPersistentVolumeClaimClass(claim)
	if a.opts.Manifests && claim.Status.Phase == "" && a.willBeProvisioned(claim, className, ref, ex) {
		return false
	}
	pvEvidence := a.claimEvents(claim)
	if className == "" {
		return a.explainClasslessClaim(claim, ref, pvEvidence, ex)
	}
	sc := a.storageClass(className)
	if sc == nil {
		if !a.snap.Loaded[cluster.KindStorageClass] {
			return false
		}
		ex.Reason = fmt.Sprintf("StorageClass %q of claim %s does not exist", className, claim.Name)
		a.add(ex, RuleClassMissing, report.SeverityError,
			fmt.Sprintf("claim %s uses StorageClass %q, which does not exist", ref, className),
			fmt.Sprintf("create StorageClass %q or set the claim's storageClassName to an existing class (claims are immutable: recreate it)", className),
			map[string]any{"claim": claim.Name, "storageClass": className})
		return true
	}
	if sc.VolumeBindingMode != nil && *sc.VolumeBindingMode == storagev1.VolumeBindingWaitForFirstConsumer {
		return a.explainWaitingClaim(claim, sc, ref, pvEvidence, ex)
	}
	if sc.Provisioner == noProvisioner {
		if a.matchingPV(claim) != nil {
			return false
		}
		ex.Reason = fmt.Sprintf("no PersistentVolume matches claim %s (class %s has no provisioner)", claim.Name, sc.Name)
		a.add(ex, RuleNoMatchingPV, report.SeverityError,
			fmt.Sprintf("claim %s uses StorageClass %s (no provisioner) and no available PersistentVolume matches it", ref, sc.Name),
			fmt.Sprintf("create a PersistentVolume with storageClassName: %s, capacity ≥ %s, accessModes %v", sc.Name, claimRequest(claim), claim.Spec.AccessModes),
			map[string]any{"claim": claim.Name, "storageClass": sc.Name})
		return true
	}
	ex.Reason = fmt.Sprintf("PersistentVolumeClaim %s unbound: provisioner %s has not provisioned it", claim.Name, sc.Provisioner)
	a.add(ex, RuleNoMatchingPV, report.SeverityError,
		fmt.Sprintf("claim %s (StorageClass %s, Immediate binding) is still Pending: provisioner %s has not created a volume%s", ref, sc.Name, sc.Provisioner, pvEvidence),
		fmt.Sprintf("check that the %s provisioner runs and read the claim's events: kubectl describe pvc %s -n %s", sc.Provisioner, claim.Name, claim.Namespace),
		map[string]any{"claim": claim.Name, "storageClass": sc.Name, "provisioner": sc.Provisioner})
	return true
}

// willBeProvisioned reports whether a claim from the manifests, not created
// yet, will be provisioned by a class (its own or the default one); it notes
// that in the evidence.
func (a *analyzer) willBeProvisioned(claim *corev1.PersistentVolumeClaim, className, ref string, ex *Explanation) bool {
	cn := className
	if cn == "" && claim.Spec.StorageClassName == nil {
		if d := a.defaultClasses(); len(d) > 0 {
			cn = d[0]
		}
	}
	sc := a.storageClass(cn)
	if sc == nil || sc.Provisioner == noProvisioner {
		return false
	}
	a.provisionable[claim.Namespace+"/"+claim.Name] = true
	ex.Evidence = append(ex.Evidence, fmt.Sprintf("claim %s will be provisioned by %s (StorageClass %s)", ref, sc.Provisioner, sc.Name))
	return true
}

// explainClasslessClaim explains a claim without a StorageClass: it binds
// only to a matching PersistentVolume, unless a default class is assigned to
// it; true when it blocks scheduling.
func (a *analyzer) explainClasslessClaim(claim *corev1.PersistentVolumeClaim, ref, pvEvidence string, ex *Explanation) bool {
	defaults := a.defaultClasses()
	if pv := a.matchingPV(claim); pv != nil {
		ex.Evidence = append(ex.Evidence, fmt.Sprintf("claim %s has no StorageClass; PersistentVolume %s matches it and should bind soon", ref, pv.Name))
		return false
	}
	if claim.Spec.StorageClassName == nil && len(defaults) > 0 && a.snap.Loaded[cluster.KindStorageClass] {
		ex.Evidence = append(ex.Evidence, fmt.Sprintf("claim %s has no storageClassName; default class %s is assigned to it retroactively", ref, defaults[0]))
		return false
	}
	ex.Reason = fmt.Sprintf("PersistentVolumeClaim %s unbound: no StorageClass", claim.Name)
	msg := fmt.Sprintf("claim %s names no StorageClass, ", ref)
	if claim.Spec.StorageClassName != nil {
		msg = fmt.Sprintf("claim %s sets storageClassName: \"\" (static binding only), ", ref)
	} else if a.snap.Loaded[cluster.KindStorageClass] {
		msg += "the cluster has no default StorageClass, "
	}
	msg += "and no PersistentVolume matches it"
	a.add(ex, RulePVCNoClass, report.SeverityError, msg+pvEvidence,
		fmt.Sprintf("set spec.storageClassName on claim %s to a class with a provisioner, mark a class default (kubectl annotate storageclass CLASS %s=true), or create a PersistentVolume with capacity ≥ %s and accessModes %v", claim.Name, annDefaultClass, claimRequest(claim), claim.Spec.AccessModes),
		map[string]any{"claim": claim.Name, "defaultClasses": defaults})
	return true
}

// explainWaitingClaim explains a claim of a WaitForFirstConsumer class: it
// binds after the pod is scheduled, so it blocks only when the provisioner
// lags behind the scheduler's choice or no PersistentVolume can ever match.
func (a *analyzer) explainWaitingClaim(claim *corev1.PersistentVolumeClaim, sc *storagev1.StorageClass, ref, pvEvidence string, ex *Explanation) bool {
	ex.Evidence = append(ex.Evidence, fmt.Sprintf("claim %s uses StorageClass %s with volumeBindingMode WaitForFirstConsumer: it binds only after the pod is scheduled", ref, sc.Name))
	if node := claim.Annotations[annSelectedNode]; node != "" {
		ex.Reason = fmt.Sprintf("waiting for provisioner %s to create the volume of claim %s on node %s", sc.Provisioner, claim.Name, node)
		a.add(ex, RuleWaitForConsumer, report.SeverityWarning,
			fmt.Sprintf("the scheduler picked node %s for claim %s; provisioner %s has not created its volume yet%s", node, ref, sc.Provisioner, pvEvidence),
			fmt.Sprintf("check that the %s provisioner runs and look at the claim's events (kubectl describe pvc %s -n %s)", sc.Provisioner, claim.Name, claim.Namespace),
			map[string]any{"claim": claim.Name, "storageClass": sc.Name, "selectedNode": node})
		return true
	}
	if sc.Provisioner == noProvisioner && a.snap.Loaded[cluster.KindPV] && a.matchingPV(claim) == nil {
		ex.Reason = fmt.Sprintf("no PersistentVolume matches claim %s (StorageClass %s: WaitForFirstConsumer, no provisioner)", claim.Name, sc.Name)
		a.add(ex, RuleNoMatchingPV, report.SeverityError,
			fmt.Sprintf("claim %s uses StorageClass %s (WaitForFirstConsumer, no provisioner) and no available PersistentVolume matches it", ref, sc.Name),
			fmt.Sprintf("create a PersistentVolume with storageClassName: %s, capacity ≥ %s, accessModes %v and nodeAffinity to a node the pod can use", sc.Name, claimRequest(claim), claim.Spec.AccessModes),
			map[string]any{"claim": claim.Name, "storageClass": sc.Name, "volumeBindingMode": "WaitForFirstConsumer"})
		// The scheduler still evaluates the pod (its VolumeBinding
		// filter fails per node), so this is the scheduler's stage
		// with the claim as the cause.
		return true
	}
	a.add(ex, RuleWaitForConsumer, report.SeverityInfo,
		fmt.Sprintf("claim %s waits for the pod to be scheduled (StorageClass %s is WaitForFirstConsumer); being Pending is expected", ref, sc.Name),
		"", map[string]any{"claim": claim.Name, "storageClass": sc.Name})
	return false
}

// claimEvents renders the latest provisioning warning about the claim.
func (a *analyzer) claimEvents(claim *corev1.PersistentVolumeClaim) string {
	evs := a.events("PersistentVolumeClaim", claim.Namespace, claim.Name, string(claim.UID))
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Type == corev1.EventTypeWarning {
			return fmt.Sprintf(" (event %s: %s)", evs[i].Reason, strings.TrimSpace(evs[i].Message))
		}
	}
	return ""
}

func (a *analyzer) matchingPV(claim *corev1.PersistentVolumeClaim) *corev1.PersistentVolume {
	if !a.snap.Loaded[cluster.KindPV] {
		return nil
	}
	pv, err := volumehelpers.FindMatchingVolume(claim, a.snap.PVs, nil, nil, false, true)
	if err != nil {
		return nil
	}
	return pv
}

func claimRequest(claim *corev1.PersistentVolumeClaim) string {
	if q, ok := claim.Spec.Resources.Requests[corev1.ResourceStorage]; ok {
		return q.String()
	}
	return "the requested size"
}

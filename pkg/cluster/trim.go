package cluster

import (
	"encoding/json"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// The live loader drops, from each object as its LIST page is decoded, what
// no analysis reads: on a large cluster managedFields, node images and
// annotations such as kubectl's last-applied-configuration are a large part
// of every object, and keeping them would make a snapshot cost several times
// the memory of the LIST itself. Objects read from files are kept whole.
// trim_test.go type-checks pkg/, plugins/ and the Kubernetes helpers they
// call, and fails when any of them reads what is dropped here.

// keptAnnotations are the annotation keys something reads; live typed
// objects keep only these.
var keptAnnotations = map[string]bool{
	"ktriage.io/ignore":                                   true, // report.IgnoreAnnotation
	"ktriage.io/qos-required":                             true, // qosaudit.RequiredAnnotation
	"kubernetes.io/config.mirror":                         true, // corev1.MirrorPodAnnotationKey (drain, qos)
	"kubernetes.io/config.source":                         true, // qos: static pods' OOM score
	"cluster-autoscaler.kubernetes.io/pod-scale-up-delay": true, // autoscaler
	"cluster-autoscaler.kubernetes.io/last-updated":       true, // autoscaler: its status ConfigMap
	"volume.kubernetes.io/selected-node":                  true, // pending, storage helpers
	"pv.kubernetes.io/bind-completed":                     true, // scheduling, storage helpers
	"pv.kubernetes.io/bound-by-controller":                true, // storage helpers
	"storageclass.kubernetes.io/is-default-class":         true, // pending: the default StorageClass
	"storageclass.beta.kubernetes.io/is-default-class":    true, // pending: the default StorageClass
	"volume.beta.kubernetes.io/storage-class":             true, // storage helpers: a claim's class
}

// lastApplied is kubectl apply's copy of the whole object: usually the
// largest annotation, and never read. Unstructured objects (custom
// resources), whose annotations are read by path rather than by field, keep
// every annotation but this one.
const lastApplied = corev1.LastAppliedConfigAnnotation

// trim drops from obj, in place, what no analysis reads, and shares through
// in (nil: nothing shared) what obj repeats of the other objects of its list.
func trim(obj runtime.Object, in *interner) {
	if u, ok := obj.(*unstructured.Unstructured); ok {
		u.SetManagedFields(nil)
		if a := u.GetAnnotations(); a != nil {
			if _, ok := a[lastApplied]; ok {
				delete(a, lastApplied)
				u.SetAnnotations(a)
			}
		}
		return
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return
	}
	if n, ok := obj.(*corev1.Node); ok {
		n.ManagedFields = nodeSpecManagers(n.ManagedFields)
		// The kubelet's image list (up to 50 images, each with its digests)
		// and attached volumes: no filter of why-pending or drain-preflight
		// reads them.
		n.Status.Images = nil
		n.Status.VolumesInUse = nil
		n.Status.VolumesAttached = nil
	} else {
		m.SetManagedFields(nil)
	}
	if a := m.GetAnnotations(); len(a) > 0 {
		for k := range a {
			if !keptAnnotations[k] {
				delete(a, k)
			}
		}
		if len(a) == 0 {
			m.SetAnnotations(nil)
		}
	}
	switch o := obj.(type) {
	case *corev1.Pod:
		trimPod(o, in)
		if in != nil {
			in.pod(o)
		}
	case *corev1.Node:
		if in != nil {
			in.node(o)
		}
	}
}

// keptPodConditions are the pod condition types something reads; live pods
// keep only these. A running pod has five conditions, in an array the
// decoder grew to eight: most of its status.
var keptPodConditions = map[corev1.PodConditionType]bool{
	corev1.PodReady:         true, // drain (budgets' healthy pods), netcheck (ready endpoints)
	corev1.PodScheduled:     true, // pending (the scheduler's verdict), autoscaler
	corev1.DisruptionTarget: true, // scheduling: victims already being preempted
	corev1.PodResizePending: true, // component-helpers' resource requests (infeasible resizes)
}

// trimPod drops the container probes, lifecycle hooks, commands, security
// contexts, volume mounts (but those with bind mount options) and
// environment values, the pod's security context and service account, the
// runtime's identifiers and mount list from container statuses, and the
// conditions no analysis reads; of volumes, the downward API and service
// account token projections (every pod has one, and nothing reads them).
// Of a pod that has started, it also drops what only starting needs
// (trimStarted). The slices it keeps get arrays of their own length: the
// decoder grows each by doubling.
func trimPod(p *corev1.Pod, in *interner) {
	for _, cs := range [][]corev1.Container{p.Spec.InitContainers, p.Spec.Containers} {
		for i := range cs {
			c := &cs[i]
			c.LivenessProbe, c.ReadinessProbe, c.StartupProbe, c.Lifecycle = nil, nil, nil, nil
			c.Command, c.Args, c.WorkingDir, c.SecurityContext = nil, nil, "", nil
			c.TerminationMessagePath, c.TerminationMessagePolicy, c.ImagePullPolicy = "", "", ""
			c.VolumeMounts = bindMountOptions(c.VolumeMounts)
			c.Env = trimEnv(c.Env)
			c.Ports = fit(c.Ports)
		}
	}
	for i := range p.Spec.EphemeralContainers {
		c := &p.Spec.EphemeralContainers[i].EphemeralContainerCommon
		c.LivenessProbe, c.ReadinessProbe, c.StartupProbe, c.Lifecycle = nil, nil, nil, nil
		c.Command, c.Args, c.WorkingDir, c.SecurityContext = nil, nil, "", nil
		c.TerminationMessagePath, c.TerminationMessagePolicy, c.ImagePullPolicy = "", "", ""
		c.VolumeMounts = bindMountOptions(c.VolumeMounts)
		c.Env = trimEnv(c.Env)
	}
	p.Status.Conditions = keptConditions(p.Status.Conditions, in)
	p.Spec.SecurityContext, p.Spec.ServiceAccountName, p.Spec.DeprecatedServiceAccount = nil, "", ""
	p.Spec.TerminationGracePeriodSeconds, p.Spec.EnableServiceLinks = nil, nil
	for i := range p.Spec.Volumes {
		v := &p.Spec.Volumes[i].VolumeSource
		v.DownwardAPI = nil
		if v.Projected != nil {
			for j := range v.Projected.Sources {
				s := &v.Projected.Sources[j]
				s.DownwardAPI, s.ServiceAccountToken = nil, nil
			}
			v.Projected.Sources = fit(slices.DeleteFunc(v.Projected.Sources, func(s corev1.VolumeProjection) bool {
				return s == (corev1.VolumeProjection{})
			}))
		}
	}
	for _, ss := range [][]corev1.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses, p.Status.EphemeralContainerStatuses} {
		for i := range ss {
			s := &ss[i]
			s.ImageID, s.ContainerID = "", ""
			s.VolumeMounts, s.User, s.AllocatedResourcesStatus = nil, nil, nil
		}
	}
	if started(p) {
		trimStarted(p)
	}
	p.Spec.InitContainers, p.Spec.Containers = fit(p.Spec.InitContainers), fit(p.Spec.Containers)
	p.Spec.Volumes = fit(p.Spec.Volumes)
	p.Status.InitContainerStatuses, p.Status.ContainerStatuses = fit(p.Status.InitContainerStatuses), fit(p.Status.ContainerStatuses)
	p.OwnerReferences = fit(p.OwnerReferences)
}

// started: the pod is running or has finished (not Pending, and not of an
// unknown phase).
func started(p *corev1.Pod) bool {
	switch p.Status.Phase {
	case corev1.PodRunning, corev1.PodSucceeded, corev1.PodFailed:
		return true
	}
	return false
}

// trimStarted drops from a pod that has started what only matters while it
// is starting, which why-pending checks of Pending pods alone: the
// ConfigMaps, Secrets and projections its volumes and environment name
// (their volumes go whole: every pod has a projected one for its service
// account), and its containers' states, restarts and images: what is left
// of a status (its name and resources) is the same for every replica, and
// the interner shares it. No other analysis reads them;
// trim_test.go's pendingOnlyReaders are the functions that do.
func trimStarted(p *corev1.Pod) {
	p.Spec.Volumes = slices.DeleteFunc(p.Spec.Volumes, func(v corev1.Volume) bool {
		// (a downward API volume has no source left)
		return v.ConfigMap != nil || v.Secret != nil || v.Projected != nil || v.VolumeSource == (corev1.VolumeSource{})
	})
	for _, cs := range [][]corev1.Container{p.Spec.InitContainers, p.Spec.Containers} {
		for i := range cs {
			cs[i].Env, cs[i].EnvFrom = nil, nil
		}
	}
	for i := range p.Spec.EphemeralContainers {
		c := &p.Spec.EphemeralContainers[i].EphemeralContainerCommon
		c.Env, c.EnvFrom = nil, nil
	}
	for _, ss := range [][]corev1.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses, p.Status.EphemeralContainerStatuses} {
		for i := range ss {
			s := &ss[i]
			s.State, s.LastTerminationState, s.Started = corev1.ContainerState{}, corev1.ContainerState{}, nil
			s.Ready, s.RestartCount, s.Image, s.StopSignal = false, 0, "", nil
		}
	}
}

// fit returns s in an array of its own length (nil when empty), so that
// the larger array the decoder grew can be collected.
func fit[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	if cap(s) == len(s) {
		return s
	}
	return append(make([]T, 0, len(s)), s...)
}

// bindMountOptions keeps the volume mounts with bind mount options, which
// the scheduler's node declared features filter asks nodes to support; no
// analysis reads any other mount, or any other field of a mount.
func bindMountOptions(ms []corev1.VolumeMount) []corev1.VolumeMount {
	var out []corev1.VolumeMount
	for _, m := range ms {
		if len(m.BindMountOptions) > 0 {
			out = append(out, m)
		}
	}
	return out
}

// keptConditions copies the conditions of the kept types into a slice of
// their own length, so the decoder's larger array can be collected; in (nil:
// nothing shared) shares their types, statuses and reasons.
func keptConditions(cs []corev1.PodCondition, in *interner) []corev1.PodCondition {
	n := 0
	for i := range cs {
		if keptPodConditions[cs[i].Type] {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	out := make([]corev1.PodCondition, 0, n)
	for _, c := range cs {
		if !keptPodConditions[c.Type] {
			continue
		}
		if in != nil {
			c.Type, c.Status, c.Reason = corev1.PodConditionType(in.str(string(c.Type))), corev1.ConditionStatus(in.str(string(c.Status))), in.str(c.Reason)
		}
		out = append(out, c)
	}
	return out
}

// trimEnv keeps, of the variables that come from a ConfigMap or Secret
// (what why-pending checks exists), the name and the reference: values,
// field references and the other variables are dropped.
func trimEnv(env []corev1.EnvVar) []corev1.EnvVar {
	env = slices.DeleteFunc(env, func(e corev1.EnvVar) bool {
		return e.ValueFrom == nil || e.ValueFrom.ConfigMapKeyRef == nil && e.ValueFrom.SecretKeyRef == nil
	})
	for i := range env {
		e := &env[i]
		e.Value = ""
		e.ValueFrom.FieldRef, e.ValueFrom.ResourceFieldRef, e.ValueFrom.FileKeyRef = nil, nil, nil
	}
	return fit(env)
}

// nodeSpecManagers keeps, of a node's managedFields, what why-pending reads
// to tell what changed since a scheduling verdict: which manager set the
// labels, spec.unschedulable or spec.taints, and when. The status entries
// (the kubelet's heartbeats) and every other field are dropped.
func nodeSpecManagers(in []metav1.ManagedFieldsEntry) []metav1.ManagedFieldsEntry {
	var out []metav1.ManagedFieldsEntry
	for _, mf := range in {
		if mf.Time == nil || mf.Subresource != "" || mf.FieldsV1 == nil {
			continue
		}
		var f map[string]json.RawMessage
		if json.Unmarshal(mf.FieldsV1.GetRawBytes(), &f) != nil {
			continue
		}
		kept := map[string]map[string]struct{}{}
		keep := func(section, field string) {
			var fields map[string]json.RawMessage
			if json.Unmarshal(f[section], &fields) != nil {
				return
			}
			if _, ok := fields[field]; ok {
				if kept[section] == nil {
					kept[section] = map[string]struct{}{}
				}
				kept[section][field] = struct{}{}
			}
		}
		keep("f:metadata", "f:labels")
		keep("f:spec", "f:unschedulable")
		keep("f:spec", "f:taints")
		if len(kept) == 0 {
			continue
		}
		raw, err := json.Marshal(kept)
		if err != nil {
			continue
		}
		out = append(out, metav1.ManagedFieldsEntry{Manager: mf.Manager, Operation: mf.Operation, APIVersion: mf.APIVersion,
			Time: mf.Time, FieldsType: mf.FieldsType, FieldsV1: metav1.NewFieldsV1(string(raw))})
	}
	return out
}

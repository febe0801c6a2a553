package cluster

import (
	"encoding/json"

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
		trimPod(o)
		if in != nil {
			in.pod(o)
		}
	case *corev1.Node:
		if in != nil {
			in.node(o)
		}
	}
}

// trimPod drops the container probes, lifecycle hooks, commands, security
// contexts and environment values, the pod's security context and service account, and the
// runtime's identifiers and mount list from container statuses; of volumes,
// the downward API and service account token projections (every pod has
// one, and nothing reads them).
func trimPod(p *corev1.Pod) {
	for _, cs := range [][]corev1.Container{p.Spec.InitContainers, p.Spec.Containers} {
		for i := range cs {
			c := &cs[i]
			c.LivenessProbe, c.ReadinessProbe, c.StartupProbe, c.Lifecycle = nil, nil, nil, nil
			c.Command, c.Args, c.WorkingDir, c.SecurityContext = nil, nil, "", nil
			c.TerminationMessagePath, c.TerminationMessagePolicy, c.ImagePullPolicy = "", "", ""
			trimEnv(c.Env)
		}
	}
	for i := range p.Spec.EphemeralContainers {
		c := &p.Spec.EphemeralContainers[i].EphemeralContainerCommon
		c.LivenessProbe, c.ReadinessProbe, c.StartupProbe, c.Lifecycle = nil, nil, nil, nil
		c.Command, c.Args, c.WorkingDir, c.SecurityContext = nil, nil, "", nil
		c.TerminationMessagePath, c.TerminationMessagePolicy, c.ImagePullPolicy = "", "", ""
	}
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
		}
	}
	for _, ss := range [][]corev1.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses, p.Status.EphemeralContainerStatuses} {
		for i := range ss {
			s := &ss[i]
			s.ImageID, s.ContainerID = "", ""
			s.VolumeMounts, s.User, s.AllocatedResourcesStatus = nil, nil, nil
		}
	}
}

// trimEnv keeps of each variable its name and the ConfigMap or Secret it
// comes from (what why-pending checks exists): values and field references
// are dropped.
func trimEnv(env []corev1.EnvVar) {
	for i := range env {
		e := &env[i]
		e.Value = ""
		if f := e.ValueFrom; f != nil {
			f.FieldRef, f.ResourceFieldRef, f.FileKeyRef = nil, nil, nil
			if f.ConfigMapKeyRef == nil && f.SecretKeyRef == nil {
				e.ValueFrom = nil
			}
		}
	}
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

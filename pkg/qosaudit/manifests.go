package qosaudit

import (
	"sort"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/ktriage/ktriage/pkg/cluster"
)

// manifest is one object of -f with a pod (template).
type manifest struct {
	kind, namespace, name string
	meta                  metav1.Object
	pod                   *corev1.Pod
}

// manifests turns every object with pod template of the snapshot into the pod
// its controller would create.
func manifests(snap *cluster.Snapshot) []manifest {
	var out []manifest
	fromTemplate := func(kind string, m metav1.Object, t *corev1.PodTemplateSpec) {
		pod := &corev1.Pod{ObjectMeta: *t.ObjectMeta.DeepCopy(), Spec: *t.Spec.DeepCopy()}
		pod.Namespace, pod.Name = m.GetNamespace(), m.GetName()
		out = append(out, manifest{kind: kind, namespace: m.GetNamespace(), name: m.GetName(), meta: m, pod: pod})
	}
	for _, p := range snap.Pods {
		out = append(out, manifest{kind: "Pod", namespace: p.Namespace, name: p.Name, meta: p, pod: p})
	}
	for _, d := range snap.Deployments {
		fromTemplate("Deployment", d, &d.Spec.Template)
	}
	for _, rs := range snap.ReplicaSets {
		fromTemplate("ReplicaSet", rs, &rs.Spec.Template)
	}
	for _, s := range snap.StatefulSets {
		fromTemplate("StatefulSet", s, &s.Spec.Template)
	}
	for _, d := range snap.DaemonSets {
		fromTemplate("DaemonSet", d, &d.Spec.Template)
	}
	for _, j := range snap.Jobs {
		fromTemplate("Job", j, &j.Spec.Template)
	}
	for _, c := range snap.CronJobs {
		fromTemplate("CronJob", c, &c.Spec.JobTemplate.Spec.Template)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.namespace != b.namespace {
			return a.namespace < b.namespace
		}
		if a.kind != b.kind {
			return a.kind < b.kind
		}
		return a.name < b.name
	})
	return out
}

// selectManifests keeps the manifests whose pods match the selector: the
// labels the pods are created with, as -l matches them on the live cluster.
func selectManifests(snap *cluster.Snapshot, sel labels.Selector) []manifest {
	all := manifests(snap)
	if sel == nil || sel.Empty() {
		return all
	}
	out := all[:0]
	for _, m := range all {
		if sel.Matches(labels.Set(m.pod.Labels)) {
			out = append(out, m)
		}
	}
	return out
}

// mutatorWarnings names, per namespace, the mutating webhooks that may change
// the selected manifests' pods.
func mutatorWarnings(snap *cluster.Snapshot, sel labels.Selector) []string {
	if len(snap.MutatingWebhooks) == 0 {
		return nil
	}
	nsByName := map[string]*corev1.Namespace{}
	for _, n := range snap.Namespaces {
		nsByName[n.Name] = n
	}
	byNS := map[string][]string{}
	for _, m := range selectManifests(snap, sel) {
		byNS[m.namespace] = append(byNS[m.namespace], podMutators(snap.MutatingWebhooks, nsByName[m.namespace], m.pod.Labels)...)
	}
	var out []string
	names := make([]string, 0, len(byNS))
	for n := range byNS {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if hooks := uniqueSorted(byNS[n]); len(hooks) > 0 {
			out = append(out, mutatorWarning(n, hooks))
		}
	}
	return out
}

// ManifestNamespaces are the namespaces the selected manifests' pods land in.
func ManifestNamespaces(s *cluster.Snapshot, sel labels.Selector) []string {
	seen := map[string]bool{}
	for _, m := range selectManifests(s, sel) {
		seen[m.namespace] = true
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

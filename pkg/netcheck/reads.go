package netcheck

import (
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ktriage/ktriage/pkg/cluster"
)

// What a check loads. Every function here is pure: the plugin makes the
// reads (cluster.LoadLive for lists) and records them in the Objects.
//
// Live, a check reads only what its SRC and DST lead to, in rounds: the
// reads FirstReads names, which SRC and DST alone determine, then those
// PlanCheck (and Conclude, for the names the pod's real resolv.conf
// expands to) fails with as *Missing, until it has all it reads. A step
// asks at once for all it reads that do not depend on each other (the
// source's namespace and the cluster DNS Service; a Service's
// EndpointSlices and pods; the NetworkPolicies of every namespace
// involved), and nothing is read that the check does not use, so a run
// makes no more requests than it needs one by one. Pods are
// read by name, by label selector in their namespace, or by IP with a field
// selector: never every pod of the cluster.

// FirstReads are the reads every answer to chk starts with, known from SRC
// and DST alone: the source pod (or workload), and the destination pod,
// workload or Service (or the Services holding a destination address). The
// loader makes them at once.
func FirstReads(chk Check) []Read {
	ns, kind, name, err := parseSource(chk.Src)
	if err != nil {
		return nil
	}
	if ns == "" {
		ns = chk.Namespace
	}
	reads := targetReads(ns, kind, name)
	dst, err := ParseDestination(chk.Dst)
	if err != nil {
		return reads
	}
	dstNS := dst.Namespace
	if dstNS == "" && chk.NamespaceExplicit {
		dstNS = chk.Namespace
	} else if dstNS == "" {
		dstNS = ns
	}
	switch dst.Kind {
	case KindPod:
		kind := dst.Workload
		if kind == "" {
			kind = "pod"
		}
		reads = append(reads, targetReads(dstNS, kind, dst.Name)...)
	case KindService:
		reads = append(reads, serviceRead(dstNS, dst.Name))
	case KindIP:
		reads = append(reads, Read{Kind: cluster.KindService, Field: "spec.clusterIP=" + dst.Host})
	}
	return unique(reads)
}

// targetReads read a pod, or the object of a workload whose pods its
// selector then finds.
func targetReads(ns, kind, name string) []Read {
	switch kind {
	case "pod":
		return []Read{podRead(ns, name)}
	case WorkloadCronJob:
		return nil // refused: the pods belong to its Jobs
	}
	return []Read{{Kind: workloadReads[kind], Namespace: ns, Name: name}}
}

// unique drops the reads listed before, keeping the order.
func unique(reads []Read) []Read {
	seen := map[Read]bool{}
	var out []Read
	for _, r := range reads {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	return out
}

// ClusterStateCommand dumps what --cluster-state reads.
const ClusterStateCommand = "kubectl get namespaces,pods,services,endpointslices,networkpolicies,deployments,replicasets,statefulsets,daemonsets,jobs,cronjobs -A -o yaml"

// namespacedKinds are the kinds read live per namespace when manifests are
// merged over the cluster; the workloads are optional.
var namespacedKinds = []struct {
	kind     cluster.Kind
	optional bool
}{
	{cluster.KindPod, false}, {cluster.KindService, false}, {cluster.KindEndpointSlice, false}, {cluster.KindNetworkPolicy, false},
	{cluster.KindDeployment, true}, {cluster.KindReplicaSet, true}, {cluster.KindStatefulSet, true},
	{cluster.KindDaemonSet, true}, {cluster.KindJob, true}, {cluster.KindCronJob, true},
}

// ManifestQueries are what the live cluster is read for when the files are
// merged over it: every Namespace (their labels), and the objects of the
// kinds the analysis reads in the namespaces returned: those of the files'
// objects, those named (by SRC, DST or expectations), ns (the default one)
// and kube-system (the cluster DNS).
func ManifestQueries(files *cluster.Snapshot, named []string, ns string) ([]cluster.Query, map[string]bool) {
	live := map[string]bool{clusterDNSNamespace: true}
	for _, n := range append(FileNamespaces(files), append(named, ns)...) {
		live[n] = true
	}
	qs := []cluster.Query{{Kind: cluster.KindNamespace, Optional: true}}
	for _, n := range slices.Sorted(maps.Keys(live)) {
		for _, k := range namespacedKinds {
			qs = append(qs, cluster.Query{Kind: k.kind, Namespace: n, Optional: k.optional || n == clusterDNSNamespace})
		}
	}
	return qs, live
}

// FileNamespaces are the namespaces of the files' objects, sorted.
func FileNamespaces(files *cluster.Snapshot) []string {
	if files == nil {
		return nil
	}
	set := map[string]bool{}
	for _, objs := range [][]metav1.Object{metas(files.Namespaces), metas(files.Pods), metas(files.Services), metas(files.EndpointSlices),
		metas(files.NetworkPolicies), files.Controllers()} {
		for _, o := range objs {
			ns := o.GetNamespace()
			if _, isNamespace := o.(*corev1.Namespace); isNamespace {
				ns = o.GetName()
			}
			if ns != "" {
				set[ns] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(set))
}

func metas[T metav1.Object](items []T) []metav1.Object {
	out := make([]metav1.Object, len(items))
	for i, o := range items {
		out[i] = o
	}
	return out
}

// NamedNamespaces are the namespaces SRC and DST forms name: NS/NAME, and
// the second label of a DNS name (api.shop, api.shop.svc.cluster.local).
func NamedNamespaces(src, dst string) []string {
	var out []string
	if ns, _, _, err := parseSource(src); err == nil && ns != "" {
		out = append(out, ns)
	}
	if d, err := ParseDestination(dst); err == nil {
		switch {
		case d.Namespace != "":
			out = append(out, d.Namespace)
		case d.Kind == KindDNS:
			if labels := strings.Split(strings.TrimSuffix(d.Host, "."), "."); len(labels) >= 2 {
				out = append(out, labels[1])
			}
		}
	}
	return out
}

package whypending

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/pkg/pending"
)

// runManifests is CI mode: would the manifests' pods run on the cluster (or
// on the dump given with --cluster-state)?
func (o *Options) runManifests(ctx context.Context, rep *pending.Report) error {
	files, err := cluster.LoadFiles(cluster.FileOptions{Filenames: o.Filenames, Recursive: o.Recursive, Stdin: o.In})
	if err != nil {
		return err
	}
	ns, _, err := o.Namespace()
	if err != nil {
		return err
	}
	if ns == "" {
		ns = "default"
	}
	files.DefaultNamespace(ns)
	rep.Metadata.Namespace = ns
	if len(pending.Workloads(files)) == 0 {
		return fmt.Errorf("no pod-creating object (Pod, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob) in %v", o.Filenames)
	}

	var state *cluster.Snapshot
	if o.ClusterState != "" {
		rep.Metadata.Input = "files"
		state, err = cluster.LoadFiles(cluster.FileOptions{Filenames: []string{o.ClusterState}})
		if err != nil {
			return fmt.Errorf("--cluster-state: %w", err)
		}
		if len(state.Nodes) == 0 {
			return fmt.Errorf("--cluster-state %s holds no nodes: dump it with kubectl get nodes,pods,pvc,pv,storageclasses,resourcequotas,limitranges,poddisruptionbudgets -A -o yaml", o.ClusterState)
		}
		// The documented dump lists these kinds: a cluster without, say,
		// PVCs gives a dump without any, which means "none", not "unknown".
		for _, k := range clusterStateKinds {
			state.Loaded[k] = true
		}
	} else {
		rep.Metadata.Input = "files+cluster"
		rep.Metadata.Context = o.CurrentContext()
		cs, _, err := o.Clientset()
		if err != nil {
			return err
		}
		namespaces, draNamespaces := map[string]bool{}, map[string]bool{}
		for _, w := range pending.Workloads(files) {
			namespaces[w.Object.GetNamespace()] = true
			if len(w.Template.Spec.ResourceClaims) > 0 {
				draNamespaces[w.Object.GetNamespace()] = true
			}
		}
		qs := []cluster.Query{
			{Kind: cluster.KindNode},
			{Kind: cluster.KindPod, FieldSelector: "status.phase!=Succeeded,status.phase!=Failed"},
			{Kind: cluster.KindPV, Optional: true},
			{Kind: cluster.KindStorageClass, Optional: true},
			{Kind: cluster.KindCSINode, Optional: true},
			{Kind: cluster.KindCSIDriver, Optional: true},
			{Kind: cluster.KindNamespace, Optional: true},
			// Manifest pods have no spec.priority yet: admission takes it
			// from the PriorityClass, and preemption depends on it.
			{Kind: cluster.KindPriorityClass, Optional: true},
			// And the RuntimeClass adds its pod overhead and scheduling.
			{Kind: cluster.KindRuntimeClass, Optional: true},
		}
		for _, n := range slices.Sorted(maps.Keys(namespaces)) {
			qs = append(qs,
				cluster.Query{Kind: cluster.KindPVC, Namespace: n, Optional: true},
				cluster.Query{Kind: cluster.KindResourceQuota, Namespace: n, Optional: true},
				cluster.Query{Kind: cluster.KindLimitRange, Namespace: n, Optional: true},
				cluster.Query{Kind: cluster.KindPDB, Namespace: n, Optional: true})
		}
		for _, n := range slices.Sorted(maps.Keys(draNamespaces)) {
			qs = append(qs, cluster.Query{Kind: cluster.KindResourceClaim, Namespace: n, Optional: true})
		}
		if len(draNamespaces) > 0 {
			qs = append(qs, cluster.Query{Kind: cluster.KindDeviceClass, Optional: true}, cluster.Query{Kind: cluster.KindResourceSlice, Optional: true})
		}
		state, err = cluster.LoadLive(ctx, cs, qs...)
		if err != nil {
			return err
		}
	}
	// The manifests' own claims, classes, quotas and LimitRanges count too.
	merged := cluster.Merge(state, files)
	for _, w := range merged.Warnings {
		rep.Warn(w)
	}
	res := pending.ExplainManifests(merged, files, o.analysisOptions())
	rep.AddResult(res)
	return nil
}

// clusterStateKinds are the kinds of the documented --cluster-state dump
// (kubectl get nodes,pods,pvc,pv,storageclasses,resourcequotas,limitranges,poddisruptionbudgets -A -o yaml).
var clusterStateKinds = []cluster.Kind{cluster.KindNode, cluster.KindPod, cluster.KindPVC, cluster.KindPV,
	cluster.KindStorageClass, cluster.KindResourceQuota, cluster.KindLimitRange, cluster.KindPDB}

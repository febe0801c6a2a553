package whypending

import (
	"context"
	"fmt"

	"k8s.io/client-go/dynamic"

	"github.com/ktriage/ktriage/pkg/cli"
	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/pkg/pending"
)

// runLive explains the Pending pods in scope, or the targets named, on the
// live cluster: pending.ExplainLive decides what to load, round by round,
// and the cluster's Loader loads it.
func (o *Options) runLive(ctx context.Context, rep *pending.Report) error {
	cs, cfg, err := o.Clientset()
	if err != nil {
		return err
	}
	ns, _, err := o.Namespace()
	if err != nil {
		return err
	}
	rep.Metadata.Context = o.CurrentContext()
	rep.Metadata.Namespace = ns
	rep.Metadata.Input = "cluster"
	// Leases and Karpenter's objects have no typed client.
	dc, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("creating the API client: %w", err)
	}
	scope := pending.LiveScope{Namespace: ns, AllNamespaces: o.AllNamespaces, Selector: o.Selector, Now: o.now, SchedulerGrace: o.SchedulerTimeout}
	for _, arg := range o.Args {
		kind, name, _ := cli.ParseTarget(arg) // checked by Validate
		scope.Targets = append(scope.Targets, cluster.Target{Kind: cluster.Kind(kind), Namespace: ns, Name: name})
	}
	res, err := pending.ExplainLive(cluster.NewLoader(ctx, cs, cluster.LiveOptions{Dynamic: dc}), scope)
	if err != nil {
		return err
	}
	for _, w := range res.Warnings {
		rep.Warn(w)
	}
	rep.AddResult(res.Result)
	return nil
}

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
	state, err := o.clusterState(ctx, rep, files)
	if err != nil {
		return err
	}
	// The manifests' own claims, classes, quotas and LimitRanges count too.
	merged := cluster.Merge(state, files)
	for _, w := range merged.Warnings {
		rep.Warn(w)
	}
	rep.AddResult(pending.ExplainManifests(merged, files, o.analysisOptions()))
	return nil
}

// clusterState is the cluster the manifests are checked against: the dump
// given with --cluster-state, or what the live cluster holds that they need.
func (o *Options) clusterState(ctx context.Context, rep *pending.Report, files *cluster.Snapshot) (*cluster.Snapshot, error) {
	if o.ClusterState == "" {
		rep.Metadata.Input = "files+cluster"
		rep.Metadata.Context = o.CurrentContext()
		cs, _, err := o.Clientset()
		if err != nil {
			return nil, err
		}
		return cluster.LoadLive(ctx, cs, pending.ManifestQueries(files)...)
	}
	rep.Metadata.Input = "files"
	state, err := cluster.LoadFiles(cluster.FileOptions{Filenames: []string{o.ClusterState}})
	if err != nil {
		return nil, fmt.Errorf("--cluster-state: %w", err)
	}
	if len(state.Nodes) == 0 {
		return nil, fmt.Errorf("--cluster-state %s holds no nodes: dump it with kubectl get nodes,pods,pvc,pv,storageclasses,resourcequotas,limitranges,poddisruptionbudgets -A -o yaml", o.ClusterState)
	}
	for _, k := range pending.ClusterStateKinds {
		state.Loaded[k] = true
	}
	return state, nil
}

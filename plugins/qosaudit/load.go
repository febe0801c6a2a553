package qosaudit

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"

	"github.com/ktriage/ktriage/pkg/cli"
	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/pkg/podmetrics"
	"github.com/ktriage/ktriage/pkg/qosaudit"
	"github.com/ktriage/ktriage/pkg/report"
)

// loadLive reads the live pods in scope and what auditing them needs, in
// the rounds pkg/qosaudit plans: named pods (POD, TYPE/NAME), then the
// pods, LimitRanges, nodes and namespace; the owners that name the
// workloads; the other pods of their nodes, which the kubelet ranks too;
// and the pods' memory usage.
func (o *Options) loadLive(ctx context.Context) (*cluster.Snapshot, qosaudit.AnalysisOptions, report.Metadata, error) {
	var opts qosaudit.AnalysisOptions
	meta := report.Metadata{Context: o.CurrentContext()}
	cs, cfg, err := o.Clientset()
	if err != nil {
		return nil, opts, meta, err
	}
	ns, _, err := o.Namespace()
	if err != nil {
		return nil, opts, meta, err
	}
	meta.Namespace = ns
	scope := qosaudit.LiveScope{Namespace: ns, AllNamespaces: o.AllNamespaces, Selector: o.Selector, Node: o.Node, Targets: len(o.Args) > 0}
	targets := cli.Targets(o.Args, ns)
	named, err := cluster.LoadTargets(ctx, cs, cluster.LiveOptions{}, nil, targets...)
	if err != nil {
		return nil, opts, meta, err
	}
	targeted, err := named.ResolvePods(targets...)
	if err != nil {
		return nil, opts, meta, err
	}
	snap, err := cluster.LoadLive(ctx, cs, qosaudit.BaseQueries(scope)...)
	if err != nil {
		return nil, opts, meta, err
	}
	if !o.AllNamespaces {
		snap.Namespaces = append(snap.Namespaces, namespaces(ctx, cs, ns)...)
	}
	snap.Pods = append(snap.Pods, targeted...)
	// The pods loaded from here on (the other pods of their nodes) are not
	// in scope.
	opts.InScope = qosaudit.InScope(snap.Pods, scope)
	if more := qosaudit.OwnerQueries(snap.Pods); len(more) > 0 {
		extra, err := cluster.LoadLive(ctx, cs, more...)
		if err != nil {
			return nil, opts, meta, err
		}
		snap = cluster.Merge(snap, extra)
	}
	if qs := qosaudit.NodePodQueries(snap, scope); len(qs) > 0 {
		snaps, err := cluster.LoadEach(ctx, cs, qs...)
		if err != nil {
			return nil, opts, meta, err
		}
		var extra *cluster.Snapshot
		extra, opts.PartialNodes = qosaudit.NodePods(qs, snaps, qosaudit.NodesOf(snap.Pods, o.Node))
		snap = cluster.Merge(snap, extra)
	}
	opts.LimitRangesKnown, opts.Node, opts.Require = snap.Loaded[cluster.KindLimitRange], o.Node, o.require
	opts.Usage = podmetrics.MemoryUsage(ctx, cfg, snap)
	if o.require != "" {
		opts.RequireScope = qosaudit.RequireScope(o.AllNamespaces, ns, o.Selector)
	}
	return snap, opts, meta, nil
}

// loadFiles reads the manifests and, unless --local, the LimitRanges and
// Namespaces of their namespaces and the mutating webhooks from the cluster
// (LimitRanges in the manifests win over live ones of the same name).
func (o *Options) loadFiles(ctx context.Context) (*cluster.Snapshot, qosaudit.AnalysisOptions, report.Metadata, error) {
	// Validate has parsed the selector already.
	sel, _ := labels.Parse(o.Selector)
	opts := qosaudit.AnalysisOptions{Require: o.require, Selector: sel}
	if o.require != "" {
		opts.RequireScope = qosaudit.RequireScope(false, "", o.Selector)
	}
	var meta report.Metadata
	files, err := cluster.LoadFiles(cluster.FileOptions{Filenames: o.Filenames, Recursive: o.Recursive, Stdin: o.In})
	if err != nil {
		return nil, opts, meta, err
	}
	orLocal := func(err error) error { return fmt.Errorf("%w (or pass --local to use only the manifests)", err) }
	ns, _, err := o.Namespace()
	switch {
	case err != nil && !o.Local:
		return nil, opts, meta, orLocal(err)
	case err != nil:
		// Offline (CI) there may be no kubeconfig: -n, else "default".
		ns = "default"
		if f := o.ConfigFlags.Namespace; f != nil && *f != "" {
			ns = *f
		}
	}
	files.DefaultNamespace(ns)
	meta.Namespace = ns
	if o.Local {
		return files, opts, meta, nil
	}
	meta.Context, meta.Input = o.CurrentContext(), "files+cluster"
	cs, _, err := o.Clientset()
	if err != nil {
		return nil, opts, meta, orLocal(err)
	}
	inFiles := qosaudit.ManifestNamespaces(files, sel)
	live, err := cluster.LoadLive(ctx, cs, qosaudit.LimitRangeQueries(inFiles)...)
	if err != nil {
		return nil, opts, meta, orLocal(err)
	}
	// A forbidden list leaves a warning: those namespaces' LimitRanges are
	// unknown, so a missing one is not reported.
	opts.LimitRangesKnown = len(live.Warnings) == 0
	// Mutating webhooks (sidecar injectors) change pods after the
	// manifests: the report says where the prediction leaves them out.
	hooks, err := cluster.LoadLive(ctx, cs, qosaudit.WebhookQuery)
	if err != nil {
		return nil, opts, meta, orLocal(err)
	}
	live = cluster.Merge(live, hooks)
	live.Namespaces = append(live.Namespaces, namespaces(ctx, cs, inFiles...)...)
	return cluster.Merge(live, files), opts, meta, nil
}

// namespaces gets the namespaces by name, for their qos-required
// annotation; one that cannot be read is left out.
func namespaces(ctx context.Context, cs kubernetes.Interface, names ...string) []*corev1.Namespace {
	qs := make([]cluster.Query, 0, len(names))
	for _, n := range names {
		qs = append(qs, cluster.Query{Kind: cluster.KindNamespace, Name: n, Optional: true})
	}
	snap, err := cluster.LoadLive(ctx, cs, qs...)
	if err != nil {
		return nil
	}
	return snap.Namespaces
}

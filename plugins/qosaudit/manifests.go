package qosaudit

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/ktriage/ktriage/pkg/cli"
	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/pkg/qosaudit"
	"github.com/ktriage/ktriage/pkg/version"
)

// runFiles predicts the class of the manifests' pods. Unless --local, the
// LimitRanges and Namespaces of their namespaces come from the cluster too
// (LimitRanges in the manifests win over live ones of the same name).
func (o *Options) runFiles(ctx context.Context) (*Report, error) {
	files, err := cluster.LoadFiles(cluster.FileOptions{Filenames: o.Filenames, Recursive: o.Recursive, Stdin: o.In})
	if err != nil {
		return nil, err
	}
	ns, _, err := o.Namespace()
	if err != nil {
		if !o.Local {
			return nil, fmt.Errorf("%w (or pass --local to use only the manifests)", err)
		}
		// Offline (CI) there may be no kubeconfig: -n, else "default".
		ns = "default"
		if f := o.ConfigFlags.Namespace; f != nil && *f != "" {
			ns = *f
		}
	}
	files.DefaultNamespace(ns)
	// Validate has parsed it already.
	sel, err := labels.Parse(o.Selector)
	if err != nil {
		return nil, cli.UsageErrorf("--selector: invalid label selector %q: %v", o.Selector, err)
	}

	snap := files
	known := false
	if !o.Local {
		cs, _, err := o.Clientset()
		if err != nil {
			return nil, fmt.Errorf("%w (or pass --local to use only the manifests)", err)
		}
		var queries []cluster.Query
		for _, n := range qosaudit.ManifestNamespaces(files, sel) {
			queries = append(queries, cluster.Query{Kind: cluster.KindLimitRange, Namespace: n, Optional: true})
		}
		live, err := cluster.LoadLive(ctx, cs, queries...)
		if err != nil {
			return nil, fmt.Errorf("%w (or pass --local to use only the manifests)", err)
		}
		// A forbidden list leaves a warning: those namespaces' LimitRanges
		// are unknown, so a missing one is not reported.
		known = len(live.Warnings) == 0
		// Mutating webhooks (sidecar injectors) change pods after the
		// manifests: the report says where the prediction leaves them out.
		hooks, err := cluster.LoadLive(ctx, cs, cluster.Query{Kind: cluster.KindMutatingWebhook, Optional: true})
		if err != nil {
			return nil, fmt.Errorf("%w (or pass --local to use only the manifests)", err)
		}
		live = cluster.Merge(live, hooks)
		for _, n := range qosaudit.ManifestNamespaces(files, sel) {
			if nsObj, err := cs.CoreV1().Namespaces().Get(ctx, n, metav1.GetOptions{}); err == nil {
				live.Namespaces = append(live.Namespaces, nsObj)
			}
		}
		snap = cluster.Merge(live, files)
	}
	opts := qosaudit.AnalysisOptions{Require: o.require, LimitRangesKnown: known, Selector: sel}
	if o.require != "" {
		opts.RequireScope = "--require"
		if o.Selector != "" {
			opts.RequireScope = "--require (-l " + o.Selector + ")"
		}
	}
	rep := &Report{qosaudit.AnalyzeFiles(snap, opts, version.Get())}
	rep.Metadata.Namespace = ns
	if !o.Local {
		rep.Metadata.Context = o.CurrentContext()
		rep.Metadata.Input = "files+cluster"
	}
	return rep, nil
}

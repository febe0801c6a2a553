package qosaudit

import (
	"context"
	"fmt"
	corev1 "k8s.io/api/core/v1"
	"sort"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/ktriage/ktriage/pkg/cli"
	"github.com/ktriage/ktriage/pkg/cluster"
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
		for _, n := range manifestNamespaces(files, sel) {
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
		for _, n := range manifestNamespaces(files, sel) {
			if nsObj, err := cs.CoreV1().Namespaces().Get(ctx, n, metav1.GetOptions{}); err == nil {
				live.Namespaces = append(live.Namespaces, nsObj)
			}
		}
		snap = cluster.Merge(live, files)
	}
	opts := AnalysisOptions{Require: o.require, LimitRangesKnown: known, Selector: sel}
	if o.require != "" {
		opts.RequireScope = "--require"
		if o.Selector != "" {
			opts.RequireScope = "--require (-l " + o.Selector + ")"
		}
	}
	rep := AnalyzeFiles(snap, opts, version.Get())
	rep.Metadata.Namespace = ns
	for _, w := range mutatorWarnings(snap, sel) {
		rep.Warn(w)
	}
	if !o.Local {
		rep.Metadata.Context = o.CurrentContext()
		rep.Metadata.Input = "files+cluster"
	}
	return rep, nil
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

// manifestNamespaces are the namespaces the selected manifests' pods land in.
func manifestNamespaces(s *cluster.Snapshot, sel labels.Selector) []string {
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

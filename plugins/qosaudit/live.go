package qosaudit

import (
	"context"
	"fmt"
	"strings"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/ktriage/ktriage/pkg/cli"
	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/pkg/podmetrics"
	"github.com/ktriage/ktriage/pkg/qosaudit"
	"github.com/ktriage/ktriage/pkg/version"
)

// runLive audits the live pods in scope. What to load is qosaudit's
// decision; the plugin runs the queries, reads named pods and metrics.
func (o *Options) runLive(ctx context.Context) (*Report, error) {
	cs, cfg, err := o.Clientset()
	if err != nil {
		return nil, err
	}
	ns, _, err := o.Namespace()
	if err != nil {
		return nil, err
	}
	scope := qosaudit.LiveScope{Namespace: ns, AllNamespaces: o.AllNamespaces, Selector: o.Selector, Node: o.Node, Targets: len(o.Args) > 0}
	if o.AllNamespaces {
		scope.Namespace = ""
	}

	var targeted []*corev1.Pod
	if scope.Targets {
		if targeted, err = o.resolveTargets(ctx, cs, ns); err != nil {
			return nil, err
		}
	}
	snap, err := cluster.LoadLive(ctx, cs, qosaudit.BaseQueries(scope)...)
	if err != nil {
		return nil, err
	}
	if !o.AllNamespaces {
		if n, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); err == nil {
			snap.Namespaces = append(snap.Namespaces, n)
		}
	}
	snap.Pods = append(snap.Pods, targeted...)
	inScope := qosaudit.InScope(snap.Pods, scope)

	// Second round: owners (ReplicaSets → Deployments, Jobs → CronJobs) and
	// the other pods of the nodes involved, which the kubelet ranks too.
	if more := qosaudit.OwnerQueries(snap.Pods); len(more) > 0 {
		extra, err := cluster.LoadLive(ctx, cs, more...)
		if err != nil {
			return nil, err
		}
		snap = cluster.Merge(snap, extra)
	}
	var partial map[string]string
	if qs := qosaudit.NodePodQueries(snap, scope); len(qs) > 0 {
		extra, failed, err := loadNodePods(ctx, cs, qs, qosaudit.NodesOf(snap.Pods, o.Node))
		if err != nil {
			return nil, err
		}
		snap = cluster.Merge(snap, extra)
		partial = failed
	}

	opts := qosaudit.AnalysisOptions{
		InScope:          inScope,
		LimitRangesKnown: snap.Loaded[cluster.KindLimitRange],
		Node:             o.Node,
		Require:          o.require,
		Usage:            podmetrics.MemoryUsage(ctx, cfg, snap),
		PartialNodes:     partial,
	}
	if o.require != "" {
		opts.RequireScope = o.requireScope(scope.Namespace)
	}
	rep := &Report{qosaudit.AnalyzeLive(snap, opts, version.Get())}
	rep.Metadata.Context = o.CurrentContext()
	rep.Metadata.Namespace = scope.Namespace
	if o.Node != "" && len(rep.Nodes) == 0 {
		if !snap.Loaded[cluster.KindNode] {
			rep.Warn("cannot show node " + o.Node + ": nodes could not be listed")
		} else {
			return nil, &cli.ExitError{Code: cli.ExitFailure, Err: fmt.Errorf("node %q not found: check the name with kubectl get nodes", o.Node)}
		}
	}
	return rep, nil
}

// resolveTargets reads POD and TYPE/NAME arguments: a pod by name, a
// workload by the pods it controls.
func (o *Options) resolveTargets(ctx context.Context, cs kubernetes.Interface, ns string) ([]*corev1.Pod, error) {
	targets := make([]cluster.Target, 0, len(o.Args))
	for _, arg := range o.Args {
		kind, name, _ := cli.ParseTarget(arg)
		targets = append(targets, cluster.Target{Kind: cluster.Kind(kind), Namespace: ns, Name: name})
	}
	snap, err := cluster.LoadTargets(ctx, cs, cluster.LiveOptions{}, nil, targets...)
	if err != nil {
		return nil, err
	}
	var out []*corev1.Pod
	seen := map[string]bool{}
	for _, t := range targets {
		r, err := snap.Resolve(t)
		if err != nil {
			return nil, err
		}
		for _, p := range r.Pods {
			if !seen[p.Name] {
				seen[p.Name] = true
				out = append(out, p)
			}
		}
	}
	return out, nil
}

// loadNodePods lists the other pods of the nodes, one list per query, so that
// a list the user may not make (pods of namespaces other than their own)
// marks only the nodes it covers as partial instead of failing the run. It
// returns the pods listed and, per node left partial, why.
func loadNodePods(ctx context.Context, cs kubernetes.Interface, qs []cluster.Query, nodes []string) (*cluster.Snapshot, map[string]string, error) {
	snaps := make([]*cluster.Snapshot, len(qs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(cluster.DefaultConcurrency)
	for i, q := range qs {
		g.Go(func() error {
			s, err := cluster.LoadLive(gctx, cs, q)
			snaps[i] = s
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}
	var out *cluster.Snapshot
	partial := map[string]string{}
	for i, s := range snaps {
		if s.Loaded[cluster.KindPod] {
			out = cluster.Merge(out, &cluster.Snapshot{Pods: s.Pods, Loaded: s.Loaded})
			continue
		}
		why := strings.Join(s.Warnings, "; ")
		if n := qosaudit.NodeOfQuery(qs[i]); n != "" {
			partial[n] = why
			continue
		}
		for _, n := range nodes {
			partial[n] = why
		}
	}
	if out == nil {
		out = &cluster.Snapshot{Loaded: map[cluster.Kind]bool{}}
	}
	return out, partial, nil
}

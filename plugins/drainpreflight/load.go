package drainpreflight

import (
	"context"
	"fmt"

	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/pkg/drain"
	"github.com/ktriage/ktriage/pkg/report"
)

// load reads the cluster, in the two rounds pkg/drain plans (what every
// answer needs, then what the drained nodes' pods call for), or the
// --cluster-state dump, and resolves the nodes to drain.
func (o *Options) load(ctx context.Context, meta *report.Metadata) (*cluster.Snapshot, []string, error) {
	if o.ClusterState != "" {
		meta.Input = "files"
		snap, err := cluster.LoadFiles(cluster.FileOptions{Filenames: []string{o.ClusterState}})
		if err != nil {
			return nil, nil, fmt.Errorf("--cluster-state: %w", err)
		}
		if len(snap.Nodes) == 0 {
			return nil, nil, fmt.Errorf("--cluster-state %s holds no nodes: dump it with kubectl get nodes,pods,poddisruptionbudgets,daemonsets,priorityclasses -A -o yaml", o.ClusterState)
		}
		for _, k := range drain.ClusterStateKinds {
			snap.Loaded[k] = true
		}
		nodes, err := cluster.ResolveNodes(snap, o.Nodes, o.Selector)
		return snap, nodes, err
	}
	meta.Input = "cluster"
	meta.Context = o.CurrentContext()
	cs, _, err := o.Clientset()
	if err != nil {
		return nil, nil, err
	}
	snap, err := cluster.LoadLive(ctx, cs, drain.BaseQueries()...)
	if err != nil {
		return nil, nil, err
	}
	nodes, err := cluster.ResolveNodes(snap, o.Nodes, o.Selector)
	if err != nil {
		return nil, nil, err
	}
	more, err := cluster.LoadLive(ctx, cs, drain.NodeQueries(snap, nodes)...)
	if err != nil {
		return nil, nil, err
	}
	return cluster.Merge(snap, more), nodes, nil
}

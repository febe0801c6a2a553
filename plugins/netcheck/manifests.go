package netcheck

import (
	"context"
	"fmt"

	"k8s.io/client-go/rest"

	"github.com/ktriage/ktriage/pkg/cli"
	"github.com/ktriage/ktriage/pkg/cluster"
	nc "github.com/ktriage/ktriage/pkg/netcheck"
	"github.com/ktriage/ktriage/pkg/report"
)

// manifests is what a run from files reads: the files, and the state they
// are merged over.
type manifests struct {
	files *cluster.Snapshot // nil without -f
	state *cluster.Snapshot // the dump or the live objects; nil offline
	// live: state holds the cluster's objects of these namespaces only.
	live   map[string]bool
	input  string // report metadata: files, files+cluster
	ns     string
	nsSet  bool
	online bool
}

// loadManifests reads -f and the state: --cluster-state, else the live
// cluster when a kubeconfig is configured, else nothing (offline: no API
// call). extraNamespaces are named by SRC, DST or expectations.
func (o *Options) loadManifests(ctx context.Context, extraNamespaces []string) (*manifests, error) {
	ns, explicit, err := o.Namespace()
	if err != nil {
		return nil, err
	}
	if ns == "" {
		ns = "default"
	}
	m := &manifests{ns: ns, nsSet: explicit, input: "files"}
	if len(o.Filenames) > 0 {
		m.files, err = cluster.LoadFiles(cluster.FileOptions{Filenames: o.Filenames, Recursive: o.Recursive, Stdin: o.In})
		if err != nil {
			return nil, err
		}
		m.files.DefaultNamespace(ns)
	}
	if o.ClusterState != "" {
		m.state, err = cluster.LoadFiles(cluster.FileOptions{Filenames: []string{o.ClusterState}})
		if err != nil {
			return nil, fmt.Errorf("--cluster-state: %w", err)
		}
		m.state.DefaultNamespace(ns)
		return m, nil
	}
	if !o.clusterConfigured() {
		return m, nil // no cluster configured: the files are all there is
	}
	cs, _, err := o.Clientset()
	if err != nil {
		return nil, err
	}
	m.online, m.input = true, "files+cluster"
	var qs []cluster.Query
	qs, m.live = nc.ManifestQueries(m.files, extraNamespaces, ns)
	m.state, err = cluster.LoadLive(ctx, cs, qs...)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// clusterConfigured says a cluster is named: by --server or --context, a
// kubeconfig with a cluster or context, or the in-cluster service account.
// Without one, client-go would fall back to localhost:8080.
func (o *Options) clusterConfigured() bool {
	f := o.ConfigFlags
	if f.APIServer != nil && *f.APIServer != "" || f.Context != nil && *f.Context != "" {
		return true
	}
	raw, err := f.ToRawKubeConfigLoader().RawConfig()
	if err != nil || len(raw.Clusters) > 0 || len(raw.Contexts) > 0 {
		return true // a broken kubeconfig is reported by the client
	}
	_, err = rest.InClusterConfig()
	return err == nil
}

// objects are the files merged over the state, as a check reads them.
func (m *manifests) objects() *nc.Objects {
	return nc.NewWorldObjects(nc.NewWorld(m.state, m.files, !m.online), m.live)
}

// runManifests answers SRC DST, --expect or --matrix from the manifests.
func (o *Options) runManifests(ctx context.Context) error {
	var expectations []nc.Expectation
	if o.Expect != "" {
		var err error
		if expectations, err = nc.ReadExpectations(o.Expect); err != nil {
			return &cli.ExitError{Code: cli.ExitFailure, Err: err}
		}
	}
	extra := nc.NamedNamespaces(o.Src, o.Dst)
	for _, e := range expectations {
		extra = append(extra, nc.NamedNamespaces(e.From, e.To)...)
		if e.Namespace != "" {
			extra = append(extra, e.Namespace)
		}
	}
	m, err := o.loadManifests(ctx, extra)
	if err != nil {
		return &cli.ExitError{Code: cli.ExitFailure, Err: err}
	}
	if o.Expect == "" && !o.Matrix {
		return o.runManifestCheck(m)
	}
	rep, mismatches, err := o.runBatch(m, expectations)
	if err != nil {
		return &cli.ExitError{Code: cli.ExitFailure, Err: err}
	}
	perr := o.PrintReport(rep)
	if perr != nil && cli.ExitCode(perr) != cli.ExitFound {
		return perr
	}
	if mismatches > 0 || perr != nil {
		return cli.Found()
	}
	return nil
}

// runManifestCheck is SRC DST answered from the manifests.
func (o *Options) runManifestCheck(m *manifests) error {
	objs := m.objects()
	plan, err := nc.PlanCheck(objs, o.check(m.ns, m.nsSet))
	if err != nil {
		return failure(err)
	}
	res, err := plan.Conclude(nil)
	if err != nil {
		return failure(err)
	}
	m.describe(&res.Report, o)
	for _, w := range objs.Snapshot().Warnings {
		res.Warn(w)
	}
	return o.printCheck(res)
}

// runBatch answers the expectations and builds the matrix. It returns the
// report and how many expectations were not met.
func (o *Options) runBatch(m *manifests, expectations []nc.Expectation) (*nc.BatchResult, int, error) {
	rep := nc.NewBatchResult()
	m.describe(&rep.Report, o)
	chk := o.check(m.ns, m.nsSet)
	var warnings []string
	if len(expectations) > 0 {
		objs := m.objects()
		results, findings, ws, err := nc.Expect(objs, chk, expectations)
		if err != nil {
			return nil, 0, err
		}
		rep.Expectations = results
		for _, f := range findings {
			rep.Add(f)
		}
		warnings = append(append(warnings, objs.Snapshot().Warnings...), ws...)
	}
	if o.Matrix {
		mx, ws, err := o.matrix(m, chk)
		if err != nil {
			return nil, 0, err
		}
		rep.Matrix = mx
		warnings = append(warnings, ws...)
	}
	seen := map[string]bool{}
	for _, w := range warnings {
		if !seen[w] {
			seen[w] = true
			rep.Warn(w)
		}
	}
	rep.Count()
	return rep, len(rep.Findings), nil
}

// matrix computes who reaches whom among the workloads of the files'
// namespaces; with --cluster-state OLD and -f NEW, only what changed, both
// sides taken as manifests.
func (o *Options) matrix(m *manifests, chk nc.Check) (*nc.Matrix, []string, error) {
	namespaces := map[string]bool{}
	for _, n := range nc.FileNamespaces(m.files) {
		namespaces[n] = true
	}
	if m.state == nil || m.online {
		objs := m.objects()
		mx, ws, err := nc.MatrixOf(objs, chk, namespaces)
		return mx, append(append([]string{}, objs.Snapshot().Warnings...), ws...), err
	}
	newWorld := nc.NewWorld(nil, cluster.Merge(m.state, m.files), true)
	oldObjs, newObjs := nc.NewWorldObjects(nc.NewWorld(nil, m.state, true), nil), nc.NewWorldObjects(newWorld, nil)
	mx, ws, err := nc.MatrixDiff(oldObjs, newObjs, chk, namespaces)
	return mx, append(append([]string{}, newWorld.Snapshot.Warnings...), ws...), err
}

// describe fills the report's metadata for a run from manifests.
func (m *manifests) describe(r *report.Report, o *Options) {
	r.Metadata.Input = m.input
	r.Metadata.Namespace = m.ns
	if m.online {
		r.Metadata.Context = o.CurrentContext()
	}
}

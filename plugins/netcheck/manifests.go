package netcheck

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"k8s.io/client-go/rest"

	"github.com/ktriage/ktriage/pkg/cli"
	"github.com/ktriage/ktriage/pkg/cluster"
	nc "github.com/ktriage/ktriage/pkg/netcheck"
	"github.com/ktriage/ktriage/pkg/report"
)

// ClusterStateCommand dumps what --cluster-state reads.
const ClusterStateCommand = "kubectl get namespaces,pods,services,endpointslices,networkpolicies,deployments,replicasets,statefulsets,daemonsets,jobs,cronjobs -A -o yaml"

// namespacedKinds are the kinds read live per namespace in manifest mode.
var namespacedKinds = []struct {
	kind     cluster.Kind
	optional bool
}{
	{cluster.KindPod, false}, {cluster.KindService, false}, {cluster.KindEndpointSlice, false}, {cluster.KindNetworkPolicy, false},
	{cluster.KindDeployment, true}, {cluster.KindReplicaSet, true}, {cluster.KindStatefulSet, true},
	{cluster.KindDaemonSet, true}, {cluster.KindJob, true}, {cluster.KindCronJob, true},
}

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
	m.live = map[string]bool{"kube-system": true}
	for _, n := range append(m.fileNamespaces(), append(extraNamespaces, ns)...) {
		m.live[n] = true
	}
	qs := []cluster.Query{{Kind: cluster.KindNamespace, Optional: true}}
	for _, n := range sortedKeys(m.live) {
		for _, k := range namespacedKinds {
			qs = append(qs, cluster.Query{Kind: k.kind, Namespace: n, Optional: k.optional || n == "kube-system"})
		}
	}
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

// world merges the files over the state.
func (m *manifests) world() *nc.World {
	return nc.NewWorld(m.state, m.files, !m.online)
}

// loader reads a world the way the live path reads the API.
func (m *manifests) loader(w *nc.World) *loader {
	return &loader{objs: &worldObjects{world: w, loaded: m.live}, ns: m.ns, nsExplicit: m.nsSet}
}

// fileNamespaces are the namespaces of the files' objects, sorted.
func (m *manifests) fileNamespaces() []string {
	if m.files == nil {
		return nil
	}
	set := map[string]bool{}
	add := func(ns string) {
		if ns != "" {
			set[ns] = true
		}
	}
	for _, n := range m.files.Namespaces {
		add(n.Name)
	}
	for _, p := range m.files.Pods {
		add(p.Namespace)
	}
	for _, s := range m.files.Services {
		add(s.Namespace)
	}
	for _, s := range m.files.EndpointSlices {
		add(s.Namespace)
	}
	for _, p := range m.files.NetworkPolicies {
		add(p.Namespace)
	}
	for _, d := range m.files.Deployments {
		add(d.Namespace)
	}
	for _, r := range m.files.ReplicaSets {
		add(r.Namespace)
	}
	for _, s := range m.files.StatefulSets {
		add(s.Namespace)
	}
	for _, d := range m.files.DaemonSets {
		add(d.Namespace)
	}
	for _, j := range m.files.Jobs {
		add(j.Namespace)
	}
	for _, c := range m.files.CronJobs {
		add(c.Namespace)
	}
	return sortedKeys(set)
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// namedNamespaces are the namespaces SRC and DST forms name: NS/NAME, and
// the second label of a DNS name (api.shop, api.shop.svc.cluster.local).
func namedNamespaces(src, dst string) []string {
	var out []string
	if ns, _, _, err := parseSource(src); err == nil && ns != "" {
		out = append(out, ns)
	}
	if d, err := nc.ParseDestination(dst); err == nil {
		switch {
		case d.Namespace != "":
			out = append(out, d.Namespace)
		case d.Kind == nc.KindDNS:
			if labels := strings.Split(strings.TrimSuffix(d.Host, "."), "."); len(labels) >= 2 {
				out = append(out, labels[1])
			}
		}
	}
	return out
}

// runManifests answers SRC DST, --expect or --matrix from the manifests.
func (o *Options) runManifests(ctx context.Context) error {
	var expectations []Expectation
	if o.Expect != "" {
		var err error
		if expectations, err = ReadExpectations(o.Expect); err != nil {
			return &cli.ExitError{Code: cli.ExitFailure, Err: err}
		}
	}
	extra := namedNamespaces(o.Src, o.Dst)
	for _, e := range expectations {
		extra = append(extra, namedNamespaces(e.From, e.To)...)
		if e.Namespace != "" {
			extra = append(extra, e.Namespace)
		}
	}
	m, err := o.loadManifests(ctx, extra)
	if err != nil {
		return &cli.ExitError{Code: cli.ExitFailure, Err: err}
	}
	if o.Expect == "" && !o.Matrix {
		return o.runManifestCheck(ctx, m)
	}
	rep, mismatches, err := o.runBatch(ctx, m, expectations)
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
func (o *Options) runManifestCheck(ctx context.Context, m *manifests) error {
	w := m.world()
	l := m.loader(w)
	rep, err := o.check(ctx, l)
	if err != nil {
		return &cli.ExitError{Code: cli.ExitFailure, Err: err}
	}
	m.describe(&rep.Report, o)
	for _, wn := range w.Snapshot.Warnings {
		rep.Warn(wn)
	}
	perr := o.PrintReport(rep)
	if perr != nil && cli.ExitCode(perr) != cli.ExitFound {
		return perr
	}
	if rep.Verdict != nc.VerdictReachable || perr != nil {
		return cli.Found()
	}
	return nil
}

// describe fills the report's metadata for a run from manifests.
func (m *manifests) describe(r *report.Report, o *Options) {
	r.Metadata.Input = m.input
	r.Metadata.Namespace = m.ns
	if m.online {
		r.Metadata.Context = o.CurrentContext()
	}
}

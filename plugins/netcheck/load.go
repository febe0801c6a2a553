package netcheck

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/ktriage/ktriage/pkg/cli"
	"github.com/ktriage/ktriage/pkg/cluster"
	nc "github.com/ktriage/ktriage/pkg/netcheck"
	"github.com/ktriage/ktriage/pkg/probe"
	"github.com/ktriage/ktriage/pkg/report"
)

// runLive answers SRC DST from the live cluster: nc.Answer plans the reads,
// apiReads makes them, runProbe probes unless --no-probe.
func (o *Options) runLive(ctx context.Context) error {
	ns, explicit, err := o.Namespace()
	if err != nil {
		return failure(err)
	}
	cs, _, err := o.Clientset()
	if err != nil {
		return failure(err)
	}
	res, err := nc.Answer(ctx, o.check(ns, explicit), apiReads(cs), o.prober(cs))
	if err != nil {
		return failure(err)
	}
	res.Metadata.Context = o.CurrentContext()
	res.Metadata.Namespace = ns
	return o.print(res, res.Verdict != nc.VerdictReachable)
}

// prober adds the probe container to the source pod and waits for its
// result.
func (o *Options) prober(cs kubernetes.Interface) nc.ProbeFunc {
	return func(ctx context.Context, src *corev1.Pod, host string, port int32) (*probe.Outcome, error) {
		check := probe.Check{Protocol: o.Protocol, Host: host, Port: port, Path: o.Path, Timeout: o.Timeout}
		ec := probe.Container(check, probe.Options{Image: o.Image, PullPolicy: corev1.PullPolicy(o.PullPolicy)})
		added := func(name string) {
			fmt.Fprintf(o.ErrOut, "Added ephemeral container %s to pod %s/%s to run the probe. Ephemeral containers cannot be removed: it stays in the pod (stopped) until the pod is deleted. Use --no-probe to change nothing.\n", name, src.Namespace, src.Name)
		}
		out, err := probe.Run(ctx, cs, src, ec, o.StartTimeout+o.Timeout, added)
		if errors.Is(err, probe.ErrForbidden) || errors.Is(err, probe.ErrDisabled) {
			return nil, fmt.Errorf("%w (run with --no-probe for the explanation alone)", err)
		}
		return out, err
	}
}

// apiReads makes a check's reads from the API: each list through a
// cluster.LoadLive of its own (so that a refused one is told apart from the
// others), Namespaces and IPAddresses by name.
func apiReads(cs kubernetes.Interface) nc.ReadFunc {
	return func(ctx context.Context, r nc.Read) (nc.ReadResult, error) {
		switch r.Kind {
		case cluster.KindNamespace:
			n, err := cs.CoreV1().Namespaces().Get(ctx, r.Name, metav1.GetOptions{})
			if err != nil {
				return nc.ReadResult{Refused: err}, nil
			}
			return nc.ReadResult{Objects: &cluster.Snapshot{Namespaces: []*corev1.Namespace{n}}}, nil
		case nc.KindIPAddress:
			a, err := cs.NetworkingV1().IPAddresses().Get(ctx, r.Name, metav1.GetOptions{})
			return nc.ReadResult{IPAddress: a, Refused: err}, nil
		}
		s, err := cluster.LoadLive(ctx, cs, r.Query())
		if err != nil {
			return nc.ReadResult{}, err
		}
		return nc.ListResult(r, s), nil
	}
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
	ns, explicit, err := o.Namespace()
	if err != nil {
		return &cli.ExitError{Code: cli.ExitFailure, Err: err}
	}
	if ns == "" {
		ns = "default"
	}
	m, err := o.loadManifests(ctx, ns, nc.ExpectationNamespaces(o.Src, o.Dst, expectations))
	if err != nil {
		return &cli.ExitError{Code: cli.ExitFailure, Err: err}
	}
	if o.Expect == "" && !o.Matrix {
		res, err := m.Check(o.check(ns, explicit))
		if err != nil {
			return failure(err)
		}
		o.describe(&res.Report, m, ns)
		return o.print(res, res.Verdict != nc.VerdictReachable)
	}
	rep, err := m.Batch(o.check(ns, explicit), expectations, o.Matrix)
	if err != nil {
		return &cli.ExitError{Code: cli.ExitFailure, Err: err}
	}
	o.describe(&rep.Report, m, ns)
	return o.print(rep, len(rep.Findings) > 0)
}

// loadManifests reads -f and the state: --cluster-state, else the live
// cluster when a kubeconfig is configured, else nothing (offline: no API
// call). named are the namespaces SRC, DST or expectations name.
func (o *Options) loadManifests(ctx context.Context, ns string, named []string) (*nc.Manifests, error) {
	m := &nc.Manifests{}
	var err error
	if len(o.Filenames) > 0 {
		m.Files, err = cluster.LoadFiles(cluster.FileOptions{Filenames: o.Filenames, Recursive: o.Recursive, Stdin: o.In})
		if err != nil {
			return nil, err
		}
		m.Files.DefaultNamespace(ns)
	}
	if o.ClusterState != "" {
		m.State, err = cluster.LoadFiles(cluster.FileOptions{Filenames: []string{o.ClusterState}})
		if err != nil {
			return nil, fmt.Errorf("--cluster-state: %w", err)
		}
		m.State.DefaultNamespace(ns)
		return m, nil
	}
	if !o.ClusterConfigured() {
		return m, nil // no cluster configured: the files are all there is
	}
	cs, _, err := o.Clientset()
	if err != nil {
		return nil, err
	}
	var qs []cluster.Query
	qs, m.Live = nc.ManifestQueries(m.Files, named, ns)
	if m.State, err = cluster.LoadLive(ctx, cs, qs...); err != nil {
		return nil, err
	}
	return m, nil
}

// describe fills the report's metadata for a run from manifests.
func (o *Options) describe(r *report.Report, m *nc.Manifests, ns string) {
	r.Metadata.Input, r.Metadata.Namespace = "files", ns
	if m.Online() {
		r.Metadata.Input, r.Metadata.Context = "files+cluster", o.CurrentContext()
	}
}

package qosaudit

import (
	"context"
	"fmt"
	"strings"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	metricsv1beta1 "k8s.io/metrics/pkg/apis/metrics/v1beta1"
	metricsclient "k8s.io/metrics/pkg/client/clientset/versioned/typed/metrics/v1beta1"

	"github.com/ktriage/ktriage/pkg/cli"
	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/pkg/version"
)

// perNodeListLimit: above this many nodes one LIST of all pods is cheaper
// than a field-selected LIST per node.
const perNodeListLimit = 50

// activePods leaves out finished pods, which the kubelet does not rank.
const activePods = ",status.phase!=Succeeded,status.phase!=Failed"

func (o *Options) runLive(ctx context.Context) (*Report, error) {
	cs, cfg, err := o.Clientset()
	if err != nil {
		return nil, err
	}
	ns, _, err := o.Namespace()
	if err != nil {
		return nil, err
	}
	listNS := ns
	if o.AllNamespaces {
		listNS = ""
	}

	// The pods in scope, the LimitRanges of their namespaces, the namespaces
	// (for the qos-required annotation) and the nodes, in parallel.
	podQuery := cluster.Query{Kind: cluster.KindPod, Namespace: listNS, LabelSelector: o.Selector}
	if o.Node != "" {
		podQuery.FieldSelector = "spec.nodeName=" + o.Node
	}
	queries := []cluster.Query{
		{Kind: cluster.KindLimitRange, Namespace: listNS, Optional: true},
		{Kind: cluster.KindNode, Optional: true},
	}
	if o.AllNamespaces {
		queries = append(queries, cluster.Query{Kind: cluster.KindNamespace, Optional: true})
	}
	var targeted []*corev1.Pod
	if len(o.Args) > 0 {
		if targeted, err = o.resolveTargets(ctx, cs, ns); err != nil {
			return nil, err
		}
	} else {
		queries = append(queries, podQuery)
	}
	snap, err := cluster.LoadLive(ctx, cs, queries...)
	if err != nil {
		return nil, err
	}
	if !o.AllNamespaces {
		if n, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); err == nil {
			snap.Namespaces = append(snap.Namespaces, n)
		}
	}
	if len(o.Args) > 0 {
		snap.Pods = append(snap.Pods, targeted...)
	}
	scope := map[string]bool{}
	for _, p := range snap.Pods {
		if o.Node == "" || o.AllNamespaces || p.Namespace == ns {
			scope[podKey(p)] = true
		}
	}

	// Second round: owners (ReplicaSets → Deployments, Jobs → CronJobs) and
	// the other pods of the nodes involved, which the kubelet ranks too.
	if more := o.ownerQueries(snap.Pods); len(more) > 0 {
		extra, err := cluster.LoadLive(ctx, cs, more...)
		if err != nil {
			return nil, err
		}
		snap = cluster.Merge(snap, extra)
	}
	var partial map[string]string
	if qs := o.nodePodQueries(snap); len(qs) > 0 {
		extra, failed, err := loadNodePods(ctx, cs, qs, nodesOf(snap.Pods, o.Node))
		if err != nil {
			return nil, err
		}
		snap = cluster.Merge(snap, extra)
		partial = failed
	}

	opts := AnalysisOptions{
		InScope:          func(p *corev1.Pod) bool { return scope[podKey(p)] },
		LimitRangesKnown: snap.Loaded[cluster.KindLimitRange],
		Node:             o.Node,
		Require:          o.require,
		Usage:            podUsage(ctx, cfg, snap),
		PartialNodes:     partial,
	}
	if o.require != "" {
		opts.RequireScope = o.requireScope(listNS)
	}
	rep := AnalyzeLive(snap, opts, version.Get())
	rep.Metadata.Context = o.CurrentContext()
	rep.Metadata.Namespace = listNS
	if o.Node != "" && len(rep.Nodes) == 0 {
		if !snap.Loaded[cluster.KindNode] {
			rep.Warn("cannot show node " + o.Node + ": nodes could not be listed")
		} else {
			return nil, &cli.ExitError{Code: cli.ExitFailure, Err: fmt.Errorf("node %q not found: check the name with kubectl get nodes", o.Node)}
		}
	}
	return rep, nil
}

// resolveTargets reads POD and TYPE/NAME arguments: a pod by name, a workload
// by its selector, keeping only the pods it controls.
func (o *Options) resolveTargets(ctx context.Context, cs kubernetes.Interface, ns string) ([]*corev1.Pod, error) {
	var out []*corev1.Pod
	seen := map[string]bool{}
	add := func(p *corev1.Pod) {
		if !seen[p.Name] {
			seen[p.Name] = true
			out = append(out, p)
		}
	}
	for _, arg := range o.Args {
		kind, name, _ := cli.ParseTarget(arg)
		if kind == "Pod" {
			p, err := cs.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				return nil, notFound(kind, name, ns)
			}
			if err != nil {
				return nil, cli.APIError(err, "get", "pods", ns)
			}
			add(p)
			continue
		}
		sel, resource, err := workloadSelector(ctx, cs, ns, kind, name)
		if err != nil {
			if apierrors.IsNotFound(err) {
				return nil, notFound(kind, name, ns)
			}
			return nil, cli.APIError(err, "get", resource, ns)
		}
		snap, err := cluster.LoadLive(ctx, cs, cluster.Query{Kind: cluster.KindPod, Namespace: ns, LabelSelector: sel})
		if err != nil {
			return nil, err
		}
		owners, err := cluster.LoadLive(ctx, cs, o.ownerQueries(snap.Pods)...)
		if err != nil {
			return nil, err
		}
		ix := newOwnerIndex(owners)
		for _, p := range snap.Pods {
			if k, n, _ := ix.top(p); k == kind && n == name {
				add(p)
			}
		}
	}
	return out, nil
}

// workloadSelector reads a workload's pod selector.
func workloadSelector(ctx context.Context, cs kubernetes.Interface, ns, kind, name string) (string, string, error) {
	var sel *metav1.LabelSelector
	switch kind {
	case "Deployment":
		d, err := cs.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return "", "deployments.apps", err
		}
		sel = d.Spec.Selector
	case "ReplicaSet":
		d, err := cs.AppsV1().ReplicaSets(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return "", "replicasets.apps", err
		}
		sel = d.Spec.Selector
	case "StatefulSet":
		d, err := cs.AppsV1().StatefulSets(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return "", "statefulsets.apps", err
		}
		sel = d.Spec.Selector
	case "DaemonSet":
		d, err := cs.AppsV1().DaemonSets(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return "", "daemonsets.apps", err
		}
		sel = d.Spec.Selector
	case "Job":
		d, err := cs.BatchV1().Jobs(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return "", "jobs.batch", err
		}
		sel = d.Spec.Selector
	case "CronJob":
		if _, err := cs.BatchV1().CronJobs(ns).Get(ctx, name, metav1.GetOptions{}); err != nil {
			return "", "cronjobs.batch", err
		}
		// A CronJob's pods carry no common label: list the namespace's pods
		// and keep those whose Job it owns.
		return "", "cronjobs.batch", nil
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return "", "", err
	}
	if s.Empty() {
		return labels.Everything().String(), "", nil
	}
	return s.String(), "", nil
}

// ownerQueries lists ReplicaSets and Jobs in the namespaces of pods they own,
// to name the Deployment or CronJob above them.
func (o *Options) ownerQueries(pods []*corev1.Pod) []cluster.Query {
	rs, jobs := map[string]bool{}, map[string]bool{}
	for _, p := range pods {
		if c := metav1.GetControllerOf(p); c != nil {
			switch c.Kind {
			case "ReplicaSet":
				rs[p.Namespace] = true
			case "Job":
				jobs[p.Namespace] = true
			}
		}
	}
	var qs []cluster.Query
	add := func(kind cluster.Kind, nss map[string]bool) {
		if len(nss) > 1 {
			qs = append(qs, cluster.Query{Kind: kind, Optional: true})
			return
		}
		for ns := range nss {
			qs = append(qs, cluster.Query{Kind: kind, Namespace: ns, Optional: true})
		}
	}
	add(cluster.KindReplicaSet, rs)
	add(cluster.KindJob, jobs)
	return qs
}

// nodePodQueries lists the pods of the nodes running pods in scope unless the
// snapshot already holds every pod of the cluster (-A without -l) or of the
// node (--node).
func (o *Options) nodePodQueries(snap *cluster.Snapshot) []cluster.Query {
	if (o.AllNamespaces && o.Selector == "" && len(o.Args) == 0) || !snap.Loaded[cluster.KindNode] {
		return nil
	}
	if o.Node != "" {
		if o.AllNamespaces && o.Selector == "" {
			return nil
		}
		return []cluster.Query{{Kind: cluster.KindPod, FieldSelector: "spec.nodeName=" + o.Node + activePods, Optional: true}}
	}
	nodes := map[string]bool{}
	for _, p := range snap.Pods {
		if p.Spec.NodeName != "" {
			nodes[p.Spec.NodeName] = true
		}
	}
	if len(nodes) > perNodeListLimit {
		return []cluster.Query{{Kind: cluster.KindPod, FieldSelector: activePods[1:], Optional: true}}
	}
	var qs []cluster.Query
	for n := range nodes {
		qs = append(qs, cluster.Query{Kind: cluster.KindPod, FieldSelector: "spec.nodeName=" + n + activePods, Optional: true})
	}
	return qs
}

// nodesOf names the nodes the pods run on (only node when set).
func nodesOf(pods []*corev1.Pod, node string) []string {
	if node != "" {
		return []string{node}
	}
	var out []string
	for _, p := range pods {
		if p.Spec.NodeName != "" {
			out = append(out, p.Spec.NodeName)
		}
	}
	return uniqueSorted(out)
}

// nodeOfQuery is the node a per-node pod query lists; "" for a cluster-wide list.
func nodeOfQuery(q cluster.Query) string {
	rest, ok := strings.CutPrefix(q.FieldSelector, "spec.nodeName=")
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, ",")
	return name
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
		if n := nodeOfQuery(qs[i]); n != "" {
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

// podUsage reads the pods' memory working sets from metrics.k8s.io; nil when
// the API is not served or not allowed (the eviction order then says it used
// requests).
func podUsage(ctx context.Context, cfg *rest.Config, snap *cluster.Snapshot) map[string]int64 {
	if len(snap.Pods) == 0 {
		return nil
	}
	mcfg := rest.CopyConfig(cfg)
	mcfg.ContentType = "application/json"
	mcfg.AcceptContentTypes = "application/json"
	mc, err := metricsclient.NewForConfig(mcfg)
	if err != nil {
		return nil
	}
	usage := map[string]int64{}
	add := func(list *metricsv1beta1.PodMetricsList) {
		for _, pm := range list.Items {
			var sum int64
			for _, c := range pm.Containers {
				sum += c.Usage.Memory().Value()
			}
			usage[pm.Namespace+"/"+pm.Name] = sum
		}
	}
	list, err := mc.PodMetricses(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
	if err == nil {
		add(list)
		return usage
	}
	if apierrors.IsNotFound(err) || apierrors.IsServiceUnavailable(err) {
		return nil
	}
	if !apierrors.IsForbidden(err) {
		snap.Warnings = append(snap.Warnings, cli.APIError(err, "list", "pods.metrics.k8s.io", "").Error()+"; the eviction order uses memory requests instead of usage")
		return nil
	}
	// Namespace-scoped RBAC: list the namespaces of the pods ranked instead.
	namespaces := namespacesOf(snap.Pods)
	var denied []string
	var firstErr error
	for i, ns := range namespaces {
		list, err := mc.PodMetricses(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			if firstErr == nil {
				firstErr = cli.APIError(err, "list", "pods.metrics.k8s.io", ns)
			}
			if !apierrors.IsForbidden(err) {
				// Not a matter of RBAC: the others would fail (or time out) too.
				denied = append(denied, namespaces[i:]...)
				break
			}
			denied = append(denied, ns)
			continue
		}
		add(list)
	}
	if len(denied) > 0 {
		msg := firstErr.Error()
		if len(denied) > 1 {
			msg += " (and in namespaces " + strings.Join(denied[1:], ", ") + ")"
		}
		snap.Warnings = append(snap.Warnings, msg+"; the eviction order uses memory requests instead of usage for their pods")
	}
	if len(denied) == len(namespaces) {
		return nil
	}
	return usage
}

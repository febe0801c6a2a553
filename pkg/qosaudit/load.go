package qosaudit

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ktriage/ktriage/pkg/cluster"
)

// What a live audit loads, in rounds: first the pods in scope with the
// LimitRanges, Namespaces and Nodes (BaseQueries), then the owners that name
// their workloads (OwnerQueries) and the other pods of their nodes, which
// the kubelet ranks too (NodePodQueries, merged by NodePods). Every function
// here is pure: the plugin hands the queries to cluster.LoadLive.

// perNodeListLimit: above this many nodes one LIST of all pods is cheaper
// than a field-selected LIST per node.
const perNodeListLimit = 50

// activePods leaves out finished pods, which the kubelet does not rank.
const activePods = ",status.phase!=Succeeded,status.phase!=Failed"

// LiveScope is what the user asked a live audit about.
type LiveScope struct {
	// Namespace is the namespace listed; "" with AllNamespaces.
	Namespace     string
	AllNamespaces bool
	// Selector is the pods' label selector (-l).
	Selector string
	// Node is --node: the pods of one node.
	Node string
	// Targets: the pods were named (POD, TYPE/NAME) and are read by the
	// caller, not listed.
	Targets bool
}

// BaseQueries lists, in parallel, the pods in scope (unless named), the
// LimitRanges of their namespace, the nodes and, with -A, the namespaces
// (for the qos-required annotation; a single namespace is read by name).
func BaseQueries(s LiveScope) []cluster.Query {
	queries := []cluster.Query{
		{Kind: cluster.KindLimitRange, Namespace: s.Namespace, Optional: true},
		{Kind: cluster.KindNode, Optional: true},
	}
	if s.AllNamespaces {
		queries = append(queries, cluster.Query{Kind: cluster.KindNamespace, Optional: true})
	}
	if !s.Targets {
		pods := cluster.Query{Kind: cluster.KindPod, Namespace: s.Namespace, LabelSelector: s.Selector}
		if s.Node != "" {
			pods.FieldSelector = "spec.nodeName=" + s.Node
		}
		queries = append(queries, pods)
	}
	return queries
}

// InScope picks the pods the user asked about among those of the first
// round: with --node in one namespace, that namespace's pods of the node.
// Pods loaded later (the other pods of their nodes) are never in scope.
func InScope(pods []*corev1.Pod, s LiveScope) func(*corev1.Pod) bool {
	scope := map[podName]bool{}
	for _, p := range pods {
		if s.Node == "" || s.AllNamespaces || p.Namespace == s.Namespace {
			scope[nameOf(p)] = true
		}
	}
	return func(p *corev1.Pod) bool { return scope[nameOf(p)] }
}

// OwnerQueries lists ReplicaSets and Jobs in the namespaces of pods they
// own, to name the Deployment or CronJob above them.
func OwnerQueries(pods []*corev1.Pod) []cluster.Query {
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

// NodePodQueries lists the pods of the nodes running pods in scope unless
// the snapshot already holds every pod of the cluster (-A without -l) or of
// the node (--node). Each query is optional, so that a list the user may
// not make marks only the nodes it covers as partial (see NodeOfQuery).
func NodePodQueries(snap *cluster.Snapshot, s LiveScope) []cluster.Query {
	if (s.AllNamespaces && s.Selector == "" && !s.Targets) || !snap.Loaded[cluster.KindNode] {
		return nil
	}
	if s.Node != "" {
		if s.AllNamespaces && s.Selector == "" {
			return nil
		}
		return []cluster.Query{{Kind: cluster.KindPod, FieldSelector: "spec.nodeName=" + s.Node + activePods, Optional: true}}
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

// LimitRangeQueries list the LimitRanges of the namespaces manifests' pods
// land in (ManifestNamespaces), for the defaults the LimitRanger applies.
// Optional: one the user may not list leaves a warning, and a namespace
// without a LimitRange is then not reported.
func LimitRangeQueries(namespaces []string) []cluster.Query {
	qs := make([]cluster.Query, 0, len(namespaces))
	for _, n := range namespaces {
		qs = append(qs, cluster.Query{Kind: cluster.KindLimitRange, Namespace: n, Optional: true})
	}
	return qs
}

// WebhookQuery lists the mutating webhooks, which may change manifests'
// pods after the prediction (sidecar injectors).
var WebhookQuery = cluster.Query{Kind: cluster.KindMutatingWebhook, Optional: true}

// NodePods merges what NodePodQueries loaded, one snapshot per query as
// cluster.LoadEach returns them, each query on its own so that a list the
// user may not make (pods of namespaces other than their own) marks only
// the nodes it covers as partial instead of failing the run. It returns the
// pods listed and, per node left partial, why; a failed cluster-wide list
// leaves every node of nodes partial.
func NodePods(qs []cluster.Query, snaps []*cluster.Snapshot, nodes []string) (*cluster.Snapshot, map[string]string) {
	var out *cluster.Snapshot
	partial := map[string]string{}
	for i, s := range snaps {
		if s.Loaded[cluster.KindPod] {
			out = cluster.Merge(out, &cluster.Snapshot{Pods: s.Pods, Loaded: s.Loaded})
			continue
		}
		why := strings.Join(s.Warnings, "; ")
		if n := NodeOfQuery(qs[i]); n != "" {
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
	return out, partial
}

// NodeOfQuery is the node a query of NodePodQueries lists the pods of; ""
// for the cluster-wide list, which covers NodesOf the pods.
func NodeOfQuery(q cluster.Query) string {
	rest, ok := strings.CutPrefix(q.FieldSelector, "spec.nodeName=")
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, ",")
	return name
}

// NodesOf names the nodes the pods run on (only node when set).
func NodesOf(pods []*corev1.Pod, node string) []string {
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

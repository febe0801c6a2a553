package autoscaler

import (
	"github.com/ktriage/ktriage/pkg/cluster"
)

// What Read needs from a live cluster. Pure: the caller's cluster.Loader
// runs the queries.

// karpenterNamespace is where Karpenter's chart installs it when not in
// kube-system.
const karpenterNamespace = "karpenter"

// KarpenterAPI is karpenter.sh/v1: ask whether it is served before listing
// Karpenter's objects (Queries), so that a cluster without Karpenter costs
// no failing list and no warning.
var KarpenterAPI = NodePoolResource.GroupVersion()

// Queries are the autoscalers' own objects: cluster-autoscaler's status
// ConfigMap and its events, the Leases and Deployments of kube-system; with
// karpenter (its API is served) also NodePools, NodeClaims and the Leases
// and Deployments of Karpenter's namespace. Each is optional: a missing API
// or RBAC is a warning (Options.Unreadable).
func Queries(karpenter bool) []cluster.Query {
	qs := []cluster.Query{
		{Kind: cluster.KindConfigMap, Namespace: StatusNamespace, FieldSelector: "metadata.name=" + StatusName, Optional: true},
		{Kind: cluster.KindEvent, Namespace: StatusNamespace, FieldSelector: "involvedObject.kind=ConfigMap,involvedObject.name=" + StatusName, Optional: true},
		{Kind: cluster.KindLease, Resource: cluster.LeaseResource, Namespace: StatusNamespace, Optional: true},
		{Kind: cluster.KindDeployment, Namespace: StatusNamespace, Optional: true},
	}
	if karpenter {
		qs = append(qs,
			cluster.Query{Kind: KindNodePool, Resource: NodePoolResource, Optional: true},
			cluster.Query{Kind: KindNodeClaim, Resource: NodeClaimResource, Optional: true},
			cluster.Query{Kind: cluster.KindLease, Resource: cluster.LeaseResource, Namespace: karpenterNamespace, Optional: true},
			cluster.Query{Kind: cluster.KindDeployment, Namespace: karpenterNamespace, Optional: true},
		)
	}
	return qs
}

// PodEventQueries are the events the autoscalers s found wrote on pods, by
// the component that wrote them, in each of the namespaces ("" for all).
func (s *State) PodEventQueries(namespaces []string) []cluster.Query {
	var sources []string
	for _, k := range s.Found() {
		switch k {
		case KindClusterAutoscaler:
			sources = append(sources, "cluster-autoscaler")
		case KindKarpenter:
			sources = append(sources, "karpenter")
		}
	}
	var qs []cluster.Query
	for _, src := range sources {
		for _, ns := range namespaces {
			qs = append(qs, cluster.Query{Kind: cluster.KindEvent, Namespace: ns, FieldSelector: "involvedObject.kind=Pod,source=" + src, Optional: true})
		}
	}
	return qs
}

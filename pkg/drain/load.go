package drain

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/ktriage/ktriage/pkg/cluster"
)

// What a live drain simulation loads, in two rounds: first what every
// answer needs, then what the drained nodes' pods call for. Both are pure:
// the plugin hands them to cluster.LoadLive.

// BaseQueries: every node, every pod that holds resources (placements need
// the other nodes' load), the budgets, the DaemonSets kubectl's filter reads,
// and the PriorityClasses and Namespaces the scheduler consults.
func BaseQueries() []cluster.Query {
	return []cluster.Query{
		{Kind: cluster.KindNode},
		{Kind: cluster.KindPod, FieldSelector: "status.phase!=Succeeded,status.phase!=Failed"},
		{Kind: cluster.KindPDB},
		{Kind: cluster.KindDaemonSet},
		{Kind: cluster.KindPriorityClass, Optional: true},
		{Kind: cluster.KindNamespace, Optional: true},
	}
}

// NodeQueries: the drained nodes' pods in every phase (kubectl drain deletes
// finished pods too), and the volume and device objects their replacements'
// scheduling reads, only when some pod uses them.
func NodeQueries(snap *cluster.Snapshot, nodes []string) []cluster.Query {
	var qs []cluster.Query
	claims, devices := false, false
	for _, n := range nodes {
		qs = append(qs, cluster.Query{Kind: cluster.KindPod, FieldSelector: "spec.nodeName=" + n})
		for _, p := range snap.PodsOnNode(n) {
			claims = claims || usesClaims(p)
			devices = devices || len(p.Spec.ResourceClaims) > 0
		}
	}
	if claims {
		qs = append(qs,
			cluster.Query{Kind: cluster.KindPVC, Optional: true},
			cluster.Query{Kind: cluster.KindPV, Optional: true},
			cluster.Query{Kind: cluster.KindStorageClass, Optional: true},
			cluster.Query{Kind: cluster.KindCSINode, Optional: true},
			cluster.Query{Kind: cluster.KindCSIDriver, Optional: true})
	}
	if devices {
		qs = append(qs,
			cluster.Query{Kind: cluster.KindResourceClaim, Optional: true},
			cluster.Query{Kind: cluster.KindDeviceClass, Optional: true},
			cluster.Query{Kind: cluster.KindResourceSlice, Optional: true})
	}
	return qs
}

func usesClaims(p *corev1.Pod) bool {
	for _, v := range p.Spec.Volumes {
		if v.PersistentVolumeClaim != nil || v.Ephemeral != nil {
			return true
		}
	}
	return false
}

// ClusterStateKinds are the kinds a --cluster-state dump is taken to hold
// completely: a dump without PDBs means "none", not "unknown".
var ClusterStateKinds = []cluster.Kind{
	cluster.KindNode, cluster.KindPod, cluster.KindPDB, cluster.KindDaemonSet,
	cluster.KindPriorityClass, cluster.KindNamespace,
	cluster.KindPVC, cluster.KindPV, cluster.KindStorageClass,
}

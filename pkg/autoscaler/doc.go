// Package autoscaler answers, for a pod kube-scheduler found unschedulable,
// whether the cluster's node autoscaler will add a node for it and, if not,
// why. It knows cluster-autoscaler (its status ConfigMap in both layouts, its
// leader Lease or Deployment, its events on the pod and on the status
// ConfigMap) and Karpenter (karpenter.sh/v1 NodePools and NodeClaims, its
// events on the pod), and says so when neither is there.
//
// It is a pure analysis of a cluster.Snapshot: Read parses what the snapshot
// holds about the autoscaler once; State.Explain answers for one pod. Whether
// a new node would fit the pod is decided the way the autoscalers decide it,
// by running the scheduler's filters (pkg/scheduling) on a template node: for
// a cluster-autoscaler node group a copy of one of its nodes, for a Karpenter
// NodePool a node built from its requirements, labels, taints and remaining
// limits.
//
// In the data flow it is part of the analysis: pkg/pending calls it for each pod
// the scheduler's filters reject, and its answer becomes why-pending's findings.
// What it reads from a live cluster is planned here too (Queries,
// State.PodEventQueries); pkg/pending has it loaded.
package autoscaler

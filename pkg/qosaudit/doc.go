// Package qosaudit is the analysis behind "kubectl qos-audit": from a cluster
// Snapshot alone it tells, for live pods, the QoS class computed from each
// spec next to the stored one and, per node, the kubelet's eviction order
// and OOM score adjustments; for manifests, the class the apiserver will
// assign after defaulting and LimitRanges. It reports the QA1xx findings,
// registers their rules, builds the report's tables (Result.Tables), and
// says which objects an audit must load (BaseQueries, OwnerQueries,
// NodePodQueries; LimitRangeQueries for manifests) without loading them.
//
// It is a package of its own, not part of pkg/qos, because the two answer
// different questions: pkg/qos ports what Kubernetes itself computes (class,
// admission defaulting, eviction ranking, oom_score_adj) and is shared with
// why-pending; this package judges those answers against the user's policy
// and shapes them into qos-audit's report. Keeping them apart keeps the QA
// rules and the report model out of every plugin that only needs Kubernetes'
// semantics.
package qosaudit

// Package scheduling re-evaluates kube-scheduler v1.37's PreFilter and Filter
// plugins (default profile, default feature gates) for a pod against a
// snapshot of nodes and pods, node by node, in the scheduler's own words.
//
// The scheduler stops at the first failing filter of a node and counts only
// that plugin's reasons; Evaluate runs every filter so that each node lists
// all its causes, and marks the scheduler's own with Reported. Result.Message
// is the text kube-scheduler writes into the PodScheduled condition,
// preemption outcome included, built from the Reported reasons.
//
// Kinds a snapshot records as not loaded (Snapshot.Loaded) switch off the
// plugins that need them, with a warning; a snapshot built in code without a
// Loaded map counts as complete. To explain many pods of one snapshot, build
// an Engine once with NewEngine and call its Evaluate per pod; one Engine
// serves concurrent evaluations.
//
// The evaluated pod is never counted on a node (the scheduler's cache never
// holds the pod it schedules): to ask where a bound pod could go, evaluate a
// copy with spec.nodeName cleared.
//
// In the data flow it is part of the analysis: pkg/pending, pkg/autoscaler and
// pkg/drain evaluate pods with it on a Snapshot; it never calls the API.
package scheduling

// Package drain answers, from a cluster Snapshot alone, what `kubectl drain`
// with a given set of flags would do to one or more nodes: which pods it
// evicts, deletes, skips or refuses (decided by kubectl's own pkg/drain
// filters), how the Eviction API answers each eviction as the
// PodDisruptionBudgets are spent and recover, where each replacement pod is
// scheduled (by pkg/scheduling, the engine why-pending uses), and whether the
// drain finishes.
//
// The drain is simulated as it unfolds, not judged on a snapshot: kubectl
// evicts every selected pod at once and retries each 429 every few seconds;
// a budget recovers only when a replacement is scheduled elsewhere and
// becomes ready. Simulate follows that sequence until every pod is out or
// nothing more can move.
//
// In the data flow it is drain-preflight's analysis (Snapshot → report): what
// to load is BaseQueries and NodeQueries, plugins/drainpreflight loads it with
// cluster.LoadLive or reads a --cluster-state dump, and prints the Report of
// Analyze (Simulate, then Plan's order), whose tables are built here too.
package drain

// Package podmetrics reads pod usage from the metrics.k8s.io API
// (metrics-server) for qos-audit's eviction order. It is a loader, beside
// pkg/cluster's, kept apart so that only the plugins that read metrics link
// its client.
package podmetrics

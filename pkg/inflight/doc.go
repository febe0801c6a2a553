// Package inflight records what a run is waiting on (API requests, lists,
// a probe, a credential plugin), so that when the run's deadline passes or
// it is interrupted, the one line it ends with can say what was still
// pending.
//
// In the data flow it sits beside the loaders: pkg/cluster registers each call it
// makes, and pkg/cli reads the record when the run ends early.
package inflight

// Package cluster loads the objects an analysis needs into a Snapshot, either
// from a live cluster (LoadLive, LoadLiveWith for kinds that need the dynamic
// client) or from manifests and offline dumps (LoadFiles), or both (Merge).
// Analyses only ever read a Snapshot, through its slices and lookups (Node,
// PodsOnNode, PVC, ...); they never call the API themselves.
//
// In the data flow it is the loading step: flags → Snapshot. What to load is a
// pure function of each analysis' package (e.g. drain.BaseQueries); the loaders
// here run it. An analysis whose next load depends on what the last one
// returned (pkg/pending's live run) plans round by round against a Loader
// (NewLoader: LoadLiveWith and discovery) and makes no call itself.
package cluster

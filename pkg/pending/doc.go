// Package pending explains why pods are Pending: for each pod the stage it is
// stuck in (gated, no scheduler, scheduler filters, volumes, never created,
// image pull, container creation, init containers, lost node), the evidence,
// and a concrete fix. It is a pure analysis of a cluster.Snapshot; the
// scheduler filters themselves are evaluated by pkg/scheduling.
//
// In the data flow it is why-pending's analysis (Snapshot → report), and it
// plans why-pending's loads: on a live cluster what to read depends on what
// was read (the pods named, their candidate nodes, what the filters need),
// so ExplainLive decides the loads round by round (liveplan.go) and runs them
// through the cluster.Loader plugins/whypending hands it, then explains; with
// -f the plugin loads ManifestQueries and calls ExplainManifests. The plugin
// prints the Report, whose tables (table.go) are built here.
package pending

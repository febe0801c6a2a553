// Package pending explains why pods are Pending: for each pod the stage it is
// stuck in (gated, no scheduler, scheduler filters, volumes, never created,
// image pull, container creation, init containers, lost node), the evidence,
// and a concrete fix. It is a pure analysis of a cluster.Snapshot; the
// scheduler filters themselves are evaluated by pkg/scheduling.
//
// In the data flow it is why-pending's analysis (Snapshot → report): plugins/whypending
// loads the Snapshot, calls Explain and prints the Report,
// whose tables (table.go) are built here.
package pending

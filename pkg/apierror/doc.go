// Package apierror turns errors from Kubernetes API calls into one line
// saying what failed and what to do. It depends on nothing of the CLI, so
// the loaders in pkg/ use it as well as the commands.
//
// In the data flow it sits beside the loaders: a LIST or GET that fails on the way
// to a Snapshot (pkg/cluster, pkg/certs/collect) becomes an error from here, and
// pkg/cli turns that error into the run's last line and exit code 2.
package apierror

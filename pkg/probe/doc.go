// Package probe runs the netcheck probe inside a pod: it adds an ephemeral
// container through the pods/ephemeralcontainers subresource, polls the pod
// (get only) until the container ends or a bounded time passes, and reads the
// probe's JSON result from the container's termination message. It needs no
// exec, attach or watch permission. Ephemeral containers cannot be removed:
// callers must say so to the user.
//
// In the data flow it is netcheck's one impure step besides loading: the plugin
// calls it after the Snapshot is loaded, and its result joins the analysis in
// pkg/netcheck.
package probe

// Package result is the message the netcheck probe writes to its
// termination log and the plugin reads back from the container status. It
// has no dependencies so the probe binary stays small.
//
// In the data flow it is the wire format between cmd/netcheck-probe (inside the
// pod) and pkg/probe (in the plugin).
package result

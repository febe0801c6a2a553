// Package netcheck is the analysis behind "kubectl netcheck": whether one
// pod can reach a destination, and if not, why. From the objects alone it
// resolves SRC and DST, analyses the Service and its EndpointSlices, expands
// DNS names the way the pod's resolver does, and evaluates the
// NetworkPolicies (pkg/netpolicy); with the live probe's result it joins all
// of it into one verdict with findings (the NC rules it registers). It also
// answers --expect and --matrix over manifests merged into a World.
//
// Everything here is pure. The objects are read through Objects: live, a
// check says what it still has to read (FirstReads, then *Missing errors
// from PlanCheck and Conclude); Answer runs those rounds with the ReadFunc
// the plugin makes the reads with (cluster.LoadLive), and between PlanCheck
// and Conclude the ProbeFunc the plugin runs the probe with, netcheck's one
// impure step. From manifests (Manifests), a World holds them all. Result
// and BatchResult render their own tables (table.go).
package netcheck

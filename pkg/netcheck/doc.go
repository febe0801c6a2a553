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
// from PlanCheck and Conclude) and the plugin makes those reads with
// cluster.LoadLive; from manifests, a World holds them all. The plugin runs
// the probe between PlanCheck and Conclude.
package netcheck

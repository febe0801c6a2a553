// Package netchecktest answers a live check's reads from objects built in
// Go, as the API server would, and holds the objects the netcheck tests
// share: the analysis tests of pkg/netcheck and the plugin's tests, whose
// golden files print the same checks. It cannot import netcheck, whose
// tests use it: a read arrives as the cluster.Query it is listed with.
//
// It is outside the data flow: only tests use it.
package netchecktest

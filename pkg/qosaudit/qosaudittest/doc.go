// Package qosaudittest builds the snapshots the qos-audit tests share: the
// analysis tests of pkg/qosaudit and the plugin's tests, whose golden files
// print the same snapshots.
//
// It is outside the data flow: only tests use it.
package qosaudittest

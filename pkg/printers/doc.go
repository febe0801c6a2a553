// Package printers renders a report in every output format ktriage supports:
// table (optionally colored), wide, json, yaml, sarif and junit.
//
// In the data flow it is the step after the analysis: a report in, the bytes on
// stdout out; pkg/cli then derives the exit code from the same report.
package printers

// Package cli holds what every plugin's command shares: the common flags, the
// REST client set-up, output and color selection, and the mapping of errors to
// one-line messages and exit codes.
//
// In the data flow it is the first and the last step: flags → Options (Complete,
// Validate) here, then after the analysis the printer and the exit code here.
// Only plugins/ import it: make lint fails when a package under pkg/ does.
package cli

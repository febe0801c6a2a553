// Package report holds the model every plugin produces: findings with stable
// rule IDs and severities, wrapped in one versioned document per run.
//
// In the data flow it sits between the analysis and the printer: analyses return a
// Report, pkg/printers renders it, and its worst severity sets the exit code.
package report

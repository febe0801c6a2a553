package drain

import "github.com/ktriage/ktriage/pkg/report"

// Report is the drain-preflight document: the common report and, at the
// top level, Result's sections (.verdict, .nodes[], .pdbs[], .capacity[],
// .preempted[], .order[]).
type Report struct {
	report.Report
	*Result
}

// NewReport starts the document of a run.
func NewReport(version string) *Report {
	return &Report{Report: report.New("DrainPreflightReport", Plugin, version)}
}

// Base resolves the two embedded types' overlap for the printers.
func (r *Report) Base() *report.Report { return &r.Report }

// SetResult puts the analysis' result in the report, with its findings and
// the warnings of the snapshot it was drawn from.
func (r *Report) SetResult(res *Result, warnings []string) {
	r.Result = res
	for _, f := range res.Findings {
		r.Add(f)
	}
	for _, w := range warnings {
		r.Warn(w)
	}
}

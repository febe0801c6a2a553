package pending

import (
	"github.com/ktriage/ktriage/pkg/report"
)

// Report is the why-pending document: the common report plus .pods[].
type Report struct {
	report.Report
	Pods []Explanation `json:"pods"`

	// Verbose makes the table output as detailed as -o wide.
	Verbose bool `json:"-"`
}

// NewReport starts an empty why-pending report.
func NewReport(version string) *Report {
	return &Report{Report: report.New("WhyPendingReport", Plugin, version), Pods: []Explanation{}}
}

// AddResult adds an analysis' pods and findings.
func (r *Report) AddResult(res Result) {
	r.Pods = append(r.Pods, res.Pods...)
	for _, f := range res.Findings {
		r.Add(f)
	}
}

// CountStages fills .summary.counts: the explained pods by stage.
func (r *Report) CountStages() {
	if r.Summary.Counts == nil {
		r.Summary.Counts = map[string]int{}
	}
	for _, p := range r.Pods {
		r.Summary.Counts[string(p.Stage)]++
	}
}

// DropNodeLists leaves each pod's nodes grouped by reason only, so that the
// report grows with the pods, not with pods times nodes.
func (r *Report) DropNodeLists() {
	for i := range r.Pods {
		r.Pods[i].DropNodeLists()
	}
}

// PendingCount is how many explained pods are not (or would not be) running.
func (r *Report) PendingCount() int {
	n := 0
	for _, p := range r.Pods {
		if p.Stage != StageSchedulable {
			n++
		}
	}
	return n
}

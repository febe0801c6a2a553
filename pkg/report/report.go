package report

import (
	"sort"
	"strings"
	"time"
)

// APIVersion is the version of every report document.
const APIVersion = "ktriage.io/v1alpha1"

// Metadata describes the run that produced a report.
type Metadata struct {
	Plugin      string     `json:"plugin"`
	Version     string     `json:"version"`
	GeneratedAt *time.Time `json:"generatedAt,omitempty"`
	// Context is the kubeconfig context, empty when working from files only.
	Context   string `json:"context,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	// Input is "cluster", "files" or "files+cluster".
	Input string `json:"input,omitempty"`
	// Warnings are problems that did not stop the run, e.g. a forbidden
	// resource that left part of the result out.
	Warnings []string `json:"warnings,omitempty"`
}

// Summary counts the findings that survived suppression.
type Summary struct {
	Total      int `json:"total"`
	Errors     int `json:"errors"`
	Warnings   int `json:"warnings"`
	Infos      int `json:"infos"`
	Suppressed int `json:"suppressed"`
	// Counts holds plugin-specific totals (e.g. pods per QoS class).
	Counts map[string]int `json:"counts,omitempty"`
}

// Report is the common part of every plugin's document. Plugins embed it in
// their own struct, so its fields sit at the top level of the JSON next to the
// plugin-specific sections.
type Report struct {
	APIVersion string    `json:"apiVersion"`
	Kind       string    `json:"kind"`
	Metadata   Metadata  `json:"metadata"`
	Findings   []Finding `json:"findings"`
	Summary    Summary   `json:"summary"`
}

// New starts a report for a plugin; kind is e.g. "WhyPendingReport".
func New(kind, plugin, version string) Report {
	return Report{APIVersion: APIVersion, Kind: kind, Metadata: Metadata{Plugin: plugin, Version: version}, Findings: []Finding{}}
}

// Base gives printers access to the common part of an embedding struct.
func (r *Report) Base() *Report { return r }

// Add records a finding.
func (r *Report) Add(f Finding) { r.Findings = append(r.Findings, f) }

// Warn records a problem that did not stop the run.
func (r *Report) Warn(msg string) { r.Metadata.Warnings = append(r.Metadata.Warnings, msg) }

// Finalize drops suppressed findings (by --ignore IDs and by each object's
// ktriage.io/ignore annotation), sorts the rest (most severe first, then by
// object and rule) and fills the summary.
func (r *Report) Finalize(ignore []string) {
	skip := map[string]bool{}
	for _, id := range ignore {
		for _, p := range ParseIgnore(id) {
			skip[p] = true
		}
	}
	kept := r.Findings[:0]
	suppressed := 0
	for _, f := range r.Findings {
		if id := strings.ToUpper(f.RuleID); skip[id] || f.Object.Ignores(id) {
			suppressed++
			continue
		}
		kept = append(kept, f)
	}
	if kept == nil {
		kept = []Finding{}
	}
	sort.SliceStable(kept, func(i, j int) bool {
		a, b := kept[i], kept[j]
		if a.Severity != b.Severity {
			return a.Severity > b.Severity
		}
		if as, bs := a.Object.String(), b.Object.String(); as != bs {
			return as < bs
		}
		return a.RuleID < b.RuleID
	})
	r.Findings = kept
	// Suppressed adds up so that finalizing twice keeps the first count.
	r.Summary = Summary{Total: len(kept), Suppressed: r.Summary.Suppressed + suppressed, Counts: r.Summary.Counts}
	for _, f := range kept {
		switch f.Severity {
		case SeverityError:
			r.Summary.Errors++
		case SeverityWarning:
			r.Summary.Warnings++
		case SeverityInfo:
			r.Summary.Infos++
		}
	}
}

// MaxSeverity is the highest severity among the findings.
func (r *Report) MaxSeverity() Severity {
	highest := SeverityNone
	for _, f := range r.Findings {
		highest = max(highest, f.Severity)
	}
	return highest
}

// Fails reports whether any finding reaches the --fail-on threshold.
func (r *Report) Fails(threshold Severity) bool {
	return r.MaxSeverity().Reaches(threshold)
}

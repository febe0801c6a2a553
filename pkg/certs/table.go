package certs

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ktriage/ktriage/pkg/printers"
	"github.com/ktriage/ktriage/pkg/report"
)

// Report is the cert-expiry document. Its certificates section is a contract
// scripts rely on: source, subject, issuer, notAfter (RFC 3339), daysLeft and
// severity of each certificate, sorted by time left.
type Report struct {
	report.Report `json:",inline"`
	// Sources are the places that were searched.
	Sources      []string      `json:"sources"`
	Certificates []Certificate `json:"certificates"`
}

// NewReport is the report of an analysis: its certificates judged (those of
// rules in ignore left out of the counts), its findings and the collected
// ones (extra), searched in sources.
func NewReport(version string, sources []string, res Result, extra []report.Finding, ignore []string) *Report {
	r := &Report{Report: report.New("CertExpiryReport", Plugin, version), Sources: sources}
	r.Certificates, r.Summary.Counts = res.Judged(ignore)
	for _, f := range append(slices.Clone(res.Findings), extra...) {
		r.Add(f)
	}
	return r
}

// Tables: the certificates by time left, then the findings.
func (r *Report) Tables(wide bool) []printers.Table {
	t := printers.Table{Title: "CERTIFICATES", Empty: "No certificates found.",
		Columns: []string{"DAYS LEFT", "NOT AFTER", "SOURCE", "SUBJECT", "ROLE"}}
	if wide {
		t.Columns = append(t.Columns, "ISSUER", "NOT BEFORE", "SANS", "SERIAL", "KEY", "RULES", "ALSO IN")
	}
	for _, c := range r.Certificates {
		t.Rows = append(t.Rows, certificateRow(c, wide))
	}
	findings := printers.FindingsTable(r.Findings, wide)
	findings.Title = "FINDINGS"
	return []printers.Table{t, findings}
}

// certificateRow is a certificate's row; wide adds its issuer, validity
// start, names, serial, key, rules and the other places it was found.
func certificateRow(c Certificate, wide bool) []printers.Cell {
	row := []printers.Cell{
		printers.Sev(daysLeft(c), c.Severity),
		printers.Text(c.NotAfter.Format("2006-01-02T15:04:05Z07:00")),
		printers.Text(sourceCell(c, wide)),
		printers.Text(c.Subject),
		printers.Text(c.ChainRole),
	}
	if !wide {
		return row
	}
	return append(row,
		printers.Text(c.Issuer),
		printers.Text(c.NotBefore.Format("2006-01-02T15:04:05Z07:00")),
		printers.Text(strings.Join(c.SANs, ",")),
		printers.Text(c.Serial),
		printers.Text(c.KeyAlgorithm),
		printers.Text(strings.Join(c.Rules, ",")),
		printers.Text(strings.Join(c.AlsoIn, ",")),
	)
}

// daysLeft is the table's first column: whole days left, or what is wrong.
func daysLeft(c Certificate) string {
	switch {
	case c.SecondsLeft <= 0:
		return fmt.Sprintf("%d (expired)", c.DaysLeft)
	case slices.Contains(c.Rules, RuleNotYetValid):
		return strconv.Itoa(c.DaysLeft) + " (not yet valid)"
	}
	return strconv.Itoa(c.DaysLeft)
}

// sourceCell is where a certificate was found; outside wide output, with how
// many other places hold it too.
func sourceCell(c Certificate, wide bool) string {
	if !wide && len(c.AlsoIn) > 0 {
		return fmt.Sprintf("%s (+%d)", c.Source, len(c.AlsoIn))
	}
	return c.Source
}

package certexpiry

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ktriage/ktriage/pkg/certs"
	"github.com/ktriage/ktriage/pkg/printers"
	"github.com/ktriage/ktriage/pkg/report"
)

// Report is the cert-expiry document. Its certificates section is a contract
// scripts rely on: source, subject, issuer, notAfter (RFC 3339), daysLeft and
// severity of each certificate, sorted by time left.
type Report struct {
	report.Report `json:",inline"`
	// Sources are the places that were searched.
	Sources      []string            `json:"sources"`
	Certificates []certs.Certificate `json:"certificates"`
}

func newReport(version string) *Report {
	return &Report{Report: report.New("CertExpiryReport", certs.Plugin, version), Sources: []string{}, Certificates: []certs.Certificate{}}
}

// fill adds the analysis and the collected findings, and the counts.
func (r *Report) fill(res certs.Result, extra []report.Finding, ignore []string) {
	r.Certificates, r.Summary.Counts = res.Judged(ignore)
	for _, f := range append(slices.Clone(res.Findings), extra...) {
		r.Add(f)
	}
}

// Tables: the certificates by time left, then the findings.
func (r *Report) Tables(wide bool) []printers.Table {
	t := printers.Table{Title: "CERTIFICATES", Empty: "No certificates found.",
		Columns: []string{"DAYS LEFT", "NOT AFTER", "SOURCE", "SUBJECT", "ROLE"}}
	if wide {
		t.Columns = append(t.Columns, "ISSUER", "NOT BEFORE", "SANS", "SERIAL", "KEY", "RULES", "ALSO IN")
	}
	for _, c := range r.Certificates {
		row := []printers.Cell{
			printers.Sev(daysLeft(c), c.Severity),
			printers.Text(c.NotAfter.Format("2006-01-02T15:04:05Z07:00")),
			printers.Text(sourceCell(c, wide)),
			printers.Text(c.Subject),
			printers.Text(c.ChainRole),
		}
		if wide {
			row = append(row,
				printers.Text(c.Issuer),
				printers.Text(c.NotBefore.Format("2006-01-02T15:04:05Z07:00")),
				printers.Text(strings.Join(c.SANs, ",")),
				printers.Text(c.Serial),
				printers.Text(c.KeyAlgorithm),
				printers.Text(strings.Join(c.Rules, ",")),
				printers.Text(strings.Join(c.AlsoIn, ",")),
			)
		}
		t.Rows = append(t.Rows, row)
	}
	findings := printers.FindingsTable(r.Findings, wide)
	findings.Title = "FINDINGS"
	return []printers.Table{t, findings}
}

// daysLeft is the table's first column: whole days left, or what is wrong.
func daysLeft(c certs.Certificate) string {
	switch {
	case c.SecondsLeft <= 0:
		return fmt.Sprintf("%d (expired)", c.DaysLeft)
	case slices.Contains(c.Rules, certs.RuleNotYetValid):
		return strconv.Itoa(c.DaysLeft) + " (not yet valid)"
	}
	return strconv.Itoa(c.DaysLeft)
}

func sourceCell(c certs.Certificate, wide bool) string {
	if !wide && len(c.AlsoIn) > 0 {
		return fmt.Sprintf("%s (+%d)", c.Source, len(c.AlsoIn))
	}
	return c.Source
}

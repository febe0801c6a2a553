package certexpiry

import (
	"fmt"
	"sort"
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

// fill adds the analysis and the gatherer's own findings, and the counts.
// Each certificate's severity and rules, and the counts, come from the
// findings that --ignore and the ktriage.io/ignore annotation leave, so that
// .certificates[] agrees with the findings and the exit code.
func (r *Report) fill(res certs.Result, extra []report.Finding, ignore []string) {
	if res.Certificates != nil {
		r.Certificates = res.Certificates
	}
	byFP := make(map[string]*certs.Certificate, len(r.Certificates))
	for i := range r.Certificates {
		c := &r.Certificates[i]
		c.Severity, c.Rules = report.SeverityNone, nil
		byFP[c.SHA256] = c
	}
	skip := map[string]bool{}
	for _, id := range ignore {
		for _, p := range report.ParseIgnore(id) {
			skip[p] = true
		}
	}
	for i, f := range res.Findings {
		r.Add(f)
		// The same test as report.Finalize, which drops these findings.
		if id := strings.ToUpper(f.RuleID); skip[id] || f.Object.Ignores(id) || i >= len(res.About) {
			continue
		}
		if c := byFP[res.About[i]]; c != nil {
			c.Severity = max(c.Severity, f.Severity)
			if !contains(c.Rules, f.RuleID) {
				c.Rules = append(c.Rules, f.RuleID)
			}
		}
	}
	for _, f := range extra {
		r.Add(f)
	}
	counts := map[string]int{"certificates": len(r.Certificates)}
	for i := range r.Certificates {
		c := &r.Certificates[i]
		sort.Strings(c.Rules)
		switch {
		case contains(c.Rules, certs.RuleExpired):
			counts["expired"]++
		case contains(c.Rules, certs.RuleExpiresSoon):
			counts["expiringSoon"]++
		case contains(c.Rules, certs.RuleExpiresWithin):
			counts["expiring"]++
		}
	}
	r.Summary.Counts = counts
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
	case contains(c.Rules, certs.RuleNotYetValid):
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

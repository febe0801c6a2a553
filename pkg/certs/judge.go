package certs

import (
	"slices"
	"sort"
	"strings"

	"github.com/ktriage/ktriage/pkg/report"
)

// Judged returns the certificates with the severity and rules of the
// findings that --ignore (ignore) and the ktriage.io/ignore annotation leave,
// and the report's counts, so that .certificates[] agrees with the findings
// and the exit code. res is not changed.
func (res Result) Judged(ignore []string) ([]Certificate, map[string]int) {
	certs := slices.Clone(res.Certificates)
	if certs == nil {
		certs = []Certificate{}
	}
	byFP := make(map[string]*Certificate, len(certs))
	for i := range certs {
		c := &certs[i]
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
		// The same test as report.Finalize, which drops these findings.
		if id := strings.ToUpper(f.RuleID); skip[id] || f.Object.Ignores(id) || i >= len(res.About) {
			continue
		}
		if c := byFP[res.About[i]]; c != nil {
			c.Severity = max(c.Severity, f.Severity)
			if !slices.Contains(c.Rules, f.RuleID) {
				c.Rules = append(c.Rules, f.RuleID)
			}
		}
	}
	counts := map[string]int{"certificates": len(certs)}
	for i := range certs {
		c := &certs[i]
		sort.Strings(c.Rules)
		switch {
		case slices.Contains(c.Rules, RuleExpired):
			counts["expired"]++
		case slices.Contains(c.Rules, RuleExpiresSoon):
			counts["expiringSoon"]++
		case slices.Contains(c.Rules, RuleExpiresWithin):
			counts["expiring"]++
		}
	}
	return certs, counts
}

package certs

import (
	"testing"
	"time"

	"github.com/ktriage/ktriage/pkg/report"
)

func TestTheTableSaysWhatIsWrongAndWhereElseACertificateIs(t *testing.T) {
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	certs := []Certificate{
		{Source: "a.crt", Subject: "CN=old", NotAfter: at, DaysLeft: -2, SecondsLeft: -1, Severity: report.SeverityError, Rules: []string{RuleExpired}},
		{Source: "b.crt", Subject: "CN=early", NotAfter: at, DaysLeft: 40, SecondsLeft: 1, Severity: report.SeverityError, Rules: []string{RuleNotYetValid}},
		{Source: "c.crt", Subject: "CN=ok", NotAfter: at, DaysLeft: 90, SecondsLeft: 1, AlsoIn: []string{"d.crt", "e.crt"}, SANs: []string{"x", "y"}},
	}
	r := &Report{Report: report.New("CertExpiryReport", Plugin, "test"), Certificates: certs}
	for _, wide := range []bool{false, true} {
		tables := r.Tables(wide)
		if len(tables) != 2 || tables[0].Title != "CERTIFICATES" || tables[1].Title != "FINDINGS" {
			t.Fatalf("wide %v: tables %+v", wide, tables)
		}
		cols := map[bool]int{false: 5, true: 12}[wide]
		if len(tables[0].Columns) != cols {
			t.Errorf("wide %v: %d columns, want %d", wide, len(tables[0].Columns), cols)
		}
		for i, row := range tables[0].Rows {
			if len(row) != cols {
				t.Errorf("wide %v: row %d has %d cells, want %d", wide, i, len(row), cols)
			}
		}
	}
	for i, want := range []string{"-2 (expired)", "40 (not yet valid)", "90"} {
		if got := daysLeft(certs[i]); got != want {
			t.Errorf("daysLeft(%s) = %q, want %q", certs[i].Subject, got, want)
		}
	}
	if got := sourceCell(certs[2], false); got != "c.crt (+2)" {
		t.Errorf("narrow source = %q, want the count of other places", got)
	}
	if got := sourceCell(certs[2], true); got != "c.crt" {
		t.Errorf("wide source = %q, want the source alone (ALSO IN lists the others)", got)
	}
}

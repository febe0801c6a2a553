package collect

import (
	"testing"
	"time"

	"github.com/ktriage/ktriage/pkg/certs"
	"github.com/ktriage/ktriage/pkg/report"
)

func TestHandshakeTimeoutIsTheShorterOfDialAndRequestTimeouts(t *testing.T) {
	s := func(v string) *string { return &v }
	for _, c := range []struct {
		request *string
		want    time.Duration
	}{
		{nil, 5 * time.Second},
		{s(""), 5 * time.Second},
		{s("0"), 5 * time.Second},
		{s("2s"), 2 * time.Second},
		{s("1m"), 5 * time.Second},
		{s("3"), 3 * time.Second},
		{s("nonsense"), 5 * time.Second},
	} {
		if got := HandshakeTimeout(5*time.Second, c.request); got != c.want {
			t.Errorf("HandshakeTimeout(5s, %v) = %s, want %s", c.request, got, c.want)
		}
	}
}

func TestTheReportCarriesWhatWasCollected(t *testing.T) {
	got := &Collected{
		Findings:  []report.Finding{{RuleID: certs.RuleExpired, Severity: report.SeverityError, Message: "about a source"}},
		Warnings:  []string{"w"},
		Context:   "ctx",
		Namespace: "ns",
		Sources:   []string{"files"},
	}
	rep := got.Report(certs.Options{Now: time.Now(), Fail: time.Hour, Warn: 2 * time.Hour}, nil, "files")
	if rep.Kind != "CertExpiryReport" || rep.Metadata.Input != "files" || rep.Metadata.Context != "ctx" || rep.Metadata.Namespace != "ns" {
		t.Errorf("metadata %+v of kind %s", rep.Metadata, rep.Kind)
	}
	if len(rep.Metadata.Warnings) != 1 || len(rep.Findings) != 1 || len(rep.Sources) != 1 || rep.Certificates == nil {
		t.Errorf("warnings %v, findings %v, sources %v, certificates %v", rep.Metadata.Warnings, rep.Findings, rep.Sources, rep.Certificates)
	}
}

package certs

import (
	"crypto/x509"
	"fmt"
	"strings"

	"github.com/ktriage/ktriage/pkg/apierror"
	"github.com/ktriage/ktriage/pkg/report"
)

// Handshake is the outcome of one TLS handshake with an endpoint.
type Handshake struct {
	Endpoint Endpoint
	// Chain is what the server sent, leaf first; nil when Err is set.
	Chain []*x509.Certificate
	Err   error
	// CutShort says the run ended (its deadline passed, or it was
	// interrupted) before the server answered, or before it was dialed.
	CutShort bool
}

// maxNamed bounds the endpoints a warning names; the findings name each.
const maxNamed = 5

// FromHandshakes turns handshakes into inputs (the served chains) and a CE115
// finding for each that failed, in the order given. warning names the
// endpoints the run's end cut short ("" when none was).
func FromHandshakes(hs []Handshake) (inputs []Input, findings []report.Finding, warning string) {
	var cut []string
	for _, h := range hs {
		if h.Err == nil {
			inputs = append(inputs, h.Endpoint.Input(EncodePEM(h.Chain)))
			continue
		}
		findings = append(findings, unreachable(h.Endpoint, h.Err))
		if h.CutShort {
			cut = append(cut, h.Endpoint.Origin.String())
		}
	}
	if len(cut) > 0 {
		named := strings.Join(cut[:min(len(cut), maxNamed)], ", ")
		if len(cut) > maxNamed {
			named += fmt.Sprintf(" and %d more", len(cut)-maxNamed)
		}
		warning = fmt.Sprintf("%d TLS handshake(s) did not answer before the run ended: %s; their served certificates are not in the report", len(cut), named)
	}
	return inputs, findings, warning
}

func unreachable(ep Endpoint, err error) report.Finding {
	ref := ep.Ref
	if ref.Kind == "" && ref.Path == "" {
		ref.Path = ep.Origin.String()
	}
	msg := fmt.Sprintf("TLS handshake with %s (%s) failed: %s", ep.Origin, ep.Address, apierror.OneLine(err))
	return report.Finding{RuleID: RuleUnreachable, Severity: report.SeverityWarning, Object: ref,
		Message: msg, Fix: "Check that the server runs and is reachable from here, or raise --dial-timeout.",
		Details: map[string]any{"endpoint": ep.Origin.Endpoint, "address": ep.Address}}
}

package collect

import (
	"github.com/ktriage/ktriage/pkg/certs"
	"github.com/ktriage/ktriage/pkg/version"
)

// Report analyses what was collected (certs.Analyze with opts) into the
// cert-expiry report: the certificates judged, the analysis' findings and
// those about the sources, the collection's warnings, and the metadata
// (input names the kind of run, certs.Plan.InputKind). Rules in ignore are
// left out of the counts, as --ignore leaves them out of the findings.
func (c *Collected) Report(opts certs.Options, ignore []string, input string) *certs.Report {
	opts.Warm = c.warm
	rep := certs.NewReport(version.Get(), c.Sources, certs.Analyze(c.Inputs, opts), c.Findings, ignore)
	rep.Metadata.Input = input
	rep.Metadata.Context = c.Context
	rep.Metadata.Namespace = c.Namespace
	rep.Metadata.Warnings = append(rep.Metadata.Warnings, c.Warnings...)
	return rep
}

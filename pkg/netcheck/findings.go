package netcheck

import (
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/ktriage/ktriage/pkg/netpolicy"
	netprobe "github.com/ktriage/ktriage/pkg/probe"
	"github.com/ktriage/ktriage/pkg/probe/result"
	"github.com/ktriage/ktriage/pkg/report"
)

// addFindings turns the verdict and the observations into findings with
// rule IDs, for --fail-on, SARIF and JUnit.
func (c *checker) addFindings(res *Result, p *Plan, out *netprobe.Outcome) {
	o := c.objs
	srcRef := o.podRef(p.Source)
	if id, ok := verdictRules[res.Verdict]; ok {
		res.Add(report.Finding{RuleID: id, Severity: verdictSeverity(res.Verdict), Object: c.verdictObject(res, p), Message: res.Reason, Fix: res.Fix,
			Details: map[string]any{"verdict": res.Verdict, "basis": res.Basis, "source": p.Source.Namespace + "/" + p.Source.Name, "destination": res.Destination.Input}})
	}
	if res.Disagreement != "" {
		res.Add(report.Finding{RuleID: RuleDisagreement, Severity: report.SeverityWarning, Object: srcRef, Message: res.Disagreement,
			Fix: "check that the network plugin enforces NetworkPolicy, and look for CNI-specific policies"})
	}
	if res.Service != nil && res.Service.Has(ProblemTargetNotDeclared) && res.Verdict != VerdictPortMismatch {
		for _, pr := range res.Service.Problems {
			if pr.Reason == ProblemTargetNotDeclared {
				res.Add(report.Finding{RuleID: RuleTargetNotDeclared, Severity: report.SeverityWarning,
					Object: o.serviceRef(res.Service), Message: pr.Message, Fix: pr.Fix})
			}
		}
	}
	if res.DNS != nil && res.DNS.Lookups > 1 && res.DNS.Hint != "" {
		res.Add(report.Finding{RuleID: RuleDNSCost, Severity: report.SeverityInfo, Object: srcRef,
			Message: fmt.Sprintf("%q costs %d lookups per record type from this pod (ndots:%d)", res.DNS.Name, res.DNS.Lookups, res.DNS.ResolvConf.Ndots),
			Fix:     res.DNS.Hint, Details: map[string]any{"queries": res.DNS.Queries}})
	}
	if res.DNS != nil && res.DNS.Musl != "" {
		res.Add(report.Finding{RuleID: RuleMuslSearch, Severity: report.SeverityWarning, Object: srcRef, Message: res.DNS.Musl,
			Fix: "use the name that answers, or raise ndots with spec.dnsConfig.options", Details: map[string]any{"queries": res.DNS.Queries}})
	}
	if res.Policy != nil {
		for _, t := range res.Policy.Targets {
			for _, n := range append(append([]string{}, t.Egress.Notes...), t.Ingress.Notes...) {
				res.Add(report.Finding{RuleID: RuleIPBlockOnPod, Severity: report.SeverityInfo, Object: srcRef, Message: n,
					Fix: "select pods with podSelector/namespaceSelector instead of their IPs"})
			}
		}
	}
	if out != nil && out.Container != "" {
		res.Add(report.Finding{RuleID: RuleProbeAdded, Severity: report.SeverityInfo, Object: srcRef,
			Message: fmt.Sprintf("ephemeral container %s (image %s) was added to run the probe; it cannot be removed and stays until the pod is deleted", out.Container, out.Image),
			Fix:     "use --no-probe to change nothing"})
	}
}

func verdictSeverity(verdict string) report.Severity {
	if verdict == VerdictUnknown {
		return report.SeverityWarning
	}
	return report.SeverityError
}

// verdictObject is what the verdict's finding is about: the deciding
// policy, the Service, the destination pod, or the source pod.
func (c *checker) verdictObject(res *Result, p *Plan) report.ObjectRef {
	o := c.objs
	obj := o.podRef(p.Source)
	switch {
	case res.Verdict == VerdictBlockedByPolicy && res.Policy != nil && !res.Policy.Allowed:
		obj = o.withSource(policyRef(res.Policy))
	case res.Verdict == VerdictBlockedByPolicy && res.DNSPolicy != nil:
		obj = o.withSource(policyRef(res.DNSPolicy))
	case (res.Verdict == VerdictNoEndpoints || res.Verdict == VerdictPortMismatch) && res.Service != nil:
		obj = o.serviceRef(res.Service)
	case p.dstPod != nil:
		obj = o.podRef(p.dstPod)
	}
	if res.Verdict == VerdictUnknown && res.Service != nil {
		obj = o.serviceRef(res.Service)
	}
	return obj
}

// policyRef points at the first policy isolating a denied direction.
func policyRef(pa *PolicyAnalysis) report.ObjectRef {
	for _, d := range []netpolicy.DirectionResult{pa.Egress, pa.Ingress} {
		if !d.Allowed && len(d.IsolatedBy) > 0 {
			return report.ObjectRef{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy", Namespace: d.IsolatedBy[0].Namespace, Name: d.IsolatedBy[0].Policy}
		}
	}
	return report.ObjectRef{}
}

// probeExitUsage is the probe's exit code for arguments it cannot run with.
const probeExitUsage = 2

// probeRejected is the error for a probe that refused its arguments: the
// check never ran, so there is no network outcome to judge.
func probeRejected(o *netprobe.Outcome) error {
	if o == nil || o.ExitCode != probeExitUsage || o.Result.Result != result.Error {
		return nil
	}
	return fmt.Errorf("the probe in container %s could not run the check: %s (is the image %s a netcheck-probe of this version?)", o.Container, o.Result.Detail, o.Image)
}

func probeResult(o *netprobe.Outcome) *result.Result {
	if o == nil {
		return nil
	}
	r := o.Result
	return &r
}

func probeInfo(o *netprobe.Outcome) *ProbeInfo {
	r := o.Result
	return &ProbeInfo{Result: r.Result, LatencyMs: r.LatencyMs, Container: o.Container, Image: o.Image, ExitCode: o.ExitCode,
		Protocol: r.Protocol, Target: r.Target, Address: r.Address, Addresses: r.Addresses, DNSLatencyMs: r.DNSLatencyMs,
		HTTPStatus: r.HTTPStatus, Detail: r.Detail}
}

func isNotFound(err error) bool { return apierrors.IsNotFound(err) }

// shortErr says in a word or two why a read failed.
func shortErr(err error) string {
	switch {
	case apierrors.IsForbidden(err):
		return "forbidden"
	case apierrors.IsNotFound(err):
		return "not found"
	}
	return err.Error()
}

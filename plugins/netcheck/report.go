package netcheck

import (
	"fmt"
	"strings"

	nc "github.com/ktriage/ktriage/pkg/netcheck"
	"github.com/ktriage/ktriage/pkg/netpolicy"
	"github.com/ktriage/ktriage/pkg/printers"
	"github.com/ktriage/ktriage/pkg/report"
	"github.com/ktriage/ktriage/pkg/version"
)

// Rule IDs of kubectl netcheck. One per verdict that is not reachable, plus
// the supporting observations.
const (
	RuleBlockedByPolicy   = "NC101"
	RuleNoEndpoints       = "NC102"
	RulePortMismatch      = "NC103"
	RuleDNSFailure        = "NC104"
	RuleRefused           = "NC105"
	RuleTimeout           = "NC106"
	RuleUnknown           = "NC107"
	RuleExpectation       = "NC108"
	RuleDisagreement      = "NC201"
	RuleTargetNotDeclared = "NC202"
	RuleDNSCost           = "NC203"
	RuleIPBlockOnPod      = "NC204"
	RuleProbeAdded        = "NC205"
	RuleMuslSearch        = "NC206"
)

const plugin = "netcheck"

func init() {
	report.Register(
		report.Rule{ID: RuleBlockedByPolicy, Plugin: plugin, Severity: report.SeverityError, Title: "blocked by NetworkPolicy",
			Description: "The source pod is isolated for egress, or the destination pod for ingress, by NetworkPolicies none of whose rules allow this traffic.",
			Fix:         "Add an egress rule to a policy selecting the source, or an ingress rule to a policy selecting the destination, that matches the peer and port."},
		report.Rule{ID: RuleNoEndpoints, Plugin: plugin, Severity: report.SeverityError, Title: "Service without ready endpoints",
			Description: "The Service's EndpointSlices hold no ready endpoint for the port: its selector matches no pod, or the pods are not ready.",
			Fix:         "Make the Service's selector match running, ready pods."},
		report.Rule{ID: RulePortMismatch, Plugin: plugin, Severity: report.SeverityError, Title: "port mismatch",
			Description: "The requested port is not a port of the Service, or the Service's targetPort matches no port the pods declare or listen on.",
			Fix:         "Use one of the Service's ports and point targetPort at the container's port (by number or by name)."},
		report.Rule{ID: RuleDNSFailure, Plugin: plugin, Severity: report.SeverityError, Title: "name does not resolve",
			Description: "The destination name does not resolve from the source pod with its resolv.conf (search list and ndots).",
			Fix:         "Use <service>.<namespace> or the full name; check the cluster DNS pods and egress to them on port 53."},
		report.Rule{ID: RuleRefused, Plugin: plugin, Severity: report.SeverityError, Title: "connection refused",
			Description: "The destination answered with a reset or an ICMP port unreachable: nothing listens on that port.",
			Fix:         "Check the port the process listens on, and that it binds all addresses rather than 127.0.0.1."},
		report.Rule{ID: RuleTimeout, Plugin: plugin, Severity: report.SeverityError, Title: "no answer",
			Description: "Nothing answered within the timeout and no NetworkPolicy explains it.",
			Fix:         "Check routes and firewalls between nodes, CNI-specific policies, and the destination process."},
		report.Rule{ID: RuleUnknown, Plugin: plugin, Severity: report.SeverityWarning, Title: "reachability unknown without a probe",
			Description: "With --no-probe the cluster's objects cannot tell whether the destination answers: it is a name outside the cluster (an external host, an ExternalName Service's alias), or a Service or NetworkPolicy list could not be read. The verdict is unknown, never reachable.",
			Fix:         "Run without --no-probe, grant the reads the warning names, or check that the name resolves from the source pod and answers on the port."},
		report.Rule{ID: RuleExpectation, Plugin: plugin, Severity: report.SeverityError, Title: "connectivity expectation not met",
			Description: "An entry of the --expect file (from, to, port, protocol, expect) does not hold for the manifests, merged over the cluster or a --cluster-state dump: netcheck answers another verdict. The finding points at the entry's file and line and names what decided the verdict: the NetworkPolicy rule that allows the traffic, the policies that isolate an end with no rule allowing it (the missing rule), or the Service problem.",
			Fix:         "Change the NetworkPolicies or Services so the traffic is decided as expected (add the missing rule, or narrow the one that allows it), or correct the expectation."},
		report.Rule{ID: RuleDisagreement, Plugin: plugin, Severity: report.SeverityWarning, Title: "probe and policy analysis disagree",
			Description: "The live probe's result contradicts the NetworkPolicy analysis, e.g. traffic passed that policies block: the network plugin may not enforce NetworkPolicy, or other policies apply.",
			Fix:         "Use a network plugin that enforces NetworkPolicy, or look for CNI-specific policies."},
		report.Rule{ID: RuleTargetNotDeclared, Plugin: plugin, Severity: report.SeverityWarning, Title: "targetPort not declared by the pods",
			Description: "The Service's numeric targetPort is not among the ports the selected pods declare. Declaring ports is optional, but a mismatch is often a typo.",
			Fix:         "Set targetPort to the container's port, or declare it in the container's ports."},
		report.Rule{ID: RuleDNSCost, Plugin: plugin, Severity: report.SeverityInfo, Title: "name costs several DNS lookups",
			Description: "With the pod's search list and ndots the name is tried with several suffixes before the one that answers.",
			Fix:         "Write the fully qualified name with a trailing dot, or lower ndots with spec.dnsConfig.options."},
		report.Rule{ID: RuleMuslSearch, Plugin: plugin, Severity: report.SeverityWarning, Title: "name resolves only through the search list despite ndots",
			Description: "The name has at least ndots dots, so glibc and Go try it as is and then with the search list, where it resolves; musl (Alpine-based images) tries it as is only and fails.",
			Fix:         "Use the name that answers (with the namespace and svc.cluster.local), or raise ndots for the pod."},
		report.Rule{ID: RuleIPBlockOnPod, Plugin: plugin, Severity: report.SeverityInfo, Title: "ipBlock matched a pod IP",
			Description: "A NetworkPolicy ipBlock allowed the traffic by a pod's IP. Pod IPs change, and whether network plugins apply ipBlocks to pod traffic is left undefined by the API.",
			Fix:         "Select pods with podSelector/namespaceSelector instead of their IPs."},
		report.Rule{ID: RuleProbeAdded, Plugin: plugin, Severity: report.SeverityInfo, Title: "probe container added",
			Description: "An ephemeral container ran the probe in the source pod. Ephemeral containers cannot be removed; it stays, stopped, until the pod is deleted.",
			Fix:         "Use --no-probe to change nothing."},
	)
}

// verdictRules maps a verdict to its rule.
var verdictRules = map[string]string{
	nc.VerdictBlockedByPolicy: RuleBlockedByPolicy,
	nc.VerdictNoEndpoints:     RuleNoEndpoints,
	nc.VerdictPortMismatch:    RulePortMismatch,
	nc.VerdictDNSFailure:      RuleDNSFailure,
	nc.VerdictRefused:         RuleRefused,
	nc.VerdictTimeout:         RuleTimeout,
	nc.VerdictUnknown:         RuleUnknown,
}

// Report is the NetcheckReport document.
type Report struct {
	report.Report
	Verdict      string              `json:"verdict"`
	Basis        string              `json:"basis"`
	Reason       string              `json:"reason"`
	Fix          string              `json:"fix,omitempty"`
	Disagreement string              `json:"disagreement,omitempty"`
	Source       PodInfo             `json:"source"`
	Destination  DestinationInfo     `json:"destination"`
	Probe        *ProbeInfo          `json:"probe"`
	Policy       *nc.PolicyAnalysis  `json:"policy"`
	Service      *nc.ServiceAnalysis `json:"service,omitempty"`
	DNS          *nc.DNSAnalysis     `json:"dns,omitempty"`
	// DNSPolicy is the source's egress to the cluster DNS pods on UDP 53,
	// judged when the destination is a name.
	DNSPolicy *nc.PolicyAnalysis `json:"dnsPolicy,omitempty"`
}

// PodInfo describes a pod end.
type PodInfo struct {
	Namespace   string `json:"namespace"`
	Name        string `json:"name"`
	Node        string `json:"node,omitempty"`
	IP          string `json:"ip,omitempty"`
	HostNetwork bool   `json:"hostNetwork,omitempty"`
}

// DestinationInfo is the destination as asked and as resolved.
type DestinationInfo struct {
	nc.Destination
	Input    string   `json:"input"`
	Protocol string   `json:"protocol"`
	Pod      *PodInfo `json:"pod,omitempty"`
	// ProbeTarget is what the probe connects to (host:port or the name).
	ProbeTarget string `json:"probeTarget,omitempty"`
}

// ProbeInfo is the .probe section.
type ProbeInfo struct {
	Result       string   `json:"result"`
	LatencyMs    float64  `json:"latencyMs"`
	Container    string   `json:"container"`
	Image        string   `json:"image"`
	ExitCode     int32    `json:"exitCode"`
	Protocol     string   `json:"protocol"`
	Target       string   `json:"target"`
	Address      string   `json:"address,omitempty"`
	Addresses    []string `json:"addresses,omitempty"`
	DNSLatencyMs float64  `json:"dnsLatencyMs,omitempty"`
	HTTPStatus   int      `json:"httpStatus,omitempty"`
	Detail       string   `json:"detail,omitempty"`
}

func newReport() *Report {
	return &Report{Report: report.New("NetcheckReport", plugin, version.Get())}
}

// Tables renders the answer first, then each check.
func (r *Report) Tables(wide bool) []printers.Table {
	sev := report.SeverityNone
	if r.Verdict != nc.VerdictReachable {
		sev = report.SeverityError
	}
	head := printers.Table{Columns: []string{"SOURCE", "DESTINATION", "PROTOCOL", "VERDICT", "BASIS"}}
	head.Rows = [][]printers.Cell{{
		printers.Text(r.Source.Namespace + "/" + r.Source.Name),
		printers.Text(r.Destination.Input),
		printers.Text(r.Destination.Protocol),
		printers.Sev(r.Verdict, sev),
		printers.Text(r.Basis),
	}}
	checks := printers.Table{Columns: []string{"CHECK", "RESULT", "DETAIL"}}
	add := func(check, res string, s report.Severity, detail string) {
		checks.Rows = append(checks.Rows, []printers.Cell{printers.Text(check), printers.Sev(res, s), printers.Text(detail)})
	}
	if r.Probe != nil {
		s := report.SeverityNone
		if r.Probe.Result != "reachable" {
			s = report.SeverityError
		}
		d := fmt.Sprintf("%s %s in %.1f ms (container %s)", r.Probe.Protocol, r.Probe.Target, r.Probe.LatencyMs, r.Probe.Container)
		if r.Probe.HTTPStatus != 0 {
			d += fmt.Sprintf(", HTTP %d", r.Probe.HTTPStatus)
		}
		if r.Probe.Detail != "" {
			d += ": " + r.Probe.Detail
		}
		add("probe", r.Probe.Result, s, d)
	} else if strings.HasPrefix(r.Metadata.Input, "files") {
		add("probe", "skipped", report.SeverityNone, "-f: explained from the manifests (a probe needs a live pod)")
	} else {
		add("probe", "skipped", report.SeverityNone, "--no-probe: explained from the cluster's objects only")
	}
	if r.DNS != nil {
		var names []string
		for _, q := range r.DNS.Queries {
			n := q.Name
			if q.Answer != "" {
				n += " (" + q.Answer + ")"
			}
			names = append(names, n)
		}
		d := fmt.Sprintf("%d lookup(s), ndots:%d: %s", r.DNS.Lookups, r.DNS.ResolvConf.Ndots, strings.Join(names, ", "))
		if r.DNS.ResolvConf.NodeSearchesUnknown && r.DNS.Resolves != "yes" {
			d += " (plus the node's own search domains)"
		}
		s := report.SeverityNone
		if r.DNS.Resolves == "no" {
			s = report.SeverityError
		}
		add("dns", "resolves: "+r.DNS.Resolves, s, d)
	}
	if sv := r.Service; sv != nil {
		res, s := "ok", report.SeverityNone
		if p, blocked := sv.Blocking(); blocked {
			res, s = p.Reason, report.SeverityError
		} else if len(sv.Problems) > 0 {
			res, s = sv.Problems[0].Reason, report.SeverityWarning
		}
		d := fmt.Sprintf("service %s/%s", sv.Namespace, sv.Name)
		if sv.Port != nil {
			d += fmt.Sprintf(" port %d -> targetPort %s", sv.Port.Port, sv.Port.TargetPort)
		}
		d += fmt.Sprintf(", %d ready of %d endpoint(s)", sv.Ready, len(sv.Endpoints))
		if sv.SelectedPods >= 0 {
			d += fmt.Sprintf(", selector matches %d pod(s)", sv.SelectedPods)
		}
		add("service", res, s, d)
	}
	if p := r.Policy; p != nil {
		for _, dir := range []netpolicy.DirectionResult{p.Egress, p.Ingress} {
			res, s := "allowed", report.SeverityNone
			if !dir.Allowed {
				res, s = "denied", report.SeverityError
			}
			add(string(dir.Direction)+" policy", res, s, directionDetail(dir))
		}
		if wide {
			for _, t := range p.Targets {
				res := "allowed"
				if !t.Allowed {
					res = "denied"
				}
				addr := fmt.Sprintf("%s:%d", t.IP, t.Port)
				if t.IP == "" {
					addr = fmt.Sprintf("port %d", t.Port) // a pod built from a manifest has no IP
				}
				add("backend", res, report.SeverityNone, fmt.Sprintf("%s/%s %s egress %s, ingress %s", t.Namespace, t.Pod, addr, t.Egress.Reason, t.Ingress.Reason))
			}
		}
	} else {
		add("policy", "not evaluated", report.SeverityNone, "no backend pod or address to evaluate")
	}
	if p := r.DNSPolicy; p != nil {
		res, s := "allowed", report.SeverityNone
		if !p.Egress.Allowed {
			res, s = "denied", report.SeverityError
		}
		add("dns egress policy", res, s, directionDetail(p.Egress))
	}
	tail := printers.Table{Title: "Verdict: " + r.Verdict + ": " + r.Reason}
	if r.Fix != "" {
		tail.Title += "\nFix: " + r.Fix
	}
	if r.Disagreement != "" {
		tail.Title += "\nWarning: " + r.Disagreement
	}
	tables := []printers.Table{head, checks, tail}
	if wide && len(r.Findings) > 0 {
		tables = append(tables, printers.FindingsTable(r.Findings, true))
	}
	return tables
}

func directionDetail(d netpolicy.DirectionResult) string {
	switch d.Reason {
	case netpolicy.ReasonAllowedBy:
		return "allowed by " + d.AllowedBy[0].String()
	case netpolicy.ReasonNoRuleAllows:
		var names []string
		for _, p := range d.IsolatedBy {
			names = append(names, p.String())
		}
		return "isolated by " + strings.Join(names, ", ") + "; no rule allows it"
	case netpolicy.ReasonNotIsolated:
		return "no policy selects the pod for " + string(d.Direction)
	case netpolicy.ReasonHostNetwork:
		return "host-network pod: policies do not apply"
	case netpolicy.ReasonNodeLocal:
		return "traffic with the pod's own node is always allowed"
	case netpolicy.ReasonNotAPod:
		return "outside the pod network: nothing to isolate"
	case netpolicy.ReasonSelf:
		return "a pod cannot block traffic to itself"
	}
	return d.Reason
}

package netcheck

import "github.com/ktriage/ktriage/pkg/report"

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

// Plugin names netcheck in reports and in the rule registry.
const Plugin = "netcheck"

func init() {
	report.Register(
		report.Rule{ID: RuleBlockedByPolicy, Plugin: Plugin, Severity: report.SeverityError, Title: "blocked by NetworkPolicy",
			Description: "The source pod is isolated for egress, or the destination pod for ingress, by NetworkPolicies none of whose rules allow this traffic.",
			Fix:         "Add an egress rule to a policy selecting the source, or an ingress rule to a policy selecting the destination, that matches the peer and port."},
		report.Rule{ID: RuleNoEndpoints, Plugin: Plugin, Severity: report.SeverityError, Title: "Service without ready endpoints",
			Description: "The Service's EndpointSlices hold no ready endpoint for the port: its selector matches no pod, or the pods are not ready.",
			Fix:         "Make the Service's selector match running, ready pods."},
		report.Rule{ID: RulePortMismatch, Plugin: Plugin, Severity: report.SeverityError, Title: "port mismatch",
			Description: "The requested port is not a port of the Service, or the Service's targetPort matches no port the pods declare or listen on.",
			Fix:         "Use one of the Service's ports and point targetPort at the container's port (by number or by name)."},
		report.Rule{ID: RuleDNSFailure, Plugin: Plugin, Severity: report.SeverityError, Title: "name does not resolve",
			Description: "The destination name does not resolve from the source pod with its resolv.conf (search list and ndots).",
			Fix:         "Use <service>.<namespace> or the full name; check the cluster DNS pods and egress to them on port 53."},
		report.Rule{ID: RuleRefused, Plugin: Plugin, Severity: report.SeverityError, Title: "connection refused",
			Description: "The destination answered with a reset or an ICMP port unreachable: nothing listens on that port.",
			Fix:         "Check the port the process listens on, and that it binds all addresses rather than 127.0.0.1."},
		report.Rule{ID: RuleTimeout, Plugin: Plugin, Severity: report.SeverityError, Title: "no answer",
			Description: "Nothing answered within the timeout and no NetworkPolicy explains it.",
			Fix:         "Check routes and firewalls between nodes, CNI-specific policies, and the destination process."},
		report.Rule{ID: RuleUnknown, Plugin: Plugin, Severity: report.SeverityWarning, Title: "reachability unknown without a probe",
			Description: "With --no-probe the cluster's objects cannot tell whether the destination answers: it is a name outside the cluster (an external host, an ExternalName Service's alias), or a Service or NetworkPolicy list could not be read. The verdict is unknown, never reachable.",
			Fix:         "Run without --no-probe, grant the reads the warning names, or check that the name resolves from the source pod and answers on the port."},
		report.Rule{ID: RuleExpectation, Plugin: Plugin, Severity: report.SeverityError, Title: "connectivity expectation not met",
			Description: "An entry of the --expect file (from, to, port, protocol, expect) does not hold for the manifests, merged over the cluster or a --cluster-state dump: netcheck answers another verdict. The finding points at the entry's file and line and names what decided the verdict: the NetworkPolicy rule that allows the traffic, the policies that isolate an end with no rule allowing it (the missing rule), or the Service problem.",
			Fix:         "Change the NetworkPolicies or Services so the traffic is decided as expected (add the missing rule, or narrow the one that allows it), or correct the expectation."},
		report.Rule{ID: RuleDisagreement, Plugin: Plugin, Severity: report.SeverityWarning, Title: "probe and policy analysis disagree",
			Description: "The live probe's result contradicts the NetworkPolicy analysis, e.g. traffic passed that policies block: the network plugin may not enforce NetworkPolicy, or other policies apply.",
			Fix:         "Use a network plugin that enforces NetworkPolicy, or look for CNI-specific policies."},
		report.Rule{ID: RuleTargetNotDeclared, Plugin: Plugin, Severity: report.SeverityWarning, Title: "targetPort not declared by the pods",
			Description: "The Service's numeric targetPort is not among the ports the selected pods declare. Declaring ports is optional, but a mismatch is often a typo.",
			Fix:         "Set targetPort to the container's port, or declare it in the container's ports."},
		report.Rule{ID: RuleDNSCost, Plugin: Plugin, Severity: report.SeverityInfo, Title: "name costs several DNS lookups",
			Description: "With the pod's search list and ndots the name is tried with several suffixes before the one that answers.",
			Fix:         "Write the fully qualified name with a trailing dot, or lower ndots with spec.dnsConfig.options."},
		report.Rule{ID: RuleMuslSearch, Plugin: Plugin, Severity: report.SeverityWarning, Title: "name resolves only through the search list despite ndots",
			Description: "The name has at least ndots dots, so glibc and Go try it as is and then with the search list, where it resolves; musl (Alpine-based images) tries it as is only and fails.",
			Fix:         "Use the name that answers (with the namespace and svc.cluster.local), or raise ndots for the pod."},
		report.Rule{ID: RuleIPBlockOnPod, Plugin: Plugin, Severity: report.SeverityInfo, Title: "ipBlock matched a pod IP",
			Description: "A NetworkPolicy ipBlock allowed the traffic by a pod's IP. Pod IPs change, and whether network plugins apply ipBlocks to pod traffic is left undefined by the API.",
			Fix:         "Select pods with podSelector/namespaceSelector instead of their IPs."},
		report.Rule{ID: RuleProbeAdded, Plugin: Plugin, Severity: report.SeverityInfo, Title: "probe container added",
			Description: "An ephemeral container ran the probe in the source pod. Ephemeral containers cannot be removed; it stays, stopped, until the pod is deleted.",
			Fix:         "Use --no-probe to change nothing."},
	)
}

// verdictRules maps a verdict to its rule.
var verdictRules = map[string]string{
	VerdictBlockedByPolicy: RuleBlockedByPolicy,
	VerdictNoEndpoints:     RuleNoEndpoints,
	VerdictPortMismatch:    RulePortMismatch,
	VerdictDNSFailure:      RuleDNSFailure,
	VerdictRefused:         RuleRefused,
	VerdictTimeout:         RuleTimeout,
	VerdictUnknown:         RuleUnknown,
}

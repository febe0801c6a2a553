package netcheck

import (
	"github.com/ktriage/ktriage/pkg/report"
	"github.com/ktriage/ktriage/pkg/version"
)

// Result is the NetcheckReport document of one check: the common report
// (findings, warnings, metadata) and, at the top level, the verdict and the
// sections scripts read (.source, .destination, .probe, .policy, .service,
// .dns, .dnsPolicy).
type Result struct {
	report.Report
	Verdict      string           `json:"verdict"`
	Basis        string           `json:"basis"`
	Reason       string           `json:"reason"`
	Fix          string           `json:"fix,omitempty"`
	Disagreement string           `json:"disagreement,omitempty"`
	Source       PodInfo          `json:"source"`
	Destination  DestinationInfo  `json:"destination"`
	Probe        *ProbeInfo       `json:"probe"`
	Policy       *PolicyAnalysis  `json:"policy"`
	Service      *ServiceAnalysis `json:"service,omitempty"`
	DNS          *DNSAnalysis     `json:"dns,omitempty"`
	// DNSPolicy is the source's egress to the cluster DNS pods on UDP 53,
	// judged when the destination is a name.
	DNSPolicy *PolicyAnalysis `json:"dnsPolicy,omitempty"`
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
	Destination
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

// newReport is the common part of every NetcheckReport.
func newReport() report.Report {
	return report.New("NetcheckReport", Plugin, version.Get())
}

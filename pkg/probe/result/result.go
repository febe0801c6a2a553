package result

import (
	"encoding/json"
	"fmt"
)

// Outcomes of a probe. They are part of the JSON output (.probe.result).
const (
	Reachable   = "reachable"   // connected, got a UDP/DNS answer, an HTTP status, or resolved the name
	Refused     = "refused"     // the destination answered with a reset or ICMP port unreachable
	Timeout     = "timeout"     // nothing answered within the timeout
	Unreachable = "unreachable" // no route to the host or network (often a rejecting firewall)
	DNSFailure  = "dns-failure" // the name did not resolve
	Error       = "error"       // the probe could not run the check
)

// Exit codes of the probe, one per outcome, so the result can be read even
// when the termination message is lost.
var ExitCodes = map[string]int32{
	Reachable:   0,
	Refused:     10,
	Timeout:     11,
	Unreachable: 12,
	DNSFailure:  13,
	Error:       14,
}

// OutcomeForExitCode maps a probe's exit code back to its outcome.
func OutcomeForExitCode(code int32) (string, bool) {
	for k, v := range ExitCodes {
		if v == code {
			return k, true
		}
	}
	return "", false
}

// MaxMessageBytes is the kubelet's limit on a termination message.
const MaxMessageBytes = 4096

// Result is the probe's report.
type Result struct {
	Result   string `json:"result"`
	Protocol string `json:"protocol"`
	// Target is what was checked: host:port, or the name for dns.
	Target string `json:"target"`
	// Addresses are the name's addresses as the pod's resolver returned them.
	Addresses []string `json:"addresses,omitempty"`
	// Address is the address connected to.
	Address      string  `json:"address,omitempty"`
	LatencyMs    float64 `json:"latencyMs"`
	DNSLatencyMs float64 `json:"dnsLatencyMs,omitempty"`
	HTTPStatus   int     `json:"httpStatus,omitempty"`
	Detail       string  `json:"detail,omitempty"`
	// ResolvConf is the pod's /etc/resolv.conf, as the probe read it.
	ResolvConf string `json:"resolvConf,omitempty"`
}

// Marshal encodes r within the termination message limit, dropping the
// resolv.conf text and then shortening the detail when it does not fit.
func Marshal(r Result) []byte {
	b, _ := json.Marshal(r)
	if len(b) <= MaxMessageBytes {
		return b
	}
	r.ResolvConf = ""
	b, _ = json.Marshal(r)
	for len(b) > MaxMessageBytes && len(r.Detail) > 64 {
		r.Detail = r.Detail[:len(r.Detail)/2]
		b, _ = json.Marshal(r)
	}
	for len(b) > MaxMessageBytes && len(r.Addresses) > 1 {
		r.Addresses = r.Addresses[:len(r.Addresses)/2]
		b, _ = json.Marshal(r)
	}
	return b
}

// Parse decodes a termination message.
func Parse(msg string) (Result, error) {
	var r Result
	if err := json.Unmarshal([]byte(msg), &r); err != nil {
		return r, fmt.Errorf("the probe's termination message is not its JSON result: %w", err)
	}
	if _, ok := ExitCodes[r.Result]; !ok {
		return r, fmt.Errorf("the probe reported an unknown result %q", r.Result)
	}
	return r, nil
}

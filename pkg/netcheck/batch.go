package netcheck

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/ktriage/ktriage/pkg/netpolicy"
	"github.com/ktriage/ktriage/pkg/report"
)

// BatchResult is the NetcheckReport of --expect and --matrix: the common
// report with .expectations and .matrix instead of one verdict.
type BatchResult struct {
	report.Report
	Expectations []ExpectationResult `json:"expectations,omitempty"`
	Matrix       *Matrix             `json:"matrix,omitempty"`
}

// ExpectationResult is an expectation and what netcheck answers for it.
type ExpectationResult struct {
	Expectation
	Verdict string `json:"verdict"`
	Met     bool   `json:"met"`
	Reason  string `json:"reason"`
	// DecidedBy names what decided the verdict: the policy rule that
	// allows the traffic, the policies isolating an end without a rule
	// allowing it, or the Service problem.
	DecidedBy string `json:"decidedBy,omitempty"`
}

// Matrix is who reaches whom among the workloads, on the ports they declare.
type Matrix struct {
	// Diff is set with --cluster-state OLD -f NEW: Cells then holds only
	// what changed.
	Diff      bool             `json:"diff"`
	Workloads []MatrixWorkload `json:"workloads"`
	Cells     []MatrixCell     `json:"cells"`
}

// MatrixWorkload is one row and column of the matrix.
type MatrixWorkload struct {
	Namespace string       `json:"namespace"`
	Kind      string       `json:"kind"`
	Name      string       `json:"name"`
	Ports     []MatrixPort `json:"ports"`
}

// MatrixPort is a container port a workload declares.
type MatrixPort struct {
	Port     int32  `json:"port"`
	Name     string `json:"name,omitempty"`
	Protocol string `json:"protocol"`
}

// MatrixCell is the verdict for one source, destination and port. From and
// To are NAMESPACE/KIND/NAME (shop/deployment/web).
type MatrixCell struct {
	From      string `json:"from"`
	To        string `json:"to"`
	Port      int32  `json:"port"`
	PortName  string `json:"portName,omitempty"`
	Protocol  string `json:"protocol"`
	Verdict   string `json:"verdict,omitempty"`
	DecidedBy string `json:"decidedBy,omitempty"`
	// Change (added, removed, changed) and Before (the verdict with OLD)
	// are set in a diff; a removed cell has no Verdict.
	Change string `json:"change,omitempty"`
	Before string `json:"before,omitempty"`
}

// Matrix changes.
const (
	ChangeAdded   = "added"
	ChangeRemoved = "removed"
	ChangeChanged = "changed"
)

// NewBatchResult starts the report of --expect and --matrix.
func NewBatchResult() *BatchResult {
	return &BatchResult{Report: newReport()}
}

// Count fills the summary's counts: the expectations, those not met, and
// the matrix's cells.
func (r *BatchResult) Count() {
	r.Summary.Counts = map[string]int{}
	if len(r.Expectations) > 0 {
		notMet := 0
		for _, e := range r.Expectations {
			if !e.Met {
				notMet++
			}
		}
		r.Summary.Counts["expectations"] = len(r.Expectations)
		r.Summary.Counts["expectationsNotMet"] = notMet
	}
	if r.Matrix != nil {
		r.Summary.Counts["matrixCells"] = len(r.Matrix.Cells)
	}
}

// Expect answers the expectations, each with the analysis SRC DST runs on
// chk's options (its Src, Dst, Port and Protocol are the entry's). Each one
// not met is an NC108 finding at the entry's line. It returns the
// results, the findings and the checks' warnings; an error names the
// entry's file and line.
func Expect(objs *Objects, chk Check, expectations []Expectation) ([]ExpectationResult, []report.Finding, []string, error) {
	var results []ExpectationResult
	var findings []report.Finding
	var warnings []string
	for _, e := range expectations {
		res, f, ws, err := expectation(objs, chk, e)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("%s:%d: %v", e.Source.File, e.Source.Line, err)
		}
		results = append(results, res)
		warnings = append(warnings, ws...)
		if f != nil {
			findings = append(findings, *f)
		}
	}
	return results, findings, warnings, nil
}

// expectation answers one expectation with the analysis SRC DST runs.
func expectation(objs *Objects, chk Check, e Expectation) (ExpectationResult, *report.Finding, []string, error) {
	chk.Src, chk.Dst, chk.Port, chk.Protocol = e.From, e.To, e.Port, e.Protocol
	if e.Namespace != "" {
		chk.Namespace, chk.NamespaceExplicit = e.Namespace, true
	}
	rep, err := answer(objs, chk)
	if err != nil {
		return ExpectationResult{}, nil, nil, err
	}
	decided, ref := decision(rep, objs)
	res := ExpectationResult{Expectation: e, Verdict: rep.Verdict, Met: e.Met(rep.Verdict), Reason: rep.Reason, DecidedBy: decided}
	if res.Met {
		return res, nil, rep.Metadata.Warnings, nil
	}
	port := e.Port
	if port == "" && rep.Destination.Port != 0 {
		port = strconv.Itoa(int(rep.Destination.Port))
	}
	what := fmt.Sprintf("%s -> %s", e.From, e.To)
	if port != "" {
		what += " port " + port
	}
	what += "/" + e.Protocol
	f := &report.Finding{RuleID: RuleExpectation, Severity: report.SeverityError, Object: ref.WithSource(&res.Source),
		Message: fmt.Sprintf("expected %s, got %s: %s: %s", e.Expect, rep.Verdict, what, decided),
		Fix:     expectationFix(e, rep),
		Details: map[string]any{"from": e.From, "to": e.To, "port": port, "protocol": e.Protocol, "expect": e.Expect,
			"verdict": rep.Verdict, "decidedBy": decided, "reason": rep.Reason}}
	if r := decidingRule(rep); r != nil {
		f.Details["rule"] = r
	}
	return res, f, rep.Metadata.Warnings, nil
}

// answer runs a check without a probe on objects that hold all it reads
// (manifests).
func answer(objs *Objects, chk Check) (*Result, error) {
	p, err := PlanCheck(objs, chk)
	if err != nil {
		return nil, err
	}
	return p.Conclude(nil)
}

// expectationFix says what would make the expectation hold.
func expectationFix(e Expectation, rep *Result) string {
	if rep.Verdict != VerdictReachable {
		if rep.Fix != "" {
			return rep.Fix + ", or correct the expectation"
		}
		return "correct the expectation, or change what the reason names"
	}
	if r := decidingRule(rep); r != nil {
		return fmt.Sprintf("remove or narrow %s/%s %s rule %d, which allows this traffic, or correct the expectation", r.Namespace, r.Policy, r.Direction, r.Rule)
	}
	return "add a NetworkPolicy that selects the destination for ingress (or the source for egress) with no rule allowing this traffic, or correct the expectation"
}

// ruleRef is a policy rule with its direction.
type ruleRef struct {
	netpolicy.RuleRef
	Direction netpolicy.Direction `json:"direction"`
}

// decidingRule is the rule that allowed reachable traffic: ingress first
// (the destination's own policy is usually the one to change), else egress.
func decidingRule(rep *Result) *ruleRef {
	if rep.Verdict != VerdictReachable || rep.Policy == nil {
		return nil
	}
	for _, d := range []netpolicy.DirectionResult{rep.Policy.Ingress, rep.Policy.Egress} {
		if d.Reason == netpolicy.ReasonAllowedBy && len(d.AllowedBy) > 0 {
			return &ruleRef{RuleRef: d.AllowedBy[0], Direction: d.Direction}
		}
	}
	return nil
}

// denial names the policies that isolate a denied direction: "ingress: no
// rule of shop/db-from-api allows it".
func denial(pa *PolicyAnalysis, suffix string) string {
	var parts []string
	for _, d := range []netpolicy.DirectionResult{pa.Egress, pa.Ingress} {
		if d.Allowed {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s%s: no rule of %s allows it", d.Direction, suffix, refs(d.IsolatedBy)))
	}
	return strings.Join(parts, "; ")
}

func sortedMapKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// declared lists the TCP and UDP ports a pod's containers declare, once each.
func declared(p *corev1.Pod) []MatrixPort {
	seen := map[string]bool{}
	var out []MatrixPort
	for _, cp := range containerPorts(p) {
		if cp.Protocol != corev1.ProtocolTCP && cp.Protocol != corev1.ProtocolUDP {
			continue
		}
		k := fmt.Sprintf("%d/%s", cp.ContainerPort, cp.Protocol)
		if !seen[k] {
			seen[k] = true
			out = append(out, MatrixPort{Port: cp.ContainerPort, Name: cp.Name, Protocol: string(cp.Protocol)})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Port != out[j].Port {
			return out[i].Port < out[j].Port
		}
		return out[i].Protocol < out[j].Protocol
	})
	return out
}

func matrixWorkloads(wls []*Workload) []MatrixWorkload {
	out := []MatrixWorkload{}
	for _, wl := range wls {
		ports := declared(wl.Pod)
		if ports == nil {
			ports = []MatrixPort{}
		}
		out = append(out, MatrixWorkload{Namespace: wl.Namespace, Kind: wl.Kind, Name: wl.Name, Ports: ports})
	}
	return out
}

// decision names what decided the verdict, and the object a finding about
// it points at.
func decision(rep *Result, o *Objects) (string, report.ObjectRef) {
	dst := report.ObjectRef{}
	if rep.Destination.Pod != nil {
		dst = report.ObjectRef{Kind: "Pod", Namespace: rep.Destination.Pod.Namespace, Name: rep.Destination.Pod.Name}
	}
	switch {
	case rep.Verdict == VerdictBlockedByPolicy && rep.Policy != nil && !rep.Policy.Allowed:
		return denial(rep.Policy, ""), o.withSource(policyRef(rep.Policy))
	case rep.Verdict == VerdictBlockedByPolicy && rep.DNSPolicy != nil:
		return denial(rep.DNSPolicy, " to the cluster DNS"), o.withSource(policyRef(rep.DNSPolicy))
	case rep.Verdict == VerdictReachable && rep.Policy != nil:
		var parts []string
		for _, d := range []netpolicy.DirectionResult{rep.Policy.Egress, rep.Policy.Ingress} {
			switch d.Reason {
			case netpolicy.ReasonAllowedBy:
				parts = append(parts, fmt.Sprintf("%s allowed by %s", d.Direction, d.AllowedBy[0]))
			case netpolicy.ReasonNotIsolated:
				end := "source"
				if d.Direction == netpolicy.Ingress {
					end = "destination"
				}
				parts = append(parts, fmt.Sprintf("no %s policy selects the %s", d.Direction, end))
			default:
				parts = append(parts, string(d.Direction)+": "+DirectionDetail(d))
			}
		}
		if r := decidingRule(rep); r != nil {
			return strings.Join(parts, "; "), o.withSource(report.ObjectRef{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy", Namespace: r.Namespace, Name: r.Policy})
		}
		return strings.Join(parts, "; "), dst
	case rep.Service != nil && (rep.Verdict == VerdictPortMismatch || rep.Verdict == VerdictNoEndpoints || rep.Verdict == VerdictUnknown):
		return rep.Reason, o.serviceRef(rep.Service)
	}
	return rep.Reason, dst
}

// MatrixOf is who reaches whom among the workloads of the namespaces, on
// the ports they declare, with chk's options; it returns the checks'
// warnings too.
func MatrixOf(objs *Objects, chk Check, namespaces map[string]bool) (*Matrix, []string, error) {
	wls, cells, warnings, err := matrixCells(objs, chk, namespaces)
	if err != nil {
		return nil, nil, err
	}
	return &Matrix{Workloads: matrixWorkloads(wls), Cells: cells}, warnings, nil
}

// MatrixDiff is what changes from the matrix of old to that of new: only
// the cells added, removed or with another verdict.
func MatrixDiff(old, new *Objects, chk Check, namespaces map[string]bool) (*Matrix, []string, error) {
	oldW, before, oldWarnings, err := matrixCells(old, chk, namespaces)
	if err != nil {
		return nil, nil, fmt.Errorf("with --cluster-state: %w", err)
	}
	newW, after, newWarnings, err := matrixCells(new, chk, namespaces)
	if err != nil {
		return nil, nil, err
	}
	key := func(c MatrixCell) string { return fmt.Sprintf("%s|%s|%d|%s", c.From, c.To, c.Port, c.Protocol) }
	prev := map[string]MatrixCell{}
	for _, c := range before {
		prev[key(c)] = c
	}
	var changed []MatrixCell
	for _, c := range after {
		b, ok := prev[key(c)]
		delete(prev, key(c))
		switch {
		case !ok:
			c.Change = ChangeAdded
		case b.Verdict != c.Verdict:
			c.Change, c.Before = ChangeChanged, b.Verdict
		default:
			continue
		}
		changed = append(changed, c)
	}
	for _, b := range prev {
		changed = append(changed, MatrixCell{From: b.From, To: b.To, Port: b.Port, PortName: b.PortName, Protocol: b.Protocol, Change: ChangeRemoved, Before: b.Verdict, DecidedBy: b.DecidedBy})
	}
	sort.Slice(changed, func(i, j int) bool { return key(changed[i]) < key(changed[j]) })
	all := map[string]*Workload{}
	for _, wl := range append(oldW, newW...) {
		all[wl.ID()] = wl
	}
	var wls []*Workload
	for _, id := range sortedMapKeys(all) {
		wls = append(wls, all[id])
	}
	return &Matrix{Diff: true, Workloads: matrixWorkloads(wls), Cells: changed}, append(oldWarnings, newWarnings...), nil
}

// matrixCells judges every workload's traffic to every other one's declared
// ports; a workload's traffic to itself is not judged.
func matrixCells(objs *Objects, chk Check, namespaces map[string]bool) ([]*Workload, []MatrixCell, []string, error) {
	var wls []*Workload
	for _, wl := range objs.world.Workloads {
		if namespaces[wl.Namespace] && wl.Pod != nil {
			wls = append(wls, wl)
		}
	}
	var cells []MatrixCell
	var warnings []string
	for _, src := range wls {
		for _, dst := range wls {
			if src == dst {
				continue
			}
			for _, p := range declared(dst.Pod) {
				c := chk
				c.Port, c.Protocol = "", strings.ToLower(p.Protocol)
				d := Destination{Kind: KindPod, Namespace: dst.Namespace, Name: dst.Name, Port: p.Port}
				if dst.Kind != WorkloadPod {
					d.Workload = dst.Kind
				}
				rep, err := matrixCell(newChecker(objs, c), src.Pod, d, fmt.Sprintf("%s:%d", dst.Ref(), p.Port))
				if err != nil {
					return nil, nil, nil, fmt.Errorf("--matrix: %s to %s port %d/%s: %v", src.ID(), dst.ID(), p.Port, p.Protocol, err)
				}
				decided, _ := decision(rep, objs)
				cells = append(cells, MatrixCell{From: src.ID(), To: dst.ID(), Port: p.Port, PortName: p.Name, Protocol: p.Protocol, Verdict: rep.Verdict, DecidedBy: decided})
				warnings = append(warnings, rep.Metadata.Warnings...)
			}
		}
	}
	return wls, cells, warnings, nil
}

func matrixCell(c *checker, src *corev1.Pod, dst Destination, input string) (*Result, error) {
	p, err := c.plan(src, dst, input)
	if err != nil {
		return nil, err
	}
	return p.Conclude(nil)
}

// DirectionDetail says in words how the policies decided one direction.
func DirectionDetail(d netpolicy.DirectionResult) string {
	switch d.Reason {
	case netpolicy.ReasonAllowedBy:
		return "allowed by " + d.AllowedBy[0].String()
	case netpolicy.ReasonNoRuleAllows:
		return "isolated by " + refs(d.IsolatedBy) + "; no rule allows it"
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

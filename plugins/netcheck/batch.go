package netcheck

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/ktriage/ktriage/pkg/cli"
	"github.com/ktriage/ktriage/pkg/cluster"
	nc "github.com/ktriage/ktriage/pkg/netcheck"
	"github.com/ktriage/ktriage/pkg/netpolicy"
	"github.com/ktriage/ktriage/pkg/printers"
	"github.com/ktriage/ktriage/pkg/report"
	"github.com/ktriage/ktriage/pkg/version"
)

// BatchReport is the NetcheckReport of --expect and --matrix: the common
// report with .expectations and .matrix instead of one verdict.
type BatchReport struct {
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

func newBatchReport() *BatchReport {
	return &BatchReport{Report: report.New("NetcheckReport", plugin, version.Get())}
}

// runBatch answers the expectations and builds the matrix. It returns the
// report and how many expectations were not met.
func (o *Options) runBatch(ctx context.Context, m *manifests, expectations []Expectation) (*BatchReport, int, error) {
	rep := newBatchReport()
	m.describe(&rep.Report, o)
	mismatches := 0
	var warnings []string
	if len(expectations) > 0 {
		w := m.world()
		l := m.loader(w)
		for _, e := range expectations {
			res, f, err := o.expectation(ctx, l, e)
			if err != nil {
				return nil, 0, fmt.Errorf("%s:%d: %s", e.Source.File, e.Source.Line, cli.OneLine(err))
			}
			rep.Expectations = append(rep.Expectations, res)
			if f != nil {
				rep.Add(*f)
				mismatches++
			}
		}
		warnings = append(append(warnings, w.Snapshot.Warnings...), l.warnings...)
	}
	if o.Matrix {
		mx, ws, err := o.matrix(ctx, m)
		if err != nil {
			return nil, 0, err
		}
		rep.Matrix = mx
		warnings = append(warnings, ws...)
	}
	seen := map[string]bool{}
	for _, w := range warnings {
		if !seen[w] {
			seen[w] = true
			rep.Warn(w)
		}
	}
	rep.Summary.Counts = map[string]int{}
	if len(expectations) > 0 {
		rep.Summary.Counts["expectations"] = len(expectations)
		rep.Summary.Counts["expectationsNotMet"] = mismatches
	}
	if rep.Matrix != nil {
		rep.Summary.Counts["matrixCells"] = len(rep.Matrix.Cells)
	}
	return rep, mismatches, nil
}

// expectation answers one expectation with the analysis SRC DST runs.
func (o *Options) expectation(ctx context.Context, l *loader, e Expectation) (ExpectationResult, *report.Finding, error) {
	eo := *o
	eo.Src, eo.Dst, eo.Port, eo.Protocol = e.From, e.To, e.Port, e.Protocol
	ns, explicit := l.ns, l.nsExplicit
	if e.Namespace != "" {
		l.ns, l.nsExplicit = e.Namespace, true
	}
	rep, err := eo.check(ctx, l)
	l.ns, l.nsExplicit = ns, explicit
	if err != nil {
		return ExpectationResult{}, nil, err
	}
	decided, ref := decision(rep, l)
	res := ExpectationResult{Expectation: e, Verdict: rep.Verdict, Met: e.Met(rep.Verdict), Reason: rep.Reason, DecidedBy: decided}
	if res.Met {
		return res, nil, nil
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
	return res, f, nil
}

// expectationFix says what would make the expectation hold.
func expectationFix(e Expectation, rep *Report) string {
	if rep.Verdict != nc.VerdictReachable {
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
func decidingRule(rep *Report) *ruleRef {
	if rep.Verdict != nc.VerdictReachable || rep.Policy == nil {
		return nil
	}
	for _, d := range []netpolicy.DirectionResult{rep.Policy.Ingress, rep.Policy.Egress} {
		if d.Reason == netpolicy.ReasonAllowedBy && len(d.AllowedBy) > 0 {
			return &ruleRef{RuleRef: d.AllowedBy[0], Direction: d.Direction}
		}
	}
	return nil
}

// decision names what decided the verdict, and the object a finding about
// it points at.
func decision(rep *Report, l *loader) (string, report.ObjectRef) {
	dst := report.ObjectRef{}
	if rep.Destination.Pod != nil {
		dst = report.ObjectRef{Kind: "Pod", Namespace: rep.Destination.Pod.Namespace, Name: rep.Destination.Pod.Name}
	}
	switch {
	case rep.Verdict == nc.VerdictBlockedByPolicy && rep.Policy != nil && !rep.Policy.Allowed:
		return denial(rep.Policy, ""), l.withSource(policyRef(rep.Policy))
	case rep.Verdict == nc.VerdictBlockedByPolicy && rep.DNSPolicy != nil:
		return denial(rep.DNSPolicy, " to the cluster DNS"), l.withSource(policyRef(rep.DNSPolicy))
	case rep.Verdict == nc.VerdictReachable && rep.Policy != nil:
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
				parts = append(parts, string(d.Direction)+": "+directionDetail(d))
			}
		}
		if r := decidingRule(rep); r != nil {
			return strings.Join(parts, "; "), l.withSource(report.ObjectRef{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy", Namespace: r.Namespace, Name: r.Policy})
		}
		return strings.Join(parts, "; "), dst
	case rep.Service != nil && (rep.Verdict == nc.VerdictPortMismatch || rep.Verdict == nc.VerdictNoEndpoints || rep.Verdict == nc.VerdictUnknown):
		return rep.Reason, l.serviceRef(rep.Service)
	}
	return rep.Reason, dst
}

// denial names the policies that isolate a denied direction: "ingress: no
// rule of shop/db-from-api allows it".
func denial(pa *nc.PolicyAnalysis, suffix string) string {
	var parts []string
	for _, d := range []netpolicy.DirectionResult{pa.Egress, pa.Ingress} {
		if d.Allowed {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s%s: no rule of %s allows it", d.Direction, suffix, refNames(d.IsolatedBy)))
	}
	return strings.Join(parts, "; ")
}

// matrix computes who reaches whom among the workloads of the files'
// namespaces; with --cluster-state OLD and -f NEW, only what changed.
func (o *Options) matrix(ctx context.Context, m *manifests) (*Matrix, []string, error) {
	namespaces := map[string]bool{}
	for _, n := range m.fileNamespaces() {
		namespaces[n] = true
	}
	if m.state == nil || m.online {
		w := m.world()
		l := m.loader(w)
		wls, cells, err := o.matrixCells(ctx, l, w, namespaces)
		if err != nil {
			return nil, nil, err
		}
		return &Matrix{Workloads: matrixWorkloads(wls), Cells: cells}, append(w.Snapshot.Warnings, l.warnings...), nil
	}
	// Both sides as manifests: OLD, and NEW over OLD.
	oldWorld := nc.NewWorld(nil, m.state, true)
	newWorld := nc.NewWorld(nil, cluster.Merge(m.state, m.files), true)
	oldL, newL := m.loader(oldWorld), m.loader(newWorld)
	oldW, before, err := o.matrixCells(ctx, oldL, oldWorld, namespaces)
	if err != nil {
		return nil, nil, fmt.Errorf("with --cluster-state: %w", err)
	}
	newW, after, err := o.matrixCells(ctx, newL, newWorld, namespaces)
	if err != nil {
		return nil, nil, err
	}
	key := func(c MatrixCell) string { return fmt.Sprintf("%s|%s|%d|%s", c.From, c.To, c.Port, c.Protocol) }
	old := map[string]MatrixCell{}
	for _, c := range before {
		old[key(c)] = c
	}
	var changed []MatrixCell
	for _, c := range after {
		b, ok := old[key(c)]
		delete(old, key(c))
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
	for _, b := range old {
		changed = append(changed, MatrixCell{From: b.From, To: b.To, Port: b.Port, PortName: b.PortName, Protocol: b.Protocol, Change: ChangeRemoved, Before: b.Verdict, DecidedBy: b.DecidedBy})
	}
	sort.Slice(changed, func(i, j int) bool { return key(changed[i]) < key(changed[j]) })
	all := map[string]*nc.Workload{}
	for _, wl := range append(oldW, newW...) {
		all[wl.ID()] = wl
	}
	var wls []*nc.Workload
	for _, id := range sortedMapKeys(all) {
		wls = append(wls, all[id])
	}
	warnings := append(append(append([]string{}, newWorld.Snapshot.Warnings...), oldL.warnings...), newL.warnings...)
	return &Matrix{Diff: true, Workloads: matrixWorkloads(wls), Cells: changed}, warnings, nil
}

func sortedMapKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// matrixCells judges every workload's traffic to every other one's declared
// ports; a workload's traffic to itself is not judged.
func (o *Options) matrixCells(ctx context.Context, l *loader, w *nc.World, namespaces map[string]bool) ([]*nc.Workload, []MatrixCell, error) {
	var wls []*nc.Workload
	for _, wl := range w.Workloads {
		if namespaces[wl.Namespace] && wl.Pod != nil {
			wls = append(wls, wl)
		}
	}
	var cells []MatrixCell
	for _, src := range wls {
		for _, dst := range wls {
			if src == dst {
				continue
			}
			for _, p := range declared(dst.Pod) {
				eo := *o
				eo.Port, eo.Protocol = "", strings.ToLower(p.Protocol)
				d := nc.Destination{Kind: nc.KindPod, Namespace: dst.Namespace, Name: dst.Name, Port: p.Port}
				if dst.Kind != nc.WorkloadPod {
					d.Workload = dst.Kind
				}
				rep, err := eo.checkFrom(ctx, l, src.Pod, d, fmt.Sprintf("%s:%d", dst.Ref(), p.Port))
				if err != nil {
					return nil, nil, fmt.Errorf("--matrix: %s to %s port %d/%s: %s", src.ID(), dst.ID(), p.Port, p.Protocol, cli.OneLine(err))
				}
				decided, _ := decision(rep, l)
				cells = append(cells, MatrixCell{From: src.ID(), To: dst.ID(), Port: p.Port, PortName: p.Name, Protocol: p.Protocol, Verdict: rep.Verdict, DecidedBy: decided})
			}
		}
	}
	return wls, cells, nil
}

// declared lists the TCP and UDP ports a pod's containers declare, once each.
func declared(p *corev1.Pod) []MatrixPort {
	seen := map[string]bool{}
	var out []MatrixPort
	for _, c := range p.Spec.Containers {
		for _, cp := range c.Ports {
			proto := cp.Protocol
			if proto == "" {
				proto = corev1.ProtocolTCP
			}
			if proto != corev1.ProtocolTCP && proto != corev1.ProtocolUDP {
				continue
			}
			k := fmt.Sprintf("%d/%s", cp.ContainerPort, proto)
			if !seen[k] {
				seen[k] = true
				out = append(out, MatrixPort{Port: cp.ContainerPort, Name: cp.Name, Protocol: string(proto)})
			}
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

func matrixWorkloads(wls []*nc.Workload) []MatrixWorkload {
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

// Tables renders the expectations, the matrix (a grid, or the changes) and
// the findings.
func (r *BatchReport) Tables(wide bool) []printers.Table {
	var tables []printers.Table
	if len(r.Expectations) > 0 {
		t := printers.Table{Columns: []string{"EXPECTATION", "FROM", "TO", "PORT", "EXPECT", "VERDICT", "RESULT"}}
		if wide {
			t.Columns = append(t.Columns, "DECIDED BY")
		}
		for _, e := range r.Expectations {
			res := printers.Sev("ok", report.SeverityNone)
			if !e.Met {
				res = printers.Sev("NOT MET", report.SeverityError)
			}
			port := e.Port
			if port == "" {
				port = "-"
			}
			if e.Protocol != "tcp" {
				port += "/" + e.Protocol
			}
			row := []printers.Cell{printers.Text(printers.SourceString(&e.Source)), printers.Text(e.From), printers.Text(e.To), printers.Text(port),
				printers.Text(e.Expect), printers.Text(e.Verdict), res}
			if wide {
				row = append(row, printers.Text(e.DecidedBy))
			}
			t.Rows = append(t.Rows, row)
		}
		tables = append(tables, t)
	}
	if r.Matrix != nil {
		if r.Matrix.Diff {
			tables = append(tables, r.Matrix.changes(wide))
		} else {
			tables = append(tables, r.Matrix.grid())
		}
	}
	if len(r.Findings) > 0 {
		f := printers.FindingsTable(r.Findings, wide)
		f.Title = "Findings:"
		tables = append(tables, f)
	}
	return tables
}

// names gives each workload its shortest unambiguous label: KIND/NAME when
// all share a namespace, else NAMESPACE/KIND/NAME.
func (m *Matrix) names() map[string]string {
	nss := map[string]bool{}
	for _, w := range m.Workloads {
		nss[w.Namespace] = true
	}
	out := map[string]string{}
	for _, w := range m.Workloads {
		id := w.Namespace + "/" + w.Kind + "/" + w.Name
		out[id] = id
		if len(nss) == 1 {
			out[id] = w.Kind + "/" + w.Name
		}
	}
	return out
}

func portLabel(port int32, protocol string) string {
	s := strconv.Itoa(int(port))
	if protocol != string(corev1.ProtocolTCP) {
		s += "/" + protocol
	}
	return s
}

// grid is the matrix as rows (from) and columns (to:port): ok, blocked (by
// a policy), another verdict, or "-" where not judged.
func (m *Matrix) grid() printers.Table {
	t := printers.Table{Title: "Reachability (rows: from, columns: to:port; ok, blocked by policy, or another verdict):", Empty: "No workload declares a port."}
	names := m.names()
	type col struct {
		id    string
		port  int32
		proto string
	}
	var cols []col
	for _, w := range m.Workloads {
		for _, p := range w.Ports {
			cols = append(cols, col{w.Namespace + "/" + w.Kind + "/" + w.Name, p.Port, p.Protocol})
		}
	}
	if len(cols) == 0 {
		return t
	}
	verdicts := map[string]string{}
	for _, c := range m.Cells {
		verdicts[fmt.Sprintf("%s|%s|%d|%s", c.From, c.To, c.Port, c.Protocol)] = c.Verdict
	}
	t.Columns = []string{"FROM"}
	for _, c := range cols {
		t.Columns = append(t.Columns, names[c.id]+":"+portLabel(c.port, c.proto))
	}
	for _, w := range m.Workloads {
		id := w.Namespace + "/" + w.Kind + "/" + w.Name
		row := []printers.Cell{printers.Text(names[id])}
		for _, c := range cols {
			v, ok := verdicts[fmt.Sprintf("%s|%s|%d|%s", id, c.id, c.port, c.proto)]
			switch {
			case !ok:
				row = append(row, printers.Text("-"))
			case v == nc.VerdictReachable:
				row = append(row, printers.Text("ok"))
			case v == nc.VerdictBlockedByPolicy:
				row = append(row, printers.Sev("blocked", report.SeverityError))
			default:
				row = append(row, printers.Sev(v, report.SeverityWarning))
			}
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// changes lists a diff's cells.
func (m *Matrix) changes(wide bool) printers.Table {
	t := printers.Table{Title: "Reachability changes (--cluster-state -> -f):", Empty: "No change in who reaches whom.",
		Columns: []string{"FROM", "TO", "PORT", "BEFORE", "AFTER"}}
	if wide {
		t.Columns = append(t.Columns, "DECIDED BY")
	}
	names := m.names()
	orDash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	for _, c := range m.Cells {
		before := c.Before
		if c.Change == ChangeAdded {
			before = ""
		}
		row := []printers.Cell{printers.Text(orName(names, c.From)), printers.Text(orName(names, c.To)), printers.Text(portLabel(c.Port, c.Protocol)),
			printers.Text(orDash(before)), printers.Text(orDash(c.Verdict))}
		if wide {
			row = append(row, printers.Text(c.DecidedBy))
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

func orName(names map[string]string, id string) string {
	if n, ok := names[id]; ok {
		return n
	}
	return id
}

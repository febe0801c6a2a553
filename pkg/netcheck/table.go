package netcheck

import (
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/ktriage/ktriage/pkg/netpolicy"
	"github.com/ktriage/ktriage/pkg/printers"
	"github.com/ktriage/ktriage/pkg/report"
)

// Tables renders one check: the answer first, then each check, then the
// verdict with its fix (and, wide, the findings).
func (r *Result) Tables(wide bool) []printers.Table {
	tables := []printers.Table{r.answerTable(), r.checksTable(wide), r.verdictTable()}
	if wide && len(r.Findings) > 0 {
		tables = append(tables, printers.FindingsTable(r.Findings, true))
	}
	return tables
}

// answerTable is the one-row answer: who, to what, and the verdict.
func (r *Result) answerTable() printers.Table {
	sev := report.SeverityNone
	if r.Verdict != VerdictReachable {
		sev = report.SeverityError
	}
	t := printers.Table{Columns: []string{"SOURCE", "DESTINATION", "PROTOCOL", "VERDICT", "BASIS"}}
	t.Rows = [][]printers.Cell{{
		printers.Text(r.Source.Namespace + "/" + r.Source.Name),
		printers.Text(r.Destination.Input),
		printers.Text(r.Destination.Protocol),
		printers.Sev(r.Verdict, sev),
		printers.Text(r.Basis),
	}}
	return t
}

// checksTable has a row per check made (see checks).
func (r *Result) checksTable(wide bool) printers.Table {
	t := printers.Table{Columns: []string{"CHECK", "RESULT", "DETAIL"}}
	for _, c := range r.checks(wide) {
		t.Rows = append(t.Rows, []printers.Cell{printers.Text(c.check), printers.Sev(c.result, c.sev), printers.Text(c.detail)})
	}
	return t
}

// verdictTable is the verdict, its reason, the fix and any disagreement
// between the probe and the objects, as a title.
func (r *Result) verdictTable() printers.Table {
	t := printers.Table{Title: "Verdict: " + r.Verdict + ": " + r.Reason}
	if r.Fix != "" {
		t.Title += "\nFix: " + r.Fix
	}
	if r.Disagreement != "" {
		t.Title += "\nWarning: " + r.Disagreement
	}
	return t
}

// checkRow is one row of the checks table.
type checkRow struct {
	check, result string
	sev           report.Severity
	detail        string
}

// checks are the rows of the checks table: the probe, DNS, the Service,
// and the policies.
func (r *Result) checks(wide bool) []checkRow {
	rows := []checkRow{r.probeCheck()}
	if r.DNS != nil {
		rows = append(rows, r.dnsCheck())
	}
	if r.Service != nil {
		rows = append(rows, r.serviceCheck())
	}
	rows = append(rows, r.policyChecks(wide)...)
	if p := r.DNSPolicy; p != nil {
		rows = append(rows, directionCheck("dns egress policy", p.Egress))
	}
	return rows
}

func (r *Result) probeCheck() checkRow {
	switch {
	case r.Probe != nil:
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
		return checkRow{"probe", r.Probe.Result, s, d}
	case strings.HasPrefix(r.Metadata.Input, "files"):
		return checkRow{"probe", "skipped", report.SeverityNone, "-f: explained from the manifests (a probe needs a live pod)"}
	}
	return checkRow{"probe", "skipped", report.SeverityNone, "--no-probe: explained from the cluster's objects only"}
}

func (r *Result) dnsCheck() checkRow {
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
	return checkRow{"dns", "resolves: " + r.DNS.Resolves, s, d}
}

func (r *Result) serviceCheck() checkRow {
	sv := r.Service
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
	return checkRow{"service", res, s, d}
}

// policyChecks: each direction, and with wide each backend.
func (r *Result) policyChecks(wide bool) []checkRow {
	p := r.Policy
	if p == nil {
		return []checkRow{{"policy", "not evaluated", report.SeverityNone, "no backend pod or address to evaluate"}}
	}
	rows := []checkRow{directionCheck(string(p.Egress.Direction)+" policy", p.Egress), directionCheck(string(p.Ingress.Direction)+" policy", p.Ingress)}
	if !wide {
		return rows
	}
	for _, t := range p.Targets {
		res := "allowed"
		if !t.Allowed {
			res = "denied"
		}
		addr := fmt.Sprintf("%s:%d", t.IP, t.Port)
		if t.IP == "" {
			addr = fmt.Sprintf("port %d", t.Port) // a pod built from a manifest has no IP
		}
		rows = append(rows, checkRow{"backend", res, report.SeverityNone, fmt.Sprintf("%s/%s %s egress %s, ingress %s", t.Namespace, t.Pod, addr, t.Egress.Reason, t.Ingress.Reason)})
	}
	return rows
}

func directionCheck(check string, d netpolicy.DirectionResult) checkRow {
	if !d.Allowed {
		return checkRow{check, "denied", report.SeverityError, DirectionDetail(d)}
	}
	return checkRow{check, "allowed", report.SeverityNone, DirectionDetail(d)}
}

// Tables renders --expect and --matrix: the expectations, the matrix (a
// grid, or the changes) and the findings.
func (r *BatchResult) Tables(wide bool) []printers.Table {
	var tables []printers.Table
	if len(r.Expectations) > 0 {
		tables = append(tables, expectationsTable(r.Expectations, wide))
	}
	if r.Matrix != nil {
		if r.Matrix.Diff {
			tables = append(tables, changesTable(r.Matrix, wide))
		} else {
			tables = append(tables, gridTable(r.Matrix))
		}
	}
	if len(r.Findings) > 0 {
		f := printers.FindingsTable(r.Findings, wide)
		f.Title = "Findings:"
		tables = append(tables, f)
	}
	return tables
}

// expectationsTable has a row per expectation: met or not, and (wide) what
// decided.
func expectationsTable(expectations []ExpectationResult, wide bool) printers.Table {
	t := printers.Table{Columns: []string{"EXPECTATION", "FROM", "TO", "PORT", "EXPECT", "VERDICT", "RESULT"}}
	if wide {
		t.Columns = append(t.Columns, "DECIDED BY")
	}
	for _, e := range expectations {
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
	return t
}

// shortNames gives each workload its shortest unambiguous label: KIND/NAME when
// all share a namespace, else NAMESPACE/KIND/NAME.
func shortNames(m *Matrix) map[string]string {
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

// gridColumn is a column of the grid: a workload's declared port.
type gridColumn struct {
	id    string
	port  int32
	proto string
}

// gridTable is the matrix as rows (from) and columns (to:port): ok, blocked
// (by a policy), another verdict, or "-" where not judged.
func gridTable(m *Matrix) printers.Table {
	t := printers.Table{Title: "Reachability (rows: from, columns: to:port; ok, blocked by policy, or another verdict):", Empty: "No workload declares a port."}
	names := shortNames(m)
	var cols []gridColumn
	for _, w := range m.Workloads {
		for _, p := range w.Ports {
			cols = append(cols, gridColumn{w.Namespace + "/" + w.Kind + "/" + w.Name, p.Port, p.Protocol})
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
			row = append(row, gridCell(v, ok))
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// gridCell is one verdict of the grid ("-" when the pair was not judged).
func gridCell(verdict string, judged bool) printers.Cell {
	switch {
	case !judged:
		return printers.Text("-")
	case verdict == VerdictReachable:
		return printers.Text("ok")
	case verdict == VerdictBlockedByPolicy:
		return printers.Sev("blocked", report.SeverityError)
	}
	return printers.Sev(verdict, report.SeverityWarning)
}

// changesTable lists a diff's cells.
func changesTable(m *Matrix, wide bool) printers.Table {
	t := printers.Table{Title: "Reachability changes (--cluster-state -> -f):", Empty: "No change in who reaches whom.",
		Columns: []string{"FROM", "TO", "PORT", "BEFORE", "AFTER"}}
	if wide {
		t.Columns = append(t.Columns, "DECIDED BY")
	}
	names := shortNames(m)
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

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func orName(names map[string]string, id string) string {
	if n, ok := names[id]; ok {
		return n
	}
	return id
}

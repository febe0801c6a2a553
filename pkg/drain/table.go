package drain

import (
	"fmt"
	"strings"

	"github.com/ktriage/ktriage/pkg/printers"
	"github.com/ktriage/ktriage/pkg/report"
)

// Tables: one row per pod, the budgets, the verdict; wide adds the other
// nodes' load, the preempted pods and the scheduler's message for pods
// that stay Pending.
func (r *Report) Tables(wide bool) []printers.Table {
	res := r.Result
	pods := printers.Table{Columns: []string{"NODE", "NAMESPACE", "POD", "ACTION", "DESTINATION", "REASON"}, Empty: "No pods to move."}
	for _, n := range res.Nodes {
		for _, p := range n.Pods {
			dest := p.Destination
			switch {
			case dest != "":
			case p.Replaced:
				dest = "Pending"
			default:
				dest = "-"
			}
			sev := report.SeverityNone
			if p.Action == ActionBlocked {
				sev = report.SeverityError
			}
			destSev := report.SeverityNone
			if dest == "Pending" {
				destSev = report.SeverityError
			}
			reason := p.Reason
			if p.Pending != nil {
				reason += "; replacement Pending: " + p.Pending.Message
			}
			pods.Rows = append(pods.Rows, []printers.Cell{printers.Text(n.Name), printers.Text(p.Namespace), printers.Text(p.Name),
				printers.Sev(string(p.Action), sev), printers.Sev(dest, destSev), printers.Text(reason)})
		}
	}
	tables := []printers.Table{pods}
	if len(res.PDBs) > 0 {
		t := printers.Table{Title: "PodDisruptionBudgets:", Columns: []string{"NAMESPACE", "NAME", "HEALTHY", "DESIRED", "ALLOWED", "EVICTED", "BLOCKS"}}
		for _, b := range res.PDBs {
			blocks := "no"
			sev := report.SeverityNone
			if b.Blocks {
				blocks, sev = "yes: "+b.Reason, report.SeverityError
			}
			t.Rows = append(t.Rows, []printers.Cell{printers.Text(b.Namespace), printers.Text(b.Name),
				printers.Text(fmt.Sprint(b.CurrentHealthy)), printers.Text(fmt.Sprint(b.DesiredHealthy)), printers.Text(fmt.Sprint(b.DisruptionsAllowed)),
				printers.Text(fmt.Sprintf("%d/%d", b.Evicted, b.Pods)), printers.Sev(blocks, sev)})
		}
		tables = append(tables, t)
	}
	if wide {
		tables = append(tables, r.wideTables()...)
	}
	if len(res.Order) > 0 {
		t := printers.Table{Title: "One node after another:", Columns: []string{"STEP", "NODE", "VERDICT"}}
		for _, s := range res.Order {
			step := "-"
			if s.Step > 0 {
				step = fmt.Sprint(s.Step)
			}
			t.Rows = append(t.Rows, []printers.Cell{printers.Text(step), printers.Text(s.Node), printers.Sev(string(s.Verdict), verdictSeverity(s.Verdict))})
		}
		tables = append(tables, t)
	}
	lines := []string{"Verdict: " + string(res.Verdict) + " — " + verdictText(res.Verdict)}
	for _, reason := range res.Reasons {
		lines = append(lines, "  - "+reason)
	}
	for _, fix := range res.Fixes {
		lines = append(lines, "Fix: "+fix)
	}
	verdict := printers.Table{Title: strings.Join(lines, "\n")}
	return append(tables, verdict)
}

func (r *Report) wideTables() []printers.Table {
	res := r.Result
	var out []printers.Table
	capacity := printers.Table{Title: "Other nodes (requests before → after):", Columns: []string{"NODE", "CPU", "MEMORY", "PODS"}, Empty: "No other node changes."}
	for _, c := range res.Capacity {
		if c.Before == c.After {
			continue
		}
		capacity.Rows = append(capacity.Rows, []printers.Cell{printers.Text(c.Node),
			printers.Text(fmt.Sprintf("%s → %s of %s", c.Before.CPU, c.After.CPU, c.Allocatable.CPU)),
			printers.Text(fmt.Sprintf("%s → %s of %s", c.Before.Memory, c.After.Memory, c.Allocatable.Memory)),
			printers.Text(fmt.Sprintf("%d → %d of %d", c.Before.Pods, c.After.Pods, c.Allocatable.Pods))})
	}
	out = append(out, capacity)
	if len(res.Preempted) > 0 {
		t := printers.Table{Title: "Preempted on other nodes:", Columns: []string{"NAMESPACE", "POD", "NODE", "BY", "DESTINATION"}}
		for _, p := range res.Preempted {
			dest := p.Destination
			if dest == "" {
				dest = "-"
				if p.Replaced {
					dest = "Pending"
				}
			}
			t.Rows = append(t.Rows, []printers.Cell{printers.Text(p.Namespace), printers.Text(p.Name), printers.Text(p.Node), printers.Text(p.By), printers.Text(dest)})
		}
		out = append(out, t)
	}
	var pending []string
	for _, n := range res.Nodes {
		for _, p := range n.Pods {
			if p.Pending == nil {
				continue
			}
			for _, nr := range p.Pending.Nodes {
				for _, rs := range nr.Reasons {
					if rs.Reported {
						pending = append(pending, fmt.Sprintf("%s/%s\t%s\t%s\t%s", p.Namespace, p.Name, nr.Name, rs.Plugin, strings.TrimSpace(rs.Message+" "+rs.Detail)))
					}
				}
			}
		}
	}
	if len(pending) > 0 {
		t := printers.Table{Title: "Why replacements stay Pending, per node:", Columns: []string{"POD", "NODE", "FILTER", "REASON"}}
		for _, line := range pending {
			var cells []printers.Cell
			for _, c := range strings.Split(line, "\t") {
				cells = append(cells, printers.Text(c))
			}
			t.Rows = append(t.Rows, cells)
		}
		out = append(out, t)
	}
	return out
}

func verdictSeverity(v Verdict) report.Severity {
	if v == Safe {
		return report.SeverityNone
	}
	return report.SeverityError
}

func verdictText(v Verdict) string {
	switch v {
	case Safe:
		return "kubectl drain with these flags finishes and every replacement finds a node"
	case Unschedulable:
		return "kubectl drain finishes but some pods stay Pending"
	}
	return "kubectl drain with these flags fails or waits for ever"
}

package pending

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/ktriage/ktriage/pkg/autoscaler"
	"github.com/ktriage/ktriage/pkg/printers"
	"github.com/ktriage/ktriage/pkg/report"
)

// SummaryLine counts the explained pods by stage, most common first:
// "17 Pending: 15 Unschedulable, 1 Gated, 1 NoScheduler"; manifest pods that
// would schedule are counted after them ("; 3 Schedulable").
func (r *Report) SummaryLine() string {
	counts := map[Stage]int{}
	schedulable := 0
	for _, p := range r.Pods {
		if p.Stage == StageSchedulable {
			schedulable++
			continue
		}
		counts[p.Stage]++
	}
	stages := make([]Stage, 0, len(counts))
	for s := range counts {
		stages = append(stages, s)
	}
	sort.Slice(stages, func(i, j int) bool {
		if counts[stages[i]] != counts[stages[j]] {
			return counts[stages[i]] > counts[stages[j]]
		}
		return stages[i] < stages[j]
	})
	parts := make([]string, 0, len(stages))
	for _, s := range stages {
		parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
	}
	line := fmt.Sprintf("%d Pending", r.PendingCount())
	if len(parts) > 0 {
		line += ": " + strings.Join(parts, ", ")
	}
	if schedulable > 0 {
		line += fmt.Sprintf("; %d Schedulable", schedulable)
	}
	if n := r.Summary.Suppressed; n > 0 {
		line += fmt.Sprintf(" (%d %s suppressed)", n, map[bool]string{true: "finding", false: "findings"}[n == 1])
	}
	return line
}

// Tables: one line per pod; wide (or -v) adds the nodes by reason (or every
// node, when the report lists them), the scheduler's messages and the fixes.
func (r *Report) Tables(wide bool) []printers.Table {
	wide = wide || r.Verbose
	main := printers.Table{Columns: []string{"NAMESPACE", "POD", "STAGE", "REASON"}, Empty: "No Pending pods."}
	if wide {
		main.Columns = []string{"NAMESPACE", "POD", "STAGE", "NODE", "REASON"}
	}
	for _, p := range r.Pods {
		name := p.Name
		if p.Replica > 0 {
			name = fmt.Sprintf("%s (replica %d/%d)", name, p.Replica, p.Replicas)
		}
		sev := report.SeverityError
		if p.Stage == StageSchedulable {
			sev = report.SeverityNone
		}
		row := []printers.Cell{printers.Text(p.Namespace), printers.Text(name), printers.Sev(string(p.Stage), sev)}
		if wide {
			node := p.Node
			if node == "" && p.NominatedNodeName != "" {
				node = p.NominatedNodeName + " (nominated)"
			}
			if node == "" {
				node = "-"
			}
			row = append(row, printers.Text(node))
		}
		row = append(row, printers.Text(oneLine(p.Reason)))
		main.Rows = append(main.Rows, row)
	}
	tables := []printers.Table{main}
	tables = append(tables, autoscalerTables(r.Pods, wide)...)
	if !wide {
		return tables
	}
	nodes := printers.Table{Title: "Per node:", Columns: []string{"NAMESPACE", "POD", "NODE", "FILTER", "REASON", "DETAIL"}}
	for _, p := range r.Pods {
		if p.Stage == StageSchedulable {
			continue
		}
		for _, n := range p.Nodes {
			if len(n.Reasons) == 0 {
				nodes.Rows = append(nodes.Rows, []printers.Cell{printers.Text(p.Namespace), printers.Text(p.Name), printers.Text(n.Name), printers.Text("-"), printers.Text("fits"), printers.Text("")})
			}
			for _, rs := range n.Reasons {
				nodes.Rows = append(nodes.Rows, []printers.Cell{printers.Text(p.Namespace), printers.Text(p.Name), printers.Text(n.Name), printers.Text(rs.Plugin), printers.Text(rs.Message), printers.Text(oneLine(rs.Detail))})
			}
		}
	}
	if len(nodes.Rows) > 0 {
		tables = append(tables, nodes)
	}
	if groups := reasonsTable(r.Pods); len(groups.Rows) > 0 {
		tables = append(tables, groups)
	}
	msgs := printers.Table{Title: "Scheduler messages:", Columns: []string{"NAMESPACE", "POD", "SOURCE", "MESSAGE"}}
	for _, p := range r.Pods {
		if p.SimulatedSchedulerMessage != "" {
			msgs.Rows = append(msgs.Rows, []printers.Cell{printers.Text(p.Namespace), printers.Text(p.Name), printers.Text("simulated"), printers.Text(p.SimulatedSchedulerMessage)})
		}
		if p.SchedulerMessage != "" {
			src := "condition"
			if p.MessagesAgree != nil && !*p.MessagesAgree {
				src = "condition (differs)"
			}
			msgs.Rows = append(msgs.Rows, []printers.Cell{printers.Text(p.Namespace), printers.Text(p.Name), printers.Sev(src, sevIf(p.MessagesAgree != nil && !*p.MessagesAgree)), printers.Text(p.SchedulerMessage)})
		}
	}
	if len(msgs.Rows) > 0 {
		tables = append(tables, msgs)
	}
	findings := printers.Table{Title: "Findings:", Columns: []string{"SEVERITY", "RULE", "OBJECT", "MESSAGE"}}
	for _, f := range r.Findings {
		obj := f.Object.String()
		if f.Object.Source != nil {
			obj += fmt.Sprintf(" (%s:%d)", f.Object.Source.File, f.Object.Source.Line)
		}
		findings.Rows = append(findings.Rows, []printers.Cell{printers.Sev(strings.ToUpper(f.Severity.String()), f.Severity), printers.Text(f.RuleID), printers.Text(obj), printers.Text(oneLine(f.Message))})
	}
	if len(findings.Rows) > 0 {
		tables = append(tables, findings)
	}
	fixes := printers.Table{Title: "Fixes:", Columns: []string{"RULE", "OBJECT", "FIX"}}
	for _, f := range r.Findings {
		if f.Fix == "" || f.Severity < report.SeverityWarning || f.RuleID == RuleUnschedulable && strings.HasPrefix(f.Fix, "a node needs every reason") {
			continue
		}
		lines := strings.Split(f.Fix, "\n")
		fixes.Rows = append(fixes.Rows, []printers.Cell{printers.Text(f.RuleID), printers.Text(f.Object.String()), printers.Text(lines[0])})
		for _, l := range lines[1:] {
			fixes.Rows = append(fixes.Rows, []printers.Cell{printers.Text(""), printers.Text(""), printers.Text("  " + l)})
		}
	}
	if len(fixes.Rows) > 0 {
		tables = append(tables, fixes)
	}
	return tables
}

// reasonsTable groups the nodes of the pods whose per-node verdicts are not
// listed by reason, as the scheduler's message does, with a few node names.
func reasonsTable(pods []Explanation) printers.Table {
	t := printers.Table{Title: "Nodes by reason:", Columns: []string{"NAMESPACE", "POD", "FILTER", "REASON", "RULE", "NODES", "FIRST NODES"}}
	for _, p := range pods {
		if p.Stage == StageSchedulable || len(p.Nodes) > 0 {
			continue
		}
		for _, g := range p.NodeReasons {
			plugin, rule, names := g.Plugin, g.RuleID, strings.Join(g.Nodes, ", ")
			if plugin == "" {
				plugin = "-"
			}
			if rule == "" {
				rule = "-"
			}
			if g.PreFilter {
				plugin += " (PreFilter)"
			}
			if g.Truncated {
				names += ", …"
			}
			t.Rows = append(t.Rows, []printers.Cell{printers.Text(p.Namespace), printers.Text(p.Name), printers.Text(plugin), printers.Text(g.Message),
				printers.Text(rule), printers.Text(strconv.Itoa(g.Count)), printers.Text(names)})
		}
	}
	return t
}

func sevIf(b bool) report.Severity {
	if b {
		return report.SeverityWarning
	}
	return report.SeverityNone
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// autoscalerTables: a line per pod the autoscaler was asked about; wide
// adds its node groups or NodePools (the reasons and fixes are in the
// findings).
func autoscalerTables(pods []Explanation, wide bool) []printers.Table {
	verdicts := printers.Table{Title: "Autoscaler:", Columns: []string{"NAMESPACE", "POD", "AUTOSCALER", "VERDICT", "SUMMARY"}}
	groups := printers.Table{Title: "Node groups:", Columns: []string{"NAMESPACE", "POD", "GROUP", "SIZE", "FITS", "BLOCKERS"}}
	for _, p := range pods {
		a := p.Autoscaler
		if a == nil {
			continue
		}
		verdicts.Rows = append(verdicts.Rows, []printers.Cell{printers.Text(p.Namespace), printers.Text(p.Name), printers.Text(string(a.Kind)),
			printers.Sev(string(a.Verdict), verdictSeverity(a.Verdict)), printers.Text(oneLine(a.Summary))})
		for _, g := range a.NodeGroups {
			fits := "-"
			if g.Fits != nil {
				fits = map[bool]string{true: "yes", false: "no"}[*g.Fits]
			}
			blockers := strings.Join(g.Blockers, "; ")
			if blockers == "" {
				blockers = "-"
			}
			groups.Rows = append(groups.Rows, []printers.Cell{printers.Text(p.Namespace), printers.Text(p.Name), printers.Text(g.Name),
				printers.Text(groupSize(g)), printers.Sev(fits, sevIf(fits == "no")), printers.Text(oneLine(blockers))})
		}
	}
	if len(verdicts.Rows) == 0 {
		return nil
	}
	out := []printers.Table{verdicts}
	if wide && len(groups.Rows) > 0 {
		out = append(out, groups)
	}
	return out
}

func verdictSeverity(v autoscaler.Verdict) report.Severity {
	switch v {
	case autoscaler.VerdictNotTriggered:
		return report.SeverityError
	case autoscaler.VerdictNoEvent:
		return report.SeverityWarning
	}
	return report.SeverityNone
}

// groupSize: a node group's target/max size, or a NodePool's use of its
// limits.
func groupSize(g autoscaler.NodeGroup) string {
	switch {
	case g.TargetSize != nil && g.MaxSize != nil:
		s := fmt.Sprintf("%d/%d", *g.TargetSize, *g.MaxSize)
		if g.MinSize != nil {
			s += fmt.Sprintf(" (min %d)", *g.MinSize)
		}
		return s
	case g.NodeClaims != nil:
		parts := []string{fmt.Sprintf("%d NodeClaims", *g.NodeClaims)}
		for _, k := range slices.Sorted(maps.Keys(g.Limits)) {
			used := g.InUse[k]
			if used == "" {
				used = "0"
			}
			parts = append(parts, fmt.Sprintf("%s %s/%s", k, used, g.Limits[k]))
		}
		return strings.Join(parts, ", ")
	}
	return "-"
}

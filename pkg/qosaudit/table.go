package qosaudit

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/ktriage/ktriage/pkg/printers"
	"github.com/ktriage/ktriage/pkg/report"
)

// The tables of table and wide output. JSON and YAML print Result as is.

// Tables renders pods (or manifests), nodes and rollups.
func (r *Result) Tables(wide bool) []printers.Table {
	var out []printers.Table
	if len(r.Workloads) > 0 {
		out = append(out, r.workloadTable(wide))
	}
	if len(r.Workloads) == 0 {
		out = append(out, r.podTable(wide))
	}
	for _, n := range r.Nodes {
		out = append(out, nodeTable(n, wide))
	}
	if len(r.Rollups.ByNamespace) > 1 || len(r.Rollups.ByWorkload) > 0 {
		out = append(out, rollupTable("CLASSES BY NAMESPACE", r.Rollups.ByNamespace, false))
		if wide {
			out = append(out, rollupTable("CLASSES BY WORKLOAD", r.Rollups.ByWorkload, true))
		}
	}
	out = append(out, printers.FindingsTable(r.Findings, wide))
	return out
}

func classCell(c string) printers.Cell {
	switch corev1.PodQOSClass(c) {
	case corev1.PodQOSBestEffort:
		return printers.Sev(c, report.SeverityWarning)
	case corev1.PodQOSBurstable:
		return printers.Sev(c, report.SeverityInfo)
	}
	return printers.Text(c)
}

func (r *Result) podTable(wide bool) printers.Table {
	t := printers.Table{Title: "PODS", Columns: []string{"NAMESPACE", "POD", "QOS", "WORKLOAD", "NODE", "REASON"}, Empty: "No pods in scope."}
	if wide {
		t.Columns = []string{"NAMESPACE", "POD", "QOS", "STORED", "CONTAINER", "TYPE", "REQUESTS", "LIMITS", "OOM_SCORE_ADJ"}
	}
	for _, p := range r.Pods {
		wl := ""
		if p.Workload != nil {
			wl = strings.ToLower(p.Workload.Kind) + "/" + p.Workload.Name
		}
		if !wide {
			class := classCell(p.QOSClass)
			if p.StoredQOSClass != "" && p.StoredQOSClass != p.QOSClass {
				class = printers.Sev(p.QOSClass+" (stored "+p.StoredQOSClass+")", report.SeverityError)
			}
			t.Rows = append(t.Rows, []printers.Cell{printers.Text(p.Namespace), printers.Text(p.Name), class, printers.Text(wl), printers.Text(p.Node), printers.Text(p.Reason)})
			continue
		}
		for _, c := range p.Containers {
			oom := ""
			if c.OOMScoreAdj != nil {
				oom = fmt.Sprint(*c.OOMScoreAdj)
			}
			t.Rows = append(t.Rows, []printers.Cell{printers.Text(p.Namespace), printers.Text(p.Name), classCell(p.QOSClass), printers.Text(p.StoredQOSClass),
				printers.Text(c.Name), printers.Text(c.Type), printers.Text(fmtList(c.Requests)), printers.Text(fmtList(c.Limits)), printers.Text(oom)})
		}
	}
	return t
}

func (r *Result) workloadTable(wide bool) printers.Table {
	t := printers.Table{Title: "MANIFESTS", Columns: []string{"NAMESPACE", "KIND", "NAME", "QOS", "LIMITRANGE", "REASON"}}
	if wide {
		t.Columns = []string{"NAMESPACE", "KIND", "NAME", "QOS", "CONTAINER", "TYPE", "REQUESTS", "LIMITS"}
	}
	for _, w := range r.Workloads {
		if !wide {
			lr := "-"
			switch {
			case w.LimitRangeChangedClass:
				lr = fmt.Sprintf("%s (was %s)", strings.Join(w.LimitRanges, ","), w.ClassWithoutLimitRange)
			case w.LimitRangeApplied:
				lr = strings.Join(w.LimitRanges, ",")
			}
			t.Rows = append(t.Rows, []printers.Cell{printers.Text(w.Namespace), printers.Text(w.Kind), printers.Text(w.Name), classCell(w.QOSClass), printers.Text(lr), printers.Text(w.Reason)})
			continue
		}
		for _, c := range w.Containers {
			t.Rows = append(t.Rows, []printers.Cell{printers.Text(w.Namespace), printers.Text(w.Kind), printers.Text(w.Name), classCell(w.QOSClass),
				printers.Text(c.Name), printers.Text(c.Type), printers.Text(fmtList(c.Requests)), printers.Text(fmtList(c.Limits))})
		}
	}
	return t
}

func nodeTable(n NodeResult, wide bool) printers.Table {
	var oc []string
	for _, o := range n.Overcommit {
		part := fmt.Sprintf("%s requests %d%% limits %d%%", o.Resource, o.RequestsPercent, o.LimitsPercent)
		if o.PodsWithoutLimit > 0 {
			part += fmt.Sprintf(" + %d unlimited", o.PodsWithoutLimit)
		}
		oc = append(oc, part)
	}
	source := n.UsageSource
	if source == "metrics" {
		fallback := 0
		for _, e := range n.EvictionOrder {
			if e.UsageSource != "metrics" {
				fallback++
			}
		}
		if fallback > 0 {
			source += fmt.Sprintf(", requests for %d pod(s) without metrics", fallback)
		}
	}
	title := fmt.Sprintf("NODE %s — eviction order under memory pressure (usage from %s; %s)", n.Name, source, strings.Join(oc, ", "))
	if n.Partial != "" {
		title += " — PARTIAL: " + n.Partial
	}
	if n.NoOOMScoreAdj != "" {
		title += " — no OOM_SCORE_ADJ: " + n.NoOOMScoreAdj
	}
	t := printers.Table{
		Title:   title,
		Columns: []string{"#", "NAMESPACE", "POD", "QOS", "PRIORITY", "MEM_REQUEST", "EXCEEDS", "OOM_SCORE_ADJ"},
		Empty:   "No running pods.",
	}
	if wide {
		t.Columns = []string{"#", "NAMESPACE", "POD", "QOS", "PRIORITY", "MEM_REQUEST", "MEM_USAGE", "EXCEEDS", "EVICTABLE", "CONTAINER", "OOM_SCORE_ADJ"}
	}
	for _, e := range n.EvictionOrder {
		exceeds := "no"
		if e.ExceedsRequests {
			exceeds = "yes"
		}
		if !wide {
			var adj []string
			for _, c := range e.Containers {
				adj = append(adj, oomString(c.OOMScoreAdj))
			}
			t.Rows = append(t.Rows, []printers.Cell{printers.Text(fmt.Sprint(e.Rank)), printers.Text(e.Namespace), printers.Text(e.Name), classCell(e.QOSClass),
				printers.Text(fmt.Sprint(e.Priority)), printers.Text(e.MemoryRequest), printers.Text(exceeds), printers.Text(strings.Join(uniq(adj), ","))})
			continue
		}
		usage := e.MemoryUsage
		if e.UsageSource == "requests" && n.UsageSource == "metrics" {
			usage = "(no metrics)"
		}
		for _, c := range e.Containers {
			t.Rows = append(t.Rows, []printers.Cell{printers.Text(fmt.Sprint(e.Rank)), printers.Text(e.Namespace), printers.Text(e.Name), classCell(e.QOSClass),
				printers.Text(fmt.Sprint(e.Priority)), printers.Text(e.MemoryRequest), printers.Text(usage), printers.Text(exceeds),
				printers.Text(fmt.Sprint(e.Evictable)), printers.Text(c.Name), printers.Text(oomString(c.OOMScoreAdj))})
		}
	}
	return t
}

func rollupTable(title string, counts []ClassCount, workload bool) printers.Table {
	t := printers.Table{Title: title, Columns: []string{"NAMESPACE", "GUARANTEED", "BURSTABLE", "BESTEFFORT"}}
	if workload {
		t.Columns = []string{"NAMESPACE", "WORKLOAD", "GUARANTEED", "BURSTABLE", "BESTEFFORT"}
	}
	for _, c := range counts {
		row := []printers.Cell{printers.Text(c.Namespace)}
		if workload {
			row = append(row, printers.Text(strings.ToLower(c.Kind)+"/"+c.Name))
		}
		row = append(row, printers.Text(fmt.Sprint(c.Guaranteed)), printers.Text(fmt.Sprint(c.Burstable)), printers.Text(fmt.Sprint(c.BestEffort)))
		t.Rows = append(t.Rows, row)
	}
	return t
}

func fmtList(m map[string]string) string {
	if len(m) == 0 {
		return "-"
	}
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, k+"="+m[k])
	}
	return strings.Join(parts, ",")
}

// oomString shows an oom_score_adj, "-" where the kubelet sets none.
func oomString(v *int) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprint(*v)
}

// uniq drops repeated values, keeping the first of each in place.
func uniq(s []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

package qosaudit

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/ktriage/ktriage/pkg/printers"
	"github.com/ktriage/ktriage/pkg/report"
)

// Report is the qos-audit document. Its pods, workloads, nodes and rollups
// sections are a contract scripts rely on.
type Report struct {
	report.Report `json:",inline"`
	// Pods are the live pods in scope, and the Pods of -f manifests.
	Pods []PodResult `json:"pods"`
	// Workloads are the manifests of -f (every kind with a pod template, and
	// Pods) with the class the apiserver will give their pods.
	Workloads []WorkloadResult `json:"workloads,omitempty"`
	// Nodes hold the kubelet's view of the nodes running pods in scope.
	Nodes   []NodeResult `json:"nodes"`
	Rollups Rollups      `json:"rollups"`
}

// WorkloadRef names the controller that owns a pod (top-most owner).
type WorkloadRef struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
}

// PodResult is one pod's class and how it was reached.
type PodResult struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	QOSClass  string `json:"qosClass"`
	// StoredQOSClass is status.qosClass of a live pod.
	StoredQOSClass string            `json:"storedQosClass,omitempty"`
	Node           string            `json:"node,omitempty"`
	Workload       *WorkloadRef      `json:"workload,omitempty"`
	Reason         string            `json:"reason"`
	Containers     []ContainerResult `json:"containers"`
}

// ContainerResult is one container's resources as the apiserver stores them.
type ContainerResult struct {
	Name     string            `json:"name"`
	Type     string            `json:"type"` // container, init, sidecar
	Requests map[string]string `json:"requests,omitempty"`
	Limits   map[string]string `json:"limits,omitempty"`
	// OOMScoreAdj is set for containers of pods bound to a known node.
	OOMScoreAdj *int `json:"oomScoreAdj,omitempty"`
}

// WorkloadResult is the predicted class of a manifest's pods.
type WorkloadResult struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	QOSClass  string `json:"qosClass"`
	// LimitRangeApplied: a LimitRange filled in requests or limits.
	LimitRangeApplied bool `json:"limitRangeApplied"`
	// LimitRangeChangedClass: without the LimitRange the class would be
	// ClassWithoutLimitRange.
	LimitRangeChangedClass bool     `json:"limitRangeChangedClass"`
	ClassWithoutLimitRange string   `json:"classWithoutLimitRange"`
	LimitRanges            []string `json:"limitRanges,omitempty"`
	LimitRangeChanges      []string `json:"limitRangeChanges,omitempty"`
	// LimitRangeConflicts are values several LimitRanges default
	// differently; the LimitRanger applies them in no fixed order.
	LimitRangeConflicts []string `json:"limitRangeConflicts,omitempty"`
	// PossibleQOSClasses, when set, are the classes the pods may get
	// depending on that order; QOSClass is the one for name order.
	PossibleQOSClasses []string `json:"possibleQosClasses,omitempty"`
	// LimitRangeViolations are why the apiserver will refuse the pods.
	LimitRangeViolations []string `json:"limitRangeViolations,omitempty"`
	// ValidationErrors are the apiserver's own validation errors on the
	// pods' resources after defaulting (e.g. a LimitRange default limit below
	// the request), in its words.
	ValidationErrors []string          `json:"validationErrors,omitempty"`
	Reason           string            `json:"reason"`
	Containers       []ContainerResult `json:"containers"`
	Source           *report.Source    `json:"source,omitempty"`
}

// NodeResult is what the kubelet of one node would do.
type NodeResult struct {
	Name           string `json:"name"`
	MemoryCapacity string `json:"memoryCapacity"`
	// UsageSource says where the memory usage used for the eviction order
	// came from: "metrics" (metrics.k8s.io, for at least one of the node's
	// pods; each entry says which) or "requests" (each pod assumed to use its
	// memory request).
	UsageSource string `json:"usageSource"`
	// Partial says why the eviction order ranks only some of the node's
	// pods (e.g. those of other namespaces could not be listed).
	Partial string `json:"partial,omitempty"`
	// NoOOMScoreAdj says why the containers have no oomScoreAdj (the kubelet
	// sets it only on Linux).
	NoOOMScoreAdj string          `json:"noOomScoreAdj,omitempty"`
	EvictionOrder []EvictionEntry `json:"evictionOrder"`
	Overcommit    []Overcommit    `json:"overcommit"`
}

// EvictionEntry is one pod in the memory-pressure eviction order.
type EvictionEntry struct {
	Rank          int    `json:"rank"`
	Namespace     string `json:"namespace"`
	Name          string `json:"name"`
	QOSClass      string `json:"qosClass"`
	Priority      int32  `json:"priority"`
	MemoryRequest string `json:"memoryRequest"`
	MemoryUsage   string `json:"memoryUsage,omitempty"`
	// UsageSource is "metrics" when the pod's usage came from metrics.k8s.io,
	// "requests" when its memory request stood in for it.
	UsageSource     string `json:"usageSource"`
	ExceedsRequests bool   `json:"exceedsRequests"`
	// Evictable is false for critical pods, which the kubelet never evicts.
	Evictable  bool           `json:"evictable"`
	Containers []ContainerOOM `json:"containers"`
}

// ContainerOOM is the oom_score_adj the kubelet gives a container.
type ContainerOOM struct {
	Name string `json:"name"`
	// OOMScoreAdj is left out on nodes whose kubelet sets none (Windows).
	OOMScoreAdj *int `json:"oomScoreAdj,omitempty"`
}

// Overcommit compares the pods' requests and limits with the node's allocatable.
type Overcommit struct {
	Resource    string `json:"resource"`
	Allocatable string `json:"allocatable"`
	Requests    string `json:"requests"`
	Limits      string `json:"limits"`
	// Percentages of allocatable.
	RequestsPercent int `json:"requestsPercent"`
	LimitsPercent   int `json:"limitsPercent"`
	// PodsWithoutLimit may use the whole node.
	PodsWithoutLimit int `json:"podsWithoutLimit"`
}

// Rollups count pods per class.
type Rollups struct {
	ByNamespace []ClassCount `json:"byNamespace"`
	ByWorkload  []ClassCount `json:"byWorkload"`
}

// ClassCount counts pods per class in one namespace or workload.
type ClassCount struct {
	Namespace  string `json:"namespace"`
	Kind       string `json:"kind,omitempty"`
	Name       string `json:"name,omitempty"`
	Guaranteed int    `json:"guaranteed"`
	Burstable  int    `json:"burstable"`
	BestEffort int    `json:"bestEffort"`
}

func (c *ClassCount) add(class string) {
	switch corev1.PodQOSClass(class) {
	case corev1.PodQOSGuaranteed:
		c.Guaranteed++
	case corev1.PodQOSBurstable:
		c.Burstable++
	default:
		c.BestEffort++
	}
}

// partialNodeReason is NodeResult.Partial for a node whose other pods could
// not be listed.
const partialNodeReason = "pods of other namespaces unknown"

// noOOMScoreAdjReason is NodeResult.NoOOMScoreAdj for a Windows node.
const noOOMScoreAdjReason = "Windows node: the kubelet sets oom_score_adj only on Linux"

func newReport(version string) *Report {
	return &Report{Report: report.New("QoSAuditReport", Plugin, version), Pods: []PodResult{}, Nodes: []NodeResult{}}
}

// Tables renders pods (or manifests), nodes and rollups.
func (r *Report) Tables(wide bool) []printers.Table {
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

func (r *Report) podTable(wide bool) printers.Table {
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

func (r *Report) workloadTable(wide bool) printers.Table {
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
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
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

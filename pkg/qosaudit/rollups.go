package qosaudit

import (
	"maps"
	"slices"
)

// rollups counts live pods per class, by namespace and by top owner (a bare
// pod counts as its own workload).
func rollups(pods []PodResult) Rollups {
	byNS := map[string]*ClassCount{}
	byWL := map[string]*ClassCount{}
	for _, p := range pods {
		count(byNS, p.Namespace, ClassCount{Namespace: p.Namespace}, p.QOSClass)
		kind, name := "Pod", p.Name
		if p.Workload != nil {
			kind, name = p.Workload.Kind, p.Workload.Name
		}
		count(byWL, p.Namespace+"/"+kind+"/"+name, ClassCount{Namespace: p.Namespace, Kind: kind, Name: name}, p.QOSClass)
	}
	return Rollups{ByNamespace: sortedCounts(byNS), ByWorkload: sortedCounts(byWL)}
}

// workloadRollups counts manifests per predicted class: by namespace, and
// one entry per manifest in the order they were analysed.
func workloadRollups(workloads []WorkloadResult) Rollups {
	byNS := map[string]*ClassCount{}
	var byWL []ClassCount
	for _, w := range workloads {
		count(byNS, w.Namespace, ClassCount{Namespace: w.Namespace}, w.QOSClass)
		c := ClassCount{Namespace: w.Namespace, Kind: w.Kind, Name: w.Name}
		c.add(w.QOSClass)
		byWL = append(byWL, c)
	}
	return Rollups{ByNamespace: sortedCounts(byNS), ByWorkload: byWL}
}

// count adds a pod of the class to m's entry under key, starting the entry
// as first when there is none yet.
func count(m map[string]*ClassCount, key string, first ClassCount, class string) {
	c := m[key]
	if c == nil {
		c = &first
		m[key] = c
	}
	c.add(class)
}

// sortedCounts lists m's entries in the order of their keys.
func sortedCounts(m map[string]*ClassCount) []ClassCount {
	out := make([]ClassCount, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, *m[k])
	}
	return out
}

// CountClasses sets the summary's counts per class: of the live pods, or of
// the manifests (a bare Pod's is among the pods already).
func (r *Result) CountClasses() {
	counts := map[string]int{}
	for _, p := range r.Pods {
		counts[p.QOSClass]++
	}
	for _, w := range r.Workloads {
		if w.Kind != "Pod" {
			counts[w.QOSClass]++
		}
	}
	r.Summary.Counts = counts
}

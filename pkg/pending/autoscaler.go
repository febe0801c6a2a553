package pending

import (
	"fmt"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"

	"github.com/ktriage/ktriage/pkg/autoscaler"
	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/pkg/report"
	"github.com/ktriage/ktriage/pkg/scheduling"
)

// The node autoscaler's findings (WP19x) are why-pending's.
func init() {
	for _, r := range autoscaler.Rules {
		r.Plugin = Plugin
		report.Register(r)
	}
}

// askAutoscaler asks the node autoscaler about the explained pods the
// scheduler cannot place anywhere: it loads the autoscaler's objects (every
// query optional: missing APIs and RBAC become warnings) only when there is
// such a pod, attaches the autoscaler's explanation to each and adds its
// findings.
func (r *liveRun) askAutoscaler(res *Result) error {
	pods := map[string]*corev1.Pod{}
	for _, p := range r.snap.Pods {
		pods[p.Namespace+"/"+p.Name] = p
	}
	var targets []int
	nsSet := map[string]bool{}
	for i, ex := range res.Pods {
		if ex.Stage != StageUnschedulable || len(ex.Feasible) > 0 || pods[ex.Namespace+"/"+ex.Name] == nil {
			continue
		}
		targets = append(targets, i)
		nsSet[ex.Namespace] = true
	}
	if len(targets) == 0 {
		return nil
	}
	namespaces := slices.Sorted(maps.Keys(nsSet))
	if r.scope.AllNamespaces || len(namespaces) > PerObjectEventLimit {
		namespaces = []string{""}
	}
	auto, unreadable, err := r.loadAutoscaler(namespaces)
	if err != nil {
		return err
	}
	state := autoscaler.Read(auto, autoscaler.Options{Now: r.scope.Now(), Unreadable: unreadable})
	r.warnings = append(r.warnings, unreadable...)
	for _, i := range targets {
		ex := &res.Pods[i]
		pod := pods[ex.Namespace+"/"+ex.Name]
		ex.Autoscaler = state.Explain(pod, &scheduling.Result{Feasible: ex.Feasible})
		res.Findings = append(res.Findings, ex.Autoscaler.Findings(report.RefFor("Pod", pod))...)
	}
	return nil
}

// loadAutoscaler loads the autoscalers' objects and their events on pods in
// the namespaces, and returns them with the cluster as loaded so far (nodes,
// pods, claims for the template checks), and what could not be read.
func (r *liveRun) loadAutoscaler(namespaces []string) (*cluster.Snapshot, []string, error) {
	var unreadable []string
	karpenter, err := r.ld.Serves(autoscaler.KarpenterAPI)
	if err != nil {
		unreadable = append(unreadable, fmt.Sprintf("cannot tell whether Karpenter's API (%s) is served: %v", autoscaler.KarpenterAPI, err))
	}
	auto, err := r.ld.Load(autoscaler.Queries(karpenter)...)
	if err != nil {
		return nil, nil, err
	}
	unreadable = append(unreadable, auto.Warnings...)
	if eqs := autoscaler.Read(auto, autoscaler.Options{}).PodEventQueries(namespaces); len(eqs) > 0 {
		evs, err := r.ld.Load(eqs...)
		if err != nil {
			return nil, nil, err
		}
		unreadable = append(unreadable, evs.Warnings...)
		auto = cluster.Merge(auto, evs)
	}
	all := cluster.Merge(r.snap, auto)
	// A node group's new node runs the DaemonSet pods of the node it is
	// imagined from: list them unless every pod is loaded already.
	if templateNodes := autoscaler.Read(all, autoscaler.Options{}).TemplateSources(); len(templateNodes) > 0 && !r.snap.Queried(EveryActivePod) {
		var pqs []cluster.Query
		for _, n := range templateNodes {
			pqs = append(pqs, cluster.Query{Kind: cluster.KindPod, FieldSelector: "spec.nodeName=" + n + "," + ActivePods, Optional: true})
		}
		onTemplates, err := r.ld.Load(pqs...)
		if err != nil {
			return nil, nil, err
		}
		unreadable = append(unreadable, onTemplates.Warnings...)
		// The pods explained stay as first read.
		all = cluster.Merge(cluster.Merge(all, onTemplates), &cluster.Snapshot{Pods: r.subjects})
	}
	return all, dedupe(unreadable), nil
}

func dedupe(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

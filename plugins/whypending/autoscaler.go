package whypending

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/dynamic"

	"github.com/ktriage/ktriage/pkg/autoscaler"
	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/pkg/pending"
	"github.com/ktriage/ktriage/pkg/printers"
	"github.com/ktriage/ktriage/pkg/report"
	"github.com/ktriage/ktriage/pkg/scheduling"
)

// kindLease names the Lease lists in Snapshot.Loaded.
const kindLease cluster.Kind = "Lease"

// karpenterNamespace is where Karpenter's chart installs it when not in
// kube-system.
const karpenterNamespace = "karpenter"

// explainAutoscaler asks the node autoscaler about the explained pods the
// scheduler cannot place anywhere: it loads the autoscaler's objects (every
// query optional: missing APIs and RBAC become warnings) only when there is
// such a pod, attaches the autoscaler's explanation to each and adds its
// findings.
func (o *Options) explainAutoscaler(ctx context.Context, l *live, rep *Report) error {
	snap := l.snap
	pods := map[string]*corev1.Pod{}
	for _, p := range snap.Pods {
		pods[p.Namespace+"/"+p.Name] = p
	}
	var targets []int
	nsSet := map[string]bool{}
	for i, ex := range rep.Pods {
		if ex.Stage != pending.StageUnschedulable || len(ex.Feasible) > 0 || pods[ex.Namespace+"/"+ex.Name] == nil {
			continue
		}
		targets = append(targets, i)
		nsSet[ex.Namespace] = true
	}
	if len(targets) == 0 {
		return nil
	}
	cfg, err := o.RESTConfig()
	if err != nil {
		return err
	}
	dc, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("creating the API client: %w", err)
	}
	lo := cluster.LiveOptions{Dynamic: dc}
	karpenter, warning := l.karpenterServed()
	var unreadable []string
	if warning != "" {
		unreadable = append(unreadable, warning)
	}
	qs := []cluster.Query{
		{Kind: cluster.KindConfigMap, Namespace: autoscaler.StatusNamespace, FieldSelector: "metadata.name=" + autoscaler.StatusName, Optional: true},
		{Kind: cluster.KindEvent, Namespace: autoscaler.StatusNamespace, FieldSelector: "involvedObject.kind=ConfigMap,involvedObject.name=" + autoscaler.StatusName, Optional: true},
		{Kind: kindLease, Resource: pending.LeaseResource, Namespace: autoscaler.StatusNamespace, Optional: true},
		{Kind: cluster.KindDeployment, Namespace: autoscaler.StatusNamespace, Optional: true},
	}
	if karpenter {
		qs = append(qs,
			cluster.Query{Kind: autoscaler.KindNodePool, Resource: autoscaler.NodePoolResource, Optional: true},
			cluster.Query{Kind: autoscaler.KindNodeClaim, Resource: autoscaler.NodeClaimResource, Optional: true},
			cluster.Query{Kind: kindLease, Resource: pending.LeaseResource, Namespace: karpenterNamespace, Optional: true},
			cluster.Query{Kind: cluster.KindDeployment, Namespace: karpenterNamespace, Optional: true},
		)
	}
	auto, err := cluster.LoadLiveWith(ctx, l.cs, lo, qs...)
	if err != nil {
		return err
	}
	unreadable = append(unreadable, auto.Warnings...)
	// The autoscalers' events on the pods, by the component that wrote them.
	var sources []string
	for _, k := range autoscaler.Read(auto, autoscaler.Options{}).Found() {
		switch k {
		case autoscaler.KindClusterAutoscaler:
			sources = append(sources, "cluster-autoscaler")
		case autoscaler.KindKarpenter:
			sources = append(sources, "karpenter")
		}
	}
	namespaces := slices.Sorted(maps.Keys(nsSet))
	if l.all || len(namespaces) > pending.PerObjectEventLimit {
		namespaces = []string{""}
	}
	var eqs []cluster.Query
	for _, src := range sources {
		for _, ns := range namespaces {
			eqs = append(eqs, cluster.Query{Kind: cluster.KindEvent, Namespace: ns, FieldSelector: "involvedObject.kind=Pod,source=" + src, Optional: true})
		}
	}
	if len(eqs) > 0 {
		evs, err := cluster.LoadLive(ctx, l.cs, eqs...)
		if err != nil {
			return err
		}
		unreadable = append(unreadable, evs.Warnings...)
		auto = cluster.Merge(auto, evs)
	}
	// The analysis sees the cluster (nodes, pods, claims for the template
	// checks) and the autoscaler's objects.
	all := func(extra ...*cluster.Snapshot) *cluster.Snapshot {
		a := cluster.Merge(snap, auto)
		for _, e := range extra {
			a = cluster.Merge(a, e)
		}
		if len(extra) > 0 {
			// The pods explained stay as first read.
			a = cluster.Merge(a, &cluster.Snapshot{Pods: l.subjects})
		}
		return a
	}
	// A node group's new node runs the DaemonSet pods of the node it is
	// imagined from: list them unless every pod is loaded already.
	var extra []*cluster.Snapshot
	if templateNodes := autoscaler.Read(all(), autoscaler.Options{}).TemplateSources(); len(templateNodes) > 0 && !snap.Queried(pending.EveryActivePod) {
		var pqs []cluster.Query
		for _, n := range templateNodes {
			pqs = append(pqs, cluster.Query{Kind: cluster.KindPod, FieldSelector: "spec.nodeName=" + n + ",status.phase!=Succeeded,status.phase!=Failed", Optional: true})
		}
		onTemplates, err := cluster.LoadLive(ctx, l.cs, pqs...)
		if err != nil {
			return err
		}
		unreadable = append(unreadable, onTemplates.Warnings...)
		extra = append(extra, onTemplates)
	}
	unreadable = dedupe(unreadable)
	state := autoscaler.Read(all(extra...), autoscaler.Options{Now: o.now(), Unreadable: unreadable})
	for _, w := range unreadable {
		rep.Warn(w)
	}
	for _, i := range targets {
		ex := &rep.Pods[i]
		pod := pods[ex.Namespace+"/"+ex.Name]
		ex.Autoscaler = state.Explain(pod, &scheduling.Result{Feasible: ex.Feasible})
		for _, f := range ex.Autoscaler.Findings(report.RefFor("Pod", pod)) {
			rep.Add(f)
		}
	}
	return nil
}

// karpenterServed asks discovery whether karpenter.sh/v1 is served, so a
// cluster without Karpenter costs no failing list and no warning.
func (l *live) karpenterServed() (bool, string) {
	gv := autoscaler.NodePoolResource.GroupVersion().String()
	_, err := l.cs.Discovery().ServerResourcesForGroupVersion(gv)
	switch {
	case err == nil:
		return true, ""
	case apierrors.IsNotFound(err):
		return false, ""
	}
	return false, fmt.Sprintf("cannot tell whether Karpenter's API (%s) is served: %v", gv, err)
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

// autoscalerTables: a line per pod the autoscaler was asked about; wide
// adds its node groups or NodePools (the reasons and fixes are in the
// findings).
func autoscalerTables(pods []pending.Explanation, wide bool) []printers.Table {
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
		keys := make([]string, 0, len(g.Limits))
		for k := range g.Limits {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
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

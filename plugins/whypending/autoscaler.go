package whypending

import (
	"context"
	"fmt"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/dynamic"

	"github.com/ktriage/ktriage/pkg/autoscaler"
	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/pkg/pending"
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
func (o *Options) explainAutoscaler(ctx context.Context, l *live, rep *pending.Report) error {
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

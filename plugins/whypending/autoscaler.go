package whypending

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/ktriage/ktriage/pkg/autoscaler"
	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/pkg/pending"
	"github.com/ktriage/ktriage/pkg/report"
	"github.com/ktriage/ktriage/pkg/scheduling"
)

var leaseResource = schema.GroupVersionResource{Group: "coordination.k8s.io", Version: "v1", Resource: "leases"}

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
func (o *Options) explainAutoscaler(ctx context.Context, l *live, snap *cluster.Snapshot, rep *Report) error {
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
		{Kind: kindLease, Resource: leaseResource, Namespace: autoscaler.StatusNamespace, Optional: true},
		{Kind: cluster.KindDeployment, Namespace: autoscaler.StatusNamespace, Optional: true},
	}
	if karpenter {
		qs = append(qs,
			cluster.Query{Kind: autoscaler.KindNodePool, Resource: autoscaler.NodePoolResource, Optional: true},
			cluster.Query{Kind: autoscaler.KindNodeClaim, Resource: autoscaler.NodeClaimResource, Optional: true},
			cluster.Query{Kind: kindLease, Resource: leaseResource, Namespace: karpenterNamespace, Optional: true},
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
	namespaces := sortedSet(nsSet)
	if l.all || len(namespaces) > perObjectEventLimit {
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
		merge(auto, evs)
	}
	unreadable = dedupe(unreadable)
	for _, w := range unreadable {
		rep.Warn(w)
	}

	// The analysis sees the cluster (nodes, pods, claims for the template
	// checks) and the autoscaler's objects.
	all := fresh(snap)
	merge(all, auto)
	all.Other = append(all.Other, auto.Other...)
	state := autoscaler.Read(all, autoscaler.Options{Now: o.now(), Unreadable: unreadable})
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

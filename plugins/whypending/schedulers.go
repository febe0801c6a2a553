package whypending

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/dynamic"

	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/pkg/pending"
)

// loadSchedulers loads, for the unbound pods that name another scheduler
// which has not acted on them yet, what shows whether that scheduler
// exists: pods it bound, events it wrote (any namespace), its leader Lease
// in kube-system. Each is field-selected, so only those objects travel.
func (o *Options) loadSchedulers(ctx context.Context, l *live, pods []*corev1.Pod) error {
	names := map[string]bool{}
	for _, p := range unboundPods(pods) {
		if p.Spec.SchedulerName != "" && p.Spec.SchedulerName != pending.DefaultScheduler && !hasPodScheduled(p) {
			names[p.Spec.SchedulerName] = true
		}
	}
	if len(names) == 0 {
		return nil
	}
	var qs []cluster.Query
	for _, n := range sortedSet(names) {
		if !l.snap.Queried(everyActivePod) {
			// With every pod loaded already (-A), the bound ones are there.
			qs = append(qs, cluster.Query{Kind: cluster.KindPod, FieldSelector: "spec.schedulerName=" + n + ",spec.nodeName!=", Optional: true})
		}
		qs = append(qs,
			cluster.Query{Kind: cluster.KindEvent, FieldSelector: "reportingComponent=" + n, Optional: true},
			cluster.Query{Kind: cluster.KindEvent, FieldSelector: "source=" + n, Optional: true},
			cluster.Query{Kind: pending.KindLease, Resource: leaseResource, Namespace: pending.LeaseNamespace, FieldSelector: "metadata.name=" + n, Optional: true})
	}
	cfg, err := o.RESTConfig()
	if err != nil {
		return err
	}
	dc, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("creating the API client: %w", err)
	}
	s, err := cluster.LoadLiveWith(ctx, l.cs, cluster.LiveOptions{Dynamic: dc}, qs...)
	if err != nil {
		return err
	}
	l.add(s)
	return nil
}

package autoscaler

import (
	"slices"
	"testing"
	"time"

	"github.com/ktriage/ktriage/pkg/cluster"
)

func TestKarpentersObjectsAreListedOnlyWhenItsAPIIsServed(t *testing.T) {
	karpenterOnly := func(q cluster.Query) bool {
		return q.Resource == NodePoolResource || q.Resource == NodeClaimResource || q.Namespace == karpenterNamespace
	}
	without, with := Queries(false), Queries(true)
	if slices.ContainsFunc(without, karpenterOnly) {
		t.Errorf("without Karpenter's API: %+v", without)
	}
	for _, r := range []cluster.Query{
		{Kind: KindNodePool, Resource: NodePoolResource, Optional: true},
		{Kind: KindNodeClaim, Resource: NodeClaimResource, Optional: true},
	} {
		if !slices.Contains(with, r) {
			t.Errorf("with Karpenter's API, no %+v in %+v", r, with)
		}
	}
	for _, q := range append(without, with...) {
		if !q.Optional {
			t.Errorf("%+v: every query is optional (RBAC and missing APIs are warnings)", q)
		}
	}
}

func TestPodEventsAreListedForTheAutoscalersFound(t *testing.T) {
	if qs := Read(snapshot(), Options{Now: now}).PodEventQueries([]string{"shop"}); qs != nil {
		t.Errorf("no autoscaler found: want no query, got %+v", qs)
	}
	ca := Read(snapshot(statusConfigMap(caStatus, 5*time.Second)), Options{Now: now})
	want := []cluster.Query{
		{Kind: cluster.KindEvent, Namespace: "shop", FieldSelector: "involvedObject.kind=Pod,source=cluster-autoscaler", Optional: true},
		{Kind: cluster.KindEvent, Namespace: "web", FieldSelector: "involvedObject.kind=Pod,source=cluster-autoscaler", Optional: true},
	}
	if qs := ca.PodEventQueries([]string{"shop", "web"}); !slices.Equal(qs, want) {
		t.Errorf("got %+v, want %+v", qs, want)
	}
}

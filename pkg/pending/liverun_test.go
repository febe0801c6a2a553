package pending

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/ktriage/ktriage/pkg/autoscaler"
	"github.com/ktriage/ktriage/pkg/cluster"
)

// recorder is a fake cluster's Loader that remembers each round asked of it
// (Loads run concurrently: rounds are in the order they began).
type recorder struct {
	cluster.Loader
	mu     sync.Mutex
	rounds [][]cluster.Query
	served []schema.GroupVersion
}

func (r *recorder) Load(qs ...cluster.Query) (*cluster.Snapshot, error) {
	r.mu.Lock()
	r.rounds = append(r.rounds, qs)
	r.mu.Unlock()
	return r.Loader.Load(qs...)
}

func (r *recorder) Serves(gv schema.GroupVersion) (bool, error) {
	r.mu.Lock()
	r.served = append(r.served, gv)
	r.mu.Unlock()
	return r.Loader.Serves(gv)
}

// queries are every query of every round, in order.
func (r *recorder) queries() []cluster.Query {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []cluster.Query
	for _, round := range r.rounds {
		out = append(out, round...)
	}
	return out
}

// fakeCluster is a Loader of a fake clientset holding objs (which ignores
// field selectors: a list returns every object of its namespace).
func fakeCluster(t *testing.T, objs ...runtime.Object) (*recorder, *fake.Clientset) {
	t.Helper()
	cs := fake.NewClientset(objs...)
	dc := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
		cluster.LeaseResource: "LeaseList", autoscaler.NodePoolResource: "NodePoolList", autoscaler.NodeClaimResource: "NodeClaimList",
	})
	return &recorder{Loader: cluster.NewLoader(context.Background(), cs, cluster.LiveOptions{Dynamic: dc})}, cs
}

func scope(ns string, targets ...cluster.Target) LiveScope {
	return LiveScope{Namespace: ns, Targets: targets, Now: func() time.Time { return now }}
}

func TestExplainingOnePodLoadsOnlyWhatItNeeds(t *testing.T) {
	big := pod("shop", "web", requests("64", ""), unschedulableCondition("0/2 nodes are available: 1 Insufficient cpu, 1 node(s) were unschedulable."))
	ld, _ := fakeCluster(t, big, node("n1", "4", "8Gi"), node("n2", "4", "8Gi", func(n *corev1.Node) { n.Spec.Unschedulable = true }))
	res, err := ExplainLive(ld, scope("shop", cluster.Target{Kind: cluster.KindPod, Namespace: "shop", Name: "web"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Pods) != 1 || res.Pods[0].Name != "web" || res.Pods[0].Stage != StageUnschedulable {
		t.Fatalf("want web explained as Unschedulable, got %+v", res.Pods)
	}
	if want := []cluster.Query{{Kind: cluster.KindPod, Namespace: "shop", Name: "web"}}; !slices.Equal(ld.rounds[0], want) {
		t.Errorf("first round %+v, want only the pod, by name: %+v", ld.rounds[0], want)
	}
	for _, q := range ld.queries() {
		if q.Kind == cluster.KindPod && q.Name == "" && q.FieldSelector != "spec.nodeName=n1,"+ActivePods {
			t.Errorf("pods listed with %+v: only the candidate node n1's pods may be listed", q)
		}
	}
	// No node takes the pod: the autoscaler is asked, Karpenter's API first.
	if !slices.Equal(ld.served, []schema.GroupVersion{autoscaler.KarpenterAPI}) || res.Pods[0].Autoscaler == nil {
		t.Errorf("want the autoscaler asked (discovery of %s), got %v and %+v", autoscaler.KarpenterAPI, ld.served, res.Pods[0].Autoscaler)
	}
}

func TestAllNamespacesListsEveryPodOnce(t *testing.T) {
	big := pod("shop", "web", requests("64", ""), unschedulableCondition("0/1 nodes are available: 1 Insufficient cpu."))
	ld, _ := fakeCluster(t, big, node("n1", "4", "8Gi"))
	res, err := ExplainLive(ld, LiveScope{AllNamespaces: true, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Pods) != 1 || res.Pods[0].Stage != StageUnschedulable {
		t.Fatalf("want web explained as Unschedulable, got %+v", res.Pods)
	}
	// The nodes and the FailedCreate events are listed alongside (rounds of
	// their own, begun in any order): the every-pod LIST is a round of its
	// own, and the only pod query.
	pods := 0
	for _, round := range ld.rounds {
		for _, q := range round {
			if q.Kind != cluster.KindPod {
				continue
			}
			pods++
			if !slices.Equal(round, []cluster.Query{EveryActivePod}) {
				t.Errorf("round %+v: want every active pod in a round of its own", round)
			}
		}
	}
	if pods != 1 {
		t.Errorf("%d pod queries in %+v: the one LIST of every pod holds every pod", pods, ld.rounds)
	}
}

func TestANamedPodThatIsNotPendingIsAWarning(t *testing.T) {
	ld, _ := fakeCluster(t, pod("shop", "done", onNode("n1")))
	res, err := ExplainLive(ld, scope("shop", cluster.Target{Kind: cluster.KindPod, Namespace: "shop", Name: "done"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Pods) != 0 || !slices.Equal(res.Warnings, []string{"pod shop/done is Running, not Pending"}) {
		t.Errorf("want no pod and a warning, got %+v and %q", res.Pods, res.Warnings)
	}
	if len(ld.rounds) != 1 {
		t.Errorf("nothing to explain must load nothing more, got rounds %+v", ld.rounds)
	}
}

func TestANamedTargetThatDoesNotExistIsAnError(t *testing.T) {
	ld, _ := fakeCluster(t)
	_, err := ExplainLive(ld, scope("shop", cluster.Target{Kind: cluster.KindDeployment, Namespace: "shop", Name: "nope"}))
	var gone *cluster.NotFoundError
	if !errors.As(err, &gone) {
		t.Errorf("want a *cluster.NotFoundError, got %v", err)
	}
}

func TestAFailedCreateOfADeploymentsReplicaSetExplainsTheDeployment(t *testing.T) {
	two := int32(2)
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web", UID: "uid-dep"}, Spec: appsv1.DeploymentSpec{Replicas: &two, Selector: sel}}
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web-5d8f", UID: "uid-rs", Labels: map[string]string{"app": "web"},
		OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(dep, appsv1.SchemeGroupVersion.WithKind("Deployment"))}},
		Spec: appsv1.ReplicaSetSpec{Replicas: &two, Selector: sel}}
	failed := event("ReplicaSet", "shop", "web-5d8f", "uid-rs", "FailedCreate", "Warning", `pods "web-5d8f-x" is forbidden: exceeded quota: compute`)
	ld, _ := fakeCluster(t, dep, rs, failed)
	res, err := ExplainLive(ld, scope("shop"))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Pods) != 1 || res.Pods[0].Workload == nil || res.Pods[0].Workload.Kind != "Deployment" || res.Pods[0].Stage != StageNotCreated {
		t.Errorf("want the Deployment explained as NotCreated, got %+v", res.Pods)
	}
}

func TestAFailedCreateThatCannotBeFollowedIsAWarning(t *testing.T) {
	failed := event("ReplicaSet", "shop", "web-5d8f", "uid-rs", "FailedCreate", "Warning", "exceeded quota")
	ld, cs := fakeCluster(t, failed, pod("shop", "web", requests("1", "")), node("n1", "4", "8Gi"))
	cs.PrependReactor("get", "replicasets", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "replicasets"}, "web-5d8f", nil)
	})
	res, err := ExplainLive(ld, scope("shop"))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Pods) != 1 || res.Pods[0].Name != "web" {
		t.Errorf("the Pending pod must still be explained, got %+v", res.Pods)
	}
	if len(res.Warnings) != 1 || !strings.HasPrefix(res.Warnings[0], "replicaset shop/web-5d8f has a FailedCreate event but could not be looked at: ") {
		t.Errorf("want one warning naming the ReplicaSet, got %q", res.Warnings)
	}
}

func TestAListRefusedWhileCheckingAStaleVerdictIsAWarning(t *testing.T) {
	// The scheduler found no room, but the pod fits now: before calling the
	// verdict stale, every pod and then the events of what changed are read.
	stale := pod("shop", "web", requests("1", ""), unschedulableCondition("0/1 nodes are available: 1 Insufficient cpu."))
	ld, cs := fakeCluster(t, stale, node("n1", "4", "8Gi"))
	cs.PrependReactor("list", "events", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "events"}, "", nil)
	})
	res, err := ExplainLive(ld, scope("shop", cluster.Target{Kind: cluster.KindPod, Namespace: "shop", Name: "web"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Pods) != 1 || res.Pods[0].MessagesAgree == nil || *res.Pods[0].MessagesAgree {
		t.Fatalf("want web's stored verdict found stale, got %+v", res.Pods)
	}
	found := false
	for _, w := range res.Warnings {
		found = found || strings.Contains(w, "events")
	}
	if !found {
		t.Errorf("want a warning naming the refused list of events, got %q", res.Warnings)
	}
}

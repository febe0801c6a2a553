package pending

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8stesting "k8s.io/client-go/testing"

	"github.com/ktriage/ktriage/pkg/cluster"
)

// gate holds back the Loads of rounds that contain a held query until the
// queries it waits for have been asked for (in any round, begun since): a
// round that waited for the held one's answer could never begin, so the
// gate gives up after a while and records that it did.
type gate struct {
	*recorder
	held    func(cluster.Query) bool
	waitFor []cluster.Query
	mu      sync.Mutex
	asked   []cluster.Query
	opened  chan struct{}
	timeout bool
}

func newGate(ld *recorder, held func(cluster.Query) bool, waitFor ...cluster.Query) *gate {
	return &gate{recorder: ld, held: held, waitFor: waitFor, opened: make(chan struct{})}
}

func (g *gate) Load(qs ...cluster.Query) (*cluster.Snapshot, error) {
	g.mu.Lock()
	g.asked = append(g.asked, qs...)
	if g.opened != nil && coversAll(g.asked, g.waitFor) {
		close(g.opened)
		g.opened = nil
	}
	opened := g.opened
	g.mu.Unlock()
	if opened != nil && slices.ContainsFunc(qs, g.held) {
		select {
		case <-opened:
		case <-time.After(5 * time.Second):
			g.mu.Lock()
			g.timeout = true
			g.mu.Unlock()
		}
	}
	return g.recorder.Load(qs...)
}

func (g *gate) waited(t *testing.T) {
	t.Helper()
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.timeout {
		t.Errorf("a held round waited for %+v, which were asked for only after it returned: %+v", g.waitFor, g.asked)
	}
}

func isEveryPod(q cluster.Query) bool { return q == EveryActivePod }

// With -A the nodes and the FailedCreate events are asked for before the
// LIST of every pod returns, and the answer is the same.
func TestAllNamespacesListsNodesWhileThePodsAreListed(t *testing.T) {
	big := pod("shop", "web", requests("64", ""), unschedulableCondition("0/1 nodes are available: 1 Insufficient cpu."))
	failed := event("ReplicaSet", "shop", "web-5d8f", "uid-rs", "FailedCreate", "Warning", "exceeded quota")
	ld, _ := fakeCluster(t, big, failed, node("n1", "4", "8Gi"))
	g := newGate(ld, isEveryPod, nodesQuery, cluster.Query{Kind: cluster.KindEvent, FieldSelector: "reason=FailedCreate", Optional: true})
	res, err := ExplainLive(g, LiveScope{AllNamespaces: true, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	g.waited(t)
	if len(res.Pods) != 1 || res.Pods[0].Stage != StageUnschedulable || !strings.HasPrefix(res.Pods[0].SimulatedSchedulerMessage, "0/1 nodes are available: 1 Insufficient cpu.") {
		t.Fatalf("want web explained as Unschedulable against node n1, got %+v", res.Pods)
	}
	nodes := 0
	for _, q := range ld.queries() {
		if q.Kind == cluster.KindNode {
			nodes++
		}
	}
	if nodes != 1 {
		t.Errorf("want the nodes listed once, got %d times: %+v", nodes, ld.rounds)
	}
}

// The nodes listed alongside the pods serve only when a pod is Pending:
// with none, a refused node list leaves no warning, as when they were not
// listed at all.
func TestNodesListedAheadAreDroppedWhenNothingIsPending(t *testing.T) {
	ld, cs := fakeCluster(t, pod("shop", "web", onNode("n1")), node("n1", "4", "8Gi"))
	cs.PrependReactor("list", "nodes", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "nodes"}, "", nil)
	})
	res, err := ExplainLive(ld, LiveScope{AllNamespaces: true, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Pods) != 0 || len(res.Warnings) != 0 {
		t.Errorf("nothing is Pending: want no pod and no warning, got %+v and %q", res.Pods, res.Warnings)
	}

	// With a Pending pod the refusal is the one warning it was.
	ld, cs = fakeCluster(t, pod("shop", "web", requests("1", "")), node("n1", "4", "8Gi"))
	cs.PrependReactor("list", "nodes", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "nodes"}, "", nil)
	})
	res, err = ExplainLive(ld, LiveScope{AllNamespaces: true, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, w := range res.Warnings {
		if strings.Contains(w, "nodes") {
			n++
		}
	}
	if len(res.Pods) != 1 || n != 1 {
		t.Errorf("want web explained and one warning naming the nodes, got %+v and %q", res.Pods, res.Warnings)
	}
}

// A failed LIST of every pod is the error, whatever was listed alongside.
func TestTheEveryPodListsErrorWinsOverTheLoadsAhead(t *testing.T) {
	ld, cs := fakeCluster(t, node("n1", "4", "8Gi"))
	cs.PrependReactor("list", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "", nil)
	})
	_, err := ExplainLive(ld, LiveScope{AllNamespaces: true, Now: func() time.Time { return now }})
	if err == nil || !strings.Contains(err.Error(), "pods") {
		t.Errorf("want the pod list's error, got %v", err)
	}
}

// Explaining one pod, the pods of its candidate node are asked for as soon
// as the nodes are in, before the rest of the context round (the
// DeviceClasses, which tell whether a class provides the extended resource
// the pod requests) returns.
func TestCandidatePodsAreListedOnceTheNodesAreIn(t *testing.T) {
	web := pod("shop", "web", requests("64", ""), unschedulableCondition("0/2 nodes are available: 1 Insufficient cpu, 1 Insufficient example.com/gpu, 1 node(s) were unschedulable."), func(p *corev1.Pod) {
		p.Spec.Containers[0].Resources.Requests["example.com/gpu"] = resource.MustParse("1")
	})
	ld, _ := fakeCluster(t, web, pod("shop", "db", onNode("n1"), requests("1", "")), node("n1", "4", "8Gi"), node("n2", "4", "8Gi", func(n *corev1.Node) { n.Spec.Unschedulable = true }))
	candidatePods := cluster.Query{Kind: cluster.KindPod, FieldSelector: "spec.nodeName=n1," + ActivePods}
	deviceClasses := func(q cluster.Query) bool { return q.Kind == cluster.KindDeviceClass }
	g := newGate(ld, deviceClasses, candidatePods)
	res, err := ExplainLive(g, scope("shop", cluster.Target{Kind: cluster.KindPod, Namespace: "shop", Name: "web"}))
	if err != nil {
		t.Fatal(err)
	}
	g.waited(t)
	if len(res.Pods) != 1 || res.Pods[0].Stage != StageUnschedulable || !strings.HasPrefix(res.Pods[0].SimulatedSchedulerMessage, "0/2 nodes are available: 1 Insufficient cpu, 1 Insufficient example.com/gpu, 1 node(s) were unschedulable.") {
		t.Fatalf("want web explained against both nodes, got %+v", res.Pods)
	}
	if !slices.ContainsFunc(ld.queries(), deviceClasses) {
		t.Errorf("want the DeviceClasses listed, got %+v", ld.rounds)
	}
	for _, q := range ld.queries() {
		if q.Kind == cluster.KindPod && q.Name == "" && q != candidatePods {
			t.Errorf("pods listed with %+v: only the candidate node n1's pods may be listed", q)
		}
	}
}

// With -A, what shows whether another scheduler exists is asked for once
// the pods are in, before the context round returns.
func TestAllNamespacesAsksForOtherSchedulersEarly(t *testing.T) {
	other := pod("shop", "batch", func(p *corev1.Pod) { p.Spec.SchedulerName = "batch" })
	ld, _ := fakeCluster(t, other, node("n1", "4", "8Gi"))
	lease := cluster.Query{Kind: cluster.KindLease, Resource: cluster.LeaseResource, Namespace: LeaseNamespace, FieldSelector: "metadata.name=batch", Optional: true}
	g := newGate(ld, isPodEvents, lease)
	res, err := ExplainLive(g, LiveScope{AllNamespaces: true, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	g.waited(t)
	if len(res.Pods) != 1 || res.Pods[0].Name != "batch" {
		t.Fatalf("want batch explained, got %+v", res.Pods)
	}
	leases := 0
	for _, q := range ld.queries() {
		if q == lease {
			leases++
		}
	}
	if leases != 1 {
		t.Errorf("want the Lease asked for once, got %d: %+v", leases, ld.rounds)
	}
}

// isPodEvents: the events of one pod, by UID (the context round).
func isPodEvents(q cluster.Query) bool {
	return q.Kind == cluster.KindEvent && strings.HasPrefix(q.FieldSelector, "involvedObject.uid=")
}

package qosaudit

import (
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/ktriage/ktriage/pkg/cli"
	"github.com/ktriage/ktriage/pkg/cluster"
)

func queryStrings(qs []cluster.Query) []string {
	var out []string
	for _, q := range qs {
		out = append(out, string(q.Kind)+" ns="+q.Namespace+" fs="+q.FieldSelector)
	}
	sort.Strings(out)
	return out
}

func TestLiveQueries(t *testing.T) {
	snap := liveSnapshot()
	node2 := livePod("other", "x", "node-2", corev1.PodQOSBestEffort, controller("Job", "j"))
	snap.Pods = append(snap.Pods, node2)

	t.Run("the pods of every node in scope are listed by field selector, finished pods left out", func(t *testing.T) {
		o := &Options{Common: &cli.Common{}}
		got := queryStrings(o.nodePodQueries(snap))
		want := []string{
			"Pod ns= fs=spec.nodeName=node-1,status.phase!=Succeeded,status.phase!=Failed",
			"Pod ns= fs=spec.nodeName=node-2,status.phase!=Succeeded,status.phase!=Failed",
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got %q", got)
		}
	})
	t.Run("-A without a selector already holds every pod", func(t *testing.T) {
		o := &Options{Common: &cli.Common{AllNamespaces: true}}
		if got := o.nodePodQueries(snap); len(got) != 0 {
			t.Errorf("got %q", queryStrings(got))
		}
	})
	t.Run("without nodes there is no node section to fill", func(t *testing.T) {
		s := liveSnapshot()
		s.Loaded[cluster.KindNode] = false
		o := &Options{Common: &cli.Common{}}
		if got := o.nodePodQueries(s); len(got) != 0 {
			t.Errorf("got %q", queryStrings(got))
		}
	})
	t.Run("ReplicaSets and Jobs are listed only where pods they own live", func(t *testing.T) {
		o := &Options{Common: &cli.Common{}}
		got := queryStrings(o.ownerQueries(snap.Pods))
		want := []string{"Job ns=other fs=", "ReplicaSet ns=shop fs="}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got %q", got)
		}
	})
}
func TestPodUsageFromMetricsAPI(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/apis/metrics.k8s.io/v1beta1/pods" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"kind":"PodMetricsList","apiVersion":"metrics.k8s.io/v1beta1","items":[
 {"metadata":{"namespace":"shop","name":"web-1"},"containers":[{"name":"a","usage":{"cpu":"10m","memory":"100Mi"}},{"name":"b","usage":{"memory":"28Mi"}}]}]}`))
	}))
	defer srv.Close()
	snap := liveSnapshot()
	got := podUsage(context.Background(), &rest.Config{Host: srv.URL}, snap)
	if want := map[string]int64{"shop/web-1": 128 << 20}; !reflect.DeepEqual(got, want) {
		t.Errorf("usage %v, want %v", got, want)
	}

	notServed := httptest.NewServer(http.NotFoundHandler())
	defer notServed.Close()
	snap = liveSnapshot()
	if got := podUsage(context.Background(), &rest.Config{Host: notServed.URL}, snap); got != nil || len(snap.Warnings) != 0 {
		t.Errorf("an API that is not served must fall back to requests quietly: %v %v", got, snap.Warnings)
	}

	forbidden := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Forbidden","code":403,"message":"forbidden"}`))
	}))
	defer forbidden.Close()
	snap = liveSnapshot()
	if got := podUsage(context.Background(), &rest.Config{Host: forbidden.URL}, snap); got != nil || len(snap.Warnings) != 1 || !strings.Contains(snap.Warnings[0], "pods.metrics.k8s.io") {
		t.Errorf("a forbidden metrics API must leave a warning naming it: %v %v", got, snap.Warnings)
	}

	// RBAC for some namespaces only: a forbidden cluster-wide list falls back
	// to one list per namespace of the pods ranked.
	perNamespace := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/apis/metrics.k8s.io/v1beta1/namespaces/shop/pods" {
			_, _ = w.Write([]byte(`{"kind":"PodMetricsList","apiVersion":"metrics.k8s.io/v1beta1","items":[
 {"metadata":{"namespace":"shop","name":"scratch"},"containers":[{"name":"app","usage":{"memory":"64Mi"}}]}]}`))
			return
		}
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Forbidden","code":403,"message":"forbidden"}`))
	}))
	defer perNamespace.Close()
	snap = liveSnapshot()
	got = podUsage(context.Background(), &rest.Config{Host: perNamespace.URL}, snap)
	if want := map[string]int64{"shop/scratch": 64 << 20}; !reflect.DeepEqual(got, want) {
		t.Errorf("usage %v, want %v", got, want)
	}
	if len(snap.Warnings) != 1 || !strings.Contains(snap.Warnings[0], "in namespace kube-system") || strings.Contains(snap.Warnings[0], "shop") {
		t.Errorf("the warning must name only the namespace still forbidden: %q", snap.Warnings)
	}
}

// A user who may list pods only in their own namespace still gets the
// eviction order of the nodes, ranking the pods they can see, marked partial.
func TestNodePodsForbiddenGivesPartialOrder(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path != "/api/v1/pods" {
			http.NotFound(w, r)
			return
		}
		if strings.Contains(r.URL.Query().Get("fieldSelector"), "spec.nodeName=node-2") {
			_, _ = w.Write([]byte(`{"kind":"PodList","apiVersion":"v1","items":[
 {"metadata":{"namespace":"other","name":"y"},"spec":{"nodeName":"node-2","containers":[{"name":"app"}]},"status":{"phase":"Running","qosClass":"BestEffort"}}]}`))
			return
		}
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Forbidden","code":403,"message":"pods is forbidden"}`))
	}))
	defer srv.Close()
	cs, err := kubernetes.NewForConfig(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}

	snap := liveSnapshot()
	snap.Nodes = append(snap.Nodes, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-2"}, Status: corev1.NodeStatus{
		Capacity: rl("cpu", "4", "memory", "4Gi"), Allocatable: rl("cpu", "4", "memory", "3Gi")}})
	snap.Pods = append(snap.Pods, livePod("shop", "z", "node-2", corev1.PodQOSBestEffort, nil, corev1.ResourceRequirements{}))
	o := &Options{Common: &cli.Common{}}
	qs := o.nodePodQueries(snap)
	for _, q := range qs {
		if !q.Optional {
			t.Fatalf("a per-node pod list must be optional: %+v", q)
		}
	}
	extra, partial, err := loadNodePods(context.Background(), cs, qs, nodesOf(snap.Pods, ""))
	if err != nil {
		t.Fatalf("a forbidden pod list must not fail the run: %v", err)
	}
	if len(partial) != 1 || !strings.Contains(partial["node-1"], "cannot list pods") {
		t.Fatalf("only node-1 must be partial, with the API error: %q", partial)
	}
	snap = cluster.Merge(snap, extra)
	rep := AnalyzeLive(snap, AnalysisOptions{PartialNodes: partial, InScope: func(p *corev1.Pod) bool { return p.Namespace == "shop" }}, "test")
	byName := map[string]NodeResult{}
	for _, n := range rep.Nodes {
		byName[n.Name] = n
	}
	if n := byName["node-1"]; n.Partial != "pods of other namespaces unknown" || len(n.EvictionOrder) != 4 {
		t.Errorf("node-1 must rank the 4 pods known and say it is partial: %q %d", n.Partial, len(n.EvictionOrder))
	}
	if n := byName["node-2"]; n.Partial != "" || len(n.EvictionOrder) != 2 {
		t.Errorf("node-2 was listed fully: %q %d", n.Partial, len(n.EvictionOrder))
	}
	var warned bool
	for _, w := range rep.Metadata.Warnings {
		warned = warned || strings.Contains(w, "eviction order partial on node node-1: pods of other namespaces unknown")
	}
	if !warned {
		t.Errorf("no warning names the partial node: %q", rep.Metadata.Warnings)
	}
}

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

	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/pkg/qosaudit/qosaudittest"
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
	snap := qosaudittest.LiveSnapshot()
	node2 := qosaudittest.LivePod("other", "x", "node-2", corev1.PodQOSBestEffort, qosaudittest.Controller("Job", "j"))
	snap.Pods = append(snap.Pods, node2)

	t.Run("the pods of every node in scope are listed by field selector, finished pods left out", func(t *testing.T) {
		got := queryStrings(NodePodQueries(snap, LiveScope{}))
		want := []string{
			"Pod ns= fs=spec.nodeName=node-1,status.phase!=Succeeded,status.phase!=Failed",
			"Pod ns= fs=spec.nodeName=node-2,status.phase!=Succeeded,status.phase!=Failed",
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got %q", got)
		}
	})
	t.Run("-A without a selector already holds every pod", func(t *testing.T) {
		if got := NodePodQueries(snap, LiveScope{AllNamespaces: true}); len(got) != 0 {
			t.Errorf("got %q", queryStrings(got))
		}
	})
	t.Run("without nodes there is no node section to fill", func(t *testing.T) {
		s := qosaudittest.LiveSnapshot()
		s.Loaded[cluster.KindNode] = false
		if got := NodePodQueries(s, LiveScope{}); len(got) != 0 {
			t.Errorf("got %q", queryStrings(got))
		}
	})
	t.Run("ReplicaSets and Jobs are listed only where pods they own live", func(t *testing.T) {
		got := queryStrings(OwnerQueries(snap.Pods))
		want := []string{"Job ns=other fs=", "ReplicaSet ns=shop fs="}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got %q", got)
		}
	})
}

func TestBaseQueries(t *testing.T) {
	show := func(qs []cluster.Query) []string {
		var out []string
		for _, q := range qs {
			out = append(out, string(q.Kind)+" ns="+q.Namespace+" ls="+q.LabelSelector+" fs="+q.FieldSelector)
		}
		return out
	}
	cases := []struct {
		name  string
		scope LiveScope
		want  []string
	}{
		{"one namespace lists its pods and LimitRanges, and the nodes", LiveScope{Namespace: "shop", Selector: "tier=db"},
			[]string{"LimitRange ns=shop ls= fs=", "Node ns= ls= fs=", "Pod ns=shop ls=tier=db fs="}},
		{"-A lists the namespaces too, for their qos-required annotation", LiveScope{AllNamespaces: true},
			[]string{"LimitRange ns= ls= fs=", "Node ns= ls= fs=", "Namespace ns= ls= fs=", "Pod ns= ls= fs="}},
		{"--node lists the node's pods by field selector", LiveScope{Namespace: "shop", Node: "node-1"},
			[]string{"LimitRange ns=shop ls= fs=", "Node ns= ls= fs=", "Pod ns=shop ls= fs=spec.nodeName=node-1"}},
		{"named pods are not listed", LiveScope{Namespace: "shop", Targets: true},
			[]string{"LimitRange ns=shop ls= fs=", "Node ns= ls= fs="}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := show(BaseQueries(tc.scope)); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestInScope(t *testing.T) {
	first := qosaudittest.LiveSnapshot().Pods
	later := qosaudittest.LivePod("shop", "later", "node-1", corev1.PodQOSBestEffort, nil)
	names := func(in func(*corev1.Pod) bool) []string {
		var out []string
		for _, p := range append(first, later) {
			if in(p) {
				out = append(out, p.Namespace+"/"+p.Name)
			}
		}
		return out
	}
	all := []string{"shop/web-5d9f-a", "shop/web-5d9f-b", "shop/scratch", "kube-system/old"}
	if got := names(InScope(first, LiveScope{Namespace: "shop"})); !reflect.DeepEqual(got, all) {
		t.Errorf("the first round's pods are the scope, pods loaded later are not: got %q", got)
	}
	if got, want := names(InScope(first, LiveScope{Namespace: "shop", Node: "node-1"})), all[:3]; !reflect.DeepEqual(got, want) {
		t.Errorf("--node in one namespace keeps that namespace's pods: got %q, want %q", got, want)
	}
	if got := names(InScope(first, LiveScope{AllNamespaces: true, Node: "node-1"})); !reflect.DeepEqual(got, all) {
		t.Errorf("--node with -A keeps every pod of the node: got %q", got)
	}
}

func TestNodeOfQuery(t *testing.T) {
	for _, q := range NodePodQueries(qosaudittest.LiveSnapshot(), LiveScope{}) {
		if got := NodeOfQuery(q); got != "node-1" {
			t.Errorf("NodeOfQuery(%q) = %q, want node-1", q.FieldSelector, got)
		}
	}
	if got := NodeOfQuery(cluster.Query{Kind: cluster.KindPod, FieldSelector: activePods[1:]}); got != "" {
		t.Errorf("a cluster-wide list covers no single node: got %q", got)
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

	snap := qosaudittest.LiveSnapshot()
	snap.Nodes = append(snap.Nodes, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-2"}, Status: corev1.NodeStatus{
		Capacity: qosaudittest.RL("cpu", "4", "memory", "4Gi"), Allocatable: qosaudittest.RL("cpu", "4", "memory", "3Gi")}})
	snap.Pods = append(snap.Pods, qosaudittest.LivePod("shop", "z", "node-2", corev1.PodQOSBestEffort, nil, corev1.ResourceRequirements{}))
	qs := NodePodQueries(snap, LiveScope{})
	for _, q := range qs {
		if !q.Optional {
			t.Fatalf("a per-node pod list must be optional: %+v", q)
		}
	}
	snaps, err := cluster.LoadEach(context.Background(), cs, qs...)
	if err != nil {
		t.Fatalf("a forbidden pod list must not fail the run: %v", err)
	}
	extra, partial := NodePods(qs, snaps, NodesOf(snap.Pods, ""))
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

func TestLimitRangeQueriesAreOptionalPerNamespace(t *testing.T) {
	got := queryStrings(LimitRangeQueries([]string{"shop", "db"}))
	want := []string{"LimitRange ns=db fs=", "LimitRange ns=shop fs="}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	for _, q := range append(LimitRangeQueries([]string{"shop"}), WebhookQuery) {
		if !q.Optional {
			t.Errorf("a user who may not list %s still gets the prediction: %+v", q.Kind, q)
		}
	}
}

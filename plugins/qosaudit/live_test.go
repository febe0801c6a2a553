package qosaudit

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/pkg/qosaudit"
	"github.com/ktriage/ktriage/pkg/qosaudit/qosaudittest"
)

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
	qs := qosaudit.NodePodQueries(snap, qosaudit.LiveScope{})
	for _, q := range qs {
		if !q.Optional {
			t.Fatalf("a per-node pod list must be optional: %+v", q)
		}
	}
	extra, partial, err := loadNodePods(context.Background(), cs, qs, qosaudit.NodesOf(snap.Pods, ""))
	if err != nil {
		t.Fatalf("a forbidden pod list must not fail the run: %v", err)
	}
	if len(partial) != 1 || !strings.Contains(partial["node-1"], "cannot list pods") {
		t.Fatalf("only node-1 must be partial, with the API error: %q", partial)
	}
	snap = cluster.Merge(snap, extra)
	rep := qosaudit.AnalyzeLive(snap, qosaudit.AnalysisOptions{PartialNodes: partial, InScope: func(p *corev1.Pod) bool { return p.Namespace == "shop" }}, "test")
	byName := map[string]qosaudit.NodeResult{}
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

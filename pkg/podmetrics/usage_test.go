package podmetrics

import (
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"k8s.io/client-go/rest"

	"github.com/ktriage/ktriage/pkg/qosaudit/qosaudittest"
)

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
	snap := qosaudittest.LiveSnapshot()
	got := MemoryUsage(context.Background(), &rest.Config{Host: srv.URL}, snap)
	if want := map[string]int64{"shop/web-1": 128 << 20}; !reflect.DeepEqual(got, want) {
		t.Errorf("usage %v, want %v", got, want)
	}

	notServed := httptest.NewServer(http.NotFoundHandler())
	defer notServed.Close()
	snap = qosaudittest.LiveSnapshot()
	if got := MemoryUsage(context.Background(), &rest.Config{Host: notServed.URL}, snap); got != nil || len(snap.Warnings) != 0 {
		t.Errorf("an API that is not served must fall back to requests quietly: %v %v", got, snap.Warnings)
	}

	forbidden := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Forbidden","code":403,"message":"forbidden"}`))
	}))
	defer forbidden.Close()
	snap = qosaudittest.LiveSnapshot()
	if got := MemoryUsage(context.Background(), &rest.Config{Host: forbidden.URL}, snap); got != nil || len(snap.Warnings) != 1 || !strings.Contains(snap.Warnings[0], "pods.metrics.k8s.io") {
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
	snap = qosaudittest.LiveSnapshot()
	got = MemoryUsage(context.Background(), &rest.Config{Host: perNamespace.URL}, snap)
	if want := map[string]int64{"shop/scratch": 64 << 20}; !reflect.DeepEqual(got, want) {
		t.Errorf("usage %v, want %v", got, want)
	}
	if len(snap.Warnings) != 1 || !strings.Contains(snap.Warnings[0], "in namespace kube-system") || strings.Contains(snap.Warnings[0], "shop") {
		t.Errorf("the warning must name only the namespace still forbidden: %q", snap.Warnings)
	}
}

package inflight

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
)

func TestDescribe(t *testing.T) {
	cases := []struct {
		name, method, path string
		watch              bool
		want               string
	}{
		{"a namespaced list", "GET", "/api/v1/namespaces/x/pods", false, "list pods in namespace x"},
		{"a list in every namespace", "GET", "/api/v1/pods", false, "list pods"},
		{"a cluster-scoped get", "GET", "/api/v1/nodes/n1", false, "get nodes n1"},
		{"a namespace itself", "GET", "/api/v1/namespaces/x", false, "get namespaces x"},
		{"a grouped resource", "GET", "/apis/policy/v1/namespaces/x/poddisruptionbudgets", false, "list poddisruptionbudgets.policy in namespace x"},
		{"a subresource patch", "PATCH", "/api/v1/namespaces/x/pods/p/ephemeralcontainers", false, "patch pods/ephemeralcontainers p in namespace x"},
		{"a watch", "GET", "/api/v1/namespaces/x/pods", true, "watch pods in namespace x"},
		{"a create", "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", false, "create selfsubjectaccessreviews.authorization.k8s.io"},
		{"a path that is no resource", "GET", "/version", false, "GET /version"},
		{"a group list", "GET", "/apis", false, "GET /apis"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Describe(tc.method, tc.path, tc.watch); got != tc.want {
				t.Errorf("Describe(%s %s) = %q, want %q", tc.method, tc.path, got, tc.want)
			}
		})
	}
}

func TestTrackerPending(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ctx, tr := NewContext(ctx)
	endA := Begin(ctx, "list pods")
	endB := Begin(ctx, "list nodes")
	endA2 := Begin(ctx, "list pods")
	if got, want := tr.Pending(), []string{"list pods", "list nodes"}; !slices.Equal(got, want) {
		t.Fatalf("Pending() = %q, want %q (oldest first, each once)", got, want)
	}
	endA()
	endA2()
	cancel()
	endB()
	Begin(ctx, "get nodes n1")
	if got, want := tr.Pending(), []string{"list nodes"}; !slices.Equal(got, want) {
		t.Errorf("after the run ended, Pending() = %q, want what was under way then %q", got, want)
	}
}

func TestBeginWithoutTracker(t *testing.T) {
	Begin(context.Background(), "anything")() // must not panic
}

func TestWrapTransportRecordsRequestsUnderWay(t *testing.T) {
	ctx, tr := NewContext(context.Background())
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = tr.Pending()
	}))
	defer srv.Close()
	client := &http.Client{Transport: WrapTransport(http.DefaultTransport)}
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/api/v1/namespaces/x/pods?limit=500", nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if want := []string{"list pods in namespace x"}; !slices.Equal(seen, want) {
		t.Errorf("pending while the server answered = %q, want %q", seen, want)
	}
	if p := tr.Pending(); len(p) != 0 {
		t.Errorf("pending after the answer = %q, want nothing", p)
	}
}

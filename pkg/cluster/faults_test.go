package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// The faults of a real API server, through a real client-go: an httptest
// server answers the LISTs, and the client is set up as the plugins set it
// up (protobuf first, JSON accepted, high QPS, a request timeout).

// faultTimeout stands for --request-timeout in these tests.
const faultTimeout = 2 * time.Second

func faultClient(t *testing.T, handler http.HandlerFunc) kubernetes.Interface {
	t.Helper()
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	cfg := &rest.Config{Host: srv.URL, QPS: 200, Burst: 400, Timeout: faultTimeout}
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// list writes a JSON list of kind with items and a continue token.
func list(w http.ResponseWriter, kind string, cont string, items ...any) {
	w.Header().Set("Content-Type", "application/json")
	if items == nil {
		items = []any{}
	}
	_ = json.NewEncoder(w).Encode(map[string]any{
		"apiVersion": "v1", "kind": kind,
		"metadata": map[string]any{"continue": cont, "resourceVersion": "1"},
		"items":    items,
	})
}

// status writes a Status error as the API server does.
func status(w http.ResponseWriter, code int, reason metav1.StatusReason, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusFailure, Code: int32(code), Reason: reason, Message: msg,
	})
}

func podItem(name string) map[string]any {
	return map[string]any{"metadata": map[string]any{"name": name, "namespace": "shop"}}
}

// oneLine fails unless err is a single line starting with prefix.
func oneLine(t *testing.T, err error, prefix string) {
	t.Helper()
	if err == nil || !strings.HasPrefix(err.Error(), prefix) || strings.ContainsAny(err.Error(), "\n\r") {
		t.Fatalf("error %v, want one line starting %q", err, prefix)
	}
}

// An API server that answers 429 with Retry-After for ever: the LIST ends
// within the request timeout, as one line saying the server throttles.
func TestAServerThatThrottlesForEverEndsWithinTheRequestTimeout(t *testing.T) {
	var calls atomic.Int32
	cs := faultClient(t, func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Retry-After", "1")
		status(w, http.StatusTooManyRequests, metav1.StatusReasonTooManyRequests, "too many requests, please try again later")
	})
	start := time.Now()
	_, err := LoadLive(context.Background(), cs, Query{Kind: KindPod}, Query{Kind: KindNode, Optional: true})
	if d := time.Since(start); d > faultTimeout+time.Second {
		t.Errorf("took %s with a request timeout of %s", d, faultTimeout)
	}
	oneLine(t, err, "cannot list ")
	if !strings.Contains(err.Error(), "raise --request-timeout") {
		t.Errorf("want the error to say the server did not answer in time: %v", err)
	}
	if calls.Load() < 2 {
		t.Errorf("%d requests: client-go should have honoured Retry-After at least once", calls.Load())
	}
}

// 500 on one resource: a required list fails the run with one line naming
// it, and so does an optional one (a broken server is not a missing right).
func TestServerErrorsOnOneResource(t *testing.T) {
	handler := func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/nodes") {
			status(w, http.StatusInternalServerError, metav1.StatusReasonInternalError, "etcdserver: request timed out")
			return
		}
		list(w, "PodList", "", podItem("web"))
	}
	for _, optional := range []bool{false, true} {
		t.Run(fmt.Sprintf("optional=%v", optional), func(t *testing.T) {
			cs := faultClient(t, handler)
			start := time.Now()
			_, err := LoadLive(context.Background(), cs, Query{Kind: KindPod}, Query{Kind: KindNode, Optional: optional})
			oneLine(t, err, "cannot list nodes at cluster scope: ")
			if !strings.Contains(err.Error(), "etcdserver: request timed out") {
				t.Errorf("want the server's own message: %v", err)
			}
			if d := time.Since(start); d > faultTimeout {
				t.Errorf("took %s", d)
			}
		})
	}
}

// A kind the server does not serve (no DRA, no EndpointSlice v1): 404 for
// the group, as a Status or as the plain "404 page not found" of a server
// without the group. An optional list becomes a warning and the rest of the
// snapshot is kept; a required one is one line naming the resource.
func TestAKindTheServerDoesNotServe(t *testing.T) {
	for _, body := range []string{"status", "plain"} {
		handler := func(w http.ResponseWriter, r *http.Request) {
			switch {
			case strings.HasPrefix(r.URL.Path, "/apis/resource.k8s.io/"), strings.HasPrefix(r.URL.Path, "/apis/discovery.k8s.io/v1/"):
				if body == "plain" {
					http.NotFound(w, r)
					return
				}
				status(w, http.StatusNotFound, metav1.StatusReasonNotFound, "the server could not find the requested resource")
			default:
				list(w, "PodList", "", podItem("web"))
			}
		}
		t.Run(body+"/optional DRA is a warning", func(t *testing.T) {
			cs := faultClient(t, handler)
			s, err := LoadLive(context.Background(), cs, Query{Kind: KindPod}, Query{Kind: KindResourceClaim, Optional: true}, Query{Kind: KindDeviceClass, Optional: true})
			if err != nil {
				t.Fatal(err)
			}
			want := []string{
				"cannot list resourceclaims.resource.k8s.io at cluster scope: the API server does not serve this resource; check the cluster version and installed CRDs (kubectl api-resources)",
				"cannot list deviceclasses.resource.k8s.io at cluster scope: the API server does not serve this resource; check the cluster version and installed CRDs (kubectl api-resources)",
			}
			if strings.Join(s.Warnings, "\n") != strings.Join(want, "\n") {
				t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(s.Warnings, "\n"), strings.Join(want, "\n"))
			}
			if len(s.Pods) != 1 || !s.Loaded[KindPod] || s.Loaded[KindResourceClaim] {
				t.Errorf("want the pods kept and the claims marked not loaded: %d pods, loaded %v", len(s.Pods), s.Loaded)
			}
		})
		t.Run(body+"/required EndpointSlices is one line", func(t *testing.T) {
			cs := faultClient(t, handler)
			_, err := LoadLive(context.Background(), cs, Query{Kind: KindEndpointSlice, Namespace: "shop"})
			oneLine(t, err, "cannot list endpointslices.discovery.k8s.io in namespace shop: the API server does not serve this resource")
		})
	}
}

// A paginated LIST whose continue token expires midway (410 Gone): the list
// starts again once and is complete, without duplicates; a token that
// expires again ends the run with one line.
func TestAContinueTokenThatExpiresMidway(t *testing.T) {
	expired := func(w http.ResponseWriter) {
		status(w, http.StatusGone, metav1.StatusReasonExpired, "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.")
	}
	pages := func(expireAlways bool) http.HandlerFunc {
		var lists atomic.Int32
		return func(w http.ResponseWriter, r *http.Request) {
			cont := r.URL.Query().Get("continue")
			switch {
			case cont == "":
				n := lists.Add(1)
				list(w, "PodList", fmt.Sprintf("page2-of-list%d", n), podItem("a"), podItem("b"))
			case cont == "page2-of-list1" || expireAlways:
				expired(w)
			default:
				list(w, "PodList", "", podItem("c"))
			}
		}
	}
	t.Run("it starts again once", func(t *testing.T) {
		cs := faultClient(t, pages(false))
		s, err := LoadLiveWith(context.Background(), cs, LiveOptions{PageSize: 2}, Query{Kind: KindPod})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, p := range s.Pods {
			names = append(names, p.Name)
		}
		if strings.Join(names, ",") != "a,b,c" {
			t.Errorf("pods %v, want a, b, c once each", names)
		}
	})
	t.Run("a second expiry is one line", func(t *testing.T) {
		cs := faultClient(t, pages(true))
		_, err := LoadLiveWith(context.Background(), cs, LiveOptions{PageSize: 2}, Query{Kind: KindPod})
		oneLine(t, err, "cannot list pods at cluster scope: ")
	})
}

// A LIST made outside LoadLive gets the same bound from RequestContext.
func TestRequestContextBoundsAListByTheRequestTimeout(t *testing.T) {
	cs := faultClient(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "1")
		status(w, http.StatusTooManyRequests, metav1.StatusReasonTooManyRequests, "too many requests, please try again later")
	})
	ctx, cancel := RequestContext(context.Background(), cs)
	defer cancel()
	start := time.Now()
	_, err := cs.AppsV1().ReplicaSets("shop").List(ctx, metav1.ListOptions{})
	if err == nil || time.Since(start) > faultTimeout+time.Second {
		t.Errorf("got %v after %s, want an error within %s", err, time.Since(start), faultTimeout)
	}
}

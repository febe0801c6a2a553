package qosaudit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/ktriage/ktriage/pkg/cli"
)

// The command against an API server that misbehaves, through the real
// client: the run must end within --request-timeout with one line and exit
// 2, or give its documented result.

// apiFault serves empty lists of every kind qos-audit reads, except where
// fault answers first (it returns true when it did).
func apiFault(t *testing.T, fault func(w http.ResponseWriter, r *http.Request) bool) string {
	t.Helper()
	kinds := map[string]string{"pods": "PodList", "nodes": "NodeList", "namespaces": "NamespaceList", "limitranges": "LimitRangeList",
		"replicasets": "ReplicaSetList", "jobs": "JobList"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fault(w, r) {
			return
		}
		resource := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
		kind, ok := kinds[resource]
		if !ok || strings.HasPrefix(r.URL.Path, "/apis/metrics.k8s.io/") {
			http.NotFound(w, r) // metrics.k8s.io is not served
			return
		}
		items := []any{}
		if resource == "pods" {
			items = append(items, runningPod("web"))
		}
		writeJSON(w, http.StatusOK, map[string]any{"apiVersion": "v1", "kind": kind, "metadata": map[string]any{}, "items": items})
	}))
	t.Cleanup(srv.Close)
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: %q}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: c, context: {cluster: c, user: u, namespace: shop}}]
current-context: c
`, srv.URL)), 0o600); err != nil {
		t.Fatal(err)
	}
	return kubeconfig
}

// runningPod is a BestEffort pod of namespace shop on node n1.
func runningPod(name string) map[string]any {
	return map[string]any{"metadata": map[string]any{"name": name, "namespace": "shop", "uid": name},
		"spec":   map[string]any{"nodeName": "n1", "containers": []any{map[string]any{"name": "app", "image": "app:1"}}},
		"status": map[string]any{"phase": "Running", "qosClass": "BestEffort"}}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func apiStatus(w http.ResponseWriter, code int, reason, msg string) {
	writeJSON(w, code, map[string]any{"apiVersion": "v1", "kind": "Status", "status": "Failure", "code": code, "reason": reason, "message": msg})
}

func runAgainst(t *testing.T, kubeconfig string, args ...string) (string, string, int, time.Duration) {
	t.Helper()
	var out, errOut bytes.Buffer
	streams := genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	cmd := NewCommand(streams)
	cmd.SetArgs(append(args, "--kubeconfig", kubeconfig, "--request-timeout", "2s"))
	start := time.Now()
	code := cli.Execute(cmd, streams)
	return out.String(), errOut.String(), code, time.Since(start)
}

func TestAPIServerFaults(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault func(w http.ResponseWriter, r *http.Request) bool
		// want: the one error line, or "" for a report with the warning warn
		// on stderr ("": none).
		want, warn string
	}{
		{
			name: "429 with Retry-After for ever ends within the request timeout",
			fault: func(w http.ResponseWriter, r *http.Request) bool {
				w.Header().Set("Retry-After", "1")
				apiStatus(w, http.StatusTooManyRequests, "TooManyRequests", "too many requests, please try again later")
				return true
			},
			want: "error: cannot list ",
		},
		{
			name: "500 on one resource names it",
			fault: func(w http.ResponseWriter, r *http.Request) bool {
				if strings.HasSuffix(r.URL.Path, "/nodes") {
					apiStatus(w, http.StatusInternalServerError, "InternalError", "etcdserver: request timed out")
					return true
				}
				return false
			},
			want: "error: cannot list nodes at cluster scope: etcdserver: request timed out",
		},
		{
			name:  "the metrics API not served falls back to requests without a word",
			fault: func(http.ResponseWriter, *http.Request) bool { return false },
		},
		{
			name: "the metrics API throttling for ever falls back to requests with a warning",
			fault: func(w http.ResponseWriter, r *http.Request) bool {
				if strings.HasPrefix(r.URL.Path, "/apis/metrics.k8s.io/") {
					w.Header().Set("Retry-After", "1")
					apiStatus(w, http.StatusTooManyRequests, "TooManyRequests", "too many requests, please try again later")
					return true
				}
				return false
			},
			warn: "Warning: cannot list pods.metrics.k8s.io at cluster scope: the API server did not answer in time; check the cluster is reachable or raise --request-timeout; the eviction order uses memory requests instead of usage\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code, took := runAgainst(t, apiFault(t, tc.fault), "-A", "-o", "json")
			if took > 3500*time.Millisecond {
				t.Errorf("took %s with --request-timeout 2s", took)
			}
			if tc.want == "" {
				if code != 0 || errOut != tc.warn || !strings.Contains(out, `"name": "web"`) {
					t.Errorf("want a report and exit 0\nexit %d\n%s%s", code, out, errOut)
				}
				return
			}
			if code != 2 || out != "" || strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, tc.want) {
				t.Errorf("want exit 2 and one line starting %q\nexit %d\nstdout: %s\nstderr: %s", tc.want, code, out, errOut)
			}
		})
	}
}

// A LIST of pods whose continue token expires after the first page starts
// again and reports every pod once.
func TestAnExpiredContinueTokenRestartsTheList(t *testing.T) {
	var lists atomic.Int32
	kubeconfig := apiFault(t, func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasSuffix(r.URL.Path, "/namespaces/shop/pods") {
			return false
		}
		cont := r.URL.Query().Get("continue")
		switch {
		case cont == "" && r.URL.Query().Get("limit") != "":
			n := lists.Add(1)
			writeJSON(w, http.StatusOK, map[string]any{"apiVersion": "v1", "kind": "PodList",
				"metadata": map[string]any{"continue": fmt.Sprintf("next-%d", n)}, "items": []any{runningPod("a")}})
		case cont == "next-1":
			apiStatus(w, http.StatusGone, "Expired", "The provided continue parameter is too old to display a consistent list result.")
		default:
			writeJSON(w, http.StatusOK, map[string]any{"apiVersion": "v1", "kind": "PodList", "metadata": map[string]any{}, "items": []any{runningPod("b")}})
		}
		return true
	})
	out, errOut, code, _ := runAgainst(t, kubeconfig, "-n", "shop", "-o", "json")
	var r struct {
		Pods []struct{ Name string }
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != 0 {
		t.Fatalf("exit %d: %v\n%s%s", code, err, out, errOut)
	}
	var names []string
	for _, p := range r.Pods {
		names = append(names, p.Name)
	}
	if strings.Join(names, ",") != "a,b" || lists.Load() != 2 {
		t.Errorf("pods %v after %d lists, want a and b once after the list started again", names, lists.Load())
	}
}

package apierror

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

var podsGR = schema.GroupResource{Resource: "pods"}

func TestAPIErrorMessages(t *testing.T) {
	cases := []struct {
		name               string
		err                error
		verb, resource, ns string
		want               string
	}{
		{"a forbidden namespaced list names the verbs to grant",
			apierrors.NewForbidden(podsGR, "", errors.New(`User "bob" cannot list resource "pods"`)), "list", "pods", "x",
			"cannot list pods in namespace x: forbidden; grant get,list on pods (kubectl auth can-i list pods -n x)"},
		{"a forbidden list across namespaces says cluster scope",
			apierrors.NewForbidden(podsGR, "", errors.New("no")), "list", "pods", "",
			"cannot list pods at cluster scope: forbidden; grant get,list on pods (kubectl auth can-i list pods -A)"},
		{"a forbidden get asks for get only",
			apierrors.NewForbidden(schema.GroupResource{Resource: "nodes"}, "n1", errors.New("no")), "get", "nodes", "",
			"cannot get nodes: forbidden; grant get on nodes (kubectl auth can-i get nodes -A)"},
		{"a forbidden watch asks for list and watch",
			apierrors.NewForbidden(podsGR, "", errors.New("no")), "watch", "pods", "x",
			"cannot watch pods in namespace x: forbidden; grant list,watch on pods (kubectl auth can-i watch pods -n x)"},
		{"a forbidden eviction names the subresource",
			apierrors.NewForbidden(schema.GroupResource{Resource: "pods/eviction"}, "web", errors.New("no")), "create", "pods/eviction", "x",
			"cannot create pods/eviction in namespace x: forbidden; grant create on pods/eviction (kubectl auth can-i create pods/eviction -n x)"},
		{"rejected credentials ask for a refresh",
			apierrors.NewUnauthorized("Unauthorized"), "list", "pods", "x",
			"cannot list pods in namespace x: the cluster rejected the credentials; refresh them or pick another context (kubectl config use-context)"},
		{"a failed exec credential plugin is named, not taken for an unreachable cluster",
			&url.Error{Op: "Get", URL: "https://10.0.0.1:6443/api/v1/pods", Err: errors.New("getting credentials: exec: executable /usr/bin/login failed with exit code 1")}, "list", "pods", "",
			"cannot list pods at cluster scope: the kubeconfig's credential plugin gave no credentials (exec: executable /usr/bin/login failed with exit code 1); run it by hand to see why, log in again, or pick another context (kubectl config use-context)"},
		{"a missing object is named with how to look for it",
			apierrors.NewNotFound(podsGR, "web-0"), "get", "pods", "x",
			`pods "web-0" not found in namespace x; check the name and namespace (kubectl get pods -n x)`},
		{"a missing cluster-scoped object",
			apierrors.NewNotFound(schema.GroupResource{Resource: "nodes"}, "n9"), "get", "nodes", "",
			`nodes "n9" not found; check the name and namespace (kubectl get nodes)`},
		{"a list of a resource the server does not serve",
			apierrors.NewNotFound(schema.GroupResource{Group: "policy", Resource: "poddisruptionbudgets"}, ""), "list", "poddisruptionbudgets", "",
			"cannot list poddisruptionbudgets at cluster scope: the API server does not serve this resource; check the cluster version and installed CRDs (kubectl api-resources)"},
		{"a context deadline is a timeout",
			fmt.Errorf("listing: %w", context.DeadlineExceeded), "list", "pods", "x",
			"cannot list pods in namespace x: the API server did not answer in time; check the cluster is reachable or raise --request-timeout"},
		{"the rate limiter refusing a deadline it cannot meet is a timeout",
			fmt.Errorf("client rate limiter Wait returned an error: %w", errors.New("rate: Wait(n=1) would exceed context deadline")), "list", "nodes", "",
			"cannot list nodes at cluster scope: the API server did not answer in time; check the cluster is reachable or raise --request-timeout"},
		{"a server-side timeout is a timeout",
			apierrors.NewTimeoutError("too slow", 1), "list", "pods", "",
			"cannot list pods at cluster scope: the API server did not answer in time; check the cluster is reachable or raise --request-timeout"},
		{"anything else keeps its cause",
			errors.New("boom"), "list", "nodes", "",
			"cannot list nodes at cluster scope: boom"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Explain(tc.err, tc.verb, tc.resource, tc.ns)
			if got == nil || got.Error() != tc.want {
				t.Errorf("got  %v\nwant %s", got, tc.want)
			}
			if strings.Contains(got.Error(), "\n") {
				t.Errorf("not one line: %q", got)
			}
		})
	}
	if Explain(nil, "list", "pods", "x") != nil {
		t.Error("Explain(nil) must be nil")
	}
	if wrapped := Explain(errors.New("boom"), "list", "pods", ""); errors.Unwrap(wrapped) == nil {
		t.Error("an unrecognised error must stay wrapped")
	}
}

// The errors below come from real client-go calls, not hand-built values.

func clientFor(t *testing.T, host string, timeout time.Duration) kubernetes.Interface {
	t.Helper()
	cs, err := kubernetes.NewForConfig(&rest.Config{Host: host, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func TestAPIErrorFromARefusedConnection(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there any more
	_, err = clientFor(t, "http://"+addr, 5*time.Second).CoreV1().Pods("x").List(context.Background(), metav1.ListOptions{})
	got := Explain(err, "list", "pods", "x").Error()
	want := "cannot reach the cluster at " + addr + " to list pods: connection refused; check the kubeconfig context and that the API server is running"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestAPIErrorFromAnUnresolvableServer(t *testing.T) {
	// Built by hand: resolving a name depends on the machine's DNS.
	err := &url.Error{Op: "Get", URL: "https://api.gone.example:6443/api/v1/nodes",
		Err: &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "api.gone.example", IsNotFound: true}}}
	got := Explain(err, "list", "nodes", "").Error()
	want := "cannot reach the cluster at api.gone.example:6443 to list nodes: lookup api.gone.example: no such host; check the kubeconfig context and that the API server is running"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestAPIErrorFromASlowServer(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer srv.Close()
	defer close(release)
	_, err := clientFor(t, srv.URL, 100*time.Millisecond).CoreV1().Pods("x").List(context.Background(), metav1.ListOptions{})
	got := Explain(err, "list", "pods", "x").Error()
	if got != "cannot list pods in namespace x: the API server did not answer in time; check the cluster is reachable or raise --request-timeout" {
		t.Errorf("got %s", got)
	}
}

func TestAPIErrorFromAForbiddenStatus(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		_ = json.NewEncoder(w).Encode(metav1.Status{
			TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusFailure, Reason: metav1.StatusReasonForbidden, Code: 403,
			Message: `pods is forbidden: User "system:serviceaccount:x:nobody" cannot list resource "pods" in API group "" in the namespace "x"`,
			Details: &metav1.StatusDetails{Kind: "pods"},
		})
	}))
	defer srv.Close()
	_, err := clientFor(t, srv.URL, 5*time.Second).CoreV1().Pods("x").List(context.Background(), metav1.ListOptions{})
	got := Explain(err, "list", "pods", "x").Error()
	if got != "cannot list pods in namespace x: forbidden; grant get,list on pods (kubectl auth can-i list pods -n x)" {
		t.Errorf("got %s", got)
	}
}

func TestAPIErrorFromAnUntrustedCertificate(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	srv.StartTLS()
	defer srv.Close()
	_, err := clientFor(t, srv.URL, 5*time.Second).CoreV1().Pods("x").List(context.Background(), metav1.ListOptions{})
	got := Explain(err, "list", "pods", "x").Error()
	if !strings.HasPrefix(got, "cannot list pods in namespace x: the API server's certificate is not trusted (") ||
		!strings.HasSuffix(got, "); check certificate-authority in the kubeconfig") {
		t.Errorf("got %s", got)
	}
}

func TestCredentialsRejectedWithACause(t *testing.T) {
	err := Explain(apierrors.NewUnauthorized("Unauthorized"), "list", "nodes", "")
	var rej *CredentialsRejected
	if !errors.As(err, &rej) {
		t.Fatalf("a 401 should be a *CredentialsRejected, got %T", err)
	}
	rej.Why = "the client certificate expired"
	if got, want := err.Error(), "cannot list nodes at cluster scope: the cluster rejected the credentials: the client certificate expired"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

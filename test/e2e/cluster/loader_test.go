// Package cluster_test proves the snapshot loader against a real API server:
// pagination, selectors, RBAC denials turned into warnings, APIs the server
// does not serve, deadlines, and offline dumps that load like the live state.
package cluster_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/ktriage/ktriage/pkg/cli"
	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/test/e2e/framework"
)

func TestMain(m *testing.M) { framework.Main(m, framework.Options{Name: "e2e-loader", Nodes: 2}) }

// restConfig is the configuration the plugins use (cli.Common: protobuf, high
// QPS, request timeout), tagged with a user agent to find its requests in the
// audit log.
func restConfig(t *testing.T, c *framework.Cluster, agent string) *rest.Config {
	t.Helper()
	common := cli.NewCommon(genericiooptions.NewTestIOStreamsDiscard())
	common.ConfigFlags.KubeConfig = &c.Kubeconfig
	cfg, err := common.RESTConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ContentType != "application/vnd.kubernetes.protobuf" {
		t.Fatalf("the plugins' client does not ask for protobuf: %q", cfg.ContentType)
	}
	cfg.UserAgent = agent
	return cfg
}

func clientset(t *testing.T, cfg *rest.Config) kubernetes.Interface {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

// auditedRequests returns the URIs of the audited requests made with agent.
func auditedRequests(t *testing.T, c *framework.Cluster, agent, verb string) []string {
	t.Helper()
	f, err := os.Open(c.AuditLog)
	if err != nil {
		t.Fatalf("reading the audit log: %v", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var ev struct {
			Stage, RequestURI, Verb, UserAgent string
		}
		if json.Unmarshal(sc.Bytes(), &ev) != nil {
			continue
		}
		if ev.UserAgent == agent && ev.Verb == verb && ev.Stage == "ResponseComplete" {
			out = append(out, ev.RequestURI)
		}
	}
	return out
}

func TestLoadLivePaginatesOnTheRealAPIServer(t *testing.T) {
	c := framework.Get(t)
	ns := c.Namespace(t, "loader-pages", nil)
	const n = 1201
	createConfigMaps(t, c, ns, n)

	agent := "ktriage-e2e-pagination/" + ns
	s, err := cluster.LoadLive(ctx(t), clientset(t, restConfig(t, c, agent)),
		cluster.Query{Kind: cluster.KindConfigMap, Namespace: ns, LabelSelector: "batch=loader"})
	if err != nil {
		t.Fatal(err)
	}

	// The API server's own unpaginated list is the reference.
	want, err := c.Client.CoreV1().ConfigMaps(ns).List(ctx(t), metav1.ListOptions{LabelSelector: "batch=loader"})
	if err != nil {
		t.Fatal(err)
	}
	var got, wantNames []string
	for _, cm := range s.ConfigMaps {
		got = append(got, cm.Name)
	}
	for _, cm := range want.Items {
		wantNames = append(wantNames, cm.Name)
	}
	if len(got) != n || !slices.Equal(got, wantNames) {
		t.Fatalf("loaded %d configmaps, want the API server's %d in its order", len(got), len(wantNames))
	}
	if !s.Loaded[cluster.KindConfigMap] || len(s.Warnings) != 0 {
		t.Errorf("Loaded = %v, warnings = %q", s.Loaded, s.Warnings)
	}

	var uris []string
	framework.Eventually(t, 10*time.Second, func() (bool, error) {
		uris = auditedRequests(t, c, agent, "list")
		return len(uris) >= 3, nil
	}, "the loader's list requests in the audit log")
	if len(uris) != 3 {
		t.Fatalf("%d list requests, want 3 pages of 500: %q", len(uris), uris)
	}
	for i, uri := range uris {
		u, err := url.Parse(uri)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		if u.Path != "/api/v1/namespaces/"+ns+"/configmaps" || q.Get("limit") != "500" || q.Get("labelSelector") != "batch=loader" {
			t.Errorf("request %d: %s, want a paginated, label-selected list of the namespace", i, uri)
		}
		if (i == 0) != (q.Get("continue") == "") {
			t.Errorf("request %d: %s: only the first page may go without a continue token", i, uri)
		}
	}
}

func createConfigMaps(t *testing.T, c *framework.Cluster, ns string, n int) {
	t.Helper()
	work := make(chan int)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				cm := &corev1.ConfigMap{
					ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("cm-%04d", i), Labels: map[string]string{"batch": "loader"}},
					Data:       map[string]string{"i": fmt.Sprint(i)},
				}
				if _, err := c.Client.CoreV1().ConfigMaps(ns).Create(context.Background(), cm, metav1.CreateOptions{}); err != nil {
					errs <- err
				}
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("creating configmaps: %v", err)
	}
}

func TestLoadLiveFieldSelectors(t *testing.T) {
	c := framework.Get(t)
	ns := c.Namespace(t, "loader-fields", nil)
	nodes, err := c.Client.CoreV1().Nodes().List(ctx(t), metav1.ListOptions{})
	if err != nil || len(nodes.Items) < 2 {
		t.Fatalf("need 2 nodes: %v", err)
	}
	n0, n1 := nodes.Items[0].Name, nodes.Items[1].Name
	c.Apply(t, ns, podsYAML(map[string]string{"a": n0, "b": n0, "c": n1, "pending": ""}))

	agent := "ktriage-e2e-fields/" + ns
	s, err := cluster.LoadLive(ctx(t), clientset(t, restConfig(t, c, agent)),
		cluster.Query{Kind: cluster.KindPod, FieldSelector: "spec.nodeName=" + n0},
		cluster.Query{Kind: cluster.KindPod, Namespace: ns, FieldSelector: "spec.nodeName="},
		cluster.Query{Kind: cluster.KindNode, FieldSelector: "metadata.name=" + n0},
	)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := podNames(s.PodsOnNode(n0), ns), []string{"a", "b"}; !slices.Equal(got, want) {
		t.Errorf("pods on %s: %q, want %q", n0, got, want)
	}
	if got := podNames(s.PodsOnNode(n1), ns); len(got) != 0 {
		t.Errorf("pods on %s were loaded although the selector named %s: %q", n1, n0, got)
	}
	if got, want := podNames(s.PodsOnNode(""), ns), []string{"pending"}; !slices.Equal(got, want) {
		t.Errorf("unbound pods: %q, want %q", got, want)
	}
	if len(s.Nodes) != 1 || s.Node(n0) == nil {
		t.Errorf("nodes: %d, want only %s", len(s.Nodes), n0)
	}
	uris := auditedRequests(t, c, agent, "list")
	for _, want := range []string{"fieldSelector=spec.nodeName%3D" + n0, "fieldSelector=spec.nodeName%3D&"} {
		if !slices.ContainsFunc(uris, func(u string) bool { return strings.Contains(u, want) }) {
			t.Errorf("no request with %s among %q", want, uris)
		}
	}

	t.Run("a kubectl get -o yaml dump loads the same objects as the live cluster", func(t *testing.T) {
		live, err := cluster.LoadLive(ctx(t), c.Client,
			cluster.Query{Kind: cluster.KindPod, Namespace: ns}, cluster.Query{Kind: cluster.KindServiceAccount, Namespace: ns})
		if err != nil {
			t.Fatal(err)
		}
		for _, format := range []string{"yaml", "json"} {
			dump := c.Kubectl(t, "get", "pods,serviceaccounts", "-n", ns, "-o", format)
			files, err := cluster.LoadFiles(cluster.FileOptions{Filenames: []string{"-"}, Stdin: strings.NewReader(dump)})
			if err != nil {
				t.Fatalf("-o %s: %v", format, err)
			}
			if got, want := inventory(files), inventory(live); !slices.Equal(got, want) {
				t.Errorf("-o %s dump:\n got %q\nwant %q", format, got, want)
			}
			for _, p := range files.Pods {
				lp := live.Pod(p.Namespace, p.Name)
				if p.UID != lp.UID || p.Spec.NodeName != lp.Spec.NodeName || p.Spec.Containers[0].Image != lp.Spec.Containers[0].Image {
					t.Errorf("-o %s: pod %s differs from the live one", format, p.Name)
				}
			}
			if files.SourceOf("Pod", ns, "a") == nil {
				t.Errorf("-o %s: no source line for pod a", format)
			}
		}
	})
}

func podsYAML(nodeOf map[string]string) string {
	var b strings.Builder
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range nodeOf {
			if !yield(k) {
				return
			}
		}
	}) {
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: %s\nspec:\n", name)
		if node := nodeOf[name]; node != "" {
			fmt.Fprintf(&b, "  nodeName: %s\n", node)
		} else {
			b.WriteString("  nodeSelector:\n    no-such-label: \"true\"\n")
		}
		b.WriteString("  containers:\n  - name: c\n    image: registry.example/app:1\n")
	}
	return b.String()
}

func podNames(pods []*corev1.Pod, ns string) []string {
	var out []string
	for _, p := range pods {
		if p.Namespace == ns {
			out = append(out, p.Name)
		}
	}
	slices.Sort(out)
	return out
}

func inventory(s *cluster.Snapshot) []string {
	var out []string
	for _, p := range s.Pods {
		out = append(out, "Pod "+p.Namespace+"/"+p.Name)
	}
	for _, sa := range s.ServiceAccounts {
		out = append(out, "ServiceAccount "+sa.Namespace+"/"+sa.Name)
	}
	slices.Sort(out)
	return out
}

func TestLoadLiveForbidden(t *testing.T) {
	c := framework.Get(t)
	allowed := c.Namespace(t, "loader-allowed", nil)
	other := c.Namespace(t, "loader-other", nil)
	c.Apply(t, allowed, podsYAML(map[string]string{"p": ""}))
	c.Apply(t, other, podsYAML(map[string]string{"q": ""}))

	// A ServiceAccount that may only read pods in its own namespace.
	_, err := c.Client.CoreV1().ServiceAccounts(allowed).Create(ctx(t), &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "reader"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Client.RbacV1().Roles(allowed).Create(ctx(t), &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "pod-reader"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list"}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Client.RbacV1().RoleBindings(allowed).Create(ctx(t), &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "pod-reader"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "pod-reader"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "reader", Namespace: allowed}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := restConfig(t, c, "ktriage-e2e-forbidden/"+allowed)
	cfg.Impersonate.UserName = "system:serviceaccount:" + allowed + ":reader"
	cs := clientset(t, cfg)
	// RBAC reaches the authorizer through an informer: wait for the grant.
	framework.Eventually(t, 30*time.Second, func() (bool, error) {
		_, err := cs.CoreV1().Pods(allowed).List(ctx(t), metav1.ListOptions{Limit: 1})
		return err == nil, nil
	}, "the pod-reader grant to take effect")

	s, err := cluster.LoadLive(ctx(t), cs,
		cluster.Query{Kind: cluster.KindPod, Namespace: allowed},
		cluster.Query{Kind: cluster.KindSecret, Namespace: allowed, Optional: true},
		cluster.Query{Kind: cluster.KindPod, Namespace: other, Optional: true},
		cluster.Query{Kind: cluster.KindNode, Optional: true},
	)
	if err != nil {
		t.Fatal(err)
	}
	if got := podNames(s.Pods, allowed); !slices.Equal(got, []string{"p"}) || len(s.Pods) != 1 {
		t.Errorf("pods %v, want only %s/p", s.Pods, allowed)
	}
	want := []string{
		"cannot list secrets in namespace " + allowed + ": forbidden; grant get,list on secrets (kubectl auth can-i list secrets -n " + allowed + ")",
		"cannot list pods in namespace " + other + ": forbidden; grant get,list on pods (kubectl auth can-i list pods -n " + other + ")",
		"cannot list nodes at cluster scope: forbidden; grant get,list on nodes (kubectl auth can-i list nodes -A)",
	}
	if !slices.Equal(s.Warnings, want) {
		t.Errorf("warnings:\n got %q\nwant %q", s.Warnings, want)
	}
	if !s.Loaded[cluster.KindPod] || s.Loaded[cluster.KindSecret] || s.Loaded[cluster.KindNode] {
		t.Errorf("Loaded = %v, want only pods", s.Loaded)
	}

	t.Run("a forbidden required list is an error", func(t *testing.T) {
		_, err := cluster.LoadLive(ctx(t), cs, cluster.Query{Kind: cluster.KindSecret, Namespace: allowed})
		if err == nil || err.Error() != want[0] {
			t.Errorf("got %v, want %s", err, want[0])
		}
	})
}

func TestLoadLiveDynamic(t *testing.T) {
	c := framework.Get(t)
	cfg := restConfig(t, c, "ktriage-e2e-dynamic")
	dc, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	widgets := schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "widgets"}
	opts := cluster.LiveOptions{Dynamic: dc}

	s, err := cluster.LoadLiveWith(ctx(t), clientset(t, cfg), opts,
		cluster.Query{Kind: cluster.KindAPIService},
		cluster.Query{Kind: cluster.KindCRD},
		cluster.Query{Kind: "Widget", Resource: widgets, Optional: true},
	)
	if err != nil {
		t.Fatal(err)
	}
	var apiServices []string
	for _, u := range s.Other {
		if u.GetKind() == "APIService" {
			apiServices = append(apiServices, "apiservice.apiregistration.k8s.io/"+u.GetName())
		}
	}
	kubectl := strings.Fields(c.Kubectl(t, "get", "apiservices", "-o", "name"))
	if len(apiServices) == 0 || !slices.Equal(apiServices, kubectl) {
		t.Errorf("APIServices:\n got %q\nkubectl %q", apiServices, kubectl)
	}
	if !s.Loaded[cluster.KindAPIService] || !s.Loaded[cluster.KindCRD] || s.Loaded["Widget"] {
		t.Errorf("Loaded = %v", s.Loaded)
	}
	t.Logf("warnings: %q", s.Warnings)
	wantWarning := "cannot list widgets.example.com at cluster scope: "
	if len(s.Warnings) != 1 || !strings.HasPrefix(s.Warnings[0], wantWarning) {
		t.Errorf("warnings %q, want one starting %q", s.Warnings, wantWarning)
	}

	t.Run("a resource the server does not serve is an error on a required query", func(t *testing.T) {
		_, err := cluster.LoadLiveWith(ctx(t), clientset(t, cfg), opts, cluster.Query{Kind: "Widget", Resource: widgets})
		if err == nil || !strings.HasPrefix(err.Error(), wantWarning) {
			t.Errorf("got %v, want an error starting %q", err, wantWarning)
		}
	})
}

func TestLoadLiveDeadline(t *testing.T) {
	c := framework.Get(t)
	cs := clientset(t, restConfig(t, c, "ktriage-e2e-deadline"))
	dctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	time.Sleep(2 * time.Millisecond) // the clock is what is tested: the deadline has passed before the first request
	_, err := cluster.LoadLive(dctx, cs, cluster.Query{Kind: cluster.KindPod}, cluster.Query{Kind: cluster.KindNode})
	t.Logf("error: %v", err)
	if err == nil || !strings.Contains(err.Error(), ": the API server did not answer in time;") || strings.Contains(err.Error(), "\n") {
		t.Errorf("got %v, want one line saying the API server did not answer in time", err)
	}
}

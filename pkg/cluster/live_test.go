package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	k8stesting "k8s.io/client-go/testing"
)

func pod(ns, name, node string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: corev1.PodSpec{NodeName: node}}
}

// pager serves a fixed set of pods in pages, as the apiserver does: the
// continue token is the offset of the next page.
type pager struct {
	mu    sync.Mutex
	pods  []corev1.Pod
	calls []metav1.ListOptions
	// expire makes the request with this continue token fail with 410 Gone.
	expire map[string]int
}

func (p *pager) react(action k8stesting.Action) (bool, runtime.Object, error) {
	opts := action.(k8stesting.ListActionImpl).ListOptions
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, opts)
	if n := p.expire[opts.Continue]; n > 0 {
		p.expire[opts.Continue] = n - 1
		return true, nil, apierrors.NewResourceExpired("The provided continue parameter is too old to display a consistent list result.")
	}
	start := 0
	if opts.Continue != "" {
		start, _ = strconv.Atoi(opts.Continue)
	}
	end := min(start+int(opts.Limit), len(p.pods))
	list := &corev1.PodList{Items: p.pods[start:end]}
	if end < len(p.pods) {
		list.Continue = strconv.Itoa(end)
	}
	return true, list, nil
}

func manyPods(n int) []corev1.Pod {
	out := make([]corev1.Pod, n)
	for i := range out {
		out[i] = *pod("ns", fmt.Sprintf("pod-%04d", i), "")
		out[i].Labels = map[string]string{"app": "web"}
	}
	return out
}

func TestLoadLivePaginates(t *testing.T) {
	cs := fake.NewClientset()
	p := &pager{pods: manyPods(1234)}
	cs.PrependReactor("list", "pods", p.react)

	s, err := LoadLive(context.Background(), cs, Query{Kind: KindPod, Namespace: "ns", LabelSelector: "app=web", FieldSelector: "spec.nodeName=n1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Pods) != 1234 || s.Pods[0].Name != "pod-0000" || s.Pods[1233].Name != "pod-1233" {
		t.Fatalf("got %d pods, want the 1234 in order", len(s.Pods))
	}
	if !s.Loaded[KindPod] {
		t.Error("Loaded[Pod] is false")
	}
	var conts []string
	for _, c := range p.calls {
		if c.Limit != 500 || c.LabelSelector != "app=web" || c.FieldSelector != "spec.nodeName=n1" {
			t.Errorf("list options %+v, want limit 500 and the selectors", c)
		}
		conts = append(conts, c.Continue)
	}
	if want := []string{"", "500", "1000"}; !slices.Equal(conts, want) {
		t.Errorf("continue tokens %q, want %q", conts, want)
	}
	if ns := cs.Actions()[0].GetNamespace(); ns != "ns" {
		t.Errorf("listed namespace %q, want ns", ns)
	}
}

// OnPage is handed each page of a list as it is decoded, in order, with the
// list's Kind; together the pages are what the Snapshot holds.
func TestLoadLiveOnPage(t *testing.T) {
	cs := fake.NewClientset()
	p := &pager{pods: manyPods(1234)}
	cs.PrependReactor("list", "pods", p.react)
	var mu sync.Mutex
	var sizes []int
	var names []string
	onPage := func(kind Kind, objs []runtime.Object) {
		mu.Lock()
		defer mu.Unlock()
		if kind != KindPod {
			t.Errorf("OnPage got kind %q, want Pod", kind)
		}
		sizes = append(sizes, len(objs))
		for _, o := range objs {
			names = append(names, o.(*corev1.Pod).Name)
		}
	}
	s, err := LoadLiveWith(context.Background(), cs, LiveOptions{OnPage: onPage}, Query{Kind: KindPod, Namespace: "ns"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{500, 500, 234}; !slices.Equal(sizes, want) {
		t.Errorf("pages of %v objects, want %v", sizes, want)
	}
	if len(names) != len(s.Pods) {
		t.Fatalf("OnPage saw %d pods, the snapshot holds %d", len(names), len(s.Pods))
	}
	for i, pod := range s.Pods {
		if names[i] != pod.Name {
			t.Fatalf("OnPage saw %s at %d, the snapshot holds %s", names[i], i, pod.Name)
		}
	}
}

func TestLoadLiveExpiredContinue(t *testing.T) {
	t.Run("an expired continue token restarts the list once", func(t *testing.T) {
		cs := fake.NewClientset()
		p := &pager{pods: manyPods(1100), expire: map[string]int{"1000": 1}}
		cs.PrependReactor("list", "pods", p.react)
		s, err := LoadLive(context.Background(), cs, Query{Kind: KindPod})
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Pods) != 1100 {
			t.Errorf("got %d pods, want 1100 with no duplicates", len(s.Pods))
		}
		var conts []string
		for _, c := range p.calls {
			conts = append(conts, c.Continue)
		}
		if want := []string{"", "500", "1000", "", "500", "1000"}; !slices.Equal(conts, want) {
			t.Errorf("continue tokens %q, want %q", conts, want)
		}
	})
	t.Run("a second expiry fails the list", func(t *testing.T) {
		cs := fake.NewClientset()
		p := &pager{pods: manyPods(1100), expire: map[string]int{"500": 2}}
		cs.PrependReactor("list", "pods", p.react)
		_, err := LoadLive(context.Background(), cs, Query{Kind: KindPod})
		if err == nil || !strings.HasPrefix(err.Error(), "cannot list pods at cluster scope: ") {
			t.Errorf("got %v, want a list error", err)
		}
	})
}

func forbid(resource string) k8stesting.ReactionFunc {
	return func(action k8stesting.Action) (bool, runtime.Object, error) {
		gr := schema.GroupResource{Group: action.GetResource().Group, Resource: resource}
		return true, nil, apierrors.NewForbidden(gr, "", errors.New("RBAC: access denied"))
	}
}

func notServed(action k8stesting.Action) (bool, runtime.Object, error) {
	return true, nil, apierrors.NewNotFound(schema.GroupResource{}, "")
}

func TestLoadLiveUnavailableAPIs(t *testing.T) {
	tests := []struct {
		name         string
		react        func(cs *fake.Clientset)
		query        Query
		wantWarnings []string
		wantErr      string
	}{
		{
			name:  "a forbidden optional list becomes a warning naming verb, resource and namespace",
			react: func(cs *fake.Clientset) { cs.PrependReactor("list", "secrets", forbid("secrets")) },
			query: Query{Kind: KindSecret, Namespace: "x", Optional: true},
			wantWarnings: []string{
				"cannot list secrets in namespace x: forbidden; grant get,list on secrets (kubectl auth can-i list secrets -n x)",
			},
		},
		{
			name:    "a forbidden required list is an error naming verb and resource",
			react:   func(cs *fake.Clientset) { cs.PrependReactor("list", "nodes", forbid("nodes")) },
			query:   Query{Kind: KindNode},
			wantErr: "cannot list nodes at cluster scope: forbidden; grant get,list on nodes (kubectl auth can-i list nodes -A)",
		},
		{
			name:         "an API group the cluster does not serve is a warning on an optional list",
			react:        func(cs *fake.Clientset) { cs.PrependReactor("list", "resourceclaims", notServed) },
			query:        Query{Kind: KindResourceClaim, Optional: true},
			wantWarnings: []string{"cannot list resourceclaims.resource.k8s.io at cluster scope: "},
		},
		{
			name: "a method the resource does not support is a warning on an optional list",
			react: func(cs *fake.Clientset) {
				cs.PrependReactor("list", "deviceclasses", func(k8stesting.Action) (bool, runtime.Object, error) {
					return true, nil, apierrors.NewMethodNotSupported(schema.GroupResource{Group: "resource.k8s.io", Resource: "deviceclasses"}, "list")
				})
			},
			query:        Query{Kind: KindDeviceClass, Optional: true},
			wantWarnings: []string{"cannot list deviceclasses.resource.k8s.io at cluster scope: "},
		},
		{
			name: "a server error is an error even on an optional list",
			react: func(cs *fake.Clientset) {
				cs.PrependReactor("list", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
					return true, nil, apierrors.NewInternalError(errors.New("etcd is down"))
				})
			},
			query:   Query{Kind: KindPod, Namespace: "x", Optional: true},
			wantErr: "cannot list pods in namespace x: ",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := fake.NewClientset(pod("x", "p", ""))
			tt.react(cs)
			s, err := LoadLive(context.Background(), cs, tt.query, Query{Kind: KindPod, Namespace: "x", FieldSelector: "metadata.name=p"})
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("error %v, want one line starting %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Warnings) != len(tt.wantWarnings) {
				t.Fatalf("warnings %q, want %q", s.Warnings, tt.wantWarnings)
			}
			for i, w := range tt.wantWarnings {
				if !strings.HasPrefix(s.Warnings[i], w) {
					t.Errorf("warning %q, want it to start %q", s.Warnings[i], w)
				}
			}
			if s.Loaded[tt.query.Kind] {
				t.Errorf("Loaded[%s] is true after a failed list", tt.query.Kind)
			}
			if !s.Loaded[KindPod] || len(s.Pods) != 1 {
				t.Errorf("the other query's pods were not kept: %v", s.Pods)
			}
		})
	}
}

// gatedClientset holds every ConfigMap list until gate says go. The fake
// clientset runs reactors one at a time, so the wait happens outside it.
type gatedClientset struct {
	*fake.Clientset
	gate func()
}

func (c gatedClientset) CoreV1() corev1client.CoreV1Interface {
	return gatedCore{c.Clientset.CoreV1(), c.gate}
}

type gatedCore struct {
	corev1client.CoreV1Interface
	gate func()
}

func (c gatedCore) ConfigMaps(ns string) corev1client.ConfigMapInterface {
	return gatedConfigMaps{c.CoreV1Interface.ConfigMaps(ns), c.gate}
}

type gatedConfigMaps struct {
	corev1client.ConfigMapInterface
	gate func()
}

func (c gatedConfigMaps) List(ctx context.Context, opts metav1.ListOptions) (*corev1.ConfigMapList, error) {
	c.gate()
	return c.ConfigMapInterface.List(ctx, opts)
}

func TestLoadLiveRunsQueriesInParallel(t *testing.T) {
	const queries = 12
	var inflight, peak atomic.Int32
	reached := make(chan struct{})
	var once sync.Once
	gate := func() {
		n := inflight.Add(1)
		defer inflight.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		if n == DefaultConcurrency {
			once.Do(func() { close(reached) })
		}
		// Hold every list until the bound is reached, so that only running
		// them at the same time can finish quickly.
		select {
		case <-reached:
		case <-time.After(2 * time.Second):
		}
	}
	cs := gatedClientset{fake.NewClientset(), gate}
	var qs []Query
	for i := range queries {
		qs = append(qs, Query{Kind: KindConfigMap, Namespace: fmt.Sprintf("ns-%d", i)})
	}
	start := time.Now()
	if _, err := LoadLive(context.Background(), cs, qs...); err != nil {
		t.Fatal(err)
	}
	if got := peak.Load(); got != DefaultConcurrency {
		t.Errorf("at most %d lists ran at once, want %d", got, DefaultConcurrency)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %v: lists did not run in parallel", d)
	}
}

func TestLoadLiveDeadline(t *testing.T) {
	cs := fake.NewClientset()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	cs.PrependReactor("list", "nodes", func(k8stesting.Action) (bool, runtime.Object, error) {
		<-ctx.Done()
		return true, nil, ctx.Err()
	})
	_, err := LoadLive(ctx, cs, Query{Kind: KindNode})
	want := "cannot list nodes at cluster scope: the API server did not answer in time"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got %v, want %q...", err, want)
	}
}

func TestLoadLiveQueries(t *testing.T) {
	cs := fake.NewClientset(
		pod("a", "p1", "n1"), pod("a", "p2", "n2"), pod("b", "p3", "n1"),
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}},
	)
	t.Run("objects two queries both return are kept once, in query order", func(t *testing.T) {
		s, err := LoadLive(context.Background(), cs, Query{Kind: KindPod, Namespace: "b"}, Query{Kind: KindPod})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, p := range s.Pods {
			names = append(names, p.Namespace+"/"+p.Name)
		}
		if want := []string{"b/p3", "a/p1", "a/p2"}; !slices.Equal(names, want) {
			t.Errorf("pods %q, want %q", names, want)
		}
	})
	t.Run("a namespace on a cluster-scoped kind is ignored", func(t *testing.T) {
		s, err := LoadLive(context.Background(), cs, Query{Kind: KindNode, Namespace: "a"})
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Nodes) != 1 {
			t.Errorf("got %d nodes, want 1", len(s.Nodes))
		}
	})
	t.Run("no queries give an empty snapshot", func(t *testing.T) {
		s, err := LoadLive(context.Background(), cs)
		if err != nil || len(s.Pods) != 0 || len(s.Loaded) != 0 {
			t.Errorf("got %v, %v", s, err)
		}
	})
	t.Run("a kind the loader does not know is an error", func(t *testing.T) {
		if _, err := LoadLive(context.Background(), cs, Query{Kind: "Gadget"}); err == nil {
			t.Error("no error")
		}
	})
}

func TestLoadLiveDynamic(t *testing.T) {
	apiService := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
		"metadata": map[string]any{"name": "v1beta1.metrics.k8s.io"},
	}}
	cert := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
		"metadata": map[string]any{"name": "web", "namespace": "shop"},
	}}
	certs := schema.GroupVersionResource{Group: "cert-manager.io", Version: "v1", Resource: "certificates"}
	dc := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
		{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"}: "APIServiceList",
		certs: "CertificateList",
	}, apiService, cert)
	cs := fake.NewClientset()

	s, err := LoadLiveWith(context.Background(), cs, LiveOptions{Dynamic: dc},
		Query{Kind: KindAPIService}, Query{Kind: "Certificate", Resource: certs, Namespace: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, u := range s.Other {
		got = append(got, u.GetKind()+" "+u.GetName())
	}
	if want := []string{"APIService v1beta1.metrics.k8s.io", "Certificate web"}; !slices.Equal(got, want) {
		t.Errorf("Other %q, want %q", got, want)
	}
	if !s.Loaded[KindAPIService] || !s.Loaded["Certificate"] {
		t.Errorf("Loaded = %v", s.Loaded)
	}

	if _, err := LoadLive(context.Background(), cs, Query{Kind: KindCRD}); err == nil || !strings.Contains(err.Error(), "LiveOptions.Dynamic") {
		t.Errorf("without a dynamic client: %v, want an error naming LiveOptions.Dynamic", err)
	}
}

// LoadEach keeps each query's outcome apart: a forbidden optional list
// leaves its own snapshot without objects, the others are loaded.
func TestLoadEachKeepsEachQuerysOutcome(t *testing.T) {
	cs := fake.NewClientset(pod("x", "a", "node-1"), pod("y", "b", "node-2"))
	cs.PrependReactor("list", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetNamespace() == "y" {
			return forbid("pods")(a)
		}
		return false, nil, nil
	})
	snaps, err := LoadEach(context.Background(), cs, Query{Kind: KindPod, Namespace: "x", Optional: true}, Query{Kind: KindPod, Namespace: "y", Optional: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(snaps) != 2 {
		t.Fatalf("%d snapshots for 2 queries", len(snaps))
	}
	if !snaps[0].Loaded[KindPod] || len(snaps[0].Pods) != 1 || len(snaps[0].Warnings) != 0 {
		t.Errorf("namespace x: loaded %v, pods %v, warnings %q", snaps[0].Loaded, podNames(snaps[0].Pods), snaps[0].Warnings)
	}
	if snaps[1].Loaded[KindPod] || len(snaps[1].Pods) != 0 || len(snaps[1].Warnings) != 1 || !strings.Contains(snaps[1].Warnings[0], "cannot list pods in namespace y") {
		t.Errorf("namespace y: loaded %v, pods %v, warnings %q", snaps[1].Loaded, podNames(snaps[1].Pods), snaps[1].Warnings)
	}
	if _, err := LoadEach(context.Background(), cs, Query{Kind: KindPod, Namespace: "y"}); err == nil {
		t.Error("a forbidden required list must fail LoadEach")
	}
}

package cluster

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ktriage/ktriage/pkg/report"
)

func names(pods []*corev1.Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Namespace+"/"+p.Name)
	}
	return out
}

func TestLookups(t *testing.T) {
	s := &Snapshot{
		Nodes: []*corev1.Node{{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}},
		Pods:  []*corev1.Pod{pod("a", "p1", "n1"), pod("b", "p1", "n2"), pod("a", "p2", "n1")},
		PVCs:  []*corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "data"}}},
	}
	if n := s.Node("n1"); n == nil || n.Name != "n1" {
		t.Errorf("Node(n1) = %v", n)
	}
	if n := s.Node("n9"); n != nil {
		t.Errorf("Node(n9) = %v, want nil", n)
	}
	if p := s.Pod("b", "p1"); p == nil || p.Spec.NodeName != "n2" {
		t.Errorf("Pod(b, p1) = %v", p)
	}
	if got, want := names(s.PodsOnNode("n1")), []string{"a/p1", "a/p2"}; !slices.Equal(got, want) {
		t.Errorf("PodsOnNode(n1) = %q, want %q", got, want)
	}
	if got, want := names(s.PodsInNamespace("b")), []string{"b/p1"}; !slices.Equal(got, want) {
		t.Errorf("PodsInNamespace(b) = %q, want %q", got, want)
	}
	if s.PVC("a", "data") == nil || s.PVC("b", "data") != nil {
		t.Error("PVC lookup does not respect the namespace")
	}
	if s.StorageClass("fast") != nil || s.PV("pv") != nil || s.Namespace("a") != nil {
		t.Error("lookups of kinds with no objects found something")
	}

	t.Run("objects appended after the first lookup are found", func(t *testing.T) {
		s.Pods = append(s.Pods, pod("a", "p3", "n1"))
		if s.Pod("a", "p3") == nil || len(s.PodsOnNode("n1")) != 3 {
			t.Error("appended pod not found")
		}
	})
	t.Run("ResetIndexes picks up objects edited in place", func(t *testing.T) {
		s.Pods[0].Spec.NodeName = "n3"
		s.ResetIndexes()
		if got := names(s.PodsOnNode("n3")); !slices.Equal(got, []string{"a/p1"}) {
			t.Errorf("PodsOnNode(n3) = %q", got)
		}
	})
	t.Run("lookups on a nil snapshot find nothing", func(t *testing.T) {
		var nilSnap *Snapshot
		if nilSnap.Node("n1") != nil || nilSnap.PodsOnNode("n1") != nil {
			t.Error("found something in nil")
		}
	})
	t.Run("concurrent lookups are safe", func(t *testing.T) {
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.ResetIndexes()
				_ = s.Pod("a", fmt.Sprintf("p%d", i%3))
				_ = s.PodsInNamespace("a")
			}()
		}
		wg.Wait()
	})
}

func TestMerge(t *testing.T) {
	live := &Snapshot{
		Pods:     []*corev1.Pod{pod("a", "web", "n1"), pod("a", "db", "n1")},
		Nodes:    []*corev1.Node{{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}},
		Loaded:   map[Kind]bool{KindPod: true, KindNode: true},
		Warnings: []string{"cannot list secrets"},
	}
	files := &Snapshot{
		Pods:   []*corev1.Pod{pod("a", "web", ""), pod("a", "new", "")},
		Other:  []*unstructured.Unstructured{{Object: map[string]any{"apiVersion": "x.io/v1", "kind": "Thing", "metadata": map[string]any{"name": "t"}}}},
		Loaded: map[Kind]bool{KindPod: true},
	}
	files.SetSource("Pod", "a", "web", &report.Source{File: "web.yaml", Line: 3})
	files.SetSource("Thing", "", "t", &report.Source{File: "thing.yaml", Line: 1})
	live.SetSource("Pod", "a", "db", &report.Source{File: "stale.yaml", Line: 9})

	m := Merge(live, files)
	if got, want := names(m.Pods), []string{"a/web", "a/db", "a/new"}; !slices.Equal(got, want) {
		t.Errorf("pods %q, want %q", got, want)
	}
	if m.Pod("a", "web").Spec.NodeName != "" {
		t.Error("the later snapshot's pod did not win")
	}
	if src := m.SourceOf("Pod", "a", "web"); src == nil || src.File != "web.yaml" {
		t.Errorf("source of a/web = %v", src)
	}
	if src := m.SourceOf("Pod", "a", "db"); src == nil || src.Line != 9 {
		t.Errorf("source of a/db = %v", src)
	}
	if src := m.SourceOf("Thing", "", "t"); src == nil || src.File != "thing.yaml" {
		t.Errorf("source of the custom object = %v", src)
	}
	if len(m.Nodes) != 1 || len(m.Other) != 1 || !m.Loaded[KindNode] || !m.Loaded[KindPod] || len(m.Warnings) != 1 {
		t.Errorf("merged snapshot lost something: %+v", m)
	}
	if got := Merge(nil, files); len(got.Pods) != 2 {
		t.Errorf("Merge(nil, files) has %d pods", len(got.Pods))
	}
	t.Run("a live object replacing a manifest object drops the manifest's line", func(t *testing.T) {
		m := Merge(files, live)
		if src := m.SourceOf("Pod", "a", "web"); src != nil {
			t.Errorf("source of a/web = %v, want none", src)
		}
	})
}

func TestDefaultNamespace(t *testing.T) {
	s, err := LoadFiles(FileOptions{Filenames: []string{"-"}, Stdin: strings.NewReader(`
apiVersion: v1
kind: Pod
metadata: {name: p}
---
apiVersion: v1
kind: Pod
metadata: {name: q, namespace: other}
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: pv}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: r}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: cr}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {kind: Widget, plural: widgets}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
---
apiVersion: unknown.io/v1
kind: Gizmo
metadata: {name: g}
`)})
	if err != nil {
		t.Fatal(err)
	}
	if s.Pod("", "p") == nil {
		t.Fatal("pod p not found before defaulting")
	}
	s.DefaultNamespace("dev")
	want := []string{
		"ClusterRole /cr STDIN:18",
		"CustomResourceDefinition /widgets.example.com STDIN:22",
		"Gizmo /g STDIN:34",
		"PersistentVolume /pv STDIN:10",
		"Pod dev/p STDIN:2",
		"Pod other/q STDIN:6",
		"Role dev/r STDIN:14",
		"Widget dev/w STDIN:30",
	}
	if got := inventory(s); !slices.Equal(got, want) {
		t.Errorf("after DefaultNamespace:\n got %q\nwant %q", got, want)
	}
	if s.Pod("dev", "p") == nil || s.Pod("", "p") != nil {
		t.Error("lookups still see the pod without its namespace")
	}
}

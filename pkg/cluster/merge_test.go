package cluster

import (
	"fmt"
	"math/rand"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// Merge copies a kind only one side holds and maps only the smaller side's
// identities: it must give what merging object by object gives (mergeEach),
// same objects in the same order, for snapshots built by a loader (each
// object once), built by hand (the same object twice, objects without a
// name), appended to after they were built, and merged again.
func TestMergeKeepsTheOrderOfMergingObjectByObject(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	names := []string{"a", "b", "c", "d", ""}
	pods := func(n int) []*corev1.Pod {
		var out []*corev1.Pod
		for range n {
			out = append(out, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: []string{"x", "y"}[rng.Intn(2)], Name: names[rng.Intn(len(names))], UID: "u"}})
		}
		return out
	}
	nodes := func(n int) []*corev1.Node {
		var out []*corev1.Node
		for range n {
			out = append(out, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: names[rng.Intn(len(names))]}})
		}
		return out
	}
	other := func(n int) []*unstructured.Unstructured {
		var out []*unstructured.Unstructured
		for range n {
			u := &unstructured.Unstructured{}
			u.SetAPIVersion("example.com/v1")
			u.SetKind([]string{"Widget", "Gadget"}[rng.Intn(2)])
			u.SetName(names[rng.Intn(len(names)-1)])
			out = append(out, u)
		}
		return out
	}
	// snapshot is a hand-built snapshot or, one time in two, what a loader
	// builds from it (each object once), sometimes appended to since.
	snapshot := func() *Snapshot {
		s := &Snapshot{Pods: pods(rng.Intn(6)), Nodes: nodes(rng.Intn(3)), Other: other(rng.Intn(3)),
			Loaded: map[Kind]bool{KindPod: true}, Warnings: []string{fmt.Sprint("w", rng.Intn(3))}}
		if rng.Intn(2) == 0 {
			return s
		}
		b := newBuilder()
		s.each(func(k Kind, o runtime.Object) { b.put(k, o, nil) })
		built := &Snapshot{Loaded: s.Loaded, Warnings: s.Warnings}
		b.build(built)
		if rng.Intn(3) == 0 {
			built.Pods = append(built.Pods, pods(2)...)
		}
		return built
	}
	for i := range 2000 {
		a, b := snapshot(), snapshot()
		if i%5 == 0 {
			a = Merge(a, snapshot()) // a merge merged again
		}
		switch i % 7 {
		case 0:
			a = nil
		case 1:
			b = nil
		}
		got, want := Merge(a, b), mergeEach(a, b)
		if g, w := objects(got), objects(want); g != w {
			t.Fatalf("case %d: Merge gives\n%s\nobject by object:\n%s", i, g, w)
		}
		if fmt.Sprint(got.Warnings, got.Loaded) != fmt.Sprint(want.Warnings, want.Loaded) {
			t.Fatalf("case %d: warnings and kinds loaded %v %v, want %v %v", i, got.Warnings, got.Loaded, want.Warnings, want.Loaded)
		}
	}
}

// objects lists a snapshot's objects in order, each as kind, namespace,
// name and address (the very object, not a copy).
func objects(s *Snapshot) string {
	out := ""
	s.each(func(k Kind, o runtime.Object) {
		m := o.(metav1.Object)
		out += fmt.Sprintf("%s %s/%s %p\n", k, m.GetNamespace(), m.GetName(), o)
	})
	return out
}

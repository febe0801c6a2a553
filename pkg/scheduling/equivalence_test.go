package scheduling

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestReplicasShareOneEvaluationButANominatedPodGetsItsOwn(t *testing.T) {
	nominated := func(p *corev1.Pod) { p.Status.NominatedNodeName = "n1" }
	a := pod("a", requests("cpu", "3"), nominated) // nominated: not counted against itself
	b := pod("b", requests("cpu", "3"))
	c := pod("c", requests("cpu", "3"))
	e := NewEngine(snapshot([]*corev1.Node{node("n1")}, a, b, c))

	rb, rc := e.Evaluate(b, Options{}), e.Evaluate(c, Options{})
	if len(rb.Feasible) != 0 {
		t.Fatalf("b: a is nominated to n1 and takes 3 of its 4 cpus, want no feasible node, got %v", rb.Feasible)
	}
	if !reflect.DeepEqual(rb, rc) || len(e.equivalent) != 1 {
		t.Errorf("b and c differ only in name: want one shared result, got %d cached\n b: %+v\n c: %+v", len(e.equivalent), rb, rc)
	}
	if ra := e.Evaluate(a, Options{}); len(ra.Feasible) != 1 {
		t.Errorf("a is not counted against itself: want n1 feasible, got %+v", ra)
	}
	d := pod("d", requests("cpu", "3"), podLabels("app", "other"))
	e.Evaluate(d, Options{})
	if len(e.equivalent) != 2 {
		t.Errorf("a pod with other labels needs its own evaluation: %d cached", len(e.equivalent))
	}
}

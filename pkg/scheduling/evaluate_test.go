package scheduling

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestEvaluateMessage(t *testing.T) {
	cases := []struct {
		name  string
		pod   *corev1.Pod
		nodes []*corev1.Node
		pods  []*corev1.Pod
		want  string
	}{
		{
			name:  "a pod that fits somewhere has no message",
			pod:   pod("p", requests("cpu", "1")),
			nodes: []*corev1.Node{node("n1")},
			want:  "",
		},
		{
			name:  "a snapshot without nodes gives the scheduler's no-nodes error",
			pod:   pod("p"),
			nodes: nil,
			want:  "no nodes available to schedule pods",
		},
		{
			name:  "too much cpu everywhere counts Insufficient cpu per node and preemption cannot help",
			pod:   pod("p", requests("cpu", "8")),
			nodes: []*corev1.Node{node("n1"), node("n2")},
			want:  "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.",
		},
		{
			name:  "cpu taken by same-priority pods leaves no preemption victims",
			pod:   pod("p", requests("cpu", "2")),
			nodes: []*corev1.Node{node("n1")},
			pods:  []*corev1.Pod{pod("busy", onNode("n1"), requests("cpu", "3"))},
			want:  "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.",
		},
		{
			name:  "terminated pods free their resources",
			pod:   pod("p", requests("cpu", "2")),
			nodes: []*corev1.Node{node("n1")},
			pods: []*corev1.Pod{
				pod("done", onNode("n1"), requests("cpu", "3"), phase(corev1.PodSucceeded)),
				pod("failed", onNode("n1"), requests("cpu", "3"), phase(corev1.PodFailed)),
			},
			want: "",
		},
		{
			name: "a taint, a cordon and a selector mismatch are counted per node, sorted",
			pod:  pod("p", nodeSelector("disk", "ssd")),
			nodes: []*corev1.Node{
				node("n1", taint("dedicated", "gpu", corev1.TaintEffectNoSchedule), withLabels("disk", "ssd")),
				node("n2", cordoned(), withLabels("disk", "ssd")),
				node("n3", withLabels("disk", "hdd")),
			},
			want: "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint(s), 1 node(s) were unschedulable. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
		},
		{
			name:  "preemptionPolicy Never says the pod is not eligible",
			pod:   pod("p", requests("cpu", "8"), func(p *corev1.Pod) { v := corev1.PreemptNever; p.Spec.PreemptionPolicy = &v }),
			nodes: []*corev1.Node{node("n1")},
			want:  "0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.",
		},
		{
			name:  "a used host port is resolvable only by evicting its holder",
			pod:   pod("p", hostPort(8080)),
			nodes: []*corev1.Node{node("n1")},
			pods:  []*corev1.Pod{pod("holder", onNode("n1"), hostPort(8080))},
			want:  "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Evaluate(tc.pod, snapshot(tc.nodes, tc.pods...), Options{})
			if got.Message != tc.want {
				t.Errorf("Message\n got: %s\nwant: %s", got.Message, tc.want)
			}
		})
	}
}

func TestOneEngineServesConcurrentEvaluations(t *testing.T) {
	nodes := []*corev1.Node{node("n1", withLabels("zone", "a")), node("n2", withLabels("zone", "b"))}
	existing := []*corev1.Pod{
		pod("a", onNode("n1"), requests("cpu", "3"), podLabels("app", "web"), priority(1)),
		pod("b", onNode("n2"), requests("cpu", "1"), podLabels("app", "web"), hostPort(80)),
	}
	e := NewEngine(snapshot(nodes, existing...))
	pending := []*corev1.Pod{
		pod("p1", requests("cpu", "2"), priority(10)),
		pod("p2", hostPort(80), podLabels("app", "web")),
		pod("p3", nodeSelector("zone", "c")),
	}
	want := make([]string, len(pending))
	for i, p := range pending {
		want[i] = e.Evaluate(p, Options{}).Message
	}
	done := make(chan error)
	for g := 0; g < 8; g++ {
		go func() {
			for i, p := range pending {
				if got := e.Evaluate(p, Options{}).Message; got != want[i] {
					done <- fmt.Errorf("pod %s: %q, want %q", p.Name, got, want[i])
					return
				}
			}
			done <- nil
		}()
	}
	for g := 0; g < 8; g++ {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

func TestABoundPodIsNotCountedAgainstItself(t *testing.T) {
	bound := pod("web", onNode("n1"), requests("cpu", "3"), podLabels("app", "web"), func(p *corev1.Pod) {
		p.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
				LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
				TopologyKey:   "kubernetes.io/hostname",
			}},
		}}
	})
	snap := snapshot([]*corev1.Node{node("n1")}, bound)
	moved := bound.DeepCopy()
	moved.Spec.NodeName = ""
	if res := Evaluate(moved, snap, Options{}); len(res.Feasible) != 1 {
		t.Errorf("the pod's own cpu and anti-affinity must not count against it; got %+v", res.Nodes)
	}
	twin := pod("web-2", requests("cpu", "3"), podLabels("app", "web"))
	if res := Evaluate(twin, snap, Options{}); len(res.Feasible) != 0 {
		t.Errorf("another pod still sees web's cpu; got %+v", res.Nodes)
	}
}

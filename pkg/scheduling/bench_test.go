package scheduling

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ktriage/ktriage/pkg/cluster"
)

// bigSnapshot is a 5,000-node cluster running 50,000 pods (10 per node,
// 3 cpu of 4 requested on each), spread over 3 zones.
func bigSnapshot() *cluster.Snapshot {
	const nodes, podsPerNode = 5000, 10
	snap := &cluster.Snapshot{}
	for i := 0; i < nodes; i++ {
		name := fmt.Sprintf("node-%05d", i)
		snap.Nodes = append(snap.Nodes, node(name, withLabels("topology.kubernetes.io/zone", fmt.Sprintf("zone-%d", i%3))))
		for j := 0; j < podsPerNode; j++ {
			snap.Pods = append(snap.Pods, pod(fmt.Sprintf("p-%05d-%d", i, j), onNode(name),
				requests("cpu", "300m", "memory", "512Mi"), podLabels("app", fmt.Sprintf("app-%d", j))))
		}
	}
	return snap
}

func BenchmarkEvaluate(b *testing.B) {
	snap := bigSnapshot()
	spread := func(p *corev1.Pod) {
		p.Spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{
			MaxSkew: 1, TopologyKey: "topology.kubernetes.io/zone", WhenUnsatisfiable: corev1.DoNotSchedule,
			LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "app-1"}},
		}}
		p.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
				LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "app-2"}},
				TopologyKey:   "kubernetes.io/hostname",
			}},
		}}
	}
	pods := map[string]*corev1.Pod{
		"insufficient-cpu":        pod("pending", requests("cpu", "2")),
		"spread-and-antiaffinity": pod("pending", podLabels("app", "app-1"), spread),
		"higher-priority":         pod("pending", requests("cpu", "2"), priority(1000)),
	}
	for name, p := range pods {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if res := Evaluate(p, snap, Options{}); res.Message == "" && len(res.Feasible) == 0 {
					b.Fatal("no result")
				}
			}
		})
	}
	b.Run("engine-reused", func(b *testing.B) {
		e := NewEngine(snap)
		p := pods["insufficient-cpu"]
		b.ReportAllocs()
		for b.Loop() {
			if res := e.Evaluate(p, Options{}); res.Message == "" {
				b.Fatal("no message")
			}
		}
	})
}

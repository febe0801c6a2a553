package qos

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/ktriage/ktriage/test/bench/bigcluster"
)

// BenchmarkCluster runs the kubelet's QoS rules over a 5,000-node cluster
// with 50,000 running pods, as qos-audit does: every pod's class, and per
// node the memory-pressure eviction order, the OOM score adjustment of every
// container and the requests/limits commitment.
func BenchmarkCluster(b *testing.B) {
	c := bigcluster.Generate(bigcluster.Large)
	byNode := map[string][]*corev1.Pod{}
	for _, p := range c.Pods {
		if p.Spec.NodeName != "" {
			byNode[p.Spec.NodeName] = append(byNode[p.Spec.NodeName], p)
		}
	}

	b.Run("class", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			counts := map[corev1.PodQOSClass]int{}
			for _, p := range c.Pods {
				counts[Class(p)]++
			}
			if len(counts) != 3 {
				b.Fatalf("classes %v", counts)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(c.Pods)), "ns/pod")
	})

	b.Run("eviction-order", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ranked := 0
			for _, n := range c.Nodes {
				ranked += len(RankMemoryPressure(byNode[n.Name], RequestsAsUsage))
			}
			if ranked == 0 {
				b.Fatal("nothing ranked")
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(c.Nodes)), "ns/node")
	})

	b.Run("oom-score-adj", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sum := 0
			for _, n := range c.Nodes {
				capacity := n.Status.Capacity.Memory().Value()
				for _, p := range byNode[n.Name] {
					allocated := AllocatedPod(p)
					for i := range allocated.Spec.InitContainers {
						sum += ContainerOOMScoreAdj(allocated, &allocated.Spec.InitContainers[i], capacity)
					}
					for i := range allocated.Spec.Containers {
						sum += ContainerOOMScoreAdj(allocated, &allocated.Spec.Containers[i], capacity)
					}
				}
			}
			if sum == 0 {
				b.Fatal("no adjustment computed")
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(c.Nodes)), "ns/node")
	})

	b.Run("commitment", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			resources := 0
			for _, n := range c.Nodes {
				resources += len(NodeCommitment(n, byNode[n.Name]))
			}
			if resources == 0 {
				b.Fatal("no commitment computed")
			}
		}
	})
}

package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"testing"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/pkg/drain"
	"github.com/ktriage/ktriage/test/bench/bigcluster"
)

// kubectlJSONNsPerOp is the by-hand baseline's ns/op, for the ratio.
var kubectlJSONNsPerOp float64

// BenchmarkDrainPreflight measures `kubectl drain-preflight NODE` on
// bigcluster.Large (5,000 nodes, 50,000 running pods, a
// PodDisruptionBudget per workload) against what a user does by hand,
// `kubectl get pods -A -o json`: "kubectl-get-pods-json" decodes the
// paginated JSON LIST of every pod into unstructured objects and prints it
// as JSON, as kubectl does; "drain-preflight" decodes the protobuf LISTs the
// plugin loads (pods, nodes) and simulates draining the busiest node. Its
// x-kubectl-json metric is the ratio the plugin is held to (≤ 0.2). Server
// time is not in either figure.
func BenchmarkDrainPreflight(b *testing.B) {
	c := bigcluster.Generate(bigcluster.Large)
	snap := withBudgets(c.Snapshot)
	node := busiestNode(snap)

	b.Run("kubectl-get-pods-json", func(b *testing.B) {
		var pages [][]byte
		for i := 0; i < len(snap.Pods); i += pageSize {
			l := podList(snap.Pods[i:min(i+pageSize, len(snap.Pods))]).(*corev1.PodList)
			l.APIVersion, l.Kind = "v1", "PodList"
			buf, err := json.Marshal(l)
			if err != nil {
				b.Fatal(err)
			}
			pages = append(pages, buf)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			all := &unstructured.UnstructuredList{}
			for _, page := range pages {
				var l unstructured.UnstructuredList
				if err := l.UnmarshalJSON(page); err != nil {
					b.Fatal(err)
				}
				all.Items = append(all.Items, l.Items...)
			}
			var out bytes.Buffer
			enc := json.NewEncoder(&out)
			enc.SetIndent("", "    ")
			if err := enc.Encode(all.UnstructuredContent()); err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, &out)
		}
		kubectlJSONNsPerOp = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})

	b.Run("drain-preflight", func(b *testing.B) {
		podPages := encodePages(b, snap.Pods, podList)
		nodePages := encodePages(b, snap.Nodes, nodeList)
		dec := decoder()
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			loaded := &cluster.Snapshot{Loaded: snap.Loaded, PDBs: snap.PDBs, Namespaces: snap.Namespaces, StorageClasses: snap.StorageClasses}
			for _, page := range podPages {
				var l corev1.PodList
				if _, _, err := dec.Decode(page, nil, &l); err != nil {
					b.Fatal(err)
				}
				for i := range l.Items {
					loaded.Pods = append(loaded.Pods, &l.Items[i])
				}
			}
			for _, page := range nodePages {
				var l corev1.NodeList
				if _, _, err := dec.Decode(page, nil, &l); err != nil {
					b.Fatal(err)
				}
				for i := range l.Items {
					loaded.Nodes = append(loaded.Nodes, &l.Items[i])
				}
			}
			res, err := drain.Simulate(loaded, drain.Options{Nodes: []string{node}, IgnoreDaemonSets: true, GracePeriodSeconds: -1, Now: bigcluster.Now})
			if err != nil {
				b.Fatal(err)
			}
			if len(res.Nodes) != 1 || len(res.Nodes[0].Pods) == 0 {
				b.Fatalf("nothing simulated on %s", node)
			}
		}
		if kubectlJSONNsPerOp > 0 {
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/kubectlJSONNsPerOp, "x-kubectl-json")
		}
	})
}

// withBudgets adds a PodDisruptionBudget (maxUnavailable 1) per
// ReplicaSet, with the status the disruption controller would write.
func withBudgets(s *cluster.Snapshot) *cluster.Snapshot {
	out := &cluster.Snapshot{Nodes: s.Nodes, Pods: s.Pods, Namespaces: s.Namespaces, StorageClasses: s.StorageClasses,
		ReplicaSets: s.ReplicaSets, Loaded: map[cluster.Kind]bool{}}
	for k, v := range s.Loaded {
		out.Loaded[k] = v
	}
	out.Loaded[cluster.KindPDB] = true
	out.Loaded[cluster.KindDaemonSet] = true
	one := intstr.FromInt32(1)
	for _, rs := range s.ReplicaSets {
		n := *rs.Spec.Replicas
		out.PDBs = append(out.PDBs, &policyv1.PodDisruptionBudget{
			ObjectMeta: metav1.ObjectMeta{Namespace: rs.Namespace, Name: rs.Name, Generation: 1},
			Spec:       policyv1.PodDisruptionBudgetSpec{MaxUnavailable: &one, Selector: rs.Spec.Selector},
			Status: policyv1.PodDisruptionBudgetStatus{ObservedGeneration: 1, ExpectedPods: n,
				CurrentHealthy: n, DesiredHealthy: n - 1, DisruptionsAllowed: 1},
		})
	}
	return out
}

func busiestNode(s *cluster.Snapshot) string {
	best, count := "", -1
	for _, n := range s.Nodes {
		if n.Spec.Unschedulable {
			continue
		}
		if c := len(s.PodsOnNode(n.Name)); c > count {
			best, count = n.Name, c
		}
	}
	if best == "" {
		panic(fmt.Sprintf("no schedulable node among %d", len(s.Nodes)))
	}
	return best
}

package whypending

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/pkg/pending"
)

// sizedReport explains pods Pending pods (four causes in turn) on a cluster
// of nodes nodes: a quarter tainted, a quarter cordoned, one zone in three.
// From 100 nodes on, every reason has more nodes than a finding names.
func sizedReport(t *testing.T, pods, nodes int) *pending.Report {
	t.Helper()
	snap := &cluster.Snapshot{Loaded: map[cluster.Kind]bool{cluster.KindNode: true, cluster.KindPod: true}}
	for i := range nodes {
		n := goldenNode(fmt.Sprintf("node-%04d", i))
		n.Labels["topology.kubernetes.io/zone"] = fmt.Sprintf("zone-%d", i%3)
		switch {
		case i%4 == 0:
			n.Spec.Taints = []corev1.Taint{{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule}}
		case i%4 == 1:
			n.Spec.Unschedulable = true
		}
		snap.Nodes = append(snap.Nodes, n)
	}
	var subjects []pending.Subject
	for i := range pods {
		p := goldenPod(fmt.Sprintf("pending-%03d", i), func(p *corev1.Pod) {
			p.Status.Conditions[0].Message = fmt.Sprintf("0/%d nodes are available", nodes)
			switch i % 4 {
			case 0:
				p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("64")}
			case 1:
				p.Spec.NodeSelector = map[string]string{"disktype": "ssd"}
			case 2:
				p.Spec.NodeSelector = map[string]string{"topology.kubernetes.io/zone": "zone-1"}
				p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Gi")}
			case 3:
				p.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 80, HostPort: 80}}
				p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("5")}
			}
		})
		snap.Pods = append(snap.Pods, p)
		subjects = append(subjects, pending.Subject{Pod: p})
	}
	res := pending.Explain(snap, subjects, nil, pending.Options{Now: goldenNow})
	rep := pending.NewReport("v0.0.0-test")
	rep.Pods = res.Pods
	for _, f := range res.Findings {
		rep.Add(f)
	}
	rep.Finalize(nil)
	return rep
}

// JSON and YAML grow with the Pending pods, not with pods times nodes: ten
// times the nodes prints about the same bytes, unless --per-node asks for
// every node.
func TestJSONAndYAMLDoNotGrowWithTheNodes(t *testing.T) {
	small, large := sizedReport(t, 10, 100), sizedReport(t, 10, 1000)
	for _, format := range []string{"json", "yaml"} {
		s, l := len(printed(t, small, format, false)), len(printed(t, large, format, false))
		if ratio := float64(l) / float64(s); ratio > 1.02 {
			t.Errorf("%s: 10 pods on 1,000 nodes print %d bytes, %.3f times what they print on 100 nodes (%d)", format, l, ratio, s)
		}
		t.Logf("%s: 10 pods on 100 / 1,000 nodes: %d / %d bytes", format, s, l)
	}
	// The same pods and nodes, every node listed: ten times the nodes.
	s, l := len(printed(t, sizedReport(t, 10, 100), "json", true)), len(printed(t, sizedReport(t, 10, 1000), "json", true))
	if ratio := float64(l) / float64(s); ratio < 8 {
		t.Errorf("json --per-node: 10 pods on 1,000 nodes print %d bytes, only %.2f times what they print on 100 nodes (%d)", l, ratio, s)
	}
	t.Logf("json --per-node: 10 pods on 100 / 1,000 nodes: %d / %d bytes", s, l)
}

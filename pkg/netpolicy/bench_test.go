package netpolicy

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/ktriage/ktriage/test/bench/bigcluster"
)

// BenchmarkEvaluate judges one connection against 1,000 NetworkPolicies in
// 100 namespaces, as netcheck does for each source/backend pair.
func BenchmarkEvaluate(b *testing.B) {
	policies := bigcluster.Policies(1, 1000, 100)
	c := bigcluster.Generate(bigcluster.Config{Seed: 1, Nodes: 10, Running: 100, Namespaces: 100})
	nsLabels := map[string]map[string]string{}
	for _, ns := range c.Namespaces {
		nsLabels[ns.Name] = ns.Labels
	}
	endpoint := func(p *corev1.Pod) Endpoint { return Endpoint{Pod: p, NamespaceLabels: nsLabels[p.Namespace]} }
	var src, sameNS, otherNS *corev1.Pod
	for _, p := range c.Pods {
		switch {
		case src == nil:
			src = p
		case sameNS == nil && p.Namespace == src.Namespace:
			sameNS = p
		case otherNS == nil && p.Namespace != src.Namespace:
			otherNS = p
		}
	}
	cases := []struct {
		name string
		t    Traffic
	}{
		{"same-namespace", Traffic{Src: endpoint(src), Dst: endpoint(sameNS), Port: 8080}},
		{"other-namespace", Traffic{Src: endpoint(src), Dst: endpoint(otherNS), Port: 9090}},
		{"to-ip", Traffic{Src: endpoint(src), Dst: Endpoint{IP: "10.20.30.40"}, Port: 5432}},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				res := Evaluate(policies, tc.t)
				// Every namespace has a default deny: egress is always isolated.
				if !res.Egress.Isolated {
					b.Fatal("egress not isolated")
				}
			}
		})
	}
}

package main

import (
	"fmt"
	"path/filepath"
	"strings"
)

// contenders are what is measured at a cluster of n nodes, in table order.
func contenders(bin, floor, kubectl string, f *filler, n int) []contender {
	plugin := func(name string) string { return filepath.Join(bin, "kubectl-"+name) }
	pending := f.pendingNames()
	node := f.busiestNode(n)
	src, dst := f.podIn("team-01", n), f.podIn("team-02", n)
	ok := []int{0}
	found := []int{0, 1} // plugins exit 1 when they found something at --fail-on
	cs := []contender{
		{id: "floor-pods-nodes", label: "floor: pods + nodes", argv: []string{floor, "pods-nodes"}, okCodes: ok},
		{id: "floor-pods-nodes-held", label: "floor: pods + nodes, every object kept", argv: []string{floor, "-keep", "pods-nodes"}, okCodes: ok},
		{id: "floor-cert-sources", label: "floor: cert-expiry's in-cluster sources", argv: []string{floor, "cert-sources"}, okCodes: ok},
		{id: "floor-drain", label: "floor: drain-preflight's lists", argv: []string{floor, "drain", node}, okCodes: ok},
		{id: "kubectl-pods", label: "kubectl get pods -A -o json", argv: []string{kubectl, "get", "pods", "-A", "-o", "json"}, okCodes: ok},
		{id: "kubectl-nodes", label: "kubectl get nodes -o json", argv: []string{kubectl, "get", "nodes", "-o", "json"}, okCodes: ok},
		{id: "why-pending-all", label: "why-pending -A", argv: []string{plugin("why_pending"), "-A", "-o", "json"}, okCodes: found,
			json: true, mustContain: []string{pending[0], pending[len(pending)-1]}, floor: "floor-pods-nodes"},
	}
	// One Pending pod, 100, and every one (they share a namespace).
	for _, k := range dedupe(1, min(100, len(pending)), len(pending)) {
		id := fmt.Sprintf("why-pending-pod-%d", k)
		label := fmt.Sprintf("why-pending POD (%d Pending pods named)", k)
		if k == 1 {
			label = "why-pending POD"
		}
		if k == len(pending) && k > 1 {
			id, label = "why-pending-pod-every", fmt.Sprintf("why-pending POD… (all %d Pending pods named)", k)
		}
		argv := append([]string{plugin("why_pending"), "-n", pendingNamespace, "-o", "json"}, pending[:k]...)
		cs = append(cs, contender{id: id, label: label, argv: argv, okCodes: found, json: true,
			mustContain: []string{pending[0], pending[k-1]}, floor: "floor-pods-nodes"})
	}
	cs = append(cs,
		contender{id: "qos-audit-all", label: "qos-audit -A", argv: []string{plugin("qos_audit"), "-A", "-o", "json"}, okCodes: found,
			json: true, mustContain: []string{node}, floor: "floor-pods-nodes"},
		contender{id: "cert-expiry", label: "cert-expiry (in-cluster sources)", argv: []string{plugin("cert_expiry"), "--sources", "cluster", "-o", "json"},
			okCodes: found, json: true, mustContain: []string{f.secrets[0].Name}, floor: "floor-cert-sources"},
		contender{id: "netcheck", label: "netcheck --no-probe SRC DST", argv: []string{plugin("netcheck"), "--no-probe", src, dst, "--port", "8080"}, okCodes: found},
		contender{id: "drain-preflight", label: "drain-preflight NODE", argv: []string{plugin("drain_preflight"), node, "--ignore-daemonsets", "--delete-emptydir-data"},
			okCodes: found, floor: "floor-drain"},
	)
	return cs
}

func dedupe(xs ...int) []int {
	var out []int
	for _, x := range xs {
		if len(out) == 0 || out[len(out)-1] != x {
			out = append(out, x)
		}
	}
	return out
}

// pluginIDs are the contenders that run a plugin (what can be profiled).
func isPlugin(c contender) bool {
	return !strings.HasPrefix(c.id, "floor") && !strings.HasPrefix(c.id, "kubectl")
}

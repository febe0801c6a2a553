package pending

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	resourcehelper "k8s.io/component-helpers/resource"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/klog/v2"

	"github.com/ktriage/ktriage/pkg/scheduling"
)

// untolerated lists the node's NoSchedule/NoExecute taints the pod does not
// tolerate (the TaintToleration filter's taints).
func untolerated(pod *corev1.Pod, node *corev1.Node) []corev1.Taint {
	var out []corev1.Taint
	for i := range node.Spec.Taints {
		t := &node.Spec.Taints[i]
		if t.Effect != corev1.TaintEffectNoSchedule && t.Effect != corev1.TaintEffectNoExecute {
			continue
		}
		if !corev1helpers.TolerationsTolerateTaint(klog.Background(), pod.Spec.Tolerations, t, true) {
			out = append(out, *t)
		}
	}
	return out
}

func taintString(t corev1.Taint) string {
	if t.Value == "" {
		return t.Key + ":" + string(t.Effect)
	}
	return t.Key + "=" + t.Value + ":" + string(t.Effect)
}

// taintFix names the untolerated taints per node and the tolerations YAML
// that would tolerate them.
func (a *analyzer) taintFix(pod *corev1.Pod, nodes []string, d map[string]any) (string, string) {
	perNode := map[string][]string{}
	seen := map[string]corev1.Taint{}
	for _, name := range nodes {
		n := a.nodes[name]
		if n == nil {
			continue
		}
		for _, t := range untolerated(pod, n) {
			perNode[name] = append(perNode[name], taintString(t))
			seen[taintString(t)] = t
		}
	}
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	d["taints"] = firstNodes(perNode, maxEvidenceNodes)
	msg := fmt.Sprintf("%d node(s) have taints the pod does not tolerate: %s", len(nodes), strings.Join(keys, ", "))
	// Taints the node lifecycle controller sets are symptoms, not policy:
	// tolerating them is the wrong fix.
	var policy []corev1.Taint
	var lifecycle []string
	for _, k := range keys {
		t := seen[k]
		if strings.HasPrefix(t.Key, "node.kubernetes.io/") || strings.HasPrefix(t.Key, "node.cloudprovider.kubernetes.io/") {
			lifecycle = append(lifecycle, k)
			continue
		}
		policy = append(policy, t)
	}
	var fix strings.Builder
	if len(policy) > 0 {
		fix.WriteString("add to the pod template's spec:\ntolerations:\n")
		for _, t := range policy {
			fmt.Fprintf(&fix, "- key: %q\n", t.Key)
			if t.Value == "" {
				fix.WriteString("  operator: Exists\n")
			} else {
				fmt.Fprintf(&fix, "  operator: Equal\n  value: %q\n", t.Value)
			}
			fmt.Fprintf(&fix, "  effect: %s\n", t.Effect)
		}
		fix.WriteString("or remove the taint from a node: kubectl taint node " + firstNodeWith(perNode, taintString(policy[0])) + " " + policy[0].Key + ":" + string(policy[0].Effect) + "-")
	}
	if len(lifecycle) > 0 {
		if fix.Len() > 0 {
			fix.WriteString("\n")
		}
		fix.WriteString("the node condition taint(s) " + strings.Join(lifecycle, ", ") + " mean the node is not healthy (not ready, unreachable, under pressure): repair the node rather than tolerating them")
	}
	return msg, fix.String()
}

// firstNodes keeps the entries of the first n nodes by name: evidence must
// not grow with the cluster.
func firstNodes[V any](perNode map[string]V, n int) map[string]V {
	if len(perNode) <= n {
		return perNode
	}
	names := make([]string, 0, len(perNode))
	for name := range perNode {
		names = append(names, name)
	}
	out := make(map[string]V, n)
	for _, name := range firstNames(names, n) {
		out[name] = perNode[name]
	}
	return out
}

func firstNodeWith(perNode map[string][]string, taint string) string {
	names := make([]string, 0, len(perNode))
	for n := range perNode {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		for _, t := range perNode[n] {
			if t == taint {
				return n
			}
		}
	}
	return "NODE"
}

// affinityFix shows the nodeSelector labels the nodes lack and the label to
// add, preferring a node where nothing else fails.
func (a *analyzer) affinityFix(pod *corev1.Pod, nodes, only []string, details nodeDetails, d map[string]any) (string, string) {
	target := ""
	if len(only) > 0 {
		target = only[0]
	} else if len(nodes) > 0 {
		target = nodes[0]
	}
	var missing []string
	actual := map[string]map[string]string{}
	keys := make([]string, 0, len(pod.Spec.NodeSelector))
	for k := range pod.Spec.NodeSelector {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, name := range nodes[:min(len(nodes), maxEvidenceNodes)] {
		n := a.nodes[name]
		if n == nil {
			continue
		}
		vals := map[string]string{}
		for _, k := range keys {
			v, ok := n.Labels[k]
			if !ok {
				v = "<unset>"
			}
			vals[k] = v
		}
		if len(vals) > 0 {
			actual[name] = vals
		}
	}
	if len(actual) > 0 {
		d["nodeLabels"] = actual
	}
	if n := a.nodes[target]; n != nil {
		for _, k := range keys {
			if n.Labels[k] != pod.Spec.NodeSelector[k] {
				missing = append(missing, k+"="+pod.Spec.NodeSelector[k])
			}
		}
	}
	msg := fmt.Sprintf("%d node(s) do not match the pod's node selector/affinity", len(nodes))
	if len(keys) > 0 {
		var sel []string
		for _, k := range keys {
			sel = append(sel, k+"="+pod.Spec.NodeSelector[k])
		}
		msg += " (nodeSelector " + strings.Join(sel, ",") + ")"
	}
	if s := details.of(target); target != "" && s != "" {
		msg += "; " + target + ": " + s
	}
	var fix string
	switch {
	case len(missing) > 0 && identityLabel(missing):
		// The kubelet sets these labels from the machine itself: relabelling
		// a node would lie about it. The selector is what is wrong.
		fix = "change the pod's nodeSelector " + strings.Join(missing, ",") + ": it names a node identity (hostname, OS, architecture, zone, instance type) that no schedulable node has"
	case len(missing) > 0:
		fix = "kubectl label node " + target + " " + strings.Join(missing, " ") + " --overwrite"
		if len(only) > 0 {
			fix += " (nothing else keeps the pod off " + target + ")"
		}
		fix += ", or change the pod's nodeSelector to labels the nodes have"
	default:
		fix = "change spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution to match labels the nodes have, or label a node (e.g. " + target + ") to satisfy one of its terms"
	}
	return msg, fix
}

// identityLabel reports whether any key=value names a label the kubelet or
// the cloud provider sets from the machine, which no one should relabel.
func identityLabel(kvs []string) bool {
	for _, kv := range kvs {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case corev1.LabelHostname, corev1.LabelOSStable, corev1.LabelArchStable, corev1.LabelTopologyZone,
			corev1.LabelTopologyRegion, corev1.LabelInstanceTypeStable, corev1.LabelFailureDomainBetaZone,
			corev1.LabelFailureDomainBetaRegion, corev1.LabelInstanceType:
			return true
		}
	}
	return false
}

// resourcesFix names, per short resource, the largest request that fits
// anywhere and where (the engine's comparison over the nodes that pass every
// other filter), and fragmentation.
func (a *analyzer) resourcesFix(pod *corev1.Pod, res scheduling.Result, d map[string]any) (string, string) {
	var parts, fixes []string
	var fits []scheduling.ResourceFit
	for _, rf := range res.Resources {
		if rf.Fits {
			continue
		}
		fits = append(fits, rf)
		parts = append(parts, rf.Message)
		switch {
		case rf.EligibleNodes == 0:
		case rf.Resource == string(corev1.ResourcePods):
			fixes = append(fixes, "the nodes are full of pods: add nodes or raise the kubelet's maxPods")
		case rf.TooLarge:
			fixes = append(fixes, fmt.Sprintf("lower resources.requests.%s from %s to at most %s (fits on %s); no node is big enough for %s %s (the largest allocatable is %s, on %s): keep the request at most %s, or add a node with at least %s %s allocatable",
				rf.Resource, rf.Requested, rf.LargestFree, rf.LargestFreeNode, rf.Requested, rf.Resource, rf.LargestAllocatable, rf.LargestAllocatableNode, rf.LargestAllocatable, rf.Requested, rf.Resource))
		case rf.LargestFreeNode != "":
			fixes = append(fixes, fmt.Sprintf("lower resources.requests.%s from %s to at most %s (fits on %s)", rf.Resource, rf.Requested, rf.LargestFree, rf.LargestFreeNode))
		}
	}
	if len(fits) > 0 {
		d["largestFit"] = fits
	}
	if len(res.Fragmentation) > 0 {
		d["fragmentation"] = res.Fragmentation
	}
	// Freeing capacity cannot help a request no node can hold.
	tooLarge := len(fits) > 0
	for _, rf := range fits {
		tooLarge = tooLarge && rf.TooLarge
	}
	msg := "not enough free resources on any node"
	switch {
	case tooLarge:
		// Each part says no node is big enough, and which is the largest.
		msg = strings.Join(parts, "; ")
	case len(parts) > 0:
		msg += ": " + strings.Join(parts, "; ")
	}
	fix := strings.Join(fixes, "; ")
	switch {
	case fix == "" && len(fits) > 0 && fits[0].EligibleNodes == 0:
		fix = "no node passes the other filters: fix those first (see the other findings), then compare the requests with the nodes' free capacity"
	case fix == "":
		fix = "lower the pod's requests or add capacity"
	case tooLarge:
	default:
		fix += "; or free capacity / add nodes"
	}
	return msg, fix
}

func requestOf(req corev1.ResourceList, rn corev1.ResourceName) int64 {
	if rn == corev1.ResourcePods {
		return 1
	}
	q, ok := req[rn]
	if !ok {
		return 0
	}
	if rn == corev1.ResourceCPU {
		return q.MilliValue()
	}
	return q.Value()
}

// freeOn is allocatable minus what the node's pods request (milli-CPU for
// cpu, a count for pods, bytes or units otherwise).
func (a *analyzer) freeOn(node string, rn corev1.ResourceName) int64 {
	n := a.nodes[node]
	if n == nil {
		return 0
	}
	alloc := requestOf(n.Status.Allocatable, rn)
	if rn == corev1.ResourcePods {
		alloc = n.Status.Allocatable.Pods().Value()
		return alloc - int64(len(a.podsByNode[node]))
	}
	var used int64
	for _, p := range a.podsByNode[node] {
		used += requestOf(resourcehelper.PodRequests(p, resourcehelper.PodResourcesOptions{}), rn)
	}
	return alloc - used
}

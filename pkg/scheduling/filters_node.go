package scheduling

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
	"k8s.io/klog/v2"
)

// Scheduler reason strings of the node-level filters (kube-scheduler v1.37,
// pkg/scheduler/framework/plugins/...).
const (
	msgNodeName          = "node(s) didn't match the requested node name"
	msgUnschedulable     = "node(s) were unschedulable"
	msgUntoleratedTaint  = "node(s) had untolerated taint(s)"
	msgNodeAffinity      = "node(s) didn't match Pod's node affinity/selector"
	msgNodeAffinityConfl = "pod affinity terms conflict"
	msgNodePorts         = "node(s) didn't have free ports for the requested pod ports"
)

// nodeNamePlugin is NodeName: spec.nodeName restricts the pod to one node.
var nodeNamePlugin = plugin{
	name: "NodeName",
	preFilter: func(c *cycle) preResult {
		if c.pod.Spec.NodeName == "" {
			return preResult{}
		}
		return preResult{nodeNames: map[string]bool{c.pod.Spec.NodeName: true}}
	},
	filter: func(c *cycle, ni *nodeInfo) []Reason {
		if c.pod.Spec.NodeName == "" || c.pod.Spec.NodeName == ni.node.Name {
			return nil
		}
		return []Reason{{Message: msgNodeName, Unresolvable: true,
			Detail: fmt.Sprintf("pod requests node %q by spec.nodeName", c.pod.Spec.NodeName)}}
	},
}

// nodeUnschedulablePlugin is NodeUnschedulable: cordoned nodes, unless the
// pod tolerates node.kubernetes.io/unschedulable:NoSchedule.
var nodeUnschedulablePlugin = plugin{
	name: "NodeUnschedulable",
	filter: func(c *cycle, ni *nodeInfo) []Reason {
		if !ni.node.Spec.Unschedulable {
			return nil
		}
		if corev1helpers.TolerationsTolerateTaint(klog.Background(), c.pod.Spec.Tolerations, &corev1.Taint{
			Key: corev1.TaintNodeUnschedulable, Effect: corev1.TaintEffectNoSchedule,
		}, false) {
			return nil
		}
		return []Reason{{Message: msgUnschedulable, Unresolvable: true,
			Detail: "node is cordoned (spec.unschedulable=true)"}}
	},
}

// taintTolerationPlugin is TaintToleration: every NoSchedule/NoExecute taint
// must be tolerated. The scheduler names none; Detail names each one.
var taintTolerationPlugin = plugin{
	name: "TaintToleration",
	filter: func(c *cycle, ni *nodeInfo) []Reason {
		var untolerated []string
		var taints []corev1.Taint
		for i := range ni.node.Spec.Taints {
			t := &ni.node.Spec.Taints[i]
			if t.Effect != corev1.TaintEffectNoSchedule && t.Effect != corev1.TaintEffectNoExecute {
				continue
			}
			if !corev1helpers.TolerationsTolerateTaint(klog.Background(), c.pod.Spec.Tolerations, t, false) {
				s := formatTaint(t)
				if why, ok := wellKnownTaints[t.Key]; ok {
					s += " (" + why + ")"
				}
				untolerated = append(untolerated, s)
				taints = append(taints, *t)
			}
		}
		if len(untolerated) == 0 {
			return nil
		}
		detail := fmt.Sprintf("taint %s is not tolerated", untolerated[0])
		if len(untolerated) > 1 {
			detail = fmt.Sprintf("taints %s are not tolerated", strings.Join(untolerated, ", "))
		}
		return []Reason{{Message: msgUntoleratedTaint, Unresolvable: true, Detail: detail, Taints: taints}}
	},
}

// wellKnownTaints say what the taints Kubernetes itself sets mean.
var wellKnownTaints = map[string]string{
	corev1.TaintNodeNotReady:                         "the node is not Ready",
	corev1.TaintNodeUnreachable:                      "the node controller cannot reach the node",
	corev1.TaintNodeUnschedulable:                    "the node is cordoned",
	corev1.TaintNodeMemoryPressure:                   "the node is under memory pressure",
	corev1.TaintNodeDiskPressure:                     "the node is under disk pressure",
	corev1.TaintNodePIDPressure:                      "the node is running out of process IDs",
	corev1.TaintNodeNetworkUnavailable:               "the node's network is not configured",
	"node.cloudprovider.kubernetes.io/uninitialized": "the cloud provider has not initialized the node yet",
	"node.kubernetes.io/out-of-service":              "the node is marked out of service",
}

// formatTaint prints a taint the way kubectl taint takes it: key=value:effect.
func formatTaint(t *corev1.Taint) string {
	if t.Value == "" {
		return t.Key + ":" + string(t.Effect)
	}
	return t.Key + "=" + t.Value + ":" + string(t.Effect)
}

// nodeAffinityPlugin is NodeAffinity: spec.nodeSelector and the required
// node affinity terms.
var nodeAffinityPlugin = plugin{
	name: "NodeAffinity",
	preFilter: func(c *cycle) preResult {
		return nodeAffinityPreFilter(c.pod)
	},
	filter: func(c *cycle, ni *nodeInfo) []Reason {
		match, _ := c.requiredAffinity.Match(ni.node)
		if match {
			return nil
		}
		return []Reason{{Message: msgNodeAffinity, Unresolvable: true, Detail: c.nodeAffinityDetail(ni.node)}}
	},
}

// nodeAffinityDetail is nodeAffinityDetail for the cycle's pod, computed once
// per distinct value of the labels (and, with matchFields, the name) it
// reads: thousands of nodes usually share a few such values.
func (c *cycle) nodeAffinityDetail(node *corev1.Node) string {
	if c.nodeAffinityKeys == nil {
		c.nodeAffinityKeys, c.nodeAffinityByName = nodeAffinityInputs(c.pod)
		c.nodeAffinityDetails = map[string]string{}
	}
	var b strings.Builder
	if c.nodeAffinityByName {
		b.WriteString(node.Name)
	}
	for _, k := range c.nodeAffinityKeys {
		if v, ok := node.Labels[k]; ok {
			b.WriteString("\x00=")
			b.WriteString(v)
		} else {
			b.WriteString("\x00-")
		}
	}
	key := b.String()
	if d, ok := c.nodeAffinityDetails[key]; ok {
		return d
	}
	d := nodeAffinityDetail(c.pod, node)
	c.nodeAffinityDetails[key] = d
	return d
}

// nodeAffinityInputs lists the node label keys the pod's nodeSelector and
// required node affinity read, and whether a term reads the node's name.
func nodeAffinityInputs(pod *corev1.Pod) (keys []string, byName bool) {
	keys = []string{}
	for k := range pod.Spec.NodeSelector {
		keys = append(keys, k)
	}
	if a := pod.Spec.Affinity; a != nil && a.NodeAffinity != nil && a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil {
		for _, t := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
			for _, r := range t.MatchExpressions {
				keys = append(keys, r.Key)
			}
			byName = byName || len(t.MatchFields) > 0
		}
	}
	sort.Strings(keys)
	return slices.Compact(keys), byName
}

// nodeAffinityPreFilter narrows the candidates when every required term pins
// metadata.name, as the plugin's PreFilter does.
func nodeAffinityPreFilter(pod *corev1.Pod) preResult {
	a := pod.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return preResult{}
	}
	terms := a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	var nodeNames map[string]bool
	for _, t := range terms {
		var termNames map[string]bool
		for _, r := range t.MatchFields {
			if r.Key != "metadata.name" || r.Operator != corev1.NodeSelectorOpIn {
				continue
			}
			s := map[string]bool{}
			for _, v := range r.Values {
				s[v] = true
			}
			if termNames == nil {
				termNames = s
			} else {
				for k := range termNames {
					if !s[k] {
						delete(termNames, k)
					}
				}
			}
		}
		if termNames == nil {
			return preResult{}
		}
		if nodeNames == nil {
			nodeNames = map[string]bool{}
		}
		for k := range termNames {
			nodeNames[k] = true
		}
	}
	if nodeNames != nil && len(nodeNames) == 0 {
		return preResult{reasons: []Reason{{Message: msgNodeAffinityConfl, Unresolvable: true,
			Detail: "every required node affinity term pins metadata.name to a set of nodes, and the sets leave no node"}}}
	}
	if len(nodeNames) > 0 {
		return preResult{nodeNames: nodeNames}
	}
	return preResult{}
}

// nodeAffinityDetail names the nodeSelector entry or the affinity terms that
// fail, with the node's actual label values.
func nodeAffinityDetail(pod *corev1.Pod, node *corev1.Node) string {
	var parts []string
	keys := make([]string, 0, len(pod.Spec.NodeSelector))
	for k := range pod.Spec.NodeSelector {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		want := pod.Spec.NodeSelector[k]
		got, ok := node.Labels[k]
		switch {
		case !ok:
			parts = append(parts, fmt.Sprintf("nodeSelector %s=%s: node has no label %s", k, want, k))
		case got != want:
			parts = append(parts, fmt.Sprintf("nodeSelector %s=%s: node has %s=%s", k, want, k, got))
		}
	}
	a := pod.Spec.Affinity
	if a != nil && a.NodeAffinity != nil && a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil {
		terms := a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
		ns, err := nodeaffinity.NewNodeSelector(a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution)
		if err != nil || !ns.Match(node) {
			for i, t := range terms {
				if fails := failingRequirements(t, node); len(fails) > 0 {
					prefix := "required node affinity"
					if len(terms) > 1 {
						prefix = fmt.Sprintf("required node affinity term %d", i+1)
					}
					parts = append(parts, prefix+": "+strings.Join(fails, "; "))
				}
			}
		}
	}
	if len(parts) == 0 {
		return "node does not match the pod's node selector or required node affinity"
	}
	return strings.Join(parts, "; ")
}

// failingRequirements lists the requirements of one term the node fails,
// each with the node's value for the key.
func failingRequirements(t corev1.NodeSelectorTerm, node *corev1.Node) []string {
	if len(t.MatchExpressions) == 0 && len(t.MatchFields) == 0 {
		return []string{"empty term matches no node"}
	}
	var fails []string
	for _, r := range t.MatchExpressions {
		ok, err := matchesRequirement(r, node.Labels)
		if ok {
			continue
		}
		s := formatNodeRequirement(r)
		switch {
		case err != nil:
			s += ": invalid (" + err.Error() + ")"
		default:
			if v, has := node.Labels[r.Key]; has {
				s += fmt.Sprintf(": node has %s=%s", r.Key, v)
			} else {
				s += fmt.Sprintf(": node has no label %s", r.Key)
			}
		}
		fails = append(fails, s)
	}
	for _, r := range t.MatchFields {
		if r.Key == "metadata.name" {
			in := false
			for _, v := range r.Values {
				in = in || v == node.Name
			}
			if (r.Operator == corev1.NodeSelectorOpIn) != in || (r.Operator != corev1.NodeSelectorOpIn && r.Operator != corev1.NodeSelectorOpNotIn) {
				fails = append(fails, fmt.Sprintf("field %s: node is %s", formatNodeRequirement(r), node.Name))
			}
		}
	}
	return fails
}

func matchesRequirement(r corev1.NodeSelectorRequirement, nodeLabels map[string]string) (bool, error) {
	ns, err := nodeaffinity.NewNodeSelector(&corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
		MatchExpressions: []corev1.NodeSelectorRequirement{r},
	}}})
	if err != nil {
		return false, err
	}
	return ns.Match(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Labels: nodeLabels}}), nil
}

// formatNodeRequirement prints a requirement as a label selector would:
// "zone in (a,b)", "gpu", "!gpu", "cores > 8".
func formatNodeRequirement(r corev1.NodeSelectorRequirement) string {
	switch r.Operator {
	case corev1.NodeSelectorOpIn:
		return fmt.Sprintf("%s in (%s)", r.Key, strings.Join(r.Values, ","))
	case corev1.NodeSelectorOpNotIn:
		return fmt.Sprintf("%s notin (%s)", r.Key, strings.Join(r.Values, ","))
	case corev1.NodeSelectorOpExists:
		return r.Key + " exists"
	case corev1.NodeSelectorOpDoesNotExist:
		return r.Key + " does not exist"
	case corev1.NodeSelectorOpGt:
		return fmt.Sprintf("%s > %s", r.Key, strings.Join(r.Values, ","))
	case corev1.NodeSelectorOpLt:
		return fmt.Sprintf("%s < %s", r.Key, strings.Join(r.Values, ","))
	}
	return fmt.Sprintf("%s %s (%s)", r.Key, r.Operator, strings.Join(r.Values, ","))
}

// nodePortsPlugin is NodePorts: host ports (of containers and sidecars) must
// be free on the node.
var nodePortsPlugin = plugin{
	name: "NodePorts",
	preFilter: func(c *cycle) preResult {
		if len(hostPorts(c.pod)) == 0 {
			return preResult{skip: true}
		}
		return preResult{}
	},
	filter: func(c *cycle, ni *nodeInfo) []Reason {
		var conflicts, holders []string
		for _, want := range hostPorts(c.pod) {
			for _, p := range ni.pods {
				for _, used := range hostPorts(p) {
					if portsConflict(want, used) {
						conflicts = append(conflicts, fmt.Sprintf("host port %s is used by pod %s/%s", formatHostPort(want), p.Namespace, p.Name))
						holders = append(holders, p.Namespace+"/"+p.Name)
					}
				}
			}
		}
		if len(conflicts) == 0 {
			return nil
		}
		return []Reason{{Message: msgNodePorts, Detail: strings.Join(dedupe(conflicts), "; "), Pods: dedupe(holders)}}
	},
}

// hostPorts is the scheduler's util.GetHostPorts: host ports of regular
// containers and of restartable (sidecar) init containers.
func hostPorts(pod *corev1.Pod) []corev1.ContainerPort {
	var ports []corev1.ContainerPort
	for _, c := range pod.Spec.InitContainers {
		if c.RestartPolicy == nil || *c.RestartPolicy != corev1.ContainerRestartPolicyAlways {
			continue
		}
		for _, p := range c.Ports {
			if p.HostPort > 0 {
				ports = append(ports, p)
			}
		}
	}
	for _, c := range pod.Spec.Containers {
		for _, p := range c.Ports {
			if p.HostPort > 0 {
				ports = append(ports, p)
			}
		}
	}
	return ports
}

// portsConflict is HostPortInfo.CheckConflict for one used port: same
// protocol and port, and the same IP or either side bound to 0.0.0.0.
func portsConflict(want, used corev1.ContainerPort) bool {
	wip, wproto := sanitizePort(want)
	uip, uproto := sanitizePort(used)
	if want.HostPort != used.HostPort || wproto != uproto {
		return false
	}
	return wip == "0.0.0.0" || uip == "0.0.0.0" || wip == uip
}

func sanitizePort(p corev1.ContainerPort) (ip, proto string) {
	ip, proto = p.HostIP, string(p.Protocol)
	if ip == "" {
		ip = "0.0.0.0"
	}
	if proto == "" {
		proto = string(corev1.ProtocolTCP)
	}
	return ip, proto
}

func formatHostPort(p corev1.ContainerPort) string {
	ip, proto := sanitizePort(p)
	if ip == "0.0.0.0" {
		return fmt.Sprintf("%d/%s", p.HostPort, proto)
	}
	return fmt.Sprintf("%s:%d/%s", ip, p.HostPort, proto)
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	out := s[:0]
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

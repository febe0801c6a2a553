package autoscaler

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/pkg/scheduling"
)

// templateName names the template node of a group; messages and the
// hostname label use it.
func templateName(group string) string { return "new-node-of-" + group }

// simulate runs the scheduler's filters for pod on the template nodes (with
// the pods already on them: the DaemonSet pods of a cluster-autoscaler
// template), the way the autoscalers check a node they could add. The
// cluster's nodes and pods are part of the snapshot only when the pod's
// inter-pod affinity or topology spread counts them; claims, volumes and
// classes always are. It returns each template's result by node name, and
// the PreFilter failure that rejects every node, if any.
func (s *State) simulate(pod *corev1.Pod, templates []*corev1.Node, onTemplates ...*corev1.Pod) (map[string]scheduling.NodeResult, *scheduling.Reason) {
	src := s.snap
	sim := &cluster.Snapshot{
		Namespaces: src.Namespaces, PVCs: src.PVCs, PVs: src.PVs, StorageClasses: src.StorageClasses,
		CSINodes: src.CSINodes, CSIDrivers: src.CSIDrivers, ResourceClaims: src.ResourceClaims,
		DeviceClasses: src.DeviceClasses, ResourceSlices: src.ResourceSlices, PriorityClasses: src.PriorityClasses,
		RuntimeClasses: src.RuntimeClasses, PDBs: src.PDBs,
		Nodes: templates,
	}
	if src.Loaded != nil {
		sim.Loaded = map[cluster.Kind]bool{}
		for k, v := range src.Loaded {
			sim.Loaded[k] = v
		}
		sim.Loaded[cluster.KindNode] = true
		sim.Loaded[cluster.KindPod] = true
	}
	sim.Pods = onTemplates
	if countsOtherPods(pod) {
		sim.Nodes = append(append([]*corev1.Node(nil), src.Nodes...), templates...)
		sim.Pods = append(append([]*corev1.Pod(nil), src.Pods...), onTemplates...)
	}
	res := scheduling.Evaluate(pod, sim, scheduling.Options{})
	out := make(map[string]scheduling.NodeResult, len(templates))
	for _, n := range res.Nodes {
		out[n.Name] = n
	}
	return out, res.PreFilter
}

// countsOtherPods: the pod's inter-pod affinity or topology spread depends
// on the pods already running.
func countsOtherPods(pod *corev1.Pod) bool {
	a := pod.Spec.Affinity
	return len(pod.Spec.TopologySpreadConstraints) > 0 || a != nil && (a.PodAffinity != nil || a.PodAntiAffinity != nil)
}

// simBlockers says why a template node rejects the pod.
func simBlockers(r scheduling.NodeResult, pre *scheduling.Reason) []string {
	var out []string
	if pre != nil {
		out = append(out, reasonWords(*pre))
	}
	for _, rs := range r.Reasons {
		out = append(out, reasonWords(rs))
	}
	return out
}

// reasonWords is the scheduler's reason with what exactly failed.
func reasonWords(r scheduling.Reason) string {
	if r.Detail == "" {
		return r.Message
	}
	return r.Message + " (" + oneLine(r.Detail) + ")"
}

// filterFix says how to make a group's new node take the pod, from the
// scheduler's reason on its template (where names the group).
func filterFix(r scheduling.Reason, where string, pod *corev1.Pod) string {
	nodes := "the new nodes"
	if where != "" {
		nodes = where + "'s nodes"
	}
	switch r.Plugin {
	case "TaintToleration":
		var tols, taints []string
		for _, t := range r.Taints {
			tol := fmt.Sprintf("{key: %q, operator: Equal, value: %q, effect: %s}", t.Key, t.Value, t.Effect)
			if t.Value == "" {
				tol = fmt.Sprintf("{key: %q, operator: Exists, effect: %s}", t.Key, t.Effect)
			}
			tols = append(tols, tol)
			taints = append(taints, taintString(t))
		}
		if len(tols) == 0 {
			return fmt.Sprintf("tolerate the taints of %s, or use a group without them", nodes)
		}
		return fmt.Sprintf("add to the pod's tolerations %s, or take %s off %s", strings.Join(tols, ", "), strings.Join(taints, ", "), nodes)
	case "NodeAffinity":
		return fmt.Sprintf("make the pod's nodeSelector or node affinity match %s (%s), or give them the labels it asks for", nodes, oneLine(r.Detail))
	case "NodeResourcesFit":
		if sf := r.Shortfall; sf != nil {
			taken := ""
			if sf.InUse != "" && sf.InUse != "0" {
				taken = fmt.Sprintf(" (%s of it for the DaemonSet pods every new node runs)", sf.InUse)
			}
			return fmt.Sprintf("%s have %s %s allocatable%s and the pod requests %s: lower the request, or add a group of bigger nodes", nodes, sf.Allocatable, sf.Resource, taken, sf.Requested)
		}
		return fmt.Sprintf("lower the pod's requests, or add a group of bigger nodes than %s", nodes)
	case "NodePorts":
		return "drop the pod's hostPort (expose it through a Service) or pick a free port"
	case "InterPodAffinity", "PodTopologySpread":
		return "relax the pod's " + strings.ToLower(r.Plugin[:1]) + r.Plugin[1:] + " constraints: " + oneLine(r.Detail)
	}
	if r.Detail != "" {
		return oneLine(r.Detail)
	}
	return genericFilterFix(r.Message)
}

// genericFilterFix is the advice for a scheduler reason alone.
func genericFilterFix(msg string) string {
	switch {
	case strings.HasPrefix(msg, "Insufficient "):
		return "lower the pod's " + strings.TrimPrefix(msg, "Insufficient ") + " request, or add a group of bigger nodes"
	case strings.HasPrefix(msg, "node(s) didn't match Pod's node affinity/selector"):
		return "change the pod's nodeSelector or node affinity, or label a group's nodes as it asks"
	case strings.HasPrefix(msg, "node(s) had untolerated taint"):
		return "tolerate the group's taints, or use a group without them"
	case msg == "Too many pods":
		return "raise the nodes' pod capacity (max pods) or use bigger nodes"
	}
	return "change the pod or the node group as the reason says"
}

func taintString(t corev1.Taint) string {
	if t.Value == "" {
		return t.Key + ":" + string(t.Effect)
	}
	return t.Key + "=" + t.Value + ":" + string(t.Effect)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// joinCut joins the first n items and says how many more there are.
func joinCut(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, "; ")
	}
	return strings.Join(items[:n], "; ") + fmt.Sprintf("; and %d more", len(items)-n)
}

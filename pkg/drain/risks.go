package drain

import (
	"fmt"
	"math"
	"strings"

	"github.com/ktriage/ktriage/pkg/cluster"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// zoneLabels are the topology labels a volume can be bound to.
var zoneLabels = []string{corev1.LabelTopologyZone, corev1.LabelFailureDomainBetaZone}

// risks records what does not stop the drain but costs something: downtime,
// data left on the node, a replacement tied to a zone.
func (s *sim) risks(p *corev1.Pod) {
	ref := metav1.GetControllerOf(p)
	switch ref.Kind {
	case "ReplicaSet", "StatefulSet", "ReplicationController":
		if s.replicas(p, ref) == 1 {
			s.add(RuleSingleReplica, p, "Pod", fmt.Sprintf("the only replica of %s/%s: it is down until the replacement is ready", ref.Kind, ref.Name),
				fmt.Sprintf("scale %s/%s to 2 replicas before the drain", strings.ToLower(ref.Kind), ref.Name))
		}
	case "Job":
	default:
		s.add(RuleUnknownOwner, p, "Pod", fmt.Sprintf("controlled by %s/%s, not a built-in workload: assumed to be recreated elsewhere", ref.Kind, ref.Name), "")
	}
	for _, v := range p.Spec.Volumes {
		if v.HostPath != nil {
			s.add(RuleLocalData, p, "Pod", fmt.Sprintf("volume %s is hostPath %s: its data stays on %s", v.Name, v.HostPath.Path, p.Spec.NodeName), "copy the data away first, or make sure the replacement does not need it")
		}
		if v.PersistentVolumeClaim == nil {
			continue
		}
		pvc := s.snap.PVC(p.Namespace, v.PersistentVolumeClaim.ClaimName)
		if pvc == nil || pvc.Spec.VolumeName == "" {
			continue
		}
		pv := s.snap.PV(pvc.Spec.VolumeName)
		if pv == nil {
			continue
		}
		if pv.Spec.Local != nil || pv.Spec.HostPath != nil {
			s.add(RuleLocalData, p, "Pod", fmt.Sprintf("claim %s is bound to local volume %s: its data stays on %s and the replacement can only run there", pvc.Name, pv.Name, p.Spec.NodeName), "move the data to network storage, or expect the replacement to wait for the node")
			continue
		}
		if ref.Kind == "StatefulSet" {
			if zone := pvZone(pv); zone != "" {
				s.add(RuleZoneBound, p, "Pod", fmt.Sprintf("claim %s is bound to volume %s in zone %s: the replacement can only run in that zone", pvc.Name, pv.Name, zone), fmt.Sprintf("keep room in zone %s for it", zone))
			}
		}
	}
}

// replicas counts the controller's pods that are not finished.
func (s *sim) replicas(p *corev1.Pod, ref *metav1.OwnerReference) int {
	n := 0
	for _, q := range s.snap.PodsInNamespace(p.Namespace) {
		if r := metav1.GetControllerOf(q); r != nil && r.UID == ref.UID && r.Kind == ref.Kind && r.Name == ref.Name &&
			q.Status.Phase != corev1.PodSucceeded && q.Status.Phase != corev1.PodFailed {
			n++
		}
	}
	return n
}

func pvZone(pv *corev1.PersistentVolume) string {
	if pv.Spec.NodeAffinity == nil || pv.Spec.NodeAffinity.Required == nil {
		return ""
	}
	for _, t := range pv.Spec.NodeAffinity.Required.NodeSelectorTerms {
		for _, e := range t.MatchExpressions {
			for _, l := range zoneLabels {
				if e.Key == l && e.Operator == corev1.NodeSelectorOpIn && len(e.Values) > 0 {
					return strings.Join(e.Values, ",")
				}
			}
		}
	}
	return ""
}

// waitsForever: after evicting, kubectl drain waits for every pod to be
// gone. A pod that has outlived its grace period and still has finalizers,
// or any pod of a node whose kubelet is not ready, never goes unless
// --skip-wait-for-delete-timeout lets kubectl move on.
func (s *sim) waitsForever(node string, decisions []podDecision, plans []*PodPlan) bool {
	n := s.snap.Node(node)
	nodeReady := n != nil && cluster.NodeReady(n)
	stuck := false
	for i, d := range decisions {
		p := d.pod
		if plans[i].Round == 0 {
			continue
		}
		finished := p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
		var why string
		switch {
		case p.DeletionTimestamp != nil && s.o.Now.After(p.DeletionTimestamp.Time) && len(p.Finalizers) > 0:
			why = fmt.Sprintf("terminating since %s, past its grace period, held by finalizers %s", p.DeletionTimestamp.UTC().Format("2006-01-02T15:04:05Z"), strings.Join(p.Finalizers, ", "))
		case !nodeReady && !finished:
			why = fmt.Sprintf("node %s is not Ready: its kubelet cannot confirm that the pod stopped", node)
		case len(p.Finalizers) > 0:
			s.add(RuleFinalizer, p, "Pod", fmt.Sprintf("kubectl drain waits until finalizers %s are removed", strings.Join(p.Finalizers, ", ")),
				"make sure the finalizers' controller runs, or set --skip-wait-for-delete-timeout")
			continue
		default:
			continue
		}
		if s.o.SkipWaitForDeleteTimeoutSeconds > 0 {
			s.add(RuleFinalizer, p, "Pod", why+fmt.Sprintf(": kubectl drain moves on after --skip-wait-for-delete-timeout=%d", s.o.SkipWaitForDeleteTimeoutSeconds), "")
			continue
		}
		stuck = true
		plans[i].Reason += "; kubectl drain waits for it for ever: " + why
		s.add(RuleStuckTerminating, p, "Pod", "kubectl drain waits for ever: "+why, "set --skip-wait-for-delete-timeout (e.g. 60) so that kubectl drain moves on")
		s.res.Reasons = append(s.res.Reasons, fmt.Sprintf("node %s: pod %s/%s never goes: %s", node, p.Namespace, p.Name, why))
		s.addFix("add --skip-wait-for-delete-timeout=60 to kubectl drain")
	}
	return stuck
}

// blockingBudgets reports each budget that still refuses evictions.
func (s *sim) blockingBudgets(node string, stuck int) {
	if stuck == 0 {
		return
	}
	for _, b := range s.budgets {
		b.lost = 0
		for _, r := range s.queue {
			if b.covers(r.pod) {
				b.lost++
			}
		}
	}
	for _, b := range s.budgets {
		if b.waiting == 0 {
			continue
		}
		why, fix := b.deadlock()
		msg := fmt.Sprintf("blocks the drain of %s: %s; %s", node, b.tooManyRequests(), why)
		s.add(RuleBudgetBlocks, b.pdb, "PodDisruptionBudget", msg, fix)
		s.res.Reasons = append(s.res.Reasons, fmt.Sprintf("node %s: poddisruptionbudget %s %s", node, b.key(), msg[len("blocks the drain of "+node+": "):]))
		s.addFix(fix)
	}
}

// capacityFix says what would let a replacement fit: capacity when
// resources are what is short, otherwise the constraints that keep it out.
func (s *sim) capacityFix(r *replacement) string {
	short := false
	for _, rf := range r.last.Resources {
		if !rf.Fits {
			short = true
		}
	}
	if !short {
		return "no remaining node passes the scheduler's filters (see the per-node reasons): change the pod's constraints, or add a node that meets them"
	}
	like := r.of.Spec.NodeName
	n := s.nodesLike(like)
	fix := fmt.Sprintf("add capacity: %d node(s) like %s more", n, like)
	s.addFix(fix)
	return fix
}

// nodesLike is how many nodes shaped like the given one the Pending
// replacements need, by their summed cpu, memory and pod count.
func (s *sim) nodesLike(name string) int {
	node := s.snap.Node(name)
	if node == nil {
		return 1
	}
	var cpu, mem, pods int64
	for _, r := range s.queue {
		if r.of.Spec.NodeName != name && r.plan != nil {
			continue
		}
		for _, c := range r.pod.Spec.Containers {
			cpu += c.Resources.Requests.Cpu().MilliValue()
			mem += c.Resources.Requests.Memory().Value()
		}
		pods++
	}
	alloc := node.Status.Allocatable
	need := 1.0
	ratio := func(want int64, have resource.Quantity, milli bool) {
		h := have.Value()
		if milli {
			h = have.MilliValue()
		}
		if h > 0 {
			need = math.Max(need, math.Ceil(float64(want)/float64(h)))
		}
	}
	ratio(cpu, alloc[corev1.ResourceCPU], true)
	ratio(mem, alloc[corev1.ResourceMemory], false)
	ratio(pods, alloc[corev1.ResourcePods], false)
	return int(need)
}

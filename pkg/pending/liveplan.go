package pending

import (
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"

	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/pkg/scheduling"
)

// What why-pending loads from a live cluster. Every function here is pure:
// it says which queries; ExplainLive runs them, round by round, through the
// cluster.Loader the plugin hands it (ManifestQueries: the plugin, with
// cluster.LoadLive).

// nodeOnlyPlugins are the filters that look at the node alone: a node they
// reject needs no pod list to be explained.
var nodeOnlyPlugins = map[string]bool{"NodeName": true, "NodeUnschedulable": true, "TaintToleration": true, "NodeAffinity": true}

// perNodeListLimit: above this many candidate nodes one LIST of all pods is
// cheaper than a field-selected LIST per node.
const perNodeListLimit = 50

// PerObjectEventLimit: above this many objects, list the events of the scope
// once instead of one field-selected LIST per object.
const PerObjectEventLimit = 20

// ActivePods field-selects the pods that hold resources or may still run.
const ActivePods = "status.phase!=Succeeded,status.phase!=Failed"

// nodesQuery lists the nodes. Optional: a user limited to namespaces still
// gets every stage that needs no node, and the scheduler's own message for
// the rest.
var nodesQuery = cluster.Query{Kind: cluster.KindNode, Optional: true}

// EveryActivePod is the LIST of every active pod of the cluster: once a
// snapshot holds it (cluster.Snapshot.Queried), no narrower pod list is
// needed.
var EveryActivePod = cluster.Query{Kind: cluster.KindPod, FieldSelector: ActivePods}

// LivePlan plans the loads of one run. It remembers the requirement queries
// it planned, so that none is asked twice.
type LivePlan struct {
	// Namespace is the scope ("" for every namespace).
	Namespace string
	// issued are the requirement queries planned, as "Kind/namespace"
	// ("Kind/" for every namespace).
	issued map[string]bool
}

// NewLivePlan starts the plan of a run over the namespace ("" for all).
func NewLivePlan(namespace string) *LivePlan {
	return &LivePlan{Namespace: namespace, issued: map[string]bool{}}
}

// ContextQueries are the first round of what explaining the pods and
// workloads needs, and only that: nodes; what each scheduler filter reads
// for the unbound pods alone (scheduling.Engine.Requirements); the claims,
// ConfigMaps and Secrets of pods already on a node; events by object UID;
// quotas and LimitRanges for workloads without pods. NodePodQueries is the
// second round.
func (lp *LivePlan) ContextQueries(snap *cluster.Snapshot, pods []*corev1.Pod, workloads []WorkloadTarget) []cluster.Query {
	if len(pods) == 0 && len(workloads) == 0 {
		return nil
	}
	var qs []cluster.Query
	unbound := UnboundPods(pods)
	var bound []*corev1.Pod
	for _, p := range pods {
		if p.Spec.NodeName != "" {
			bound = append(bound, p)
		}
	}
	if len(pods) > 0 {
		qs = append(qs, nodesQuery)
	}
	// What the scheduler's filters read for these pods alone (claims,
	// volumes, classes, device objects); what depends on the cluster's
	// other pods and nodes follows once those are in (RequirementQueries).
	qs = append(qs, lp.RequirementQueries(&cluster.Snapshot{}, unbound)...)
	// The claims a bound pod mounts (a missing one keeps it from starting).
	for _, p := range bound {
		for _, v := range p.Spec.Volumes {
			if (v.PersistentVolumeClaim != nil || v.Ephemeral != nil) && !lp.issued["PersistentVolumeClaim/"] && !lp.issued["PersistentVolumeClaim/"+p.Namespace] {
				lp.issued["PersistentVolumeClaim/"+p.Namespace] = true
				qs = append(qs, cluster.Query{Kind: cluster.KindPVC, Namespace: p.Namespace, Optional: true})
			}
		}
	}
	// ConfigMaps and Secrets a bound pod needs, each by name.
	seenRef := map[string]bool{}
	for _, p := range bound {
		for _, r := range referencedObjects(p) {
			k := string(r.kind) + "/" + p.Namespace + "/" + r.name
			if seenRef[k] {
				continue
			}
			seenRef[k] = true
			qs = append(qs, cluster.Query{Kind: r.kind, Namespace: p.Namespace, FieldSelector: "metadata.name=" + r.name, Optional: true})
		}
	}
	// Events: of bound pods, of unbound pods without a PodScheduled
	// condition (is any scheduler acting?), and of the workloads' controllers.
	var uids []eventTarget
	for _, p := range bound {
		uids = append(uids, eventTarget{p.Namespace, string(p.UID)})
	}
	for _, p := range unbound {
		if !hasPodScheduled(p) {
			uids = append(uids, eventTarget{p.Namespace, string(p.UID)})
		}
	}
	wlNS := map[string]bool{}
	for _, w := range workloads {
		wlNS[w.Namespace] = true
	}
	qs = append(qs, lp.eventQueries(uids, "Pod")...)
	var controllers []eventTarget
	for _, o := range snap.Controllers() {
		if wlNS[o.GetNamespace()] {
			controllers = append(controllers, eventTarget{o.GetNamespace(), string(o.GetUID())})
		}
	}
	qs = append(qs, lp.eventQueries(controllers, "")...)
	for _, ns := range slices.Sorted(maps.Keys(wlNS)) {
		qs = append(qs, cluster.Query{Kind: cluster.KindResourceQuota, Namespace: ns, Optional: true}, cluster.Query{Kind: cluster.KindLimitRange, Namespace: ns, Optional: true})
	}
	return qs
}

// NodePodQueries are the second round, once ContextQueries' objects are in
// snap: the pods on the nodes that could take the unbound pods (or every
// pod, when affinity or spread constraints make every node's pods matter),
// and the events of unbound claims (provisioning failures).
func (lp *LivePlan) NodePodQueries(snap *cluster.Snapshot, pods []*corev1.Pod) []cluster.Query {
	var qs []cluster.Query
	if unbound := UnboundPods(pods); len(unbound) > 0 && !snap.Queried(EveryActivePod) {
		qs = lp.nodePodLists(snap, unbound)
	}
	var claimUIDs []eventTarget
	for _, c := range snap.PVCs {
		if c.Status.Phase != corev1.ClaimBound {
			claimUIDs = append(claimUIDs, eventTarget{c.Namespace, string(c.UID)})
		}
	}
	qs = append(qs, lp.eventQueries(claimUIDs, "PersistentVolumeClaim")...)
	return qs
}

// nodePodLists are the pod lists of NodePodQueries: the pods of the nodes
// that could take the unbound pods, or every pod. They read only snap's
// nodes.
func (lp *LivePlan) nodePodLists(snap *cluster.Snapshot, unbound []*corev1.Pod) []cluster.Query {
	nodes, all := candidates(snap, unbound)
	if all {
		return []cluster.Query{EveryActivePod}
	}
	var qs []cluster.Query
	for _, n := range nodes {
		qs = append(qs, cluster.Query{Kind: cluster.KindPod, FieldSelector: "spec.nodeName=" + n + "," + ActivePods})
	}
	return qs
}

// RequirementQueries are what the scheduler's filters read for the pods
// given what snap holds (scheduling.Engine.Requirements) and this plan has
// not asked for yet (optional: a forbidden kind is a warning).
func (lp *LivePlan) RequirementQueries(snap *cluster.Snapshot, pods []*corev1.Pod) []cluster.Query {
	e := scheduling.NewPlanner(snap)
	var qs []cluster.Query
	for _, p := range pods {
		for _, r := range e.Requirements(p) {
			if lp.issued[string(r.Kind)+"/"] || lp.issued[string(r.Kind)+"/"+r.Namespace] {
				continue
			}
			lp.issued[string(r.Kind)+"/"+r.Namespace] = true
			qs = append(qs, cluster.Query{Kind: r.Kind, Namespace: r.Namespace, Optional: true})
		}
	}
	return qs
}

type eventTarget struct{ ns, uid string }

// eventQueries lists events by involved object UID, or the scope's events
// once when there are many objects.
func (lp *LivePlan) eventQueries(targets []eventTarget, kind string) []cluster.Query {
	if len(targets) == 0 {
		return nil
	}
	if len(targets) > PerObjectEventLimit {
		fs := ""
		if kind != "" {
			fs = "involvedObject.kind=" + kind
		}
		return []cluster.Query{{Kind: cluster.KindEvent, Namespace: lp.Namespace, FieldSelector: fs, Optional: true}}
	}
	var qs []cluster.Query
	for _, t := range targets {
		qs = append(qs, cluster.Query{Kind: cluster.KindEvent, Namespace: t.ns, FieldSelector: "involvedObject.uid=" + t.uid, Optional: true})
	}
	return qs
}

// candidates evaluates the unbound pods against the nodes alone and returns
// the nodes that pass the node-only filters: only their pods can change the
// verdict. all is true when one LIST of every pod is needed or cheaper.
func candidates(snap *cluster.Snapshot, unbound []*corev1.Pod) ([]string, bool) {
	nodesOnly := &cluster.Snapshot{Nodes: snap.Nodes, Loaded: map[cluster.Kind]bool{cluster.KindNode: true}}
	set := map[string]bool{}
	for _, p := range unbound {
		if a := p.Spec.Affinity; len(p.Spec.TopologySpreadConstraints) > 0 || (a != nil && (a.PodAffinity != nil || a.PodAntiAffinity != nil)) {
			return nil, true
		}
		if n := p.Status.NominatedNodeName; n != "" {
			set[n] = true
		}
		res := scheduling.Evaluate(p, nodesOnly, scheduling.Options{})
		for _, n := range res.Nodes {
			ok := true
			for _, r := range n.Reasons {
				if nodeOnlyPlugins[r.Plugin] {
					ok = false
				}
			}
			if ok {
				set[n.Name] = true
			}
		}
	}
	if len(set) > perNodeListLimit {
		return nil, true
	}
	return slices.Sorted(maps.Keys(set)), false
}

func hasPodScheduled(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled {
			return true
		}
	}
	return false
}

type ref struct {
	kind cluster.Kind
	name string
}

// referencedObjects: the ConfigMaps and Secrets a pod's volumes, env and
// pull secrets name.
func referencedObjects(p *corev1.Pod) []ref {
	var out []ref
	for _, v := range p.Spec.Volumes {
		switch {
		case v.ConfigMap != nil:
			out = append(out, ref{cluster.KindConfigMap, v.ConfigMap.Name})
		case v.Secret != nil:
			out = append(out, ref{cluster.KindSecret, v.Secret.SecretName})
		case v.Projected != nil:
			for _, s := range v.Projected.Sources {
				if s.ConfigMap != nil {
					out = append(out, ref{cluster.KindConfigMap, s.ConfigMap.Name})
				}
				if s.Secret != nil {
					out = append(out, ref{cluster.KindSecret, s.Secret.Name})
				}
			}
		}
	}
	for _, c := range append(append([]corev1.Container{}, p.Spec.InitContainers...), p.Spec.Containers...) {
		for _, ef := range c.EnvFrom {
			if ef.ConfigMapRef != nil {
				out = append(out, ref{cluster.KindConfigMap, ef.ConfigMapRef.Name})
			}
			if ef.SecretRef != nil {
				out = append(out, ref{cluster.KindSecret, ef.SecretRef.Name})
			}
		}
		for _, e := range c.Env {
			if e.ValueFrom != nil && e.ValueFrom.ConfigMapKeyRef != nil {
				out = append(out, ref{cluster.KindConfigMap, e.ValueFrom.ConfigMapKeyRef.Name})
			}
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
				out = append(out, ref{cluster.KindSecret, e.ValueFrom.SecretKeyRef.Name})
			}
		}
	}
	for _, s := range p.Spec.ImagePullSecrets {
		out = append(out, ref{cluster.KindSecret, s.Name})
	}
	return out
}

// StaleEventQueries list the events that tell what changed in the cluster:
// nodes' (cordoned, registered, ready), and pods killed, preempted or
// deleted by their controller, in every namespace.
func StaleEventQueries() []cluster.Query {
	var qs []cluster.Query
	for _, fs := range []string{"involvedObject.kind=Node", "reason=Killing", "reason=Preempted", "reason=SuccessfulDelete"} {
		qs = append(qs, cluster.Query{Kind: cluster.KindEvent, FieldSelector: fs, Optional: true})
	}
	return qs
}

// UnboundPods are the pods the scheduler still has to place.
func UnboundPods(pods []*corev1.Pod) []*corev1.Pod {
	var out []*corev1.Pod
	for _, p := range pods {
		if p.Spec.NodeName == "" && len(p.Spec.SchedulingGates) == 0 {
			out = append(out, p)
		}
	}
	return out
}

// SchedulerQueries are, for the unbound pods that name another scheduler
// which has not acted on them yet, what shows whether that scheduler
// exists: pods it bound, events it wrote (any namespace), its leader Lease
// in kube-system. Each is field-selected, so only those objects travel.
// The Lease needs the dynamic client.
func SchedulerQueries(snap *cluster.Snapshot, pods []*corev1.Pod) []cluster.Query {
	names := map[string]bool{}
	for _, p := range UnboundPods(pods) {
		if p.Spec.SchedulerName != "" && p.Spec.SchedulerName != DefaultScheduler && !hasPodScheduled(p) {
			names[p.Spec.SchedulerName] = true
		}
	}
	var qs []cluster.Query
	for _, n := range slices.Sorted(maps.Keys(names)) {
		if !snap.Queried(EveryActivePod) {
			// With every pod loaded already (-A), the bound ones are there.
			qs = append(qs, cluster.Query{Kind: cluster.KindPod, FieldSelector: "spec.schedulerName=" + n + ",spec.nodeName!=", Optional: true})
		}
		qs = append(qs,
			cluster.Query{Kind: cluster.KindEvent, FieldSelector: "reportingComponent=" + n, Optional: true},
			cluster.Query{Kind: cluster.KindEvent, FieldSelector: "source=" + n, Optional: true},
			cluster.Query{Kind: cluster.KindLease, Resource: cluster.LeaseResource, Namespace: LeaseNamespace, FieldSelector: "metadata.name=" + n, Optional: true})
	}
	return qs
}

// ManifestQueries are what checking the manifests' workloads (-f) against
// a live cluster needs: its nodes and active pods, volumes, classes and
// namespaces; in each namespace the manifests use, its claims, quotas,
// LimitRanges and budgets; and the device objects when a pod claims
// devices.
func ManifestQueries(files *cluster.Snapshot) []cluster.Query {
	namespaces, draNamespaces := map[string]bool{}, map[string]bool{}
	for _, w := range Workloads(files) {
		namespaces[w.Object.GetNamespace()] = true
		if len(w.Template.Spec.ResourceClaims) > 0 {
			draNamespaces[w.Object.GetNamespace()] = true
		}
	}
	qs := []cluster.Query{
		{Kind: cluster.KindNode},
		{Kind: cluster.KindPod, FieldSelector: ActivePods},
		{Kind: cluster.KindPV, Optional: true},
		{Kind: cluster.KindStorageClass, Optional: true},
		{Kind: cluster.KindCSINode, Optional: true},
		{Kind: cluster.KindCSIDriver, Optional: true},
		{Kind: cluster.KindNamespace, Optional: true},
		// Manifest pods have no spec.priority yet: admission takes it
		// from the PriorityClass, and preemption depends on it.
		{Kind: cluster.KindPriorityClass, Optional: true},
		// And the RuntimeClass adds its pod overhead and scheduling.
		{Kind: cluster.KindRuntimeClass, Optional: true},
	}
	for _, n := range slices.Sorted(maps.Keys(namespaces)) {
		qs = append(qs,
			cluster.Query{Kind: cluster.KindPVC, Namespace: n, Optional: true},
			cluster.Query{Kind: cluster.KindResourceQuota, Namespace: n, Optional: true},
			cluster.Query{Kind: cluster.KindLimitRange, Namespace: n, Optional: true},
			cluster.Query{Kind: cluster.KindPDB, Namespace: n, Optional: true})
	}
	for _, n := range slices.Sorted(maps.Keys(draNamespaces)) {
		qs = append(qs, cluster.Query{Kind: cluster.KindResourceClaim, Namespace: n, Optional: true})
	}
	if len(draNamespaces) > 0 {
		qs = append(qs, cluster.Query{Kind: cluster.KindDeviceClass, Optional: true}, cluster.Query{Kind: cluster.KindResourceSlice, Optional: true})
	}
	return qs
}

// ClusterStateKinds are the kinds of the documented --cluster-state dump
// (kubectl get nodes,pods,pvc,pv,storageclasses,resourcequotas,limitranges,poddisruptionbudgets -A -o yaml):
// a cluster without, say, PVCs gives a dump without any, which means
// "none", not "unknown".
var ClusterStateKinds = []cluster.Kind{cluster.KindNode, cluster.KindPod, cluster.KindPVC, cluster.KindPV,
	cluster.KindStorageClass, cluster.KindResourceQuota, cluster.KindLimitRange, cluster.KindPDB}

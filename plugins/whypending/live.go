package whypending

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/ktriage/ktriage/pkg/cli"
	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/pkg/pending"
	"github.com/ktriage/ktriage/pkg/scheduling"
)

// nodeOnlyPlugins are the filters that look at the node alone: a node they
// reject needs no pod list to be explained.
var nodeOnlyPlugins = map[string]bool{"NodeName": true, "NodeUnschedulable": true, "TaintToleration": true, "NodeAffinity": true}

// perNodeListLimit: above this many candidate nodes one LIST of all pods is
// cheaper than a field-selected LIST per node.
const perNodeListLimit = 50

// perObjectEventLimit: above this many objects, list the events of the scope
// once instead of one field-selected LIST per object.
const perObjectEventLimit = 20

// activePods field-selects the pods that hold resources or may still run.
const activePods = "status.phase!=Succeeded,status.phase!=Failed"

// everyActivePod is the LIST of every active pod of the cluster: once made
// (-A, or to check a verdict), no narrower pod list is needed.
var everyActivePod = cluster.Query{Kind: cluster.KindPod, FieldSelector: activePods}

type live struct {
	cs   kubernetes.Interface
	snap *cluster.Snapshot // what was loaded so far
	// subjects are the pods being explained, as first read.
	subjects []*corev1.Pod
	ns       string // "" with -A
	all      bool
	sel      string
	// issued records the requirement queries made, as "Kind/namespace"
	// ("Kind/" for every namespace).
	issued map[string]bool
}

func (o *Options) runLive(ctx context.Context, rep *Report) error {
	cs, _, err := o.Clientset()
	if err != nil {
		return err
	}
	ns, _, err := o.Namespace()
	if err != nil {
		return err
	}
	rep.Metadata.Context = o.CurrentContext()
	rep.Metadata.Namespace = ns
	rep.Metadata.Input = "cluster"
	l := &live{cs: cs, ns: ns, all: o.AllNamespaces, sel: o.Selector, snap: &cluster.Snapshot{}}

	var pods []*corev1.Pod
	var workloads []pending.WorkloadTarget
	if len(o.Args) == 0 {
		pods, err = l.pendingPods(ctx)
		if err != nil {
			return err
		}
		if workloads, err = l.failedCreates(ctx); err != nil {
			return err
		}
	} else {
		for _, arg := range o.Args {
			kind, name, _ := cli.ParseTarget(arg)
			ps, wl, err := l.resolve(ctx, l.ns, kind, name, false)
			if err != nil {
				return err
			}
			pods = appendPods(pods, ps)
			workloads = append(workloads, wl...)
		}
	}
	if err := l.loadContext(ctx, pods, workloads); err != nil {
		return err
	}
	if err := o.loadSchedulers(ctx, l, pods); err != nil {
		return err
	}
	for _, w := range l.snap.Warnings {
		rep.Warn(w)
	}
	subjects := make([]pending.Subject, 0, len(pods))
	for _, p := range pods {
		subjects = append(subjects, pending.Subject{Pod: p})
	}
	res := pending.Explain(l.snap, subjects, workloads, o.analysisOptions())
	if !l.snap.Queried(everyActivePod) && fitsAgainstItsCondition(res) {
		// Only the candidate nodes' pods were loaded, but pods elsewhere
		// can still reject a pod (their required anti-affinity in a shared
		// zone, users of a ReadWriteOncePod claim). Before calling the
		// scheduler's verdict stale, look at every pod once.
		if err := l.load(ctx, everyActivePod); err != nil {
			return err
		}
		if err := l.loadRequirements(ctx, unboundPods(pods)); err != nil {
			return err
		}
		res = pending.Explain(l.snap, subjects, workloads, o.analysisOptions())
	}
	if staleVerdicts(res) {
		// A verdict the cluster has moved past: what changed since shows
		// in node events and in the events of pods deleted or preempted.
		if err := l.load(ctx, staleEventQueries()...); err != nil {
			return err
		}
		res = pending.Explain(l.snap, subjects, workloads, o.analysisOptions())
	}
	rep.Pods = append(rep.Pods, res.Pods...)
	for _, f := range res.Findings {
		rep.Add(f)
	}
	// Will a node come for the pods no node takes?
	return o.explainAutoscaler(ctx, l, rep)
}

// resolve loads what POD or TYPE/NAME names and returns the Pending pods to
// explain and, for a controller with fewer pods than it wants, a workload
// target. A ReplicaSet found through its FailedCreate event (viaEvent) is
// explained as its Deployment.
func (l *live) resolve(ctx context.Context, ns, kind, name string, viaEvent bool) ([]*corev1.Pod, []pending.WorkloadTarget, error) {
	t := cluster.Target{Kind: cluster.Kind(kind), Namespace: ns, Name: name, PodFieldSelector: activePods}
	snap, err := cluster.LoadTargets(ctx, l.cs, cluster.LiveOptions{}, l.snap, t)
	if err != nil {
		return nil, nil, err
	}
	l.snap = snap
	r, err := snap.Resolve(t)
	if err != nil {
		return nil, nil, err
	}
	if up := metav1.GetControllerOf(r.Object); viaEvent && t.Kind == cluster.KindReplicaSet && up != nil && up.Kind == "Deployment" {
		return l.resolve(ctx, ns, up.Kind, up.Name, false)
	}
	pods, wl := pending.TargetSubjects(r)
	if p, ok := r.Object.(*corev1.Pod); ok && p.Status.Phase != corev1.PodPending {
		l.snap.Warnings = append(l.snap.Warnings, fmt.Sprintf("pod %s/%s is %s, not Pending", ns, name, p.Status.Phase))
	}
	return pods, wl, nil
}

// fitsAgainstItsCondition: a pod the scheduler found unschedulable fits
// somewhere in the simulation.
func fitsAgainstItsCondition(res pending.Result) bool {
	for _, p := range res.Pods {
		if len(p.Feasible) > 0 && p.SchedulerMessage != "" {
			return true
		}
	}
	return false
}

// staleVerdicts: some pod's stored scheduler verdict differs from the
// simulation.
func staleVerdicts(res pending.Result) bool {
	for _, p := range res.Pods {
		if p.MessagesAgree != nil && !*p.MessagesAgree {
			return true
		}
	}
	return false
}

// staleEventQueries list the events that tell what changed in the cluster:
// nodes' (cordoned, registered, ready), and pods killed, preempted or
// deleted by their controller, in every namespace.
func staleEventQueries() []cluster.Query {
	var qs []cluster.Query
	for _, fs := range []string{"involvedObject.kind=Node", "reason=Killing", "reason=Preempted", "reason=SuccessfulDelete"} {
		qs = append(qs, cluster.Query{Kind: cluster.KindEvent, FieldSelector: fs, Optional: true})
	}
	return qs
}

// unboundPods are the pods the scheduler still has to place.
func unboundPods(pods []*corev1.Pod) []*corev1.Pod {
	var out []*corev1.Pod
	for _, p := range pods {
		if p.Spec.NodeName == "" && len(p.Spec.SchedulingGates) == 0 {
			out = append(out, p)
		}
	}
	return out
}

func appendPods(dst, src []*corev1.Pod) []*corev1.Pod {
	seen := map[string]bool{}
	for _, p := range dst {
		seen[string(p.UID)] = true
	}
	for _, p := range src {
		if !seen[string(p.UID)] {
			seen[string(p.UID)] = true
			dst = append(dst, p)
		}
	}
	return dst
}

// load runs the queries and adds what they return to the snapshot.
func (l *live) load(ctx context.Context, qs ...cluster.Query) error {
	if len(qs) == 0 {
		return nil
	}
	s, err := cluster.LoadLive(ctx, l.cs, qs...)
	if err != nil {
		return err
	}
	l.add(s)
	return nil
}

// add merges s into the snapshot, the subjects staying as first read.
func (l *live) add(s *cluster.Snapshot) {
	l.snap = cluster.Merge(l.snap, s)
	if len(s.Pods) > 0 && len(l.subjects) > 0 {
		l.keep(l.subjects)
	}
}

// keep puts the pods being explained into the snapshot as they were read
// first, and keeps them there: a later list's copy of one must not replace
// the subject.
func (l *live) keep(pods []*corev1.Pod) {
	l.subjects = pods
	l.snap = cluster.Merge(l.snap, &cluster.Snapshot{Pods: pods})
}

// pendingPods lists the Pending pods in scope. With -A and no selector the
// whole cluster's running pods are needed anyway (node usage), so that one
// LIST serves both.
func (l *live) pendingPods(ctx context.Context) ([]*corev1.Pod, error) {
	q := cluster.Query{Kind: cluster.KindPod, Namespace: l.ns, LabelSelector: l.sel, FieldSelector: "status.phase=Pending"}
	if l.all && l.sel == "" {
		q = everyActivePod
	}
	s, err := cluster.LoadLive(ctx, l.cs, q)
	if err != nil {
		return nil, err
	}
	var out []*corev1.Pod
	for _, p := range s.Pods {
		if p.Status.Phase == corev1.PodPending {
			out = append(out, p)
		}
	}
	if l.all && l.sel == "" {
		l.snap = cluster.Merge(l.snap, s)
	}
	return out, nil
}

// failedCreates finds controllers in scope whose recent FailedCreate events
// say they cannot create pods and that are still short of pods.
func (l *live) failedCreates(ctx context.Context) ([]pending.WorkloadTarget, error) {
	s, err := cluster.LoadLive(ctx, l.cs, cluster.Query{Kind: cluster.KindEvent, Namespace: l.ns, FieldSelector: "reason=FailedCreate", Optional: true})
	if err != nil {
		return nil, err
	}
	l.snap.Warnings = append(l.snap.Warnings, s.Warnings...)
	seen := map[string]bool{}
	var out []pending.WorkloadTarget
	for _, e := range s.Events {
		io := e.InvolvedObject
		key := io.Kind + "/" + io.Namespace + "/" + io.Name
		if seen[key] {
			continue
		}
		seen[key] = true
		switch io.Kind {
		case "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob":
		default:
			continue
		}
		if l.sel != "" {
			continue // a selector names pods; controllers without pods cannot match it
		}
		_, wl, err := l.resolve(ctx, io.Namespace, io.Kind, io.Name, true)
		if err != nil {
			var gone *cluster.NotFoundError
			if errors.As(err, &gone) {
				continue // deleted since
			}
			// Looking further (e.g. no permission to read the controller)
			// must not cost the pods already found their explanation.
			l.snap.Warnings = append(l.snap.Warnings, fmt.Sprintf("%s %s/%s has a FailedCreate event but could not be looked at: %v", strings.ToLower(io.Kind), io.Namespace, io.Name, err))
			continue
		}
		if io.Kind == "CronJob" && len(wl) == 0 && !jobCreatedSince(l.snap, io.Namespace, io.Name, e.LastTimestamp.Time) {
			// The cronjob controller could not create the Job at all: the
			// CronJob wants none now, but its event is the explanation.
			wl = []pending.WorkloadTarget{{Kind: "CronJob", Namespace: io.Namespace, Name: io.Name}}
		}
		for _, w := range wl {
			k := w.Kind + "/" + w.Namespace + "/" + w.Name
			if w.Kind != io.Kind && seen[k] {
				continue
			}
			seen[k] = true
			out = append(out, w)
		}
	}
	return out, nil
}

// jobCreatedSince: the CronJob has created a Job after t, so an older
// FailedCreate event is history.
func jobCreatedSince(snap *cluster.Snapshot, ns, name string, t time.Time) bool {
	for _, cj := range snap.CronJobs {
		if cj.Namespace != ns || cj.Name != name {
			continue
		}
		for _, j := range snap.Jobs {
			if ref := metav1.GetControllerOf(j); ref != nil && ref.UID == cj.UID && j.Namespace == ns && j.CreationTimestamp.After(t) {
				return true
			}
		}
	}
	return false
}

// loadContext loads what explaining the pods and workloads needs, and only
// that: nodes; pods on the candidate nodes (or all pods when affinity or
// spread constraints make every node's pods matter); what each scheduler
// filter reads for the unbound pods (scheduling.Engine.Requirements);
// referenced ConfigMaps/Secrets for pods already on a node; events by
// object UID; quotas and LimitRanges for workloads without pods.
func (l *live) loadContext(ctx context.Context, pods []*corev1.Pod, workloads []pending.WorkloadTarget) error {
	if len(pods) == 0 && len(workloads) == 0 {
		return nil
	}
	var qs []cluster.Query
	unbound := unboundPods(pods)
	var bound []*corev1.Pod
	for _, p := range pods {
		if p.Spec.NodeName != "" {
			bound = append(bound, p)
		}
	}
	if len(pods) > 0 {
		// Optional: a user limited to namespaces still gets every stage
		// that needs no node, and the scheduler's own message for the rest.
		qs = append(qs, cluster.Query{Kind: cluster.KindNode, Optional: true})
	}
	// What the scheduler's filters read for these pods alone (claims,
	// volumes, classes, device objects); what depends on the cluster's
	// other pods and nodes follows once those are in (loadRequirements).
	qs = append(qs, l.requirementQueries(scheduling.NewEngine(&cluster.Snapshot{}), unbound)...)
	// The claims a bound pod mounts (a missing one keeps it from starting).
	for _, p := range bound {
		for _, v := range p.Spec.Volumes {
			if (v.PersistentVolumeClaim != nil || v.Ephemeral != nil) && !l.issued["PersistentVolumeClaim/"] && !l.issued["PersistentVolumeClaim/"+p.Namespace] {
				l.issued["PersistentVolumeClaim/"+p.Namespace] = true
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
	qs = append(qs, l.eventQueries(uids, "Pod")...)
	var controllers []eventTarget
	for _, o := range controllerObjects(l.snap) {
		if wlNS[o.GetNamespace()] {
			controllers = append(controllers, eventTarget{o.GetNamespace(), string(o.GetUID())})
		}
	}
	qs = append(qs, l.eventQueries(controllers, "")...)
	for _, ns := range sortedSet(wlNS) {
		qs = append(qs, cluster.Query{Kind: cluster.KindResourceQuota, Namespace: ns, Optional: true}, cluster.Query{Kind: cluster.KindLimitRange, Namespace: ns, Optional: true})
	}
	if err := l.load(ctx, qs...); err != nil {
		return err
	}

	// Second round: the pods on candidate nodes, and the events of unbound
	// claims (provisioning failures).
	qs = qs[:0]
	if len(unbound) > 0 && !l.snap.Queried(everyActivePod) {
		nodes, all := l.candidates(l.snap, unbound)
		if all {
			qs = append(qs, everyActivePod)
		} else {
			for _, n := range nodes {
				qs = append(qs, cluster.Query{Kind: cluster.KindPod, FieldSelector: "spec.nodeName=" + n + "," + activePods})
			}
		}
	}
	var claimUIDs []eventTarget
	for _, c := range l.snap.PVCs {
		if c.Status.Phase != corev1.ClaimBound {
			claimUIDs = append(claimUIDs, eventTarget{c.Namespace, string(c.UID)})
		}
	}
	qs = append(qs, l.eventQueries(claimUIDs, "PersistentVolumeClaim")...)
	if err := l.load(ctx, qs...); err != nil {
		return err
	}
	// The pods being explained are part of the cluster state too.
	l.keep(pods)
	return l.loadRequirements(ctx, unbound)
}

// loadRequirements loads what the scheduler's filters read for the unbound
// pods given the nodes and pods now known (namespaces an existing pod's
// anti-affinity selects by label, every claim once a CSINode limits
// volumes, budgets for preemption), until nothing new is asked for. A kind
// that cannot be read leaves its filter not evaluated (WP183), never
// silently passing.
func (l *live) loadRequirements(ctx context.Context, unbound []*corev1.Pod) error {
	if len(unbound) == 0 {
		return nil
	}
	for range 3 {
		qs := l.requirementQueries(scheduling.NewEngine(l.snap), unbound)
		if len(qs) == 0 {
			return nil
		}
		if err := l.load(ctx, qs...); err != nil {
			return err
		}
	}
	return nil
}

// requirementQueries turns the engine's requirements for the pods into
// the queries not made yet (optional: a forbidden kind is a warning).
func (l *live) requirementQueries(e *scheduling.Engine, pods []*corev1.Pod) []cluster.Query {
	if l.issued == nil {
		l.issued = map[string]bool{}
	}
	var qs []cluster.Query
	for _, p := range pods {
		for _, r := range e.Requirements(p) {
			if l.issued[string(r.Kind)+"/"] || l.issued[string(r.Kind)+"/"+r.Namespace] {
				continue
			}
			l.issued[string(r.Kind)+"/"+r.Namespace] = true
			qs = append(qs, cluster.Query{Kind: r.Kind, Namespace: r.Namespace, Optional: true})
		}
	}
	return qs
}

type eventTarget struct{ ns, uid string }

// eventQueries lists events by involved object UID, or the scope's events
// once when there are many objects.
func (l *live) eventQueries(targets []eventTarget, kind string) []cluster.Query {
	if len(targets) == 0 {
		return nil
	}
	if len(targets) > perObjectEventLimit {
		fs := ""
		if kind != "" {
			fs = "involvedObject.kind=" + kind
		}
		return []cluster.Query{{Kind: cluster.KindEvent, Namespace: l.ns, FieldSelector: fs, Optional: true}}
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
func (l *live) candidates(snap *cluster.Snapshot, unbound []*corev1.Pod) ([]string, bool) {
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
	return sortedSet(set), false
}

func hasPodScheduled(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled {
			return true
		}
	}
	return false
}

func controllerObjects(snap *cluster.Snapshot) []metav1.Object {
	var out []metav1.Object
	for _, o := range snap.Deployments {
		out = append(out, o)
	}
	for _, o := range snap.ReplicaSets {
		out = append(out, o)
	}
	for _, o := range snap.StatefulSets {
		out = append(out, o)
	}
	for _, o := range snap.DaemonSets {
		out = append(out, o)
	}
	for _, o := range snap.Jobs {
		out = append(out, o)
	}
	for _, o := range snap.CronJobs {
		out = append(out, o)
	}
	return out
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
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

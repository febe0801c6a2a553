package whypending

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/ktriage/ktriage/pkg/cli"
	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/pkg/pending"
)

type live struct {
	cs   kubernetes.Interface
	snap *cluster.Snapshot // what was loaded so far
	// subjects are the pods being explained, as first read.
	subjects []*corev1.Pod
	ns       string // "" with -A
	all      bool
	sel      string
	plan     *pending.LivePlan
}

func (o *Options) runLive(ctx context.Context, rep *pending.Report) error {
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
	l := &live{cs: cs, ns: ns, all: o.AllNamespaces, sel: o.Selector, snap: &cluster.Snapshot{}, plan: pending.NewLivePlan(ns)}

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
	if !l.snap.Queried(pending.EveryActivePod) && fitsAgainstItsCondition(res) {
		// Only the candidate nodes' pods were loaded, but pods elsewhere
		// can still reject a pod (their required anti-affinity in a shared
		// zone, users of a ReadWriteOncePod claim). Before calling the
		// scheduler's verdict stale, look at every pod once.
		warned := len(l.snap.Warnings)
		if err := l.load(ctx, pending.EveryActivePod); err != nil {
			return err
		}
		for _, w := range l.snap.Warnings[warned:] {
			rep.Warn(w)
		}
		if err := l.loadRequirements(ctx, pending.UnboundPods(pods)); err != nil {
			return err
		}
		res = pending.Explain(l.snap, subjects, workloads, o.analysisOptions())
	}
	if staleVerdicts(res) {
		// A verdict the cluster has moved past: what changed since shows
		// in node events and in the events of pods deleted or preempted.
		if err := l.load(ctx, pending.StaleEventQueries()...); err != nil {
			return err
		}
		res = pending.Explain(l.snap, subjects, workloads, o.analysisOptions())
	}
	rep.AddResult(res)
	// Will a node come for the pods no node takes?
	return o.explainAutoscaler(ctx, l, rep)
}

// resolve loads what POD or TYPE/NAME names and returns the Pending pods to
// explain and, for a controller with fewer pods than it wants, a workload
// target. A ReplicaSet found through its FailedCreate event (viaEvent) is
// explained as its Deployment.
func (l *live) resolve(ctx context.Context, ns, kind, name string, viaEvent bool) ([]*corev1.Pod, []pending.WorkloadTarget, error) {
	t := cluster.Target{Kind: cluster.Kind(kind), Namespace: ns, Name: name, PodFieldSelector: pending.ActivePods}
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
	everyPod := false
	qs = slices.Clone(qs)
	for i, q := range qs {
		if q == pending.EveryActivePod {
			// Inter-pod affinity or spread makes every pod matter; a user
			// who may list pods only in some namespaces still gets an
			// answer (below), with a warning naming the list refused.
			qs[i].Optional = true
			everyPod = true
		}
	}
	s, err := cluster.LoadLive(ctx, l.cs, qs...)
	if err != nil {
		return err
	}
	l.add(s)
	if everyPod && !s.Loaded[cluster.KindPod] {
		return l.load(ctx, l.namespacePods()...)
	}
	return nil
}

// namespacePods lists the active pods of the namespaces of the pods being
// explained: what stands in for every pod when those may not be listed.
func (l *live) namespacePods() []cluster.Query {
	namespaces := map[string]bool{}
	for _, p := range l.subjects {
		namespaces[p.Namespace] = true
	}
	if l.ns != "" {
		namespaces[l.ns] = true
	}
	var qs []cluster.Query
	for ns := range namespaces {
		qs = append(qs, cluster.Query{Kind: cluster.KindPod, Namespace: ns, FieldSelector: pending.ActivePods, Optional: true})
	}
	slices.SortFunc(qs, func(a, b cluster.Query) int { return strings.Compare(a.Namespace, b.Namespace) })
	return qs
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
		q = pending.EveryActivePod
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
// that, in rounds (pending.LivePlan): the objects the pods and workloads
// name, then the pods of the nodes that could take them, then what the
// scheduler's filters read given those.
func (l *live) loadContext(ctx context.Context, pods []*corev1.Pod, workloads []pending.WorkloadTarget) error {
	if len(pods) == 0 && len(workloads) == 0 {
		return nil
	}
	if err := l.load(ctx, l.plan.ContextQueries(l.snap, pods, workloads)...); err != nil {
		return err
	}
	if err := l.load(ctx, l.plan.NodePodQueries(l.snap, pods)...); err != nil {
		return err
	}
	// The pods being explained are part of the cluster state too.
	l.keep(pods)
	return l.loadRequirements(ctx, pending.UnboundPods(pods))
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
		qs := l.plan.RequirementQueries(l.snap, unbound)
		if len(qs) == 0 {
			return nil
		}
		if err := l.load(ctx, qs...); err != nil {
			return err
		}
	}
	return nil
}

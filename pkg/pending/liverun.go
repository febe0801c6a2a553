package pending

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ktriage/ktriage/pkg/cluster"
)

// LiveScope is what a run against a live cluster explains.
type LiveScope struct {
	// Namespace is the scope ("" with AllNamespaces).
	Namespace     string
	AllNamespaces bool
	// Selector (-l) selects the Pending pods when no target is named.
	Selector string
	// Targets are the pods and workloads named (POD, TYPE/NAME), in order;
	// none explains every Pending pod in scope and the controllers that
	// fail to create theirs.
	Targets []cluster.Target
	// Options tune the analysis; Now is read at each analysis.
	Now            func() time.Time
	SchedulerGrace time.Duration
}

// LiveResult is what a live run explains, and the warnings to show.
type LiveResult struct {
	Result
	Warnings []string
}

// ExplainLive loads through ld what explaining the scope needs, round by
// round (LivePlan), and explains it: the pods named or Pending, the
// workloads that cannot create theirs, and, for the pods no node takes,
// whether the node autoscaler will add a node. It makes no call itself.
//
// A read that does not depend on the answer of the round before it starts
// with that round (startAhead) and is taken by the round that needs it, so
// the answer and its warnings are those of the rounds run one after
// another: the FailedCreate events (and, with -A, the nodes) are listed
// while the pods are, what shows whether other schedulers exist once the
// pods are in, and the pods of the candidate nodes as soon as the nodes are.
// ld must allow concurrent Loads.
func ExplainLive(ld cluster.Loader, scope LiveScope) (LiveResult, error) {
	r := &liveRun{scope: scope, ld: ld, snap: &cluster.Snapshot{}, plan: NewLivePlan(scope.Namespace)}
	if err := r.findSubjects(); err != nil {
		return LiveResult{}, err
	}
	if r.snap.Queried(EveryActivePod) {
		// Every pod is in: the scheduler queries are those loadSchedulers
		// will make.
		r.startAhead(SchedulerQueries(r.snap, r.pods)...)
	}
	if err := r.loadContext(); err != nil {
		return LiveResult{}, err
	}
	if err := r.loadSchedulers(); err != nil {
		return LiveResult{}, err
	}
	r.warnings = append(r.warnings, r.snap.Warnings...)
	res, err := r.explain()
	if err != nil {
		return LiveResult{}, err
	}
	// Will a node come for the pods no node takes?
	if err := r.askAutoscaler(&res); err != nil {
		return LiveResult{}, err
	}
	r.drainAhead()
	return LiveResult{Result: res, Warnings: r.warnings}, nil
}

// liveRun is the state of one live run.
type liveRun struct {
	scope LiveScope
	ld    cluster.Loader
	plan  *LivePlan
	snap  *cluster.Snapshot // what was loaded so far
	// pods and workloads are what is explained; subjects are the pods as
	// first read, kept in snap once the context is loaded.
	pods      []*corev1.Pod
	workloads []WorkloadTarget
	subjects  []*corev1.Pod
	warnings  []string // to show, in the order found
	// ahead are the loads started before their round (startAhead), by
	// query; started all of them, in order.
	ahead   map[cluster.Query]*ahead
	started []*ahead
}

func (r *liveRun) options() Options {
	return Options{Now: r.scope.Now(), SchedulerGrace: r.scope.SchedulerGrace}
}

// findSubjects resolves the targets named or, with none, finds the Pending
// pods in scope and the controllers whose FailedCreate events say they
// cannot create pods.
func (r *liveRun) findSubjects() error {
	if len(r.scope.Targets) == 0 {
		// The FailedCreate events do not depend on the pods: list them
		// while the pods are listed.
		r.startAhead(r.failedCreateQuery())
		pods, err := r.pendingPods()
		if err != nil {
			return err
		}
		r.pods = pods
		r.workloads, err = r.failedCreates()
		return err
	}
	for _, t := range r.scope.Targets {
		pods, wl, err := r.resolve(t, false)
		if err != nil {
			return err
		}
		r.pods = appendPods(r.pods, pods)
		r.workloads = append(r.workloads, wl...)
	}
	return nil
}

// resolve loads what a target names and returns the Pending pods to
// explain and, for a controller with fewer pods than it wants, a workload
// target. A ReplicaSet found through its FailedCreate event (viaEvent) is
// explained as its Deployment.
func (r *liveRun) resolve(t cluster.Target, viaEvent bool) ([]*corev1.Pod, []WorkloadTarget, error) {
	t.PodFieldSelector = ActivePods
	snap, err := cluster.LoadTargetsWith(r.ld, r.snap, t)
	if err != nil {
		return nil, nil, err
	}
	r.snap = snap
	res, err := snap.Resolve(t)
	if err != nil {
		return nil, nil, err
	}
	if up := metav1.GetControllerOf(res.Object); viaEvent && t.Kind == cluster.KindReplicaSet && up != nil && up.Kind == "Deployment" {
		return r.resolve(cluster.Target{Kind: cluster.Kind(up.Kind), Namespace: t.Namespace, Name: up.Name}, false)
	}
	pods, wl := TargetSubjects(res)
	if p, ok := res.Object.(*corev1.Pod); ok && p.Status.Phase != corev1.PodPending {
		r.snap.Warnings = append(r.snap.Warnings, fmt.Sprintf("pod %s/%s is %s, not Pending", t.Namespace, t.Name, p.Status.Phase))
	}
	return pods, wl, nil
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

// pendingPods lists the Pending pods in scope. With -A and no selector the
// whole cluster's running pods are needed anyway (node usage), so that one
// LIST serves both.
func (r *liveRun) pendingPods() ([]*corev1.Pod, error) {
	every := r.scope.AllNamespaces && r.scope.Selector == ""
	q := cluster.Query{Kind: cluster.KindPod, Namespace: r.scope.Namespace, LabelSelector: r.scope.Selector, FieldSelector: "status.phase=Pending"}
	if every {
		q = EveryActivePod
		// Explaining a Pending pod needs the nodes (ContextQueries), and
		// the LIST of every pod takes long enough on a large cluster to
		// list them meanwhile; when nothing is Pending they are dropped.
		r.startAhead(nodesQuery)
	}
	s, err := r.fetch(q)
	if err != nil {
		return nil, err
	}
	var out []*corev1.Pod
	for _, p := range s.Pods {
		if p.Status.Phase == corev1.PodPending {
			out = append(out, p)
		}
	}
	if every {
		r.snap = cluster.Merge(r.snap, s)
	}
	return out, nil
}

// failedCreates finds controllers in scope whose recent FailedCreate events
// say they cannot create pods and that are still short of pods.
func (r *liveRun) failedCreates() ([]WorkloadTarget, error) {
	s, err := r.fetch(r.failedCreateQuery())
	if err != nil {
		return nil, err
	}
	r.snap.Warnings = append(r.snap.Warnings, s.Warnings...)
	seen := map[string]bool{}
	var out []WorkloadTarget
	for _, e := range s.Events {
		io := e.InvolvedObject
		key := io.Kind + "/" + io.Namespace + "/" + io.Name
		if seen[key] {
			continue
		}
		seen[key] = true
		switch io.Kind {
		case "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob", "ReplicationController":
		default:
			continue
		}
		if r.scope.Selector != "" {
			continue // a selector names pods; controllers without pods cannot match it
		}
		for _, w := range r.failedCreate(e) {
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

// failedCreateQuery lists the FailedCreate events of the scope.
func (r *liveRun) failedCreateQuery() cluster.Query {
	return cluster.Query{Kind: cluster.KindEvent, Namespace: r.scope.Namespace, FieldSelector: "reason=FailedCreate", Optional: true}
}

// failedCreate is what a controller's FailedCreate event leaves to
// explain: the controller, when it is still short of pods.
func (r *liveRun) failedCreate(e *corev1.Event) []WorkloadTarget {
	io := e.InvolvedObject
	_, wl, err := r.resolve(cluster.Target{Kind: cluster.Kind(io.Kind), Namespace: io.Namespace, Name: io.Name}, true)
	if err != nil {
		var gone *cluster.NotFoundError
		if !errors.As(err, &gone) { // else deleted since
			// Looking further (e.g. no permission to read the controller)
			// must not cost the pods already found their explanation.
			r.snap.Warnings = append(r.snap.Warnings, fmt.Sprintf("%s %s/%s has a FailedCreate event but could not be looked at: %v", strings.ToLower(io.Kind), io.Namespace, io.Name, err))
		}
		return nil
	}
	if io.Kind == "CronJob" && len(wl) == 0 && !jobCreatedSince(r.snap, io.Namespace, io.Name, e.LastTimestamp.Time) {
		// The cronjob controller could not create the Job at all: the
		// CronJob wants none now, but its event is the explanation.
		wl = []WorkloadTarget{{Kind: "CronJob", Namespace: io.Namespace, Name: io.Name}}
	}
	return wl
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
// that, in rounds (LivePlan): the objects the pods and workloads name, then
// the pods of the nodes that could take them, then what the scheduler's
// filters read given those.
func (r *liveRun) loadContext() error {
	if len(r.pods) == 0 && len(r.workloads) == 0 {
		return nil
	}
	qs := r.plan.ContextQueries(r.snap, r.pods, r.workloads)
	r.listCandidatePodsEarly(qs)
	if err := r.load(qs...); err != nil {
		return err
	}
	if err := r.load(r.plan.NodePodQueries(r.snap, r.pods)...); err != nil {
		return err
	}
	// The pods being explained are part of the cluster state too.
	r.keep(r.pods)
	return r.loadRequirements()
}

// listCandidatePodsEarly starts the round of context queries qs in the
// background and, as soon as the nodes are in, the pods of the nodes that
// could take the unbound pods (NodePodQueries): which nodes those are
// depends on the nodes alone, not on the rest of the round.
func (r *liveRun) listCandidatePodsEarly(qs []cluster.Query) {
	unbound := UnboundPods(r.pods)
	if len(unbound) == 0 || r.snap.Queried(EveryActivePod) || !slices.Contains(qs, nodesQuery) {
		return
	}
	if r.ahead[nodesQuery] == nil {
		r.startAhead(nodesQuery)
	}
	rest := slices.DeleteFunc(slices.Clone(qs), func(q cluster.Query) bool { return q == nodesQuery })
	r.startAhead(rest...)
	nodes := r.peekAhead(nodesQuery)
	if nodes == nil {
		return // the round reports what failed
	}
	r.startAhead(optionalEveryPod(r.plan.nodePodLists(nodes, unbound))...)
}

// loadRequirements loads what the scheduler's filters read for the unbound
// pods given the nodes and pods now known (namespaces an existing pod's
// anti-affinity selects by label, every claim once a CSINode limits
// volumes, budgets for preemption), until nothing new is asked for. A kind
// that cannot be read leaves its filter not evaluated (WP183), never
// silently passing.
func (r *liveRun) loadRequirements() error {
	unbound := UnboundPods(r.pods)
	if len(unbound) == 0 {
		return nil
	}
	for range 3 {
		qs := r.plan.RequirementQueries(r.snap, unbound)
		if len(qs) == 0 {
			return nil
		}
		if err := r.load(qs...); err != nil {
			return err
		}
	}
	return nil
}

// loadSchedulers loads what shows whether the other schedulers the pods
// name exist (SchedulerQueries).
func (r *liveRun) loadSchedulers() error {
	qs := SchedulerQueries(r.snap, r.pods)
	if len(qs) == 0 {
		return nil
	}
	s, err := r.fetch(qs...)
	if err != nil {
		return err
	}
	r.add(s)
	return nil
}

// load runs the queries and adds what they return to the snapshot.
func (r *liveRun) load(qs ...cluster.Query) error {
	if len(qs) == 0 {
		return nil
	}
	everyPod := slices.Contains(qs, EveryActivePod)
	qs = optionalEveryPod(qs)
	s, err := r.fetch(qs...)
	if err != nil {
		return err
	}
	r.add(s)
	if everyPod && !s.Loaded[cluster.KindPod] {
		return r.load(r.namespacePods()...)
	}
	return nil
}

// optionalEveryPod makes the LIST of every pod among qs optional: inter-pod
// affinity or spread makes every pod matter, and a user who may list pods
// only in some namespaces still gets an answer (load), with a warning
// naming the list refused.
func optionalEveryPod(qs []cluster.Query) []cluster.Query {
	qs = slices.Clone(qs)
	for i, q := range qs {
		if q == EveryActivePod {
			qs[i].Optional = true
		}
	}
	return qs
}

// namespacePods lists the active pods of the namespaces of the pods being
// explained: what stands in for every pod when those may not be listed.
func (r *liveRun) namespacePods() []cluster.Query {
	namespaces := map[string]bool{}
	for _, p := range r.subjects {
		namespaces[p.Namespace] = true
	}
	if r.scope.Namespace != "" {
		namespaces[r.scope.Namespace] = true
	}
	var qs []cluster.Query
	for _, ns := range slices.Sorted(maps.Keys(namespaces)) {
		qs = append(qs, cluster.Query{Kind: cluster.KindPod, Namespace: ns, FieldSelector: ActivePods, Optional: true})
	}
	return qs
}

// add merges s into the snapshot, the subjects staying as first read.
func (r *liveRun) add(s *cluster.Snapshot) {
	r.snap = cluster.Merge(r.snap, s)
	if len(s.Pods) > 0 && len(r.subjects) > 0 {
		r.keep(r.subjects)
	}
}

// keep puts the pods being explained into the snapshot as they were read
// first, and keeps them there: a later list's copy of one must not replace
// the subject.
func (r *liveRun) keep(pods []*corev1.Pod) {
	r.subjects = pods
	r.snap = cluster.Merge(r.snap, &cluster.Snapshot{Pods: pods})
}

// explain explains the pods and workloads, loading more where the first
// answer calls for it: every pod, when a pod the scheduler refused fits in
// the simulation; the events of what changed, when the scheduler's stored
// verdict differs from the simulation.
func (r *liveRun) explain() (Result, error) {
	subjects := make([]Subject, 0, len(r.pods))
	for _, p := range r.pods {
		subjects = append(subjects, Subject{Pod: p})
	}
	// Every further round's warnings are shown too: a list refused here
	// leaves this answer incomplete as much as one refused before.
	warned := len(r.snap.Warnings)
	defer func() { r.warnings = append(r.warnings, r.snap.Warnings[warned:]...) }()
	res := Explain(r.snap, subjects, r.workloads, r.options())
	if !r.snap.Queried(EveryActivePod) && fitsAgainstItsCondition(res) {
		// Only the candidate nodes' pods were loaded, but pods elsewhere
		// can still reject a pod (their required anti-affinity in a shared
		// zone, users of a ReadWriteOncePod claim). Before calling the
		// scheduler's verdict stale, look at every pod once.
		if err := r.load(EveryActivePod); err != nil {
			return Result{}, err
		}
		if err := r.loadRequirements(); err != nil {
			return Result{}, err
		}
		res = Explain(r.snap, subjects, r.workloads, r.options())
	}
	if staleVerdicts(res) {
		// A verdict the cluster has moved past: what changed since shows
		// in node events and in the events of pods deleted or preempted.
		if err := r.load(StaleEventQueries()...); err != nil {
			return Result{}, err
		}
		res = Explain(r.snap, subjects, r.workloads, r.options())
	}
	return res, nil
}

// fitsAgainstItsCondition: a pod the scheduler found unschedulable fits
// somewhere in the simulation.
func fitsAgainstItsCondition(res Result) bool {
	for _, p := range res.Pods {
		if len(p.Feasible) > 0 && p.SchedulerMessage != "" {
			return true
		}
	}
	return false
}

// staleVerdicts: some pod's stored scheduler verdict differs from the
// simulation.
func staleVerdicts(res Result) bool {
	for _, p := range res.Pods {
		if p.MessagesAgree != nil && !*p.MessagesAgree {
			return true
		}
	}
	return false
}

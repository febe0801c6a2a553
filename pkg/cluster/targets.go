package cluster

import (
	"fmt"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// A target is what a command names on its command line: POD, NS/NAME or
// TYPE/NAME. Resolving one is pure (Resolve reads a Snapshot); what to load
// for it is pure too (TargetQueries), and LoadTargets runs those queries
// round by round.

// typeNames are the TYPEs of TYPE/NAME, by every name kubectl's RESTMapper
// accepts for them: kind, resource, plural and short name (lower-cased;
// ParseType lowers its input as kubectl does).
var typeNames = map[string]Kind{
	"pod": KindPod, "pods": KindPod, "po": KindPod,
	"service": KindService, "services": KindService, "svc": KindService,
	"deployment": KindDeployment, "deployments": KindDeployment, "deploy": KindDeployment,
	"replicaset": KindReplicaSet, "replicasets": KindReplicaSet, "rs": KindReplicaSet,
	"statefulset": KindStatefulSet, "statefulsets": KindStatefulSet, "sts": KindStatefulSet,
	"daemonset": KindDaemonSet, "daemonsets": KindDaemonSet, "ds": KindDaemonSet,
	"job": KindJob, "jobs": KindJob,
	"cronjob": KindCronJob, "cronjobs": KindCronJob, "cj": KindCronJob,
	"replicationcontroller": KindReplicationController, "replicationcontrollers": KindReplicationController, "rc": KindReplicationController,
}

// ParseType reads the TYPE of TYPE/NAME as kubectl does: case-insensitive,
// by kind, resource or short name, optionally followed by the version and
// API group ("deploy", "Deployments.apps", "deployments.v1.apps"). It
// returns the Kind and what followed the first dot ("" when nothing did).
func ParseType(typ string) (kind Kind, qualifier string, ok bool) {
	typ = strings.ToLower(typ)
	typ, qualifier, _ = strings.Cut(typ, ".")
	kind, ok = typeNames[typ]
	return kind, qualifier, ok
}

// Group is the API group of a kind ("" for the core group).
func Group(k Kind) string { return kinds[k].gvk.Group }

// Target is an object named on the command line: a pod, a Service, or a
// workload standing for the pods it controls.
type Target struct {
	Kind      Kind
	Namespace string
	Name      string
	// PodFieldSelector narrows the live list of a workload's pods (e.g.
	// "status.phase!=Succeeded,status.phase!=Failed"); "" lists them all.
	PodFieldSelector string
	// FailedCreateEvents also loads, for a workload that controls no pod,
	// the FailedCreate events of it and of its ReplicaSets or Jobs.
	FailedCreateEvents bool
}

// String is the target as kubectl names it: "deployment/web", "pod/web-0".
func (t Target) String() string { return strings.ToLower(string(t.Kind)) + "/" + t.Name }

// Resolution is what a target names in a Snapshot.
type Resolution struct {
	Target
	// Object is the pod, Service or workload itself.
	Object metav1.Object
	// Selector is the pod selector of a workload or Service; nil for a pod.
	Selector labels.Selector
	// Owners are the objects between a workload and its pods: the
	// ReplicaSets a Deployment controls, the Jobs a CronJob controls.
	Owners []metav1.Object
	// Pods are the pods the workload controls (through Owners), the pods
	// a Service selects, or the pod itself; in snapshot order.
	Pods []*corev1.Pod
	// FailedCreate says, for a workload controlling no pod, why: the
	// message of its (or its Owners') latest FailedCreate event or
	// ReplicaFailure condition. "" when nothing explains it.
	FailedCreate string
}

// Resolve finds the target in the snapshot: a *NotFoundError when the
// snapshot does not hold it.
func (s *Snapshot) Resolve(t Target) (*Resolution, error) {
	obj := s.object(t.Kind, t.Namespace, t.Name)
	if obj == nil {
		return nil, &NotFoundError{Kind: strings.ToLower(string(t.Kind)), Namespace: t.Namespace, Name: t.Name}
	}
	r := &Resolution{Target: t, Object: obj}
	if p, ok := obj.(*corev1.Pod); ok {
		r.Pods = []*corev1.Pod{p}
		return r, nil
	}
	sel, err := PodSelector(obj)
	if err != nil {
		return nil, err
	}
	r.Selector = sel
	if svc, ok := obj.(*corev1.Service); ok {
		if sel != nil {
			r.Pods = selected(s.PodsInNamespace(svc.Namespace), sel)
		}
		return r, nil
	}
	controllers := map[string]bool{string(obj.GetUID()): true}
	if t.Kind == KindDeployment || t.Kind == KindCronJob {
		r.Owners = s.controlledBy(t.Kind, obj)
		controllers = map[string]bool{}
		for _, o := range r.Owners {
			controllers[string(o.GetUID())] = true
		}
	}
	for _, p := range s.PodsInNamespace(t.Namespace) {
		if ref := metav1.GetControllerOf(p); ref != nil && controllers[string(ref.UID)] {
			r.Pods = append(r.Pods, p)
		}
	}
	if len(r.Pods) == 0 {
		r.FailedCreate = s.failedCreate(append([]metav1.Object{obj}, r.Owners...))
	}
	return r, nil
}

// PodSelector is the pod selector of a workload or Service: nil for a
// Service without one (it selects no pod), an error when the workload's
// is missing or invalid. A CronJob selects through its Jobs: nil.
func PodSelector(obj metav1.Object) (labels.Selector, error) {
	var ls *metav1.LabelSelector
	var kind string
	switch o := obj.(type) {
	case *corev1.Service:
		if len(o.Spec.Selector) == 0 {
			return nil, nil
		}
		return labels.SelectorFromSet(o.Spec.Selector), nil
	case *appsv1.Deployment:
		ls, kind = o.Spec.Selector, "deployment"
	case *appsv1.ReplicaSet:
		ls, kind = o.Spec.Selector, "replicaset"
	case *appsv1.StatefulSet:
		ls, kind = o.Spec.Selector, "statefulset"
	case *appsv1.DaemonSet:
		ls, kind = o.Spec.Selector, "daemonset"
	case *batchv1.Job:
		ls, kind = o.Spec.Selector, "job"
	case *corev1.ReplicationController:
		// A map, which the API server defaults to the template's labels.
		set := o.Spec.Selector
		if len(set) == 0 && o.Spec.Template != nil {
			set = o.Spec.Template.Labels
		}
		if len(set) == 0 {
			return nil, fmt.Errorf("replicationcontroller %s/%s has no selector", o.Namespace, o.Name)
		}
		return labels.SelectorFromSet(set), nil
	default:
		return nil, nil
	}
	if ls == nil {
		return nil, fmt.Errorf("%s %s/%s has no selector", kind, obj.GetNamespace(), obj.GetName())
	}
	sel, err := metav1.LabelSelectorAsSelector(ls)
	if err != nil {
		return nil, fmt.Errorf("%s %s/%s has an invalid selector: %w", kind, obj.GetNamespace(), obj.GetName(), err)
	}
	return sel, nil
}

// controlledBy are the ReplicaSets (of a Deployment) or Jobs (of a CronJob)
// obj controls.
func (s *Snapshot) controlledBy(k Kind, obj metav1.Object) []metav1.Object {
	var candidates []metav1.Object
	switch k {
	case KindDeployment:
		for _, rs := range s.ReplicaSets {
			candidates = append(candidates, rs)
		}
	case KindCronJob:
		for _, j := range s.Jobs {
			candidates = append(candidates, j)
		}
	}
	var out []metav1.Object
	for _, c := range candidates {
		if ref := metav1.GetControllerOf(c); ref != nil && c.GetNamespace() == obj.GetNamespace() && ref.UID == obj.GetUID() {
			out = append(out, c)
		}
	}
	return out
}

// failedCreate is the latest FailedCreate among the objects' events and
// ReplicaFailure conditions.
func (s *Snapshot) failedCreate(objs []metav1.Object) string {
	type seen struct {
		at  metav1.Time
		msg string
	}
	var all []seen
	uids := map[string]bool{}
	for _, o := range objs {
		uids[string(o.GetUID())] = true
		for _, c := range replicaFailures(o) {
			all = append(all, seen{c.LastTransitionTime, c.Message})
		}
	}
	for _, e := range s.Events {
		if e.Reason == "FailedCreate" && uids[string(e.InvolvedObject.UID)] {
			at := e.LastTimestamp
			if at.IsZero() {
				at = metav1.Time{Time: e.EventTime.Time}
			}
			all = append(all, seen{at, e.Message})
		}
	}
	if len(all) == 0 {
		return ""
	}
	sort.SliceStable(all, func(i, j int) bool { return all[j].at.Before(&all[i].at) })
	return all[0].msg
}

// replicaFailures are the ReplicaFailure conditions a ReplicaSet (or, copied
// from it, a Deployment) or a ReplicationController sets when it cannot
// create pods.
func replicaFailures(obj metav1.Object) []metav1.Condition {
	var out []metav1.Condition
	switch o := obj.(type) {
	case *appsv1.ReplicaSet:
		for _, c := range o.Status.Conditions {
			if c.Type == appsv1.ReplicaSetReplicaFailure && c.Status == corev1.ConditionTrue {
				out = append(out, metav1.Condition{Message: c.Message, LastTransitionTime: c.LastTransitionTime})
			}
		}
	case *appsv1.Deployment:
		for _, c := range o.Status.Conditions {
			if c.Type == appsv1.DeploymentReplicaFailure && c.Status == corev1.ConditionTrue {
				out = append(out, metav1.Condition{Message: c.Message, LastTransitionTime: c.LastTransitionTime})
			}
		}
	case *corev1.ReplicationController:
		for _, c := range o.Status.Conditions {
			if c.Type == corev1.ReplicationControllerReplicaFailure && c.Status == corev1.ConditionTrue {
				out = append(out, metav1.Condition{Message: c.Message, LastTransitionTime: c.LastTransitionTime})
			}
		}
	}
	return out
}

func selected(pods []*corev1.Pod, sel labels.Selector) []*corev1.Pod {
	var out []*corev1.Pod
	for _, p := range pods {
		if sel.Matches(labels.Set(p.Labels)) {
			out = append(out, p)
		}
	}
	return out
}

// ResolvePods resolves every target (Resolve) and returns the pods they
// stand for, each once, in the order of the targets.
func (s *Snapshot) ResolvePods(targets ...Target) ([]*corev1.Pod, error) {
	var out []*corev1.Pod
	seen := map[string]bool{}
	for _, t := range targets {
		r, err := s.Resolve(t)
		if err != nil {
			return nil, err
		}
		for _, p := range r.Pods {
			if k := key(p.Namespace, p.Name); !seen[k] {
				seen[k] = true
				out = append(out, p)
			}
		}
	}
	return out, nil
}

// TargetQueries are the queries that load what Resolve reads for t that the
// snapshot has not been asked for yet (see Queried): the object by name
// first; once it is there, the pods its selector matches (field-selected
// by t.PodFieldSelector) and the ReplicaSets of a Deployment or the Jobs of
// a CronJob; then the pods of those Jobs; and, with t.FailedCreateEvents,
// the FailedCreate events of a workload that controls no pod. nil when
// nothing is left to load (or the object does not exist).
func TargetQueries(s *Snapshot, t Target) []Query {
	var qs []Query
	ask := func(q Query) {
		if !s.Queried(q) {
			qs = append(qs, q)
		}
	}
	obj := s.object(t.Kind, t.Namespace, t.Name)
	if obj == nil {
		ask(Query{Kind: t.Kind, Namespace: t.Namespace, Name: t.Name})
		return qs
	}
	podsOf := func(o metav1.Object) {
		if sel, err := PodSelector(o); err == nil && sel != nil {
			ask(Query{Kind: KindPod, Namespace: t.Namespace, LabelSelector: sel.String(), FieldSelector: t.PodFieldSelector})
		}
	}
	switch t.Kind {
	case KindPod:
		return nil
	case KindCronJob:
		// A CronJob's Jobs carry no label it selects by.
		ask(Query{Kind: KindJob, Namespace: t.Namespace})
		for _, j := range s.controlledBy(t.Kind, obj) {
			podsOf(j)
		}
	case KindDeployment:
		if sel, err := PodSelector(obj); err == nil {
			ask(Query{Kind: KindReplicaSet, Namespace: t.Namespace, LabelSelector: sel.String()})
		}
		podsOf(obj)
	default:
		podsOf(obj)
	}
	if len(qs) == 0 && t.FailedCreateEvents && t.Kind != KindService {
		if r, err := s.Resolve(t); err == nil && len(r.Pods) == 0 {
			for _, o := range append([]metav1.Object{obj}, r.Owners...) {
				ask(Query{Kind: KindEvent, Namespace: t.Namespace, FieldSelector: "involvedObject.uid=" + string(o.GetUID()) + ",reason=FailedCreate", Optional: true})
			}
		}
	}
	return qs
}

// JobFinished says a Job has completed or failed: it creates no more pods.
func JobFinished(j *batchv1.Job) bool {
	for _, c := range j.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

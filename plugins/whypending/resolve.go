package whypending

import (
	"context"
	"errors"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ktriage/ktriage/pkg/cli"
	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/pkg/pending"
)

var errNotFound = errors.New("not found")

// notFoundError is `pod "x" not found in namespace "y"` (exit 2).
type notFoundError struct{ msg string }

func (e *notFoundError) Error() string        { return e.msg }
func (e *notFoundError) Is(target error) bool { return target == errNotFound }

// getErr turns a GET failure into the one-line error the user sees.
func getErr(err error, kind, resource, name, ns string) error {
	if apierrors.IsNotFound(err) {
		return &cli.ExitError{Code: cli.ExitFailure, Err: &notFoundError{fmt.Sprintf("%s %q not found in namespace %q", strings.ToLower(kind), name, ns)}}
	}
	return cli.APIError(err, "get", resource, ns)
}

// resolve turns POD or TYPE/NAME into the Pending pods to explain and, for a
// controller with fewer pods than it wants, a workload target. The objects
// it reads go into snap.
func (l *live) resolve(ctx context.Context, ns, kind, name string, snap *cluster.Snapshot, viaEvent bool) ([]*corev1.Pod, []pending.WorkloadTarget, error) {
	apps, batch, core := l.cs.AppsV1(), l.cs.BatchV1(), l.cs.CoreV1()
	switch kind {
	case "Pod":
		p, err := core.Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return nil, nil, getErr(err, kind, "pods", name, ns)
		}
		if p.Status.Phase != corev1.PodPending {
			snap.Warnings = append(snap.Warnings, fmt.Sprintf("pod %s/%s is %s, not Pending", ns, name, p.Status.Phase))
			return nil, nil, nil
		}
		return []*corev1.Pod{p}, nil, nil
	case "Deployment":
		d, err := apps.Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return nil, nil, getErr(err, kind, "deployments", name, ns)
		}
		snap.Deployments = append(snap.Deployments, d)
		sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
		if err != nil {
			return nil, nil, fmt.Errorf("deployment %s/%s has an invalid selector: %w", ns, name, err)
		}
		lctx, cancel := cluster.RequestContext(ctx, l.cs)
		rsl, err := apps.ReplicaSets(ns).List(lctx, metav1.ListOptions{LabelSelector: sel.String()})
		cancel()
		if err != nil {
			return nil, nil, cli.APIError(err, "list", "replicasets", ns)
		}
		owners := map[string]bool{}
		for i := range rsl.Items {
			rs := &rsl.Items[i]
			if owned(rs.OwnerReferences, string(d.UID)) {
				snap.ReplicaSets = append(snap.ReplicaSets, rs)
				owners[string(rs.UID)] = true
			}
		}
		pods, err := l.podsOwned(ctx, snap, ns, sel.String(), owners)
		if err != nil {
			return nil, nil, err
		}
		want := int32(1)
		if d.Spec.Replicas != nil {
			want = *d.Spec.Replicas
		}
		return l.split(pods, kind, ns, name, want)
	case "ReplicaSet", "StatefulSet", "DaemonSet", "Job":
		obj, sel, want, err := l.getController(ctx, ns, kind, name)
		if err != nil {
			return nil, nil, err
		}
		switch o := obj.(type) {
		case *appsv1.ReplicaSet:
			snap.ReplicaSets = append(snap.ReplicaSets, o)
			// A ReplicaSet of a Deployment is explained as the Deployment
			// when it is found through its events.
			if up := controllerRef(o.OwnerReferences); viaEvent && up != nil && up.Kind == "Deployment" {
				return l.resolve(ctx, ns, "Deployment", up.Name, snap, false)
			}
		case *appsv1.StatefulSet:
			snap.StatefulSets = append(snap.StatefulSets, o)
		case *appsv1.DaemonSet:
			snap.DaemonSets = append(snap.DaemonSets, o)
		case *batchv1.Job:
			snap.Jobs = append(snap.Jobs, o)
		}
		pods, err := l.podsOwned(ctx, snap, ns, sel, map[string]bool{string(obj.GetUID()): true})
		if err != nil {
			return nil, nil, err
		}
		return l.split(pods, kind, ns, name, want)
	case "CronJob":
		cj, err := batch.CronJobs(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return nil, nil, getErr(err, kind, "cronjobs", name, ns)
		}
		snap.CronJobs = append(snap.CronJobs, cj)
		lctx, cancel := cluster.RequestContext(ctx, l.cs)
		jl, err := batch.Jobs(ns).List(lctx, metav1.ListOptions{})
		cancel()
		if err != nil {
			return nil, nil, cli.APIError(err, "list", "jobs", ns)
		}
		var pods []*corev1.Pod
		active := int32(0)
		for i := range jl.Items {
			j := &jl.Items[i]
			if !owned(j.OwnerReferences, string(cj.UID)) {
				continue
			}
			snap.Jobs = append(snap.Jobs, j)
			if finished(j) {
				continue
			}
			active++
			sel, err := metav1.LabelSelectorAsSelector(j.Spec.Selector)
			if err != nil {
				continue
			}
			ps, err := l.podsOwned(ctx, snap, ns, sel.String(), map[string]bool{string(j.UID): true})
			if err != nil {
				return nil, nil, err
			}
			pods = append(pods, ps...)
		}
		return l.split(pods, kind, ns, name, active)
	}
	return nil, nil, cli.UsageErrorf("unsupported kind %s", kind)
}

// getController reads a pod-creating controller, its selector and how many
// pods it wants.
func (l *live) getController(ctx context.Context, ns, kind, name string) (metav1.Object, string, int32, error) {
	apps, batch := l.cs.AppsV1(), l.cs.BatchV1()
	var obj metav1.Object
	var sel *metav1.LabelSelector
	want := int32(1)
	var err error
	resource := strings.ToLower(kind) + "s"
	switch kind {
	case "ReplicaSet":
		var o *appsv1.ReplicaSet
		if o, err = apps.ReplicaSets(ns).Get(ctx, name, metav1.GetOptions{}); err == nil {
			obj, sel = o, o.Spec.Selector
			if o.Spec.Replicas != nil {
				want = *o.Spec.Replicas
			}
		}
	case "StatefulSet":
		var o *appsv1.StatefulSet
		if o, err = apps.StatefulSets(ns).Get(ctx, name, metav1.GetOptions{}); err == nil {
			obj, sel = o, o.Spec.Selector
			if o.Spec.Replicas != nil {
				want = *o.Spec.Replicas
			}
		}
	case "DaemonSet":
		var o *appsv1.DaemonSet
		if o, err = apps.DaemonSets(ns).Get(ctx, name, metav1.GetOptions{}); err == nil {
			obj, sel, want = o, o.Spec.Selector, o.Status.DesiredNumberScheduled
		}
	case "Job":
		var o *batchv1.Job
		if o, err = batch.Jobs(ns).Get(ctx, name, metav1.GetOptions{}); err == nil {
			obj, sel = o, o.Spec.Selector
			if o.Spec.Parallelism != nil {
				want = *o.Spec.Parallelism
			}
			if finished(o) {
				want = 0
			}
		}
	}
	if err != nil {
		return nil, "", 0, getErr(err, kind, resource, name, ns)
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return nil, "", 0, fmt.Errorf("%s %s/%s has an invalid selector: %w", strings.ToLower(kind), ns, name, err)
	}
	return obj, s.String(), want, nil
}

func finished(j *batchv1.Job) bool {
	for _, c := range j.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

func owned(refs []metav1.OwnerReference, uid string) bool {
	for _, r := range refs {
		if string(r.UID) == uid {
			return true
		}
	}
	return false
}

func controllerRef(refs []metav1.OwnerReference) *metav1.OwnerReference {
	for i := range refs {
		if refs[i].Controller != nil && *refs[i].Controller {
			return &refs[i]
		}
	}
	return nil
}

// podsOwned lists the pods of a selector whose owner is one of owners; with
// every pod already loaded (-A) it filters those instead of listing again.
func (l *live) podsOwned(ctx context.Context, snap *cluster.Snapshot, ns, selector string, owners map[string]bool) ([]*corev1.Pod, error) {
	pods := snap.Pods
	if !snap.Loaded["allPods"] {
		s, err := cluster.LoadLive(ctx, l.cs, cluster.Query{Kind: cluster.KindPod, Namespace: ns, LabelSelector: selector, FieldSelector: "status.phase!=Succeeded,status.phase!=Failed"})
		if err != nil {
			return nil, err
		}
		pods = s.Pods
	}
	var out []*corev1.Pod
	for _, p := range pods {
		if p.Namespace != ns {
			continue
		}
		if ref := controllerRef(p.OwnerReferences); ref != nil && owners[string(ref.UID)] {
			out = append(out, p)
		}
	}
	return out, nil
}

// split keeps the Pending pods and adds a workload target when the
// controller has fewer pods than it wants.
func (l *live) split(pods []*corev1.Pod, kind, ns, name string, want int32) ([]*corev1.Pod, []pending.WorkloadTarget, error) {
	var out []*corev1.Pod
	for _, p := range pods {
		if p.Status.Phase == corev1.PodPending && p.DeletionTimestamp == nil {
			out = append(out, p)
		}
	}
	// A controller that wants no pods (scaled to zero, a finished Job, a
	// CronJob between runs) is not stuck: nothing to explain.
	var wl []pending.WorkloadTarget
	if int32(len(pods)) < want {
		wl = append(wl, pending.WorkloadTarget{Kind: kind, Namespace: ns, Name: name, HasPods: len(pods) > 0})
	}
	return out, wl, nil
}

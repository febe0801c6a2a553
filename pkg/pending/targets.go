package pending

import (
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/ktriage/ktriage/pkg/cluster"
)

// TargetSubjects splits what a POD or TYPE/NAME argument resolved to into
// the Pending pods to explain and, for a controller with fewer live pods
// than it wants, the workload to explain as such. A controller that wants
// none (scaled to zero, a finished Job, a CronJob between runs) is not
// stuck: nothing to explain.
func TargetSubjects(r *cluster.Resolution) ([]*corev1.Pod, []WorkloadTarget) {
	var live, out []*corev1.Pod
	for _, p := range r.Pods {
		if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		live = append(live, p)
		if p.Status.Phase == corev1.PodPending && p.DeletionTimestamp == nil {
			out = append(out, p)
		}
	}
	if r.Kind == cluster.KindPod {
		return out, nil
	}
	var wl []WorkloadTarget
	if int32(len(live)) < wantedPods(r) {
		wl = append(wl, WorkloadTarget{Kind: string(r.Kind), Namespace: r.Namespace, Name: r.Name, HasPods: len(live) > 0})
	}
	return out, wl
}

// wantedPods is how many pods a workload wants now.
func wantedPods(r *cluster.Resolution) int32 {
	replicas := func(n *int32) int32 {
		if n == nil {
			return 1
		}
		return *n
	}
	switch o := r.Object.(type) {
	case *appsv1.Deployment:
		return replicas(o.Spec.Replicas)
	case *appsv1.ReplicaSet:
		return replicas(o.Spec.Replicas)
	case *corev1.ReplicationController:
		return replicas(o.Spec.Replicas)
	case *appsv1.StatefulSet:
		return replicas(o.Spec.Replicas)
	case *appsv1.DaemonSet:
		return o.Status.DesiredNumberScheduled
	case *batchv1.Job:
		if cluster.JobFinished(o) {
			return 0
		}
		return replicas(o.Spec.Parallelism)
	case *batchv1.CronJob:
		// One pod per Job still running.
		active := int32(0)
		for _, j := range r.Owners {
			if job, ok := j.(*batchv1.Job); ok && !cluster.JobFinished(job) {
				active++
			}
		}
		return active
	}
	return 0
}

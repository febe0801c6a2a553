package pending

import (
	"fmt"
	"sort"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// jobFailures handles Jobs and CronJobs (through their Jobs).
func (a *analyzer) jobFailures(w WorkloadTarget, obj metav1.Object, out *[]controllerFailure, notes *[]string, fromEvents func(string, metav1.Object)) {
	switch o := obj.(type) {
	case *batchv1.Job:
		if o.Spec.Suspend != nil && *o.Spec.Suspend {
			*notes = append(*notes, "the Job is suspended (spec.suspend: true)")
		}
		for _, c := range o.Status.Conditions {
			if (c.Type == batchv1.JobFailed || c.Type == batchv1.JobComplete) && c.Status == corev1.ConditionTrue {
				*notes = append(*notes, fmt.Sprintf("the Job has finished (%s: %s)", c.Type, c.Reason))
			}
		}
		fromEvents("Job", o)
	case *batchv1.CronJob:
		var jobs []*batchv1.Job
		for _, j := range a.snap.Jobs {
			if j.Namespace == o.Namespace && ownedBy(j, o) {
				jobs = append(jobs, j)
			}
		}
		sort.Slice(jobs, func(i, j int) bool { return jobs[j].CreationTimestamp.Before(&jobs[i].CreationTimestamp) })
		for _, j := range jobs {
			fromEvents("Job", j)
		}
		fromEvents("CronJob", o)
		if len(jobs) == 0 {
			switch {
			case o.Spec.Suspend != nil && *o.Spec.Suspend:
				*notes = append(*notes, "the CronJob is suspended (spec.suspend: true)")
			case o.Status.LastScheduleTime == nil:
				*notes = append(*notes, fmt.Sprintf("the CronJob has not been scheduled yet (schedule %q)", o.Spec.Schedule))
			default:
				*notes = append(*notes, fmt.Sprintf("the CronJob has no Job now; last scheduled at %s", o.Status.LastScheduleTime.UTC().Format("2006-01-02T15:04:05Z")))
			}
		}
	case nil:
		*notes = append(*notes, fmt.Sprintf("%s %s/%s is not in the snapshot", w.Kind, w.Namespace, w.Name))
	}
}

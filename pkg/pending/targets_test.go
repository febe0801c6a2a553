package pending

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ktriage/ktriage/pkg/cluster"
)

func TestTargetSubjects(t *testing.T) {
	three := int32(3)
	phase := func(name string, ph corev1.PodPhase) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name}, Status: corev1.PodStatus{Phase: ph}}
	}
	deploy := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web"}, Spec: appsv1.DeploymentSpec{Replicas: &three}}
	done := &batchv1.Job{Status: batchv1.JobStatus{Conditions: []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}}}}
	running := &batchv1.Job{}
	cases := []struct {
		name     string
		r        cluster.Resolution
		pods     int
		workload *WorkloadTarget
	}{
		{"a Pending pod is explained", cluster.Resolution{Target: cluster.Target{Kind: cluster.KindPod}, Object: phase("a", corev1.PodPending), Pods: []*corev1.Pod{phase("a", corev1.PodPending)}}, 1, nil},
		{"a running pod is not", cluster.Resolution{Target: cluster.Target{Kind: cluster.KindPod}, Object: phase("a", corev1.PodRunning), Pods: []*corev1.Pod{phase("a", corev1.PodRunning)}}, 0, nil},
		{"a Deployment short of pods is a workload that has some",
			cluster.Resolution{Target: cluster.Target{Kind: cluster.KindDeployment, Namespace: "shop", Name: "web"}, Object: deploy,
				Pods: []*corev1.Pod{phase("a", corev1.PodPending), phase("b", corev1.PodRunning), phase("c", corev1.PodSucceeded)}},
			1, &WorkloadTarget{Kind: "Deployment", Namespace: "shop", Name: "web", HasPods: true}},
		{"a CronJob wants one pod per unfinished Job",
			cluster.Resolution{Target: cluster.Target{Kind: cluster.KindCronJob, Namespace: "shop", Name: "nightly"}, Object: &batchv1.CronJob{}, Owners: []metav1.Object{done, running}},
			0, &WorkloadTarget{Kind: "CronJob", Namespace: "shop", Name: "nightly"}},
		{"a CronJob between runs wants none",
			cluster.Resolution{Target: cluster.Target{Kind: cluster.KindCronJob, Namespace: "shop", Name: "nightly"}, Object: &batchv1.CronJob{}, Owners: []metav1.Object{done}},
			0, nil},
		{"a finished Job wants none", cluster.Resolution{Target: cluster.Target{Kind: cluster.KindJob, Namespace: "shop", Name: "x"}, Object: done}, 0, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pods, wl := TargetSubjects(&c.r)
			if len(pods) != c.pods {
				t.Errorf("%d pods to explain, want %d", len(pods), c.pods)
			}
			switch {
			case c.workload == nil && len(wl) > 0:
				t.Errorf("workload %+v, want none", wl)
			case c.workload != nil && (len(wl) != 1 || wl[0] != *c.workload):
				t.Errorf("workload %+v, want %+v", wl, *c.workload)
			}
		})
	}
}

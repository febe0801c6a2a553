package cluster

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
)

func TestParseTypeReadsTypesAsKubectlDoes(t *testing.T) {
	cases := []struct {
		typ       string
		kind      Kind
		qualifier string
		ok        bool
	}{
		{"po", KindPod, "", true},
		{"Pods", KindPod, "", true},
		{"deploy", KindDeployment, "", true},
		{"Deployment.apps", KindDeployment, "apps", true},
		{"deployments.v1.apps", KindDeployment, "v1.apps", true},
		{"RS", KindReplicaSet, "", true},
		{"sts", KindStatefulSet, "", true},
		{"ds", KindDaemonSet, "", true},
		{"jobs.batch", KindJob, "batch", true},
		{"cj", KindCronJob, "", true},
		{"svc", KindService, "", true},
		{"configmap", "", "", false},
		{"", "", "", false},
	}
	for _, c := range cases {
		kind, q, ok := ParseType(c.typ)
		if kind != c.kind || q != c.qualifier || ok != c.ok {
			t.Errorf("ParseType(%q) = %q, %q, %v; want %q, %q, %v", c.typ, kind, q, ok, c.kind, c.qualifier, c.ok)
		}
	}
	if Group(KindDeployment) != "apps" || Group(KindCronJob) != "batch" || Group(KindPod) != "" {
		t.Error("wrong API groups")
	}
}

func controller(kind, name, uid string) []metav1.OwnerReference {
	yes := true
	return []metav1.OwnerReference{{Kind: kind, Name: name, UID: types.UID(uid), Controller: &yes}}
}

func objMeta(ns, name, uid string, owner []metav1.OwnerReference) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID(uid), OwnerReferences: owner}
}

func labelled(p *corev1.Pod, owner []metav1.OwnerReference) *corev1.Pod {
	p.Labels = map[string]string{"app": "web"}
	p.OwnerReferences = owner
	return p
}

func jobPod(p *corev1.Pod) *corev1.Pod {
	p.Labels = map[string]string{"job": "nightly-1"}
	return p
}

var webSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}

// workloads: a Deployment with a current and an unrelated ReplicaSet, a
// CronJob with one Job, a StatefulSet without pods whose FailedCreate
// event says why, and a Service.
func workloads() *Snapshot {
	return &Snapshot{
		Deployments: []*appsv1.Deployment{{ObjectMeta: objMeta("shop", "web", "d1", nil), Spec: appsv1.DeploymentSpec{Selector: webSelector}}},
		ReplicaSets: []*appsv1.ReplicaSet{
			{ObjectMeta: objMeta("shop", "web-1", "rs1", controller("Deployment", "web", "d1")), Spec: appsv1.ReplicaSetSpec{Selector: webSelector}},
			{ObjectMeta: objMeta("shop", "other", "rs2", nil), Spec: appsv1.ReplicaSetSpec{Selector: webSelector}},
		},
		StatefulSets: []*appsv1.StatefulSet{{ObjectMeta: objMeta("shop", "db", "s1", nil), Spec: appsv1.StatefulSetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}}}}},
		CronJobs:     []*batchv1.CronJob{{ObjectMeta: objMeta("shop", "nightly", "cj1", nil)}},
		Jobs: []*batchv1.Job{{ObjectMeta: objMeta("shop", "nightly-1", "j1", controller("CronJob", "nightly", "cj1")),
			Spec: batchv1.JobSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"job": "nightly-1"}}}}},
		Services: []*corev1.Service{{ObjectMeta: objMeta("shop", "web", "svc1", nil), Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"}}}},
		Pods: []*corev1.Pod{
			labelled(pod("shop", "web-1-a", ""), controller("ReplicaSet", "web-1", "rs1")),
			labelled(pod("shop", "other-a", ""), controller("ReplicaSet", "other", "rs2")),
			jobPod(labelled(pod("shop", "nightly-1-a", ""), controller("Job", "nightly-1", "j1"))),
			pod("shop", "bare", ""),
		},
		Events: []*corev1.Event{
			{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "e1"}, Reason: "FailedCreate", Message: "old", LastTimestamp: metav1.NewTime(time.Unix(100, 0)),
				InvolvedObject: corev1.ObjectReference{UID: "s1"}},
			{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "e2"}, Reason: "FailedCreate", Message: `pods "db-0" is forbidden: exceeded quota`, LastTimestamp: metav1.NewTime(time.Unix(200, 0)),
				InvolvedObject: corev1.ObjectReference{UID: "s1"}},
		},
	}
}

func podNames(pods []*corev1.Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Name)
	}
	return out
}

func TestResolveFindsThePodsATargetControls(t *testing.T) {
	s := workloads()
	cases := []struct {
		name         string
		target       Target
		pods         []string
		owners       int
		failedCreate string
	}{
		{"a pod is itself", Target{Kind: KindPod, Namespace: "shop", Name: "bare"}, []string{"bare"}, 0, ""},
		{"a Deployment owns pods through its own ReplicaSets only", Target{Kind: KindDeployment, Namespace: "shop", Name: "web"}, []string{"web-1-a"}, 1, ""},
		{"a ReplicaSet owns the pods it controls, not all its selector matches", Target{Kind: KindReplicaSet, Namespace: "shop", Name: "other"}, []string{"other-a"}, 0, ""},
		{"a CronJob owns pods through its Jobs", Target{Kind: KindCronJob, Namespace: "shop", Name: "nightly"}, []string{"nightly-1-a"}, 1, ""},
		{"a Service stands for the pods it selects", Target{Kind: KindService, Namespace: "shop", Name: "web"}, []string{"web-1-a", "other-a"}, 0, ""},
		{"a workload without pods says why with its latest FailedCreate", Target{Kind: KindStatefulSet, Namespace: "shop", Name: "db"}, nil, 0, `pods "db-0" is forbidden: exceeded quota`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := s.Resolve(c.target)
			if err != nil {
				t.Fatal(err)
			}
			if got := podNames(r.Pods); !reflect.DeepEqual(got, c.pods) {
				t.Errorf("pods %v, want %v", got, c.pods)
			}
			if len(r.Owners) != c.owners || r.FailedCreate != c.failedCreate {
				t.Errorf("owners %d, FailedCreate %q; want %d, %q", len(r.Owners), r.FailedCreate, c.owners, c.failedCreate)
			}
		})
	}
}

func TestResolveReadsAReplicaFailureCondition(t *testing.T) {
	s := workloads()
	s.Pods = nil
	s.ReplicaSets[0].Status.Conditions = []appsv1.ReplicaSetCondition{{Type: appsv1.ReplicaSetReplicaFailure, Status: corev1.ConditionTrue, Reason: "FailedCreate", Message: "exceeded quota: compute"}}
	r, err := s.Resolve(Target{Kind: KindDeployment, Namespace: "shop", Name: "web"})
	if err != nil || r.FailedCreate != "exceeded quota: compute" {
		t.Fatalf("got %+v, %v; want the ReplicaSet's ReplicaFailure message", r, err)
	}
}

func TestResolveOfAMissingTargetIsANotFoundError(t *testing.T) {
	_, err := workloads().Resolve(Target{Kind: KindDeployment, Namespace: "shop", Name: "nope"})
	var nf *NotFoundError
	if !errors.As(err, &nf) || err.Error() != `deployment "nope" not found in namespace "shop"` {
		t.Fatalf("got %v, want a NotFoundError", err)
	}
}

func TestTargetQueriesPlanRoundByRound(t *testing.T) {
	active := "status.phase!=Succeeded,status.phase!=Failed"
	target := Target{Kind: KindDeployment, Namespace: "shop", Name: "web", PodFieldSelector: active, FailedCreateEvents: true}
	empty := &Snapshot{}
	if got, want := TargetQueries(empty, target), []Query{{Kind: KindDeployment, Namespace: "shop", Name: "web"}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("first round %v, want %v", got, want)
	}
	// The Deployment was asked for and is missing: nothing more to load.
	empty.queried = []Query{{Kind: KindDeployment, Namespace: "shop", Name: "web"}}
	if got := TargetQueries(empty, target); got != nil {
		t.Fatalf("after a missing object %v, want nothing", got)
	}
	s := &Snapshot{Deployments: workloads().Deployments, queried: empty.queried}
	want := []Query{
		{Kind: KindReplicaSet, Namespace: "shop", LabelSelector: "app=web"},
		{Kind: KindPod, Namespace: "shop", LabelSelector: "app=web", FieldSelector: active},
	}
	if got := TargetQueries(s, target); !reflect.DeepEqual(got, want) {
		t.Fatalf("second round %v, want %v", got, want)
	}
	s.queried = append(s.queried, want...)
	want = []Query{{Kind: KindEvent, Namespace: "shop", FieldSelector: "involvedObject.uid=d1,reason=FailedCreate", Optional: true}}
	if got := TargetQueries(s, target); !reflect.DeepEqual(got, want) {
		t.Fatalf("without pods %v, want %v", got, want)
	}
	// Every active pod of the cluster was listed already: no pod query.
	all := &Snapshot{Deployments: s.Deployments, queried: []Query{{Kind: KindPod, FieldSelector: active}, {Kind: KindDeployment, Namespace: "shop", Name: "web"}}}
	want = []Query{{Kind: KindReplicaSet, Namespace: "shop", LabelSelector: "app=web"}}
	if got := TargetQueries(all, target); !reflect.DeepEqual(got, want) {
		t.Fatalf("with every pod loaded %v, want %v", got, want)
	}
}

func TestLoadTargetsGetsByNameAndFollowsOwners(t *testing.T) {
	w := workloads()
	cs := fake.NewClientset(w.CronJobs[0], w.Jobs[0], w.Pods[2], w.Deployments[0])
	snap, err := LoadTargets(context.Background(), cs, LiveOptions{}, nil,
		Target{Kind: KindCronJob, Namespace: "shop", Name: "nightly"},
		Target{Kind: KindPod, Namespace: "shop", Name: "gone"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := snap.Resolve(Target{Kind: KindCronJob, Namespace: "shop", Name: "nightly"})
	if err != nil || !reflect.DeepEqual(podNames(r.Pods), []string{"nightly-1-a"}) {
		t.Fatalf("cronjob resolved to %+v, %v", r, err)
	}
	var nf *NotFoundError
	if _, err := snap.Resolve(Target{Kind: KindPod, Namespace: "shop", Name: "gone"}); !errors.As(err, &nf) {
		t.Fatalf("a missing pod gave %v, want a NotFoundError", err)
	}
	var gets int
	for _, a := range cs.Actions() {
		if a.GetVerb() == "get" {
			gets++
		}
	}
	if gets != 2 {
		t.Errorf("%d gets, want the CronJob and the pod by name", gets)
	}
}

func TestQueriedCoversNarrowerQueries(t *testing.T) {
	s := &Snapshot{queried: []Query{{Kind: KindPod, FieldSelector: "status.phase=Pending"}, {Kind: KindJob, Namespace: "shop"}}}
	cases := []struct {
		q    Query
		want bool
	}{
		{Query{Kind: KindPod, FieldSelector: "status.phase=Pending"}, true},
		{Query{Kind: KindPod, Namespace: "a", LabelSelector: "app=x", FieldSelector: "status.phase=Pending"}, true},
		{Query{Kind: KindPod, Namespace: "a"}, false},
		{Query{Kind: KindJob, Namespace: "shop", Name: "x"}, true},
		{Query{Kind: KindJob, Namespace: "other"}, false},
	}
	for _, c := range cases {
		if got := s.Queried(c.q); got != c.want {
			t.Errorf("Queried(%+v) = %v, want %v", c.q, got, c.want)
		}
	}
	if merged := Merge(s, nil); !merged.Queried(Query{Kind: KindJob, Namespace: "shop"}) {
		t.Error("Merge lost what was queried")
	}
}

func TestResolvePodsNamesEachPodOnce(t *testing.T) {
	s := workloads()
	pods, err := s.ResolvePods(
		Target{Kind: KindDeployment, Namespace: "shop", Name: "web"},
		Target{Kind: KindPod, Namespace: "shop", Name: "web-1-a"},
		Target{Kind: KindPod, Namespace: "shop", Name: "bare"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := podNames(pods), []string{"web-1-a", "bare"}; !reflect.DeepEqual(got, want) {
		t.Errorf("pods %v, want %v", got, want)
	}
	var nf *NotFoundError
	if _, err := s.ResolvePods(Target{Kind: KindPod, Namespace: "shop", Name: "gone"}); !errors.As(err, &nf) {
		t.Errorf("a missing target must be a *NotFoundError, got %v", err)
	}
}

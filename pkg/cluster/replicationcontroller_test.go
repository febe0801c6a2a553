package cluster

import (
	"context"
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

// legacy: a ReplicationController with one pod it controls and one its
// selector matches but another controller owns; quiet: one without pods,
// whose FailedCreate event and ReplicaFailure condition say why.
func legacy() *Snapshot {
	one := int32(1)
	return &Snapshot{
		ReplicationControllers: []*corev1.ReplicationController{
			{ObjectMeta: objMeta("shop", "legacy", "rc1", nil), Spec: corev1.ReplicationControllerSpec{Replicas: &one, Selector: map[string]string{"app": "web"}}},
			{ObjectMeta: objMeta("shop", "quiet", "rc2", nil), Spec: corev1.ReplicationControllerSpec{Replicas: &one,
				Template: &corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "quiet"}}}},
				Status: corev1.ReplicationControllerStatus{Conditions: []corev1.ReplicationControllerCondition{{
					Type: corev1.ReplicationControllerReplicaFailure, Status: corev1.ConditionTrue, Reason: "FailedCreate",
					Message: "older condition", LastTransitionTime: metav1.NewTime(time.Unix(100, 0))}}}},
		},
		Pods: []*corev1.Pod{
			labelled(pod("shop", "legacy-a", ""), controller("ReplicationController", "legacy", "rc1")),
			labelled(pod("shop", "stranger", ""), controller("ReplicaSet", "other", "rs2")),
		},
		Events: []*corev1.Event{{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "e1"}, Reason: "FailedCreate",
			Message: `pods "quiet-x" is forbidden: exceeded quota: compute`, LastTimestamp: metav1.NewTime(time.Unix(200, 0)),
			InvolvedObject: corev1.ObjectReference{Kind: "ReplicationController", UID: "rc2"}}},
	}
}

func TestReplicationControllerTypesAreKubectls(t *testing.T) {
	for _, typ := range []string{"rc", "RC", "replicationcontroller", "replicationcontrollers", "ReplicationController", "replicationcontrollers.v1"} {
		if k, _, ok := ParseType(typ); !ok || k != KindReplicationController {
			t.Errorf("ParseType(%q) = %q, %v; want ReplicationController", typ, k, ok)
		}
	}
	if g := Group(KindReplicationController); g != "" {
		t.Errorf("group %q, want the core group", g)
	}
}

func TestResolveAReplicationControllersPods(t *testing.T) {
	s := legacy()
	r, err := s.Resolve(Target{Kind: KindReplicationController, Namespace: "shop", Name: "legacy"})
	if err != nil {
		t.Fatal(err)
	}
	if got := podNames(r.Pods); !reflect.DeepEqual(got, []string{"legacy-a"}) {
		t.Errorf("pods %v, want the one it controls, not the one another controller owns", got)
	}
	if r.Selector.String() != "app=web" || r.FailedCreate != "" {
		t.Errorf("selector %q, FailedCreate %q", r.Selector, r.FailedCreate)
	}
	if got := (Target{Kind: KindReplicationController, Name: "legacy"}).String(); got != "replicationcontroller/legacy" {
		t.Errorf("String() = %q", got)
	}
}

func TestResolveAReplicationControllerWithoutPodsSaysWhy(t *testing.T) {
	s := legacy()
	r, err := s.Resolve(Target{Kind: KindReplicationController, Namespace: "shop", Name: "quiet"})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Pods) != 0 || r.FailedCreate != `pods "quiet-x" is forbidden: exceeded quota: compute` {
		t.Errorf("pods %v, FailedCreate %q; want none and the newer of the event and the condition", podNames(r.Pods), r.FailedCreate)
	}
	// Without the event, the ReplicaFailure condition explains it.
	s.Events = nil
	s.ResetIndexes()
	if r, err = s.Resolve(Target{Kind: KindReplicationController, Namespace: "shop", Name: "quiet"}); err != nil || r.FailedCreate != "older condition" {
		t.Errorf("got %q, %v; want the condition's message", r.FailedCreate, err)
	}
	// Its selector left out, as the API server would default it: the template's labels.
	if r.Selector.String() != "app=quiet" {
		t.Errorf("selector %q, want the template's labels", r.Selector)
	}
}

func TestTopOwnerOfAReplicationControllersPod(t *testing.T) {
	s := legacy()
	kind, name, obj := s.TopOwner(s.Pods[0])
	if kind != "ReplicationController" || name != "legacy" || obj != s.ReplicationControllers[0] {
		t.Errorf("TopOwner = %s, %s, %v; want the ReplicationController", kind, name, obj)
	}
	if w := s.Workload("ReplicationController", "shop", "quiet"); w != s.ReplicationControllers[1] {
		t.Errorf("Workload = %v", w)
	}
}

func TestLoadTargetsGetsAReplicationControllerAndItsPods(t *testing.T) {
	w := legacy()
	target := Target{Kind: KindReplicationController, Namespace: "shop", Name: "legacy"}
	if got, want := TargetQueries(&Snapshot{}, target), []Query{{Kind: KindReplicationController, Namespace: "shop", Name: "legacy"}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("first round %v, want %v", got, want)
	}
	w.ReplicationControllers[0].Annotations = map[string]string{lastApplied: "{}"}
	cs := fake.NewClientset(w.ReplicationControllers[0], w.Pods[0], w.Pods[1])
	snap, err := LoadTargets(context.Background(), cs, LiveOptions{}, nil, target)
	if err != nil {
		t.Fatal(err)
	}
	r, err := snap.Resolve(target)
	if err != nil || !reflect.DeepEqual(podNames(r.Pods), []string{"legacy-a"}) {
		t.Fatalf("got %v, %v; want the pod it controls", r, err)
	}
	if len(snap.ReplicationControllers) != 1 || len(snap.ReplicationControllers[0].Annotations) != 0 {
		t.Errorf("want the ReplicationController read by name and trimmed like any object: %+v", snap.ReplicationControllers)
	}
	if got := snap.Controllers(); len(got) != 1 || got[0] != snap.ReplicationControllers[0] {
		t.Errorf("Controllers() = %v, want the ReplicationController", got)
	}
}

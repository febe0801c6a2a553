package pending

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/ktriage/ktriage/pkg/cluster"
)

func hasQuery(qs []cluster.Query, want cluster.Query) bool {
	return slices.Contains(qs, want)
}

func TestContextQueriesAskForWhatThePodsName(t *testing.T) {
	bound := pod("shop", "web", onNode("n1"), func(p *corev1.Pod) {
		p.Spec.Volumes = []corev1.Volume{
			{Name: "cfg", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "web-config"}}}},
			{Name: "data", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}},
		}
	})
	qs := NewLivePlan("shop").ContextQueries(&cluster.Snapshot{}, []*corev1.Pod{bound}, []WorkloadTarget{{Kind: "Deployment", Namespace: "shop", Name: "api"}})
	for _, want := range []cluster.Query{
		{Kind: cluster.KindNode, Optional: true},
		{Kind: cluster.KindConfigMap, Namespace: "shop", FieldSelector: "metadata.name=web-config", Optional: true},
		{Kind: cluster.KindPVC, Namespace: "shop", Optional: true},
		{Kind: cluster.KindEvent, Namespace: "shop", FieldSelector: "involvedObject.uid=uid-shop-web", Optional: true},
		{Kind: cluster.KindResourceQuota, Namespace: "shop", Optional: true},
		{Kind: cluster.KindLimitRange, Namespace: "shop", Optional: true},
	} {
		if !hasQuery(qs, want) {
			t.Errorf("no query %+v in %+v", want, qs)
		}
	}
	if NewLivePlan("shop").ContextQueries(&cluster.Snapshot{}, nil, nil) != nil {
		t.Error("nothing to explain must load nothing")
	}
}

func TestNodePodQueriesListOnlyTheCandidateNodesPods(t *testing.T) {
	snap := &cluster.Snapshot{Nodes: []*corev1.Node{
		node("n1", "4", "8Gi"),
		node("n2", "4", "8Gi", func(n *corev1.Node) { n.Spec.Unschedulable = true }),
	}}
	p := pod("shop", "web")
	qs := NewLivePlan("shop").NodePodQueries(snap, []*corev1.Pod{p})
	if want := []cluster.Query{{Kind: cluster.KindPod, FieldSelector: "spec.nodeName=n1," + ActivePods}}; !slices.Equal(qs, want) {
		t.Errorf("got %+v, want %+v", qs, want)
	}
	spread := pod("shop", "spread", func(p *corev1.Pod) {
		p.Spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{MaxSkew: 1, TopologyKey: "zone"}}
	})
	if qs := NewLivePlan("shop").NodePodQueries(snap, []*corev1.Pod{spread}); !slices.Equal(qs, []cluster.Query{EveryActivePod}) {
		t.Errorf("a spread pod needs every pod, got %+v", qs)
	}
}

func TestSchedulerQueriesSkipThePodListWhenEveryPodIsLoaded(t *testing.T) {
	other := pod("shop", "web", func(p *corev1.Pod) { p.Spec.SchedulerName = "batch" })
	podList := cluster.Query{Kind: cluster.KindPod, FieldSelector: "spec.schedulerName=batch,spec.nodeName!=", Optional: true}
	if qs := SchedulerQueries(&cluster.Snapshot{}, []*corev1.Pod{other}); len(qs) != 4 || !hasQuery(qs, podList) {
		t.Errorf("got %+v, want the scheduler's pods, events and Lease", qs)
	}
	if qs := SchedulerQueries(&cluster.Snapshot{}, []*corev1.Pod{pod("shop", "x")}); qs != nil {
		t.Errorf("the default scheduler needs nothing, got %+v", qs)
	}
}

func TestManifestQueriesReadTheNamespacesTheManifestsUse(t *testing.T) {
	files := &cluster.Snapshot{Pods: []*corev1.Pod{
		pod("shop", "web"),
		pod("gpu", "train", func(p *corev1.Pod) {
			p.Spec.ResourceClaims = []corev1.PodResourceClaim{{Name: "gpu", ResourceClaimName: ptrTo("gpu")}}
		}),
	}}
	qs := ManifestQueries(files)
	for _, want := range []cluster.Query{
		{Kind: cluster.KindNode},
		{Kind: cluster.KindPod, FieldSelector: ActivePods},
		{Kind: cluster.KindResourceQuota, Namespace: "shop", Optional: true},
		{Kind: cluster.KindLimitRange, Namespace: "gpu", Optional: true},
		{Kind: cluster.KindResourceClaim, Namespace: "gpu", Optional: true},
		{Kind: cluster.KindDeviceClass, Optional: true},
	} {
		if !hasQuery(qs, want) {
			t.Errorf("no query %+v in %+v", want, qs)
		}
	}
	if hasQuery(qs, cluster.Query{Kind: cluster.KindResourceClaim, Namespace: "shop", Optional: true}) {
		t.Errorf("no pod in shop claims devices: %+v", qs)
	}
}

func ptrTo[T any](v T) *T { return &v }

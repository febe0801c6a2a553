package pending

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/pkg/report"
)

func deployment(name string, replicas int32, mods ...func(*corev1.PodSpec)) *appsv1.Deployment {
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ci", Name: name},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To(replicas), Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "app:1"}}},
		}},
	}
	for _, m := range mods {
		m(&d.Spec.Template.Spec)
	}
	return d
}

func manifests(objs ...any) *cluster.Snapshot {
	s := &cluster.Snapshot{Loaded: map[cluster.Kind]bool{}}
	for _, o := range objs {
		switch v := o.(type) {
		case *appsv1.Deployment:
			s.Deployments = append(s.Deployments, v)
			s.SetSource("Deployment", v.Namespace, v.Name, &report.Source{File: "k8s/" + v.Name + ".yaml", Line: 3})
		case *corev1.PersistentVolumeClaim:
			s.PVCs = append(s.PVCs, v)
		}
	}
	return s
}

func explainManifests(state *cluster.Snapshot, files *cluster.Snapshot) Result {
	return ExplainManifests(cluster.Merge(state, files), files, Options{Now: now})
}

func TestReplicasAreModelledForAntiAffinity(t *testing.T) {
	anti := func(s *corev1.PodSpec) {
		s.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
			LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}, TopologyKey: "kubernetes.io/hostname"}}}}
	}
	state := snapshot(node("n1", "4", "8Gi"), node("n2", "4", "8Gi"))
	state.Loaded[cluster.KindNamespace] = true
	res := explainManifests(state, manifests(deployment("web", 3, anti)))
	if len(res.Pods) != 1 {
		t.Fatalf("got %+v", res.Pods)
	}
	p := res.Pods[0]
	if p.Stage != StageUnschedulable || p.Replica != 3 || !strings.Contains(p.SimulatedSchedulerMessage, "2 node(s) didn't match pod anti-affinity rules") {
		t.Errorf("want replica 3 unschedulable by anti-affinity, got %s replica %d %q", p.Stage, p.Replica, p.SimulatedSchedulerMessage)
	}
	if p.Source == nil || p.Source.File != "k8s/web.yaml" || p.Source.Line != 3 {
		t.Errorf("want the finding at the manifest's file:line, got %+v", p.Source)
	}
	res = explainManifests(state, manifests(deployment("web", 2, anti)))
	if p := res.Pods[0]; p.Stage != StageSchedulable || p.Reason != "all 2 replicas fit" {
		t.Errorf("2 replicas on 2 nodes fit, got %s %q", p.Stage, p.Reason)
	}
}

func TestReplicasFillNodesOneByOne(t *testing.T) {
	state := snapshot(node("n1", "2", "8Gi"), node("n2", "2", "8Gi"))
	res := explainManifests(state, manifests(deployment("api", 5, func(s *corev1.PodSpec) {
		s.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}
	})))
	if p := res.Pods[0]; p.Stage != StageUnschedulable || p.Replica != 5 {
		t.Errorf("four 1-cpu replicas fill two 2-cpu nodes: want replica 5 unschedulable, got %s %d", p.Stage, p.Replica)
	}
}

func TestLimitRangeDefaultsAreAppliedBeforeScheduling(t *testing.T) {
	lr := &corev1.LimitRange{ObjectMeta: metav1.ObjectMeta{Namespace: "ci", Name: "defaults"}, Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
		Type: corev1.LimitTypeContainer, DefaultRequest: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("3")},
	}}}}
	state := snapshot(node("n1", "2", "8Gi"))
	state.LimitRanges = append(state.LimitRanges, lr)
	res := explainManifests(state, manifests(deployment("api", 1)))
	p := res.Pods[0]
	if p.Stage != StageUnschedulable || !strings.Contains(strings.Join(p.Evidence, "\n"), "requests.cpu=3 from LimitRange defaults") {
		t.Errorf("the defaulted 3-cpu request does not fit a 2-cpu node: got %s %q", p.Stage, p.Evidence)
	}
}

func TestALimitRangeMaximumMeansNotCreated(t *testing.T) {
	lr := &corev1.LimitRange{ObjectMeta: metav1.ObjectMeta{Namespace: "ci", Name: "max"}, Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
		Type: corev1.LimitTypeContainer, Max: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("512Mi")},
	}}}}
	state := snapshot(node("n1", "2", "8Gi"))
	state.LimitRanges = append(state.LimitRanges, lr)
	res := explainManifests(state, manifests(deployment("api", 1, func(s *corev1.PodSpec) {
		s.Containers[0].Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")}
	})))
	if p := res.Pods[0]; p.Stage != StageNotCreated || !strings.Contains(p.Reason, "maximum memory usage per Container is 512Mi, but limit is 1Gi") {
		t.Errorf("got %s %q", p.Stage, p.Reason)
	}
}

func TestAPodLimitRangeMaximumCountsTheContainersTogether(t *testing.T) {
	lr := &corev1.LimitRange{ObjectMeta: metav1.ObjectMeta{Namespace: "ci", Name: "per-pod"}, Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
		Type: corev1.LimitTypePod, Max: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")},
	}}}}
	state := snapshot(node("n1", "4", "8Gi"))
	state.LimitRanges = append(state.LimitRanges, lr)
	res := explainManifests(state, manifests(deployment("api", 1, func(s *corev1.PodSpec) {
		s.Containers[0].Resources.Limits = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("600m")}
		side := s.Containers[0]
		side.Name = "sidecar"
		s.Containers = append(s.Containers, side)
	})))
	if p := res.Pods[0]; p.Stage != StageNotCreated || !strings.Contains(p.Reason, "maximum cpu usage per Pod is 1, but limit is 1200m") {
		t.Errorf("two 600m limits exceed a 1-cpu Pod maximum: got %s %q", p.Stage, p.Reason)
	}
}

func TestQuotaHeadroom(t *testing.T) {
	quota := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Namespace: "ci", Name: "compute"},
		Status: corev1.ResourceQuotaStatus{
			Hard: corev1.ResourceList{"requests.cpu": resource.MustParse("4")},
			Used: corev1.ResourceList{"requests.cpu": resource.MustParse("1")},
		}}
	cpu := func(q string) func(*corev1.PodSpec) {
		return func(s *corev1.PodSpec) {
			s.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(q)}
		}
	}
	cases := []struct {
		name      string
		d         *appsv1.Deployment
		wantStage Stage
		want      string
	}{
		{"replicas within the headroom fit", deployment("a", 3, cpu("1")), StageSchedulable, ""},
		{"replicas beyond the headroom exceed the quota", deployment("a", 4, cpu("1")), StageNotCreated, "requests.cpu: 4 replica(s) request 4, used 1, hard 4 (needs 5)"},
		{"containers without the tracked request are refused", deployment("a", 1), StageNotCreated, "requires requests.cpu for: app"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			state := snapshot(node("n1", "8", "8Gi"), node("n2", "8", "8Gi"))
			state.ResourceQuotas = append(state.ResourceQuotas, quota)
			res := explainManifests(state, manifests(tc.d))
			p := res.Pods[0]
			if p.Stage != tc.wantStage || !strings.Contains(p.Reason, tc.want) {
				t.Errorf("got %s %q", p.Stage, p.Reason)
			}
		})
	}
}

func TestAManifestClaimAClassWillProvisionDoesNotBlock(t *testing.T) {
	sc := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "standard", Annotations: map[string]string{annDefaultClass: "true"}}, Provisioner: "csi.example.com"}
	c := claim("ci", "data", nil)
	c.Status.Phase = ""
	state := snapshot(node("n1", "4", "8Gi"), sc)
	files := manifests(deployment("db", 1, withClaimSpec("data")), c)
	res := explainManifests(state, files)
	if p := res.Pods[0]; p.Stage != StageSchedulable {
		t.Errorf("the default class provisions the claim: got %s %q %v", p.Stage, p.Reason, ruleIDs(res))
	}
	state = snapshot(node("n1", "4", "8Gi"))
	res = explainManifests(state, files)
	if p := res.Pods[0]; p.Stage != StageVolumeBinding {
		t.Errorf("no class at all: got %s %q", p.Stage, p.Reason)
	}
}

func withClaimSpec(name string) func(*corev1.PodSpec) {
	return func(s *corev1.PodSpec) {
		s.Volumes = append(s.Volumes, corev1.Volume{Name: "data", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: name}}})
	}
}

func TestADaemonSetIsCheckedOnEveryEligibleNode(t *testing.T) {
	ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Namespace: "ci", Name: "agent"}, Spec: appsv1.DaemonSetSpec{Template: corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "agent"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "agent", Image: "agent:1",
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}}}}},
	}}}
	busy := pod("other", "busy", onNode("n2"), requests("3500m", ""))
	tainted := node("n3", "4", "8Gi", func(n *corev1.Node) {
		n.Spec.Taints = []corev1.Taint{{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule}}
	})
	state := snapshot(node("n1", "4", "8Gi"), node("n2", "4", "8Gi"), tainted, busy)
	files := &cluster.Snapshot{Loaded: map[cluster.Kind]bool{}, DaemonSets: []*appsv1.DaemonSet{ds}}
	res := explainManifests(state, files)
	if len(res.Pods) != 1 {
		t.Fatalf("got %+v", res.Pods)
	}
	p := res.Pods[0]
	if p.Stage != StageUnschedulable || p.Node != "n2" || p.Replicas != 2 || !strings.HasPrefix(p.Reason, "no room on 1 of 2 node(s) (first: n2)") {
		t.Errorf("the tainted node is not eligible, n2 is full: got %s node %s of %d: %q", p.Stage, p.Node, p.Replicas, p.Reason)
	}
}

func TestARuntimeClassAddsItsOverheadOrRefusesThePod(t *testing.T) {
	kata := &nodev1.RuntimeClass{ObjectMeta: metav1.ObjectMeta{Name: "kata"}, Handler: "kata",
		Overhead: &nodev1.Overhead{PodFixed: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m")}}}
	state := snapshot(node("n1", "1", "8Gi"))
	state.RuntimeClasses = []*nodev1.RuntimeClass{kata}
	state.Loaded[cluster.KindRuntimeClass] = true
	withClass := func(name string) func(*corev1.PodSpec) {
		return func(s *corev1.PodSpec) {
			s.RuntimeClassName = ptr.To(name)
			s.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("900m")}
		}
	}
	// 900m fits on the 1-cpu node; with kata's 500m overhead it does not.
	res := explainManifests(state, manifests(deployment("sandboxed", 1, withClass("kata"))))
	if p := res.Pods[0]; p.Stage != StageUnschedulable || !strings.Contains(p.SimulatedSchedulerMessage, "Insufficient cpu") {
		t.Errorf("want the overhead counted: got %s %q", p.Stage, p.SimulatedSchedulerMessage)
	}
	res = explainManifests(state, manifests(deployment("typo", 1, withClass("katta"))))
	if p := res.Pods[0]; p.Stage != StageNotCreated || !strings.Contains(p.Reason, `RuntimeClass "katta" not found`) {
		t.Errorf("want the pod refused at admission: got %s %q", p.Stage, p.Reason)
	}
}

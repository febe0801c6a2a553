package scheduling

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	resourcev1 "k8s.io/api/resource/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ktriage/ktriage/pkg/cluster"
)

func withClaim(claim string) podOpt {
	return func(p *corev1.Pod) {
		p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: "data",
			VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim}}})
	}
}

func pvc(name, class, volumeName string, modes ...corev1.PersistentVolumeAccessMode) *corev1.PersistentVolumeClaim {
	if len(modes) == 0 {
		modes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}
	}
	c := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: corev1.PersistentVolumeClaimSpec{StorageClassName: &class, VolumeName: volumeName, AccessModes: modes,
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}},
	}
	if volumeName != "" {
		c.Annotations = map[string]string{"pv.kubernetes.io/bind-completed": "yes"}
		c.Status.Phase = corev1.ClaimBound
	}
	return c
}

func storageClass(name, provisioner string, mode storagev1.VolumeBindingMode) *storagev1.StorageClass {
	return &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Provisioner: provisioner, VolumeBindingMode: &mode}
}

func pvInZone(name, zone string) *corev1.PersistentVolume {
	return &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:    corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			NodeAffinity: &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
				MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "zone", Operator: corev1.NodeSelectorOpIn, Values: []string{zone}}},
			}}}},
		},
	}
}

func TestVolumeFilters(t *testing.T) {
	cases := []struct {
		name    string
		pod     *corev1.Pod
		snap    *cluster.Snapshot
		message string
		// reason checked on the first node, when set.
		reason *Reason
	}{
		{
			name: "an unbound claim with immediate binding fails before any node, and preemption never runs",
			pod:  pod("p", withClaim("data")),
			snap: &cluster.Snapshot{Nodes: []*corev1.Node{node("n1")}, PVCs: []*corev1.PersistentVolumeClaim{pvc("data", "fast", "")},
				StorageClasses: []*storagev1.StorageClass{storageClass("fast", "example.com/csi", storagev1.VolumeBindingImmediate)}},
			message: "0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims. not found",
		},
		{
			name:    "a missing claim is named by VolumeRestrictions first",
			pod:     pod("p", withClaim("gone")),
			snap:    &cluster.Snapshot{Nodes: []*corev1.Node{node("n1")}},
			message: `0/1 nodes are available: persistentvolumeclaim "gone" not found. not found`,
		},
		{
			name: "a bound volume's node affinity names the PV and the node's label",
			pod:  pod("p", withClaim("data")),
			snap: &cluster.Snapshot{Nodes: []*corev1.Node{node("n1", withLabels("zone", "b"))},
				PVCs: []*corev1.PersistentVolumeClaim{pvc("data", "", "pv-a")}, PVs: []*corev1.PersistentVolume{pvInZone("pv-a", "a")}},
			message: "0/1 nodes are available: 1 node(s) didn't match PersistentVolume's node affinity. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.",
			reason: &Reason{Plugin: "VolumeBinding", Message: "node(s) didn't match PersistentVolume's node affinity", Unresolvable: true, Reported: true,
				Detail: "PersistentVolume pv-a (bound to PersistentVolumeClaim default/data) requires nodes with zone in (a); node has zone=b"},
		},
		{
			name: "a claim bound to a PV that is gone fails in VolumeZone's PreFilter",
			pod:  pod("p", withClaim("data")),
			snap: &cluster.Snapshot{Nodes: []*corev1.Node{node("n1")},
				PVCs: []*corev1.PersistentVolumeClaim{pvc("data", "", "pv-gone")}},
			message: `0/1 nodes are available: persistentvolume "pv-gone" not found. not found`,
		},
		{
			name: "a WaitForFirstConsumer claim with no volume that fits and no provisioner",
			pod:  pod("p", withClaim("data")),
			snap: &cluster.Snapshot{Nodes: []*corev1.Node{node("n1", withLabels("zone", "b"))},
				PVCs: []*corev1.PersistentVolumeClaim{pvc("data", "local", "")},
				PVs: []*corev1.PersistentVolume{func() *corev1.PersistentVolume {
					v := pvInZone("pv-a", "a")
					v.Spec.StorageClassName = "local"
					return v
				}()},
				StorageClasses: []*storagev1.StorageClass{storageClass("local", "kubernetes.io/no-provisioner", storagev1.VolumeBindingWaitForFirstConsumer)}},
			message: "0/1 nodes are available: 1 node(s) didn't find available persistent volumes to bind. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.",
			reason: &Reason{Plugin: "VolumeBinding", Message: "node(s) didn't find available persistent volumes to bind", Unresolvable: true, Reported: true,
				Detail: "PersistentVolumeClaim default/data: no available PersistentVolume of StorageClass local fits this node and the class does not provision (kubernetes.io/no-provisioner)"},
		},
		{
			name: "a ReadWriteOncePod claim in use by another pod",
			pod:  pod("p", withClaim("solo")),
			snap: &cluster.Snapshot{Nodes: []*corev1.Node{node("n1")},
				Pods: []*corev1.Pod{pod("owner", onNode("n1"), withClaim("solo"))},
				PVCs: []*corev1.PersistentVolumeClaim{pvc("solo", "", "pv-1", corev1.ReadWriteOncePod)},
				PVs:  []*corev1.PersistentVolume{{ObjectMeta: metav1.ObjectMeta{Name: "pv-1"}}}},
			message: "0/1 nodes are available: 1 node(s) unavailable due to PersistentVolumeClaim with ReadWriteOncePod access mode already in-use by another pod. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.",
			reason: &Reason{Plugin: "VolumeRestrictions", Message: "node(s) unavailable due to PersistentVolumeClaim with ReadWriteOncePod access mode already in-use by another pod",
				Reported: true, Detail: "PersistentVolumeClaim solo (ReadWriteOncePod) is in use by pod default/owner on n1"},
		},
		{
			name: "a PV labeled for another zone fails VolumeZone",
			pod:  pod("p", withClaim("data")),
			snap: &cluster.Snapshot{Nodes: []*corev1.Node{node("n1", withLabels("topology.kubernetes.io/zone", "b"))},
				PVCs: []*corev1.PersistentVolumeClaim{pvc("data", "", "pv-z")},
				PVs: []*corev1.PersistentVolume{{ObjectMeta: metav1.ObjectMeta{Name: "pv-z",
					Labels: map[string]string{"topology.kubernetes.io/zone": "a__c"}}}}},
			message: "0/1 nodes are available: 1 node(s) had no available volume zone. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.",
			reason: &Reason{Plugin: "VolumeZone", Message: "node(s) had no available volume zone", Unresolvable: true, Reported: true,
				Detail: "PersistentVolume pv-z is labeled topology.kubernetes.io/zone=a__c; node has topology.kubernetes.io/zone=b"},
		},
		{
			name: "a CSI driver's volume limit is reached",
			pod:  pod("p", withClaim("new")),
			snap: func() *cluster.Snapshot {
				csiPV := func(name string) *corev1.PersistentVolume {
					return &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PersistentVolumeSpec{
						PersistentVolumeSource: corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{Driver: "ebs.csi.aws.com", VolumeHandle: name}}}}
				}
				one := int32(1)
				return &cluster.Snapshot{Nodes: []*corev1.Node{node("n1")},
					Pods: []*corev1.Pod{pod("old", onNode("n1"), withClaim("old"))},
					PVCs: []*corev1.PersistentVolumeClaim{pvc("old", "", "vol-old"), pvc("new", "", "vol-new")},
					PVs:  []*corev1.PersistentVolume{csiPV("vol-old"), csiPV("vol-new")},
					CSINodes: []*storagev1.CSINode{{ObjectMeta: metav1.ObjectMeta{Name: "n1"}, Spec: storagev1.CSINodeSpec{Drivers: []storagev1.CSINodeDriver{
						{Name: "ebs.csi.aws.com", NodeID: "i-1", Allocatable: &storagev1.VolumeNodeResources{Count: &one}}}}}}}
			}(),
			message: "0/1 nodes are available: 1 node(s) exceed max volume count. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.",
			reason: &Reason{Plugin: "NodeVolumeLimits", Message: "node(s) exceed max volume count", Reported: true,
				Detail: "CSI driver ebs.csi.aws.com: node allows 1 volumes, 1 attached by its pods, the pod adds 1"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := Evaluate(tc.pod, tc.snap, Options{})
			if res.Message != tc.message {
				t.Errorf("Message\n got: %s\nwant: %s", res.Message, tc.message)
			}
			if tc.reason != nil {
				got := reasonsOf(t, res, tc.snap.Nodes[0].Name)
				if len(got) == 0 || !sameReason(got[0], *tc.reason) {
					t.Errorf("reason\n got: %+v\nwant: %+v", got, *tc.reason)
				}
			}
		})
	}
}

func TestDynamicResources(t *testing.T) {
	claim := func(class string) *resourcev1.ResourceClaim {
		return &resourcev1.ResourceClaim{ObjectMeta: metav1.ObjectMeta{Name: "gpu", Namespace: "default"},
			Spec: resourcev1.ResourceClaimSpec{Devices: resourcev1.DeviceClaim{Requests: []resourcev1.DeviceRequest{{
				Name: "gpu", Exactly: &resourcev1.ExactDeviceRequest{DeviceClassName: class}}}}}}
	}
	class := &resourcev1.DeviceClass{ObjectMeta: metav1.ObjectMeta{Name: "gpu.example.com"},
		Spec: resourcev1.DeviceClassSpec{Selectors: []resourcev1.DeviceSelector{{CEL: &resourcev1.CELDeviceSelector{
			Expression: `device.driver == "gpu.example.com"`}}}}}
	usesClaim := func(p *corev1.Pod) {
		name := "gpu"
		p.Spec.ResourceClaims = []corev1.PodResourceClaim{{Name: "gpu", ResourceClaimName: &name}}
	}
	cases := []struct {
		name    string
		snap    *cluster.Snapshot
		message string
		detail  string
	}{
		{
			name:    "a claim that does not exist",
			snap:    &cluster.Snapshot{Nodes: []*corev1.Node{node("n1")}},
			message: `0/1 nodes are available: resourceclaim.resource.k8s.io "gpu" not found. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.`,
		},
		{
			name:    "a device class that does not exist",
			snap:    &cluster.Snapshot{Nodes: []*corev1.Node{node("n1")}, ResourceClaims: []*resourcev1.ResourceClaim{claim("missing")}},
			message: "0/1 nodes are available: request gpu: device class missing does not exist. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.",
		},
		{
			name: "no driver publishes devices for the node",
			snap: &cluster.Snapshot{Nodes: []*corev1.Node{node("n1")}, ResourceClaims: []*resourcev1.ResourceClaim{claim("gpu.example.com")},
				DeviceClasses: []*resourcev1.DeviceClass{class}},
			message: "0/1 nodes are available: 1 cannot allocate all claims. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.",
			detail:  "ResourceClaim default/gpu request gpu needs driver gpu.example.com, which publishes no ResourceSlice for this node",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := Evaluate(pod("p", usesClaim), tc.snap, Options{})
			if res.Message != tc.message {
				t.Errorf("Message\n got: %s\nwant: %s", res.Message, tc.message)
			}
			if tc.detail != "" {
				if got := reasonsOf(t, res, "n1"); len(got) == 0 || got[0].Detail != tc.detail {
					t.Errorf("detail\n got: %+v\nwant: %s", got, tc.detail)
				}
			}
		})
	}
}

func TestPreemption(t *testing.T) {
	started := func(min int) podOpt {
		return func(p *corev1.Pod) {
			ts := metav1.Date(2026, 1, 1, 0, min, 0, 0, metav1.Now().Location())
			p.Status.StartTime = &ts
		}
	}
	t.Run("the node with the lowest-priority victims is nominated and only the needed victims go", func(t *testing.T) {
		nodes := []*corev1.Node{node("n1"), node("n2")}
		pods := []*corev1.Pod{
			pod("n1-a", onNode("n1"), requests("cpu", "2"), priority(50), started(1)),
			pod("n1-b", onNode("n1"), requests("cpu", "2"), priority(50), started(2)),
			pod("n2-a", onNode("n2"), requests("cpu", "2"), priority(10), started(1)),
			pod("n2-b", onNode("n2"), requests("cpu", "2"), priority(10), started(2)),
		}
		res := Evaluate(pod("p", requests("cpu", "2"), priority(100)), snapshot(nodes, pods...), Options{})
		want := "0/2 nodes are available: 2 Insufficient cpu. preemption: found a potential placement for pod on node n2, preempting 1 victims"
		if res.Message != want {
			t.Errorf("Message\n got: %s\nwant: %s", res.Message, want)
		}
		// The most important (earliest started) victim is reprieved first.
		if res.Preemption == nil || res.Preemption.Node != "n2" || len(res.Preemption.Victims) != 1 || res.Preemption.Victims[0] != "default/n2-b" {
			t.Errorf("Preemption = %+v, want n2 evicting default/n2-b", res.Preemption)
		}
	})
	t.Run("a terminating victim on the nominated node blocks further preemption", func(t *testing.T) {
		now := metav1.Now()
		victim := pod("victim", onNode("n1"), requests("cpu", "3"), priority(10), func(p *corev1.Pod) {
			p.DeletionTimestamp = &now
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue, Reason: corev1.PodReasonPreemptionByScheduler}}
		})
		p := pod("p", requests("cpu", "2"), priority(100), func(p *corev1.Pod) { p.Status.NominatedNodeName = "n1" })
		res := Evaluate(p, snapshot([]*corev1.Node{node("n1")}, victim), Options{})
		want := "0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to a terminating pod on the nominated node."
		if res.Message != want {
			t.Errorf("Message\n got: %s\nwant: %s", res.Message, want)
		}
	})
	t.Run("a PriorityClass with preemptionPolicy Never is honoured for pods read from manifests", func(t *testing.T) {
		never := corev1.PreemptNever
		snap := snapshot([]*corev1.Node{node("n1")})
		snap.PriorityClasses = append(snap.PriorityClasses, priorityClass("batch", 5, &never))
		res := Evaluate(pod("p", requests("cpu", "8"), func(p *corev1.Pod) { p.Spec.PriorityClassName = "batch" }), snap, Options{})
		want := "0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never."
		if res.Message != want {
			t.Errorf("Message\n got: %s\nwant: %s", res.Message, want)
		}
	})
}

func TestNominatedPodsHoldTheirPlace(t *testing.T) {
	nominated := pod("first", requests("cpu", "3"), priority(100), func(p *corev1.Pod) { p.Status.NominatedNodeName = "n1" })
	res := Evaluate(pod("p", requests("cpu", "2"), priority(100)), snapshot([]*corev1.Node{node("n1")}, nominated), Options{})
	r := reasonsOf(t, res, "n1")
	if len(r) != 1 || r[0].Message != "Insufficient cpu" ||
		r[0].Detail != "cpu: requests 2, node allocatable 4, already requested 3, free 1 (counting pods nominated to this node: default/first)" {
		t.Errorf("want the nominated pod's cpu counted, got %+v", r)
	}
	lower := pod("p", requests("cpu", "2"), priority(1000))
	if res := Evaluate(lower, snapshot([]*corev1.Node{node("n1")}, nominated), Options{}); len(res.Feasible) != 1 {
		t.Errorf("a higher-priority pod ignores lower nominated pods; got %+v", res.Nodes)
	}
}

func TestKindsNotLoadedAreSkippedWithAWarning(t *testing.T) {
	snap := &cluster.Snapshot{Nodes: []*corev1.Node{node("n1")}, Loaded: map[cluster.Kind]bool{cluster.KindNode: true, cluster.KindPod: true}}
	res := Evaluate(pod("p", withClaim("data")), snap, Options{})
	if len(res.Feasible) != 1 {
		t.Errorf("volume plugins should be skipped when claims were not loaded; got %+v", res.Nodes)
	}
	if len(res.Warnings) == 0 {
		t.Fatal("want a warning naming the skipped plugins")
	}
	if want := "VolumeRestrictions not evaluated: PersistentVolumeClaim not loaded"; res.Warnings[0] != want {
		t.Errorf("warning %q, want %q", res.Warnings[0], want)
	}
}

func TestKindsNotLoadedMatterOnlyToPodsThatUseThem(t *testing.T) {
	snap := &cluster.Snapshot{Nodes: []*corev1.Node{node("n1")}, Loaded: map[cluster.Kind]bool{cluster.KindNode: true, cluster.KindPod: true}}
	if res := Evaluate(pod("p"), snap, Options{}); len(res.Unevaluated) != 0 || len(res.Warnings) != 0 {
		t.Errorf("a pod without volumes or claims loses nothing: got %v %v", res.Unevaluated, res.Warnings)
	}
	res := Evaluate(pod("p", withClaim("data")), snap, Options{})
	if got := strings.Join(res.Unevaluated, ","); got != "VolumeRestrictions,NodeVolumeLimits,VolumeBinding,VolumeZone" {
		t.Errorf("Unevaluated = %s", got)
	}
}

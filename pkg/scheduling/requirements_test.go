package scheduling

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	resourcev1 "k8s.io/api/resource/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ktriage/ktriage/pkg/cluster"
)

func withVolume(v corev1.Volume) podOpt {
	return func(p *corev1.Pod) { p.Spec.Volumes = append(p.Spec.Volumes, v) }
}

func gceDisk(name string) corev1.Volume {
	return corev1.Volume{Name: "d", VolumeSource: corev1.VolumeSource{GCEPersistentDisk: &corev1.GCEPersistentDiskVolumeSource{PDName: name}}}
}

// loadedOnly is a live snapshot that holds nodes and pods and nothing else.
func loadedOnly(s *cluster.Snapshot, kinds ...cluster.Kind) *cluster.Snapshot {
	s.Loaded = map[cluster.Kind]bool{cluster.KindNode: true, cluster.KindPod: true}
	for _, k := range kinds {
		s.Loaded[k] = true
	}
	return s
}

func csiNodeWithLimit(node, driver string, count int32) *storagev1.CSINode {
	return &storagev1.CSINode{ObjectMeta: metav1.ObjectMeta{Name: node}, Spec: storagev1.CSINodeSpec{Drivers: []storagev1.CSINodeDriver{
		{Name: driver, NodeID: node, Allocatable: &storagev1.VolumeNodeResources{Count: &count}}}}}
}

func TestInTreeDisksAreCheckedWithoutClaims(t *testing.T) {
	cases := []struct {
		name string
		vol  corev1.VolumeSource
	}{
		{"a GCE persistent disk", corev1.VolumeSource{GCEPersistentDisk: &corev1.GCEPersistentDiskVolumeSource{PDName: "d1"}}},
		{"an AWS EBS volume", corev1.VolumeSource{AWSElasticBlockStore: &corev1.AWSElasticBlockStoreVolumeSource{VolumeID: "vol-1"}}},
		{"an RBD image", corev1.VolumeSource{RBD: &corev1.RBDVolumeSource{CephMonitors: []string{"m"}, RBDImage: "i"}}},
		{"an iSCSI target", corev1.VolumeSource{ISCSI: &corev1.ISCSIVolumeSource{TargetPortal: "1.2.3.4:3260", IQN: "iqn.x"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := corev1.Volume{Name: "d", VolumeSource: tc.vol}
			// CSINodes decide whether migrated disks count against a limit.
			snap := loadedOnly(snapshot([]*corev1.Node{node("n1")}, pod("holder", onNode("n1"), withVolume(v))), cluster.KindCSINode, cluster.KindCSIDriver)
			res := Evaluate(pod("p", withVolume(v)), snap, Options{})
			if len(res.Feasible) != 0 || len(res.Unevaluated) != 0 {
				t.Fatalf("claims were not loaded, but the disk check reads none: want the node rejected, got feasible %v, unevaluated %v", res.Feasible, res.Unevaluated)
			}
			if r := reasonsOf(t, res, "n1"); r[0].Plugin != "VolumeRestrictions" || r[0].Message != msgDiskConflict {
				t.Errorf("got %+v", r)
			}
		})
	}
}

func TestAMigratedInlineDiskCountsAgainstTheCSIDriversLimit(t *testing.T) {
	const driver = "pd.csi.storage.gke.io"
	holder := pod("holder", onNode("n1"), withVolume(gceDisk("other")))
	snap := snapshot([]*corev1.Node{node("n1"), node("n2")}, holder)
	snap.CSINodes = []*storagev1.CSINode{csiNodeWithLimit("n1", driver, 1)}
	res := Evaluate(pod("p", withVolume(gceDisk("mine"))), snap, Options{})
	if got := reasonsOf(t, res, "n1"); got[0].Message != msgMaxVolumeCount || !strings.Contains(got[0].Detail, "node allows 1 volumes, 1 attached by its pods, the pod adds 1") {
		t.Errorf("n1 allows one volume and holds one: got %+v", got)
	}
	if !slices.Equal(res.Feasible, []string{"n2"}) {
		t.Errorf("n2 has no CSINode, so migration is off there and nothing counts: feasible %v", res.Feasible)
	}

	// A VolumeAttachment on the node counts like a pod's volume.
	snap = snapshot([]*corev1.Node{node("n1")})
	snap.CSINodes = []*storagev1.CSINode{csiNodeWithLimit("n1", driver, 1)}
	pvName := "pv-attached"
	snap.PVs = []*corev1.PersistentVolume{{ObjectMeta: metav1.ObjectMeta{Name: pvName}, Spec: corev1.PersistentVolumeSpec{
		PersistentVolumeSource: corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{Driver: driver, VolumeHandle: "h1"}}}}}
	snap.VolumeAttachments = []*storagev1.VolumeAttachment{{ObjectMeta: metav1.ObjectMeta{Name: "va"}, Spec: storagev1.VolumeAttachmentSpec{
		Attacher: driver, NodeName: "n1", Source: storagev1.VolumeAttachmentSource{PersistentVolumeName: &pvName}}}}
	res = Evaluate(pod("p", withVolume(gceDisk("mine"))), snap, Options{})
	if got := reasonsOf(t, res, "n1"); got[0].Message != msgMaxVolumeCount || !strings.Contains(got[0].Detail, "0 attached by its pods and 1 more by VolumeAttachments") {
		t.Errorf("got %+v", got)
	}
}

func TestRequirementsFollowWhatThePodAndTheClusterUse(t *testing.T) {
	nsSelectorTerm := corev1.PodAffinityTerm{TopologyKey: "kubernetes.io/hostname",
		LabelSelector:     &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
		NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "a"}}}
	guard := pod("guard", onNode("n1"), func(p *corev1.Pod) {
		p.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{nsSelectorTerm}}}
	})
	limited := snapshot([]*corev1.Node{node("n1")})
	limited.CSINodes = []*storagev1.CSINode{csiNodeWithLimit("n1", "x", 3)}

	cases := []struct {
		name string
		snap *cluster.Snapshot
		pod  *corev1.Pod
		want []string // plugin:kind/namespace
	}{
		{"a pod with nothing special reads nodes and pods only", snapshot(nil), pod("p"), nil},
		{"an inline disk needs no claim", snapshot(nil), pod("p", withVolume(gceDisk("d"))),
			[]string{"NodeVolumeLimits:CSINode/", "NodeVolumeLimits:CSIDriver/"}},
		{"a claim is read in the pod's namespace", snapshot(nil), pod("p", withClaim("data")), []string{
			"VolumeRestrictions:PersistentVolumeClaim/default",
			"NodeVolumeLimits:CSINode/", "NodeVolumeLimits:CSIDriver/", "NodeVolumeLimits:PersistentVolumeClaim/default",
			"NodeVolumeLimits:PersistentVolume/", "NodeVolumeLimits:StorageClass/",
			"VolumeBinding:PersistentVolumeClaim/default", "VolumeBinding:PersistentVolume/", "VolumeBinding:StorageClass/", "VolumeBinding:CSIDriver/",
			"VolumeZone:PersistentVolumeClaim/default", "VolumeZone:PersistentVolume/", "VolumeZone:StorageClass/"}},
		{"once a node limits volumes, every claim and attachment counts", limited, pod("p", withVolume(gceDisk("d"))), []string{
			"NodeVolumeLimits:CSINode/", "NodeVolumeLimits:CSIDriver/", "NodeVolumeLimits:PersistentVolumeClaim/",
			"NodeVolumeLimits:PersistentVolume/", "NodeVolumeLimits:StorageClass/", "NodeVolumeLimits:VolumeAttachment/"}},
		{"the pod's own term selecting namespaces by label", snapshot(nil), pod("p", func(p *corev1.Pod) {
			p.Spec.Affinity = &corev1.Affinity{PodAffinity: &corev1.PodAffinity{
				RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{nsSelectorTerm}}}
		}), []string{"InterPodAffinity:Namespace/"}},
		{"an existing pod's anti-affinity that would match the pod", snapshot([]*corev1.Node{node("n1")}, guard),
			pod("p", podLabels("app", "web")), []string{"InterPodAffinity:Namespace/", "DefaultPreemption:PodDisruptionBudget/", "DefaultPreemption:PriorityClass/"}},
		{"an existing pod's anti-affinity that cannot match the pod", snapshot([]*corev1.Node{node("n1")}, guard),
			pod("p", podLabels("app", "db")), []string{"DefaultPreemption:PodDisruptionBudget/", "DefaultPreemption:PriorityClass/"}},
		{"resource claims", snapshot(nil), pod("p", func(p *corev1.Pod) {
			name := "gpu"
			p.Spec.ResourceClaims = []corev1.PodResourceClaim{{Name: "gpu", ResourceClaimName: &name}}
		}), []string{"DynamicResources:ResourceClaim/default", "DynamicResources:DeviceClass/", "DynamicResources:ResourceSlice/"}},
		{"an extended resource a DeviceClass may provide", snapshot(nil), pod("p", requests("example.com/gpu", "1")),
			[]string{"DynamicResources:DeviceClass/"}},
		{"a node with pods: preemption weighs their budgets and priorities", snapshot([]*corev1.Node{node("n1")}, pod("low", onNode("n1"), priority(1))),
			pod("p", priority(10)), []string{"DefaultPreemption:PodDisruptionBudget/", "DefaultPreemption:PriorityClass/"}},
		{"empty nodes: nothing to preempt", snapshot([]*corev1.Node{node("n1")}), pod("p", priority(10)), nil},
		{"a pod bound to a node the snapshot does not hold: nothing to preempt", snapshot([]*corev1.Node{node("n1")}, pod("low", onNode("n2"))), pod("p"), nil},
		{"a pod that ended holds nothing", snapshot([]*corev1.Node{node("n1")}, pod("done", onNode("n1"), func(p *corev1.Pod) { p.Status.Phase = corev1.PodSucceeded })), pod("p"), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// A Planner, which indexes only what the requirements read,
			// answers as the Engine does.
			for name, requirements := range map[string]func(*corev1.Pod) []Requirement{
				"Engine": NewEngine(tc.snap).Requirements, "Planner": NewPlanner(tc.snap).Requirements,
			} {
				var got []string
				for _, r := range requirements(tc.pod) {
					got = append(got, r.Plugin+":"+string(r.Kind)+"/"+r.Namespace)
				}
				if !slices.Equal(got, tc.want) {
					t.Errorf("%s: got  %q\nwant %q", name, got, tc.want)
				}
			}
		})
	}
}

func TestAFilterMissingWhatItReadsIsNotEvaluated(t *testing.T) {
	nsSelectorTerm := corev1.PodAffinityTerm{TopologyKey: "kubernetes.io/hostname",
		LabelSelector:     &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
		NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "a"}}}
	guard := pod("guard", onNode("n1"), func(p *corev1.Pod) {
		p.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{nsSelectorTerm}}}
	})
	snap := loadedOnly(snapshot([]*corev1.Node{node("n1")}, guard))
	res := Evaluate(pod("p", podLabels("app", "web")), snap, Options{})
	if !slices.Equal(res.Unevaluated, []string{"InterPodAffinity"}) || res.Warnings[0] != "InterPodAffinity not evaluated: Namespace not loaded" {
		t.Errorf("without namespaces the guard's namespaceSelector cannot be decided: unevaluated %v, warnings %v", res.Unevaluated, res.Warnings)
	}
	snap = loadedOnly(snapshot([]*corev1.Node{node("n1")}, guard), cluster.KindNamespace)
	snap.Namespaces = []*corev1.Namespace{{ObjectMeta: metav1.ObjectMeta{Name: "default", Labels: map[string]string{"team": "a"}}}}
	if res := Evaluate(pod("p", podLabels("app", "web")), snap, Options{}); len(res.Feasible) != 0 || len(res.Unevaluated) != 0 {
		t.Errorf("with namespaces the guard rejects the pod: feasible %v, unevaluated %v", res.Feasible, res.Unevaluated)
	}
}

func TestWhatTheEngineDoesNotSimulateIsNotEvaluated(t *testing.T) {
	one := "gpu"
	claimPod := pod("p", func(p *corev1.Pod) {
		p.Spec.ResourceClaims = []corev1.PodResourceClaim{{Name: "gpu", ResourceClaimName: &one}}
	})
	n1 := "n1"
	snap := snapshot([]*corev1.Node{node("n1"), node("n2")})
	snap.ResourceClaims = []*resourcev1.ResourceClaim{{ObjectMeta: metav1.ObjectMeta{Name: "gpu", Namespace: "default"},
		Spec: resourcev1.ResourceClaimSpec{Devices: resourcev1.DeviceClaim{Requests: []resourcev1.DeviceRequest{
			{Name: "gpu", Exactly: &resourcev1.ExactDeviceRequest{DeviceClassName: "gpu.example.com"}}}}}}}
	snap.DeviceClasses = []*resourcev1.DeviceClass{{ObjectMeta: metav1.ObjectMeta{Name: "gpu.example.com"},
		Spec: resourcev1.DeviceClassSpec{Selectors: []resourcev1.DeviceSelector{{CEL: &resourcev1.CELDeviceSelector{Expression: `device.driver == "gpu.example.com"`}}}}}}
	snap.ResourceSlices = []*resourcev1.ResourceSlice{{ObjectMeta: metav1.ObjectMeta{Name: "s"},
		Spec: resourcev1.ResourceSliceSpec{Driver: "gpu.example.com", NodeName: &n1}}}
	res := Evaluate(claimPod, snap, Options{})
	if !slices.Equal(res.Feasible, []string{"n1"}) || !slices.Equal(res.Unevaluated, []string{"DynamicResources"}) {
		t.Fatalf("n1 passes what is checked, but device allocation is not simulated: feasible %v, unevaluated %v", res.Feasible, res.Unevaluated)
	}
	if !strings.Contains(strings.Join(res.Warnings, "\n"), "DynamicResources not fully evaluated: allocating devices for ResourceClaim default/gpu") {
		t.Errorf("warnings %q", res.Warnings)
	}

	// A CSI driver that publishes storage capacity: free space is not checked.
	yes := true
	snap = snapshot([]*corev1.Node{node("n1")})
	snap.PVCs = []*corev1.PersistentVolumeClaim{pvc("data", "fast", "")}
	snap.StorageClasses = []*storagev1.StorageClass{storageClass("fast", "csi.example.com", storagev1.VolumeBindingWaitForFirstConsumer)}
	snap.CSIDrivers = []*storagev1.CSIDriver{{ObjectMeta: metav1.ObjectMeta{Name: "csi.example.com"}, Spec: storagev1.CSIDriverSpec{StorageCapacity: &yes}}}
	res = Evaluate(pod("p", withClaim("data")), snap, Options{})
	if !slices.Equal(res.Unevaluated, []string{"VolumeBinding"}) {
		t.Errorf("storage capacity is not simulated: unevaluated %v, warnings %v", res.Unevaluated, res.Warnings)
	}
}

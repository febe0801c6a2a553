// Package bigcluster builds large, realistic, deterministic cluster
// snapshots for benchmarks: thousands of nodes, tens of thousands of running
// pods with the fields the API server really returns (owner references,
// managed fields, conditions, container statuses, the service-account
// volume), and Pending pods stuck for every reason why-pending explains. The
// same seed always gives the same objects.
package bigcluster

import (
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/ktriage/ktriage/pkg/cluster"
)

// Now is the time the generated cluster is observed at; analyses given
// Options.Now = Now see the same pod ages every run.
var Now = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// Config sizes a cluster.
type Config struct {
	Seed       uint64
	Nodes      int
	Running    int // pods bound to nodes and running
	Pending    int // Pending pods, of every cause in Causes
	Namespaces int
}

// Large is the cluster the performance contracts are stated for.
var Large = Config{Seed: 1, Nodes: 5000, Running: 50000, Pending: 500, Namespaces: 100}

// Medium is Large divided by ten.
var Medium = Config{Seed: 1, Nodes: 500, Running: 5000, Pending: 50, Namespaces: 100}

// ScaleEnv names the environment variable that selects the cluster the
// per-cause and printing why-pending benchmarks use: "large" for Large,
// anything else for Medium.
const ScaleEnv = "KTRIAGE_BENCH_SCALE"

// PendingScale is the cluster the per-cause (pkg/pending) and printing
// (plugins/whypending) benchmarks explain: Medium by default, which keeps
// them quick and still names a slow path; Large with
// KTRIAGE_BENCH_SCALE=large. test/bench measures the contract on Large.
func PendingScale() Config {
	if os.Getenv(ScaleEnv) == "large" {
		return Large
	}
	return Medium
}

// Cause is why a generated Pending pod is stuck.
type Cause string

// The causes, in the order Pending pods cycle through them.
const (
	InsufficientCPU  Cause = "insufficient-cpu"
	UntoleratedTaint Cause = "untolerated-taint"
	NodeSelector     Cause = "node-selector"
	NodeAffinity     Cause = "node-affinity"
	PodAntiAffinity  Cause = "pod-anti-affinity"
	TopologySpread   Cause = "topology-spread"
	Mixed            Cause = "mixed"
	Gated            Cause = "gated"
	NoScheduler      Cause = "no-scheduler"
	MissingClaim     Cause = "missing-claim"
	ImagePull        Cause = "image-pull"
	MissingConfigMap Cause = "missing-configmap"
	InitCrashLoop    Cause = "init-crashloop"
	NodeNotReady     Cause = "node-not-ready"
)

// Causes lists every cause once.
var Causes = []Cause{InsufficientCPU, UntoleratedTaint, NodeSelector, NodeAffinity, PodAntiAffinity,
	TopologySpread, Mixed, Gated, NoScheduler, MissingClaim, ImagePull, MissingConfigMap, InitCrashLoop, NodeNotReady}

// Cluster is a generated snapshot plus what the generator knows about it.
type Cluster struct {
	*cluster.Snapshot
	// PendingPods are the Pending pods, in generation order.
	PendingPods []*corev1.Pod
	// CauseOf is the cause each Pending pod was built with, by namespace/name.
	CauseOf map[string]Cause
}

// Zones are the topology.kubernetes.io/zone values nodes spread over.
var Zones = []string{"eu-west-1a", "eu-west-1b", "eu-west-1c"}

type shape struct {
	instance   string
	cpu, memGi int64
}

var shapes = []shape{{"m6i.xlarge", 4, 16}, {"m6i.2xlarge", 8, 32}, {"m6i.4xlarge", 16, 64}}

// Generate builds the cluster cfg describes.
func Generate(cfg Config) *Cluster {
	r := rand.New(rand.NewPCG(cfg.Seed, 0x6b747269616765))
	c := &Cluster{Snapshot: &cluster.Snapshot{Loaded: map[cluster.Kind]bool{}}, CauseOf: map[string]Cause{}}
	for _, k := range []cluster.Kind{cluster.KindNode, cluster.KindPod, cluster.KindEvent, cluster.KindPVC, cluster.KindPV,
		cluster.KindStorageClass, cluster.KindConfigMap, cluster.KindSecret, cluster.KindReplicaSet, cluster.KindDeployment} {
		c.Loaded[k] = true
	}
	s := c.Snapshot
	for i := range cfg.Namespaces {
		name := nsName(i)
		s.Namespaces = append(s.Namespaces, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, UID: uid("ns", name),
			Labels: map[string]string{"kubernetes.io/metadata.name": name, "team": fmt.Sprintf("team-%d", i%10)}}})
	}
	s.StorageClasses = append(s.StorageClasses, &storagev1.StorageClass{
		ObjectMeta:  metav1.ObjectMeta{Name: "gp3", UID: uid("sc", "gp3"), Annotations: map[string]string{"storageclass.kubernetes.io/is-default-class": "true"}},
		Provisioner: "ebs.csi.aws.com", VolumeBindingMode: ptr(storagev1.VolumeBindingWaitForFirstConsumer),
	})

	for i := range cfg.Nodes {
		s.Nodes = append(s.Nodes, genNode(r, i))
	}

	// Workloads: one Deployment and ReplicaSet per 10 running pods.
	perRS := 10
	rsCount := (cfg.Running + perRS - 1) / perRS
	for i := range rsCount {
		ns := nsName(i % max(cfg.Namespaces, 1))
		d, rs := genWorkload(ns, fmt.Sprintf("app-%d", i), int32(perRS))
		s.Deployments = append(s.Deployments, d)
		s.ReplicaSets = append(s.ReplicaSets, rs)
	}

	// Running pods go where their requests fit, as the scheduler put them.
	cpuUsed := make([]int64, len(s.Nodes))
	for i := range cfg.Running {
		rs := s.ReplicaSets[i/perRS]
		p := runningPod(r, rs, i%perRS)
		req := cpuRequest(p)
		j := r.IntN(len(s.Nodes))
		for k := 0; k < len(s.Nodes); k++ {
			n := s.Nodes[j]
			if schedulable(n) && cpuUsed[j]+req <= n.Status.Allocatable.Cpu().MilliValue() {
				break
			}
			j = (j + 1) % len(s.Nodes)
		}
		cpuUsed[j] += req
		n := s.Nodes[j]
		start(p, n)
		s.Pods = append(s.Pods, p)
		// Most pods have the usual lifecycle events still around.
		if i%5 == 0 {
			s.Events = append(s.Events,
				event(p, "Scheduled", corev1.EventTypeNormal, "default-scheduler", fmt.Sprintf("Successfully assigned %s/%s to %s", p.Namespace, p.Name, n.Name)),
				event(p, "Pulled", corev1.EventTypeNormal, "kubelet", fmt.Sprintf("Container image %q already present on machine", p.Spec.Containers[0].Image)),
				event(p, "Started", corev1.EventTypeNormal, "kubelet", "Started container app"))
		}
	}

	for i := range cfg.Pending {
		cause := Causes[i%len(Causes)]
		ns := nsName(r.IntN(max(cfg.Namespaces, 1)))
		p := c.pendingPod(r, i, ns, cause)
		c.Pods = append(c.Pods, p)
		c.PendingPods = append(c.PendingPods, p)
		c.CauseOf[p.Namespace+"/"+p.Name] = cause
	}
	return c
}

func nsName(i int) string { return fmt.Sprintf("team-%02d", i) }

func uid(kind, name string) types.UID {
	return types.UID(fmt.Sprintf("%08x-0000-4000-8000-%012x", fnv(kind), fnv(name)&0xffffffffffff))
}

func fnv(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

func ptr[T any](v T) *T { return &v }

func quantity(s string) resource.Quantity { return resource.MustParse(s) }

func schedulable(n *corev1.Node) bool {
	return !n.Spec.Unschedulable && len(n.Spec.Taints) == 0
}

// genNode: three instance sizes over three zones; about 2% dedicated GPU
// nodes (tainted), 0.5% cordoned and 0.2% NotReady.
func genNode(r *rand.Rand, i int) *corev1.Node {
	name := fmt.Sprintf("ip-10-%d-%d-%d.eu-west-1.compute.internal", i/65536%256, i/256%256, i%256)
	sh := shapes[r.IntN(len(shapes))]
	zone := Zones[i%len(Zones)]
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, UID: uid("node", name), ResourceVersion: fmt.Sprint(1000 + i),
			CreationTimestamp: metav1.NewTime(Now.Add(-time.Duration(24+r.IntN(24*30)) * time.Hour)),
			Labels: map[string]string{
				"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
				"topology.kubernetes.io/zone": zone, "topology.kubernetes.io/region": "eu-west-1",
				"node.kubernetes.io/instance-type": sh.instance, "karpenter.sh/capacity-type": "on-demand",
			},
			Annotations: map[string]string{"node.alpha.kubernetes.io/ttl": "0", "volumes.kubernetes.io/controller-managed-attach-detach": "true"},
		},
		Spec: corev1.NodeSpec{PodCIDR: fmt.Sprintf("100.%d.%d.0/24", 64+i/256%64, i%256), ProviderID: "aws:///" + zone + "/i-" + fmt.Sprintf("%017x", fnv(name))},
		Status: corev1.NodeStatus{
			Capacity: corev1.ResourceList{
				corev1.ResourceCPU: *resource.NewQuantity(sh.cpu, resource.DecimalSI), corev1.ResourceMemory: *resource.NewQuantity(sh.memGi<<30, resource.BinarySI),
				corev1.ResourcePods: quantity("110"), corev1.ResourceEphemeralStorage: quantity("100Gi"),
			},
			Allocatable: corev1.ResourceList{
				corev1.ResourceCPU: *resource.NewMilliQuantity(sh.cpu*1000-90, resource.DecimalSI), corev1.ResourceMemory: *resource.NewQuantity(sh.memGi<<30-(1<<30), resource.BinarySI),
				corev1.ResourcePods: quantity("110"), corev1.ResourceEphemeralStorage: quantity("95Gi"),
			},
			Conditions: nodeConditions(corev1.ConditionTrue),
			Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: fmt.Sprintf("10.%d.%d.%d", i/65536%256, i/256%256, i%256)},
				{Type: corev1.NodeHostName, Address: name}},
			NodeInfo: corev1.NodeSystemInfo{KubeletVersion: "v1.37.2", ContainerRuntimeVersion: "containerd://2.1.4", OSImage: "Bottlerocket OS 1.40.0", KernelVersion: "6.12.40", OperatingSystem: "linux", Architecture: "amd64"},
			Images:   nodeImages(i),
		},
	}
	switch {
	case i%50 == 7:
		n.Labels["nvidia.com/gpu.present"] = "true"
		n.Spec.Taints = []corev1.Taint{{Key: "nvidia.com/gpu", Value: "present", Effect: corev1.TaintEffectNoSchedule}}
		n.Status.Allocatable["nvidia.com/gpu"] = quantity("4")
		n.Status.Capacity["nvidia.com/gpu"] = quantity("4")
	case i%200 == 11:
		n.Spec.Unschedulable = true
		n.Spec.Taints = []corev1.Taint{{Key: corev1.TaintNodeUnschedulable, Effect: corev1.TaintEffectNoSchedule}}
	case i%500 == 13:
		n.Status.Conditions = nodeConditions(corev1.ConditionUnknown)
		n.Spec.Taints = []corev1.Taint{{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoSchedule},
			{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoExecute, TimeAdded: ptr(metav1.NewTime(Now.Add(-20 * time.Minute)))}}
	}
	return n
}

func nodeConditions(ready corev1.ConditionStatus) []corev1.NodeCondition {
	t := metav1.NewTime(Now.Add(-time.Hour))
	cs := []corev1.NodeCondition{
		{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientMemory", Message: "kubelet has sufficient memory available", LastHeartbeatTime: t, LastTransitionTime: t},
		{Type: corev1.NodeDiskPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasNoDiskPressure", Message: "kubelet has no disk pressure", LastHeartbeatTime: t, LastTransitionTime: t},
		{Type: corev1.NodePIDPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientPID", Message: "kubelet has sufficient PID available", LastHeartbeatTime: t, LastTransitionTime: t},
		{Type: corev1.NodeReady, Status: ready, Reason: "KubeletReady", Message: "kubelet is posting ready status", LastHeartbeatTime: t, LastTransitionTime: t},
	}
	if ready != corev1.ConditionTrue {
		cs[3].Reason, cs[3].Message = "NodeStatusUnknown", "Kubelet stopped posting node status."
	}
	return cs
}

func nodeImages(i int) []corev1.ContainerImage {
	var out []corev1.ContainerImage
	for j := range 8 {
		img := fmt.Sprintf("registry.example.com/team-%02d/app-%d", (i+j)%100, (i*31+j)%500)
		out = append(out, corev1.ContainerImage{Names: []string{img + "@sha256:" + fmt.Sprintf("%064x", fnv(img)), img + ":1.4.2"}, SizeBytes: int64(50_000_000 + j*1_000_000)})
	}
	return out
}

func genWorkload(ns, name string, replicas int32) (*appsv1.Deployment, *appsv1.ReplicaSet) {
	labels := map[string]string{"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": ns}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: uid("deploy", ns+"/"+name), Labels: labels},
		Spec:       appsv1.DeploymentSpec{Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: labels}},
		Status:     appsv1.DeploymentStatus{Replicas: replicas, ReadyReplicas: replicas, AvailableReplicas: replicas},
	}
	hash := fmt.Sprintf("%010x", fnv(ns+name))[:10]
	rsLabels := map[string]string{"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": ns, "pod-template-hash": hash}
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name + "-" + hash, UID: uid("rs", ns+"/"+name), Labels: rsLabels,
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: name, UID: d.UID, Controller: ptr(true), BlockOwnerDeletion: ptr(true)}}},
		Spec:   appsv1.ReplicaSetSpec{Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: rsLabels}},
		Status: appsv1.ReplicaSetStatus{Replicas: replicas, ReadyReplicas: replicas},
	}
	return d, rs
}

// managedFields is what kube-controller-manager and the kubelet leave on
// every pod; it is a large part of what a LIST transfers and decodes.
var managedFields = []metav1.ManagedFieldsEntry{
	{Manager: "kube-controller-manager", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "v1", FieldsType: "FieldsV1",
		FieldsV1: metav1.NewFieldsV1(`{"f:metadata":{"f:generateName":{},"f:labels":{".":{},"f:app.kubernetes.io/name":{},"f:app.kubernetes.io/part-of":{},"f:pod-template-hash":{}},"f:ownerReferences":{".":{},"k:{\"uid\":\"x\"}":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"app\"}":{".":{},"f:image":{},"f:imagePullPolicy":{},"f:name":{},"f:ports":{".":{},"k:{\"containerPort\":8080,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{},"f:name":{},"f:protocol":{}}},"f:readinessProbe":{".":{},"f:failureThreshold":{},"f:httpGet":{".":{},"f:path":{},"f:port":{},"f:scheme":{}},"f:periodSeconds":{},"f:successThreshold":{},"f:timeoutSeconds":{}},"f:resources":{".":{},"f:limits":{},"f:requests":{}},"f:terminationMessagePath":{},"f:terminationMessagePolicy":{}}},"f:dnsPolicy":{},"f:enableServiceLinks":{},"f:restartPolicy":{},"f:schedulerName":{},"f:securityContext":{},"f:terminationGracePeriodSeconds":{}}}`)},
	{Manager: "kubelet", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "v1", FieldsType: "FieldsV1", Subresource: "status",
		FieldsV1: metav1.NewFieldsV1(`{"f:status":{"f:conditions":{"k:{\"type\":\"ContainersReady\"}":{".":{},"f:lastProbeTime":{},"f:lastTransitionTime":{},"f:status":{},"f:type":{}},"k:{\"type\":\"Initialized\"}":{".":{},"f:lastProbeTime":{},"f:lastTransitionTime":{},"f:status":{},"f:type":{}},"k:{\"type\":\"PodReadyToStartContainers\"}":{".":{},"f:lastProbeTime":{},"f:lastTransitionTime":{},"f:status":{},"f:type":{}},"k:{\"type\":\"Ready\"}":{".":{},"f:lastProbeTime":{},"f:lastTransitionTime":{},"f:status":{},"f:type":{}}},"f:containerStatuses":{},"f:hostIP":{},"f:hostIPs":{},"f:phase":{},"f:podIP":{},"f:podIPs":{".":{},"k:{\"ip\":\"x\"}":{".":{},"f:ip":{}}},"f:startTime":{}}}`)},
}

// basePod is a pod as a Deployment's ReplicaSet creates it and the API
// server defaults it.
func basePod(ns, name string, created time.Time) *corev1.Pod {
	grace := int64(30)
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: uid("pod", ns+"/"+name), ResourceVersion: fmt.Sprint(fnv(name) % 1e9),
			CreationTimestamp: metav1.NewTime(created), ManagedFields: managedFields},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{
				Name: "app", Image: "registry.example.com/" + ns + "/app:1.4.2", ImagePullPolicy: corev1.PullIfNotPresent,
				Ports:                    []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}},
				Env:                      []corev1.EnvVar{{Name: "LOG_LEVEL", Value: "info"}, {Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.name"}}}},
				ReadinessProbe:           &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(8080), Scheme: corev1.URISchemeHTTP}}, PeriodSeconds: 10, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 3},
				VolumeMounts:             []corev1.VolumeMount{{Name: "kube-api-access", MountPath: "/var/run/secrets/kubernetes.io/serviceaccount", ReadOnly: true}},
				TerminationMessagePath:   "/dev/termination-log",
				TerminationMessagePolicy: corev1.TerminationMessageReadFile,
			}},
			Volumes:                       []corev1.Volume{serviceAccountVolume()},
			RestartPolicy:                 corev1.RestartPolicyAlways,
			TerminationGracePeriodSeconds: &grace,
			DNSPolicy:                     corev1.DNSClusterFirst,
			ServiceAccountName:            "default",
			SchedulerName:                 corev1.DefaultSchedulerName,
			Priority:                      ptr(int32(0)),
			EnableServiceLinks:            ptr(true),
			PreemptionPolicy:              ptr(corev1.PreemptLowerPriority),
			SecurityContext:               &corev1.PodSecurityContext{},
			Tolerations: []corev1.Toleration{
				{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr(int64(300))},
				{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr(int64(300))},
			},
		},
		Status: corev1.PodStatus{Phase: corev1.PodPending},
	}
}

func serviceAccountVolume() corev1.Volume {
	return corev1.Volume{Name: "kube-api-access", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
		DefaultMode: ptr(int32(420)),
		Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{ExpirationSeconds: ptr(int64(3607)), Path: "token"}},
			{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"}, Items: []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
			{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{Path: "namespace", FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"}}}}},
		},
	}}}
}

// QoS classes of running pods: about 20% Guaranteed, 70% Burstable, 10%
// BestEffort.
func setResources(r *rand.Rand, p *corev1.Pod) {
	c := &p.Spec.Containers[0]
	cpu := []string{"50m", "100m", "250m", "500m"}[r.IntN(4)]
	mem := []string{"64Mi", "128Mi", "256Mi", "512Mi", "1Gi"}[r.IntN(5)]
	switch x := r.IntN(10); {
	case x < 2:
		c.Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: quantity(cpu), corev1.ResourceMemory: quantity(mem)}
		c.Resources.Limits = c.Resources.Requests.DeepCopy()
		p.Status.QOSClass = corev1.PodQOSGuaranteed
	case x < 9:
		c.Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: quantity(cpu), corev1.ResourceMemory: quantity(mem)}
		if x%2 == 0 {
			c.Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: quantity("2Gi")}
		}
		p.Status.QOSClass = corev1.PodQOSBurstable
	default:
		p.Status.QOSClass = corev1.PodQOSBestEffort
	}
}

func cpuRequest(p *corev1.Pod) int64 {
	var m int64
	for _, c := range append(p.Spec.InitContainers, p.Spec.Containers...) {
		m += c.Resources.Requests.Cpu().MilliValue()
	}
	return m
}

func runningPod(r *rand.Rand, rs *appsv1.ReplicaSet, i int) *corev1.Pod {
	name := fmt.Sprintf("%s-%05x", rs.Name, fnv(fmt.Sprint(rs.Name, i))&0xfffff)
	created := Now.Add(-time.Duration(1+r.IntN(24*14)) * time.Hour)
	p := basePod(rs.Namespace, name, created)
	p.GenerateName = rs.Name + "-"
	p.Labels = map[string]string{}
	for k, v := range rs.Labels {
		p.Labels[k] = v
	}
	p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID, Controller: ptr(true), BlockOwnerDeletion: ptr(true)}}
	setResources(r, p)
	if i == 0 && r.IntN(4) == 0 {
		// A sidecar (restartable init container), as service meshes add.
		p.Spec.InitContainers = []corev1.Container{{Name: "proxy", Image: "registry.example.com/mesh/proxy:1.27", RestartPolicy: ptr(corev1.ContainerRestartPolicyAlways),
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: quantity("10m"), corev1.ResourceMemory: quantity("40Mi")}}}}
	}
	return p
}

// start binds a pod to a node and makes it Running and Ready.
func start(p *corev1.Pod, n *corev1.Node) {
	created := p.CreationTimestamp.Time
	name := p.Name
	bind(p, n, created)
	ready := metav1.NewTime(created.Add(5 * time.Second))
	p.Status.Phase = corev1.PodRunning
	p.Status.Conditions = []corev1.PodCondition{
		{Type: corev1.PodReadyToStartContainers, Status: corev1.ConditionTrue, LastTransitionTime: ready},
		{Type: corev1.PodInitialized, Status: corev1.ConditionTrue, LastTransitionTime: ready},
		{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: ready},
		{Type: corev1.ContainersReady, Status: corev1.ConditionTrue, LastTransitionTime: ready},
		{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(created)},
	}
	p.Status.ContainerStatuses = []corev1.ContainerStatus{{
		Name: "app", Ready: true, Started: ptr(true), Image: p.Spec.Containers[0].Image,
		ImageID:     p.Spec.Containers[0].Image + "@sha256:" + fmt.Sprintf("%064x", fnv(p.Spec.Containers[0].Image)),
		ContainerID: "containerd://" + fmt.Sprintf("%064x", fnv(name)),
		State:       corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: ready}},
	}}
}

func bind(p *corev1.Pod, n *corev1.Node, created time.Time) {
	p.Spec.NodeName = n.Name
	hostIP := n.Status.Addresses[0].Address
	podIP := fmt.Sprintf("100.%d.%d.%d", 64+int(fnv(n.Name)%64), fnv(p.Name)%256, 2+fnv(p.Namespace+p.Name)%250)
	p.Status.HostIP, p.Status.PodIP = hostIP, podIP
	p.Status.HostIPs = []corev1.HostIP{{IP: hostIP}}
	p.Status.PodIPs = []corev1.PodIP{{IP: podIP}}
	p.Status.StartTime = ptr(metav1.NewTime(created))
}

func event(p *corev1.Pod, reason, typ, component, msg string) *corev1.Event {
	t := metav1.NewTime(p.CreationTimestamp.Add(2 * time.Second))
	if p.Status.Phase == corev1.PodPending {
		t = metav1.NewTime(Now.Add(-time.Minute))
	}
	return &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{Namespace: p.Namespace, Name: fmt.Sprintf("%s.%x", p.Name, fnv(reason+p.Name)), UID: uid("event", p.Name+reason)},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: p.Namespace, Name: p.Name, UID: p.UID, APIVersion: "v1",
			FieldPath: "spec.containers{app}"},
		Reason: reason, Type: typ, Message: msg, Count: 1,
		Source:         corev1.EventSource{Component: component},
		FirstTimestamp: t, LastTimestamp: t, ReportingController: component,
	}
}

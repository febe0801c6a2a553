package scheduling

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/pkg/scheduling"
	"github.com/ktriage/ktriage/test/e2e/framework"
)

// The local cluster has three kwok nodes, kwok-node-0..2, each with 4 cpu,
// 8Gi memory, 110 pods, in zones zone-a, zone-b, zone-c.
var nodeNames = []string{"kwok-node-0", "kwok-node-1", "kwok-node-2"}

// scenario makes one pod unschedulable: the pod labeled app=pending whose
// PodScheduled condition is False (named "pending" unless a controller
// creates it).
type scenario struct {
	name string
	// nodes changes the shared nodes (by index) for this scenario only.
	nodes map[int]func(*corev1.Node)
	// clusterObjects are cluster-scoped manifests (PVs, StorageClasses,
	// PriorityClasses), deleted afterwards.
	clusterObjects string
	// objects are namespaced manifests applied before the pending pod; every
	// pod among them must reach Running first.
	objects string
	// pending is the manifest of the pod named "pending", or of a controller
	// whose pods carry app=pending.
	pending string
	// expect is a part of the scheduler's message that shows the scenario
	// produced the cause it is about.
	expect string
	// nsLabels label the scenario's namespace.
	nsLabels map[string]string
	// detail is a part of the Detail some node's reported reason must carry.
	detail string
	// snapshotBefore evaluates against the cluster as it was before the
	// pending pod arrived: preemption changes the cluster right after the
	// scheduler writes its message.
	snapshotBefore bool
}

func filler(name, node, cpu string, extra string) string {
	return fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata:
  name: %s
  labels: {app: filler}
spec:
  nodeName: %s
  containers:
  - name: c
    image: registry.k8s.io/pause:3.10
    resources: {requests: {cpu: "%s"}}
%s
---`, name, node, cpu, extra)
}

func pendingPod(spec string) string {
	return `
apiVersion: v1
kind: Pod
metadata:
  name: pending
  labels: {app: pending}
spec:
  containers:
  - name: c
    image: registry.k8s.io/pause:3.10
` + spec
}

func setAllocatable(name corev1.ResourceName, q string) func(*corev1.Node) {
	return func(n *corev1.Node) {
		n.Status.Allocatable[name] = resource.MustParse(q)
		n.Status.Capacity[name] = resource.MustParse(q)
	}
}

func addTaint(key, value string, effect corev1.TaintEffect) func(*corev1.Node) {
	return func(n *corev1.Node) {
		n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: key, Value: value, Effect: effect})
	}
}

func addLabel(key, value string) func(*corev1.Node) {
	return func(n *corev1.Node) { n.Labels[key] = value }
}

func cordon() func(*corev1.Node) { return func(n *corev1.Node) { n.Spec.Unschedulable = true } }

func both(fs ...func(*corev1.Node)) func(*corev1.Node) {
	return func(n *corev1.Node) {
		for _, f := range fs {
			f(n)
		}
	}
}

var scenarios = []scenario{
	{
		name:    "insufficient cpu on every node",
		objects: filler("f0", nodeNames[0], "3", "") + filler("f1", nodeNames[1], "3", "") + filler("f2", nodeNames[2], "3", ""),
		pending: pendingPod(`    resources: {requests: {cpu: "2"}}`),
		expect:  "Insufficient cpu",
	},
	{
		name:    "insufficient memory larger than any node",
		pending: pendingPod(`    resources: {requests: {memory: 9Gi}}`),
		expect:  "Insufficient memory",
	},
	{
		name: "too many pods on every node",
		nodes: map[int]func(*corev1.Node){
			0: setAllocatable(corev1.ResourcePods, "1"), 1: setAllocatable(corev1.ResourcePods, "1"), 2: setAllocatable(corev1.ResourcePods, "1"),
		},
		objects: filler("f0", nodeNames[0], "0", "") + filler("f1", nodeNames[1], "0", "") + filler("f2", nodeNames[2], "0", ""),
		pending: pendingPod(""),
		expect:  "Too many pods",
	},
	{
		name:    "an extended resource only one node has, and too little of it",
		nodes:   map[int]func(*corev1.Node){0: setAllocatable("example.com/gpu", "1")},
		pending: pendingPod(`    resources: {requests: {example.com/gpu: "2"}, limits: {example.com/gpu: "2"}}`),
		expect:  "Insufficient example.com/gpu",
	},
	{
		name: "several taints, one tolerated",
		nodes: map[int]func(*corev1.Node){
			0: addTaint("dedicated", "gpu", corev1.TaintEffectNoSchedule),
			1: addTaint("maintenance", "", corev1.TaintEffectNoExecute),
			2: both(addTaint("team", "a", corev1.TaintEffectNoSchedule), addTaint("spot", "true", corev1.TaintEffectNoSchedule)),
		},
		pending: pendingPod(`  tolerations:
  - {key: team, operator: Equal, value: a, effect: NoSchedule}`),
		expect: "untolerated taint",
		detail: "taint spot=true:NoSchedule is not tolerated",
	},
	{
		name:    "a nodeSelector no node matches",
		nodes:   map[int]func(*corev1.Node){0: addLabel("disk", "hdd")},
		pending: pendingPod(`  nodeSelector: {disk: ssd}`),
		expect:  "didn't match Pod's node affinity/selector",
		detail:  "nodeSelector disk=ssd: node has disk=hdd",
	},
	{
		name:  "node affinity In and NotIn",
		nodes: map[int]func(*corev1.Node){0: addLabel("tier", "gold"), 1: addLabel("tier", "silver")},
		pending: pendingPod(`  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchExpressions:
          - {key: tier, operator: In, values: [gold, silver]}
          - {key: topology.kubernetes.io/zone, operator: NotIn, values: [zone-a, zone-b]}`),
		expect: "didn't match Pod's node affinity/selector",
	},
	{
		name:  "node affinity Exists and Gt",
		nodes: map[int]func(*corev1.Node){0: addLabel("cores", "8"), 1: addLabel("cores", "64")},
		pending: pendingPod(`  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchExpressions:
          - {key: cores, operator: Exists}
          - {key: cores, operator: Gt, values: ["16"]}
          - {key: kubernetes.io/hostname, operator: NotIn, values: [kwok-node-1]}`),
		expect: "didn't match Pod's node affinity/selector",
	},
	{
		name:    "pod anti-affinity with a pod on every node",
		objects: filler("f0", nodeNames[0], "0", "") + filler("f1", nodeNames[1], "0", "") + filler("f2", nodeNames[2], "0", ""),
		pending: pendingPod(`  affinity:
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {matchLabels: {app: filler}}
        topologyKey: kubernetes.io/hostname`),
		expect: "didn't match pod anti-affinity rules",
	},
	{
		name: "an existing pod's anti-affinity rejects the pod",
		objects: filler("f0", nodeNames[0], "0", `  affinity:
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {matchLabels: {app: pending}}
        topologyKey: topology.kubernetes.io/region`),
		pending: pendingPod(""),
		expect:  "didn't satisfy existing pods anti-affinity rules",
	},
	{
		name: "pod affinity to a pod that does not exist",
		pending: pendingPod(`  affinity:
    podAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {matchLabels: {app: database}}
        topologyKey: topology.kubernetes.io/zone`),
		expect: "didn't match pod affinity rules",
	},
	{
		name: "topology spread skew in one zone while node affinity excludes the others",
		objects: strings.ReplaceAll(filler("s0", nodeNames[0], "0", "")+filler("s1", nodeNames[0], "0", ""),
			"app: filler", "app: pending"),
		pending: pendingPod(`  topologySpreadConstraints:
  - maxSkew: 1
    topologyKey: topology.kubernetes.io/zone
    whenUnsatisfiable: DoNotSchedule
    nodeAffinityPolicy: Ignore
    labelSelector: {matchLabels: {app: pending}}
  nodeSelector: {topology.kubernetes.io/zone: zone-a}`),
		expect: "didn't match pod topology spread constraints",
	},
	{
		name:    "a host port held on every node",
		objects: filler("f0", nodeNames[0], "0", "    ports: [{containerPort: 8080, hostPort: 8080}]") + filler("f1", nodeNames[1], "0", "    ports: [{containerPort: 8080, hostPort: 8080}]") + filler("f2", nodeNames[2], "0", "    ports: [{containerPort: 8080, hostPort: 8080, protocol: TCP}]"),
		pending: pendingPod(`    ports: [{containerPort: 8080, hostPort: 8080}]`),
		expect:  "didn't have free ports",
		detail:  "host port 8080/TCP is used by pod",
	},
	{
		name: "a cordoned node beside tainted ones",
		nodes: map[int]func(*corev1.Node){
			0: cordon(), 1: addTaint("dedicated", "infra", corev1.TaintEffectNoSchedule), 2: addTaint("dedicated", "infra", corev1.TaintEffectNoSchedule),
		},
		pending: pendingPod(""),
		expect:  "were unschedulable",
	},
	{
		name: "a mix of causes across nodes",
		nodes: map[int]func(*corev1.Node){
			0: addTaint("dedicated", "gpu", corev1.TaintEffectNoSchedule),
			1: cordon(),
		},
		objects: filler("f2", nodeNames[2], "3500m", ""),
		pending: pendingPod(`    resources: {requests: {cpu: "1", memory: 1Gi}}`),
		expect:  "Insufficient cpu",
	},
	{
		name: "an unbound PVC with immediate binding",
		clusterObjects: `
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: e2e-immediate}
provisioner: example.com/none
volumeBindingMode: Immediate
`,
		objects: `
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  storageClassName: e2e-immediate
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---`,
		pending: pendingPod(`  volumes:
  - name: data
    persistentVolumeClaim: {claimName: data}`),
		expect: "unbound immediate PersistentVolumeClaims",
	},
	{
		name: "a bound PV whose node affinity no node satisfies",
		clusterObjects: `
apiVersion: v1
kind: PersistentVolume
metadata: {name: e2e-pv-zone-x}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: ""
  hostPath: {path: /tmp/e2e-pv}
  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchExpressions:
        - {key: topology.kubernetes.io/zone, operator: In, values: [zone-x]}
`,
		objects: `
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  storageClassName: ""
  volumeName: e2e-pv-zone-x
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---`,
		pending: pendingPod(`  volumes:
  - name: data
    persistentVolumeClaim: {claimName: data}`),
		expect: "didn't match PersistentVolume's node affinity",
	},
	{
		name: "preemptionPolicy Never with too little cpu",
		clusterObjects: `
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: e2e-no-preempt}
value: 1000
preemptionPolicy: Never
`,
		objects: filler("f0", nodeNames[0], "3", "") + filler("f1", nodeNames[1], "3", "") + filler("f2", nodeNames[2], "3", ""),
		pending: pendingPod(`    resources: {requests: {cpu: "2"}}
  priorityClassName: e2e-no-preempt`),
		expect: "preemptionPolicy=Never",
	},
	{
		name: "lower-priority victims that would not free enough cpu",
		clusterObjects: `
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: e2e-low-a}
value: 10
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: e2e-high-a}
value: 1000
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: e2e-keep-a}
value: 100000
`,
		objects: lowPriority(filler("low0", nodeNames[0], "1", ""), "e2e-low-a") + lowPriority(filler("f0", nodeNames[0], "2500m", ""), "e2e-keep-a") +
			lowPriority(filler("low1", nodeNames[1], "1", ""), "e2e-low-a") + lowPriority(filler("f1", nodeNames[1], "2500m", ""), "e2e-keep-a") +
			lowPriority(filler("f2", nodeNames[2], "3", ""), "e2e-keep-a"),
		pending: pendingPod(`    resources: {requests: {cpu: "2"}}
  priorityClassName: e2e-high-a`),
		expect: "preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Insufficient cpu.",
	},
	{
		name: "preemption finds a lower-priority victim",
		clusterObjects: `
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: e2e-low-b}
value: 10
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: e2e-high-b}
value: 1000
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: e2e-keep-b}
value: 100000
`,
		objects: strings.ReplaceAll(lowPriority(filler("victim", nodeNames[0], "3", ""), "e2e-low-b"),
			"labels: {app: filler}", "labels: {app: filler}\n  finalizers: [example.com/hold]") +
			lowPriority(filler("f1", nodeNames[1], "3", ""), "e2e-keep-b") + lowPriority(filler("f2", nodeNames[2], "3", ""), "e2e-keep-b"),
		pending: pendingPod(`    resources: {requests: {cpu: "2"}}
  priorityClassName: e2e-high-b`),
		expect:         "preemption: found a potential placement for pod on node kwok-node-0, preempting 1 victims",
		snapshotBefore: true,
	},
	{
		name: "a WaitForFirstConsumer claim with no matching volume and no provisioner",
		clusterObjects: `
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: e2e-local}
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: WaitForFirstConsumer
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: e2e-local-pv-small}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  storageClassName: e2e-local
  hostPath: {path: /tmp/e2e-local}
  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchExpressions:
        - {key: kubernetes.io/hostname, operator: In, values: [kwok-node-0]}
`,
		objects: `
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  storageClassName: e2e-local
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 5Gi}}
---`,
		pending: pendingPod(`  volumes:
  - name: data
    persistentVolumeClaim: {claimName: data}`),
		expect: "didn't find available persistent volumes to bind",
	},
	{
		name: "a claim that does not exist",
		pending: pendingPod(`  volumes:
  - name: data
    persistentVolumeClaim: {claimName: missing}`),
		expect: `persistentvolumeclaim "missing" not found`,
	},
	{
		name: "a resource claim asking for a device class that does not exist",
		objects: `
apiVersion: resource.k8s.io/v1
kind: ResourceClaim
metadata: {name: gpu}
spec:
  devices:
    requests:
    - name: gpu
      exactly: {deviceClassName: e2e-missing-class}
---`,
		pending: pendingPod(`  resourceClaims:
  - {name: gpu, resourceClaimName: gpu}`),
		expect: "device class e2e-missing-class does not exist",
	},
	{
		name: "an init container asking for more cpu than any node has",
		pending: pendingPod(`    resources: {requests: {cpu: "1"}}
  initContainers:
  - name: init
    image: registry.k8s.io/pause:3.10
    resources: {requests: {cpu: "5"}}`),
		expect: "Insufficient cpu",
	},
	{
		name: "pod-level resources larger than any node",
		pending: pendingPod(`    resources: {}
  resources: {requests: {cpu: "6", memory: 1Gi}}`),
		expect: "Insufficient cpu",
	},
	{
		name:    "a DaemonSet pod that does not fit on its node",
		objects: filler("f1", nodeNames[1], "3", ""),
		pending: `
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: pending}}
  template:
    metadata: {labels: {app: pending}}
    spec:
      containers:
      - name: c
        image: registry.k8s.io/pause:3.10
        resources: {requests: {cpu: "2"}}
`,
		expect: "Insufficient cpu",
		detail: "cpu: requests 2, node allocatable 4, already requested 3, free 1",
	},
	{
		name:    "anti-affinity across namespaces chosen by a namespaceSelector",
		objects: filler("f0", nodeNames[0], "0", "") + filler("f1", nodeNames[1], "0", "") + filler("f2", nodeNames[2], "0", ""),
		pending: pendingPod(`  affinity:
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {matchLabels: {app: filler}}
        namespaceSelector: {matchExpressions: [{key: kubernetes.io/metadata.name, operator: Exists}]}
        topologyKey: topology.kubernetes.io/zone`),
		expect: "didn't match pod anti-affinity rules",
		detail: "matches pod",
	},
	{
		name: "a resource claim whose driver publishes no devices",
		clusterObjects: `
apiVersion: resource.k8s.io/v1
kind: DeviceClass
metadata: {name: e2e-gpu.example.com}
spec:
  selectors:
  - cel: {expression: 'device.driver == "gpu.example.com"'}
`,
		objects: `
apiVersion: resource.k8s.io/v1
kind: ResourceClaim
metadata: {name: gpu}
spec:
  devices:
    requests:
    - name: gpu
      exactly: {deviceClassName: e2e-gpu.example.com}
---`,
		pending: pendingPod(`  resourceClaims:
  - {name: gpu, resourceClaimName: gpu}`),
		expect: "cannot allocate all claims",
	},
	{
		name: "node affinity pinned by metadata.name to a node that does not exist",
		pending: pendingPod(`  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchFields:
          - {key: metadata.name, operator: In, values: [ghost-node]}`),
		expect: "didn't satisfy plugin(s) [NodeAffinity]",
	},
	{
		name: "node affinity terms pinning two different nodes at once",
		pending: pendingPod(`  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchFields:
          - {key: metadata.name, operator: In, values: [kwok-node-0]}
          - {key: metadata.name, operator: In, values: [kwok-node-1]}`),
		expect: "pod affinity terms conflict",
	},
	{
		name:     "an existing pod's anti-affinity selecting namespaces by label",
		nsLabels: map[string]string{"team": "web"},
		objects: filler("guard", nodeNames[1], "0", `  affinity:
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {matchLabels: {app: pending}}
        namespaceSelector: {matchLabels: {team: web}}
        topologyKey: topology.kubernetes.io/region`),
		pending: pendingPod(""),
		expect:  "didn't satisfy existing pods anti-affinity rules",
		detail:  "required anti-affinity of pod",
	},
	{
		name: "topology spread with minDomains larger than the zones",
		pending: pendingPod(`  topologySpreadConstraints:
  - maxSkew: 1
    minDomains: 5
    topologyKey: topology.kubernetes.io/zone
    whenUnsatisfiable: DoNotSchedule
    labelSelector: {matchLabels: {app: pending}}`),
		objects: strings.ReplaceAll(filler("s0", nodeNames[0], "0", "")+filler("s1", nodeNames[1], "0", "")+filler("s2", nodeNames[2], "0", ""),
			"app: filler", "app: pending"),
		expect: "didn't match pod topology spread constraints",
		detail: "minDomains",
	},
	{
		name:    "ephemeral storage larger than any node's",
		pending: pendingPod(`    resources: {requests: {ephemeral-storage: 200Gi}}`),
		expect:  "Insufficient ephemeral-storage",
		detail:  "ephemeral-storage: requests 200Gi, node allocatable 100Gi",
	},
	{
		name: "a RuntimeClass overhead tips the pod over the free cpu",
		clusterObjects: `
apiVersion: node.k8s.io/v1
kind: RuntimeClass
metadata: {name: e2e-sandboxed}
handler: runsc
overhead:
  podFixed: {cpu: "1"}
`,
		pending: pendingPod(`    resources: {requests: {cpu: "3500m"}}
  runtimeClassName: e2e-sandboxed`),
		expect: "Insufficient cpu",
		detail: "cpu: requests 4.5",
	},
	{
		name:    "a sidecar's cpu adds to the app's",
		objects: filler("f0", nodeNames[0], "1", "") + filler("f1", nodeNames[1], "1", "") + filler("f2", nodeNames[2], "1", ""),
		pending: pendingPod(`    resources: {requests: {cpu: "2"}}
  initContainers:
  - name: proxy
    image: registry.k8s.io/pause:3.10
    restartPolicy: Always
    resources: {requests: {cpu: "1500m"}}`),
		expect: "Insufficient cpu",
		detail: "cpu: requests 3.5, node allocatable 4, already requested 1, free 3",
	},
	{
		name: "a ReadWriteOncePod claim already in use",
		clusterObjects: `
apiVersion: v1
kind: PersistentVolume
metadata: {name: e2e-pv-rwop}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOncePod]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: ""
  hostPath: {path: /tmp/e2e-rwop}
`,
		objects: `
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: solo}
spec:
  storageClassName: ""
  volumeName: e2e-pv-rwop
  accessModes: [ReadWriteOncePod]
  resources: {requests: {storage: 1Gi}}
---` + filler("owner", nodeNames[0], "0", `  volumes:
  - name: data
    persistentVolumeClaim: {claimName: solo}`),
		pending: pendingPod(`  volumes:
  - name: data
    persistentVolumeClaim: {claimName: solo}`),
		expect: "ReadWriteOncePod access mode already in-use",
		detail: "is in use by pod",
	},
}

func lowPriority(manifest, class string) string {
	return strings.Replace(manifest, "spec:\n", "spec:\n  priorityClassName: "+class+"\n", 1)
}

func TestEvaluateMatchesScheduler(t *testing.T) {
	c := framework.Get(t)
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			ns := c.Namespace(t, "sched", sc.nsLabels)
			restore := mutateNodes(t, c, sc.nodes)
			t.Cleanup(restore)
			if sc.clusterObjects != "" {
				c.Apply(t, "", sc.clusterObjects)
				t.Cleanup(func() {
					c.KubectlResult(t, sc.clusterObjects, "delete", "--wait=false", "--ignore-not-found", "-f", "-")
				})
			}
			t.Cleanup(func() { deletePods(t, c, ns) })
			if sc.objects != "" {
				c.Apply(t, ns, sc.objects)
				waitPodsRunning(t, c, ns)
			}
			var before *cluster.Snapshot
			if sc.snapshotBefore {
				before = liveSnapshot(t, c.Client)
			}
			c.Apply(t, ns, sc.pending)
			podName, cond := waitForMessage(t, c, ns, sc.expect)

			snap := liveSnapshot(t, c.Client)
			var pod *corev1.Pod
			for _, p := range snap.Pods {
				if p.Namespace == ns && p.Name == podName {
					pod = p
				}
			}
			if pod == nil {
				t.Fatalf("pod %s/%s is not in the snapshot", ns, podName)
			}
			if before != nil {
				// The pod as the scheduler first saw it: admitted, not yet
				// nominated.
				pod = pod.DeepCopy()
				pod.Status = corev1.PodStatus{Phase: corev1.PodPending}
				before.Pods = append(before.Pods, pod)
				snap = before
			}
			res := scheduling.Evaluate(pod, snap, scheduling.Options{})
			t.Logf("scheduler: %s", cond.Message)
			if sc.detail != "" && !hasDetail(res, sc.detail) {
				t.Errorf("no reported reason's detail contains %q", sc.detail)
			}
			if res.Message != cond.Message {
				t.Errorf("message differs from the scheduler's\n  scheduler: %s\n  evaluate:  %s", cond.Message, res.Message)
				for _, n := range res.Nodes {
					for _, r := range n.Reasons {
						t.Logf("  %s: [%s] %s (%s) reported=%v", n.Name, r.Plugin, r.Message, r.Detail, r.Reported)
					}
				}
			}
		})
	}
}

func hasDetail(res scheduling.Result, part string) bool {
	if res.PreFilter != nil && strings.Contains(res.PreFilter.Detail, part) {
		return true
	}
	for _, n := range res.Nodes {
		for _, r := range n.Reasons {
			if r.Reported && strings.Contains(r.Detail, part) {
				return true
			}
		}
	}
	return false
}

// mutateNodes applies the scenario's node changes and returns a function that
// puts back the labels, taints, cordon and resources the nodes had.
func mutateNodes(t *testing.T, c *framework.Cluster, changes map[int]func(*corev1.Node)) func() {
	t.Helper()
	ctx := context.Background()
	type saved struct {
		labels        map[string]string
		taints        []corev1.Taint
		unschedulable bool
		allocatable   corev1.ResourceList
		capacity      corev1.ResourceList
	}
	orig := map[string]saved{}
	for i, change := range changes {
		name := nodeNames[i]
		err := retry(func() error {
			n, err := c.Client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if _, ok := orig[name]; !ok {
				orig[name] = saved{labels: copyMap(n.Labels), taints: append([]corev1.Taint(nil), n.Spec.Taints...),
					unschedulable: n.Spec.Unschedulable, allocatable: n.Status.Allocatable.DeepCopy(), capacity: n.Status.Capacity.DeepCopy()}
			}
			want := n.DeepCopy()
			change(want)
			n.Status.Allocatable, n.Status.Capacity = want.Status.Allocatable, want.Status.Capacity
			if n, err = c.Client.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{}); err != nil {
				return err
			}
			n.Labels, n.Spec.Taints, n.Spec.Unschedulable = want.Labels, want.Spec.Taints, want.Spec.Unschedulable
			_, err = c.Client.CoreV1().Nodes().Update(ctx, n, metav1.UpdateOptions{})
			return err
		})
		if err != nil {
			t.Fatalf("changing node %s: %v", name, err)
		}
	}
	return func() {
		for name, o := range orig {
			err := retry(func() error {
				n, err := c.Client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
				if err != nil {
					return err
				}
				n.Status.Allocatable, n.Status.Capacity = o.allocatable, o.capacity
				if n, err = c.Client.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{}); err != nil {
					return err
				}
				n.Labels, n.Spec.Taints, n.Spec.Unschedulable = o.labels, o.taints, o.unschedulable
				_, err = c.Client.CoreV1().Nodes().Update(ctx, n, metav1.UpdateOptions{})
				return err
			})
			if err != nil {
				t.Errorf("restoring node %s: %v", name, err)
			}
		}
	}
}

// waitForMessage waits until the scheduler's PodScheduled=False message on
// the pending pod contains expect: the scenario produced its cause, and the
// scheduler settled (some scenarios go through several attempts).
func waitForMessage(t *testing.T, c *framework.Cluster, ns, expect string) (string, corev1.PodCondition) {
	t.Helper()
	var cond corev1.PodCondition
	var lastErr error
	deadline := time.Now().Add(60 * time.Second)
	for {
		pods, err := c.Client.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app=pending"})
		if err != nil {
			lastErr = err
		} else {
			sort.Slice(pods.Items, func(i, j int) bool { return pods.Items[i].Name < pods.Items[j].Name })
			for _, p := range pods.Items {
				for _, pc := range p.Status.Conditions {
					if pc.Type == corev1.PodScheduled && pc.Status == corev1.ConditionFalse {
						cond = pc
						if strings.Contains(pc.Message, expect) {
							return p.Name, pc
						}
					}
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the scenario did not produce its cause %q within 60s; scheduler said: %q (last error: %v)", expect, cond.Message, lastErr)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func retry(f func() error) error {
	var err error
	for i := 0; i < 10; i++ {
		if err = f(); err == nil {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return err
}

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func waitPodsRunning(t *testing.T, c *framework.Cluster, ns string) {
	t.Helper()
	framework.Eventually(t, 60*time.Second, func() (bool, error) {
		pods, err := c.Client.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		for _, p := range pods.Items {
			if p.Status.Phase != corev1.PodRunning {
				return false, nil
			}
		}
		return true, nil
	}, "the scenario's pods in "+ns+" to be Running")
}

// deletePods removes the scenario's pods at once and waits until they are
// gone, so the next scenario's scheduler decisions do not see them.
func deletePods(t *testing.T, c *framework.Cluster, ns string) {
	ctx := context.Background()
	zero := int64(0)
	// Controllers first, or they recreate what is deleted.
	_ = c.Client.AppsV1().DaemonSets(ns).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{})
	framework.Eventually(t, 30*time.Second, func() (bool, error) {
		ds, err := c.Client.AppsV1().DaemonSets(ns).List(ctx, metav1.ListOptions{})
		return err == nil && len(ds.Items) == 0, err
	}, "the DaemonSets of "+ns+" to be deleted")
	if pods, err := c.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{}); err == nil {
		for _, p := range pods.Items {
			if len(p.Finalizers) > 0 {
				_, _ = c.Client.CoreV1().Pods(ns).Patch(ctx, p.Name, types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{})
			}
		}
	}
	_ = c.Client.CoreV1().Pods(ns).DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: &zero}, metav1.ListOptions{})
	framework.Eventually(t, 60*time.Second, func() (bool, error) {
		pods, err := c.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		return len(pods.Items) == 0, nil
	}, "the pods of "+ns+" to be deleted")
}

package whypending_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ktriage/ktriage/test/e2e/framework"
)

// filterCase makes kube-scheduler reject a pod named "pending" through one
// filter plugin.
type filterCase struct {
	plugin string
	name   string
	// setup changes the cluster before the objects (nodes: cordon, taint)
	// and registers its own undo with t.Cleanup.
	setup func(t *testing.T, c *framework.Cluster)
	// clusterObjects are cluster-scoped manifests, deleted afterwards.
	clusterObjects string
	// objects are namespaced manifests; their pods must run first.
	objects  string
	pending  string
	nsLabels map[string]string
	// expect is part of the scheduler's message that shows the plugin
	// rejected the pod.
	expect string
	// unscheduled: the scheduler never sees the pod (spec.nodeName is
	// set), so there is no message to wait for.
	unscheduled bool
}

func pendingWith(spec string) string {
	return `
apiVersion: v1
kind: Pod
metadata:
  name: pending
  labels: {app: pending}
spec:
  containers:
  - name: c
    image: registry.example.com/app:1
` + spec
}

func runningOn(name, node, labels, spec string) string {
	return `
apiVersion: v1
kind: Pod
metadata:
  name: ` + name + `
  labels: {` + labels + `}
spec:
  nodeName: ` + node + `
  containers:
  - name: c
    image: registry.example.com/app:1
` + spec + `
---`
}

func nodeCmd(args ...string) func(*testing.T, *framework.Cluster) {
	return func(t *testing.T, c *framework.Cluster) {
		c.Kubectl(t, args...)
	}
}

// undo runs kubectl args when the test ends.
func undo(setup func(*testing.T, *framework.Cluster), args ...string) func(*testing.T, *framework.Cluster) {
	return func(t *testing.T, c *framework.Cluster) {
		t.Cleanup(func() { c.Kubectl(t, args...) })
		setup(t, c)
	}
}

// csiNodes gives every node a CSINode whose driver takes no more volumes.
func csiNodes(driver string) func(*testing.T, *framework.Cluster) {
	return func(t *testing.T, c *framework.Cluster) {
		var b strings.Builder
		for _, n := range []string{"kwok-node-0", "kwok-node-1", "kwok-node-2"} {
			b.WriteString(`
apiVersion: storage.k8s.io/v1
kind: CSINode
metadata: {name: ` + n + `}
spec:
  drivers:
  - {name: ` + driver + `, nodeID: ` + n + `, allocatable: {count: 0}}
---`)
		}
		t.Cleanup(func() {
			c.Kubectl(t, "delete", "csinode", "kwok-node-0", "kwok-node-1", "kwok-node-2", "--ignore-not-found")
		})
		c.Apply(t, "", b.String())
	}
}

var onNode0 = "  nodeSelector: {kubernetes.io/hostname: kwok-node-0}\n"

var filterCases = []filterCase{
	{
		plugin: "NodeName", name: "spec.nodeName names a node that does not exist",
		pending:     pendingWith("  nodeName: kwok-node-ghost\n"),
		unscheduled: true,
	},
	{
		plugin: "NodeUnschedulable", name: "the only node the pod may use is cordoned",
		setup:   undo(nodeCmd("cordon", "kwok-node-0"), "uncordon", "kwok-node-0"),
		pending: pendingWith(onNode0),
		expect:  "1 node(s) were unschedulable",
	},
	{
		plugin: "TaintToleration", name: "the only node the pod may use is tainted",
		setup:   undo(nodeCmd("taint", "node", "kwok-node-0", "e2e-filters=x:NoSchedule"), "taint", "node", "kwok-node-0", "e2e-filters-"),
		pending: pendingWith(onNode0),
		expect:  "1 node(s) had untolerated taint(s)",
	},
	{
		plugin: "NodeAffinity", name: "a nodeSelector no node matches",
		pending: pendingWith("  nodeSelector: {e2e-filters: none}\n"),
		expect:  "3 node(s) didn't match Pod's node affinity/selector",
	},
	{
		plugin: "NodePorts", name: "the host port is taken on the only node",
		objects: runningOn("holder", "kwok-node-0", "app: holder", "    ports: [{containerPort: 9090, hostPort: 9090}]"),
		pending: pendingWith("    ports: [{containerPort: 9090, hostPort: 9090}]\n" + onNode0),
		expect:  "1 node(s) didn't have free ports for the requested pod ports",
	},
	{
		plugin: "NodeResourcesFit", name: "more cpu than any node has",
		pending: pendingWith("    resources: {requests: {cpu: \"64\"}}\n"),
		expect:  "3 Insufficient cpu",
	},
	{
		plugin: "VolumeRestrictions", name: "a GCE persistent disk another pod mounts on the only node",
		objects: runningOn("holder", "kwok-node-0", "app: holder", "  volumes: [{name: d, gcePersistentDisk: {pdName: e2e-disk}}]"),
		pending: pendingWith("  volumes: [{name: d, gcePersistentDisk: {pdName: e2e-disk}}]\n" + onNode0),
		expect:  "1 node(s) had no available disk",
	},
	{
		plugin: "VolumeRestrictions", name: "an AWS EBS volume another pod mounts on the only node",
		objects: runningOn("holder", "kwok-node-0", "app: holder", "  volumes: [{name: d, awsElasticBlockStore: {volumeID: vol-e2e}}]"),
		pending: pendingWith("  volumes: [{name: d, awsElasticBlockStore: {volumeID: vol-e2e}}]\n" + onNode0),
		expect:  "1 node(s) had no available disk",
	},
	{
		plugin: "VolumeRestrictions", name: "an RBD image another pod mounts on the only node",
		objects: runningOn("holder", "kwok-node-0", "app: holder", "  volumes: [{name: d, rbd: {monitors: [m1], image: e2e}}]"),
		pending: pendingWith("  volumes: [{name: d, rbd: {monitors: [m1], image: e2e}}]\n" + onNode0),
		expect:  "1 node(s) had no available disk",
	},
	{
		plugin: "VolumeRestrictions", name: "an iSCSI target another pod mounts on the only node",
		objects: runningOn("holder", "kwok-node-0", "app: holder", `  volumes: [{name: d, iscsi: {targetPortal: "10.0.0.1:3260", iqn: "iqn.2001-04.com.example:e2e", lun: 0}}]`),
		pending: pendingWith(`  volumes: [{name: d, iscsi: {targetPortal: "10.0.0.1:3260", iqn: "iqn.2001-04.com.example:e2e", lun: 0}}]` + "\n" + onNode0),
		expect:  "1 node(s) had no available disk",
	},
	{
		plugin: "VolumeRestrictions", name: "a ReadWriteOncePod claim another pod uses",
		clusterObjects: `
apiVersion: v1
kind: PersistentVolume
metadata: {name: e2e-wp-rwop}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOncePod]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: ""
  hostPath: {path: /tmp/e2e-wp-rwop}
`,
		objects: `
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: solo}
spec:
  storageClassName: ""
  volumeName: e2e-wp-rwop
  accessModes: [ReadWriteOncePod]
  resources: {requests: {storage: 1Gi}}
---` + runningOn("owner", "kwok-node-1", "app: owner", "  volumes: [{name: d, persistentVolumeClaim: {claimName: solo}}]"),
		pending: pendingWith("  volumes: [{name: d, persistentVolumeClaim: {claimName: solo}}]\n"),
		expect:  "ReadWriteOncePod access mode already in-use",
	},
	{
		plugin: "NodeVolumeLimits", name: "an inline GCE disk on nodes whose CSI driver takes no more volumes",
		setup:   csiNodes("pd.csi.storage.gke.io"),
		pending: pendingWith("  volumes: [{name: d, gcePersistentDisk: {pdName: e2e-limited}}]\n"),
		expect:  "3 node(s) exceed max volume count",
	},
	{
		plugin: "VolumeBinding", name: "a WaitForFirstConsumer claim no volume matches",
		clusterObjects: `
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: e2e-wp-filters-local}
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: WaitForFirstConsumer
`,
		objects: `
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  storageClassName: e2e-wp-filters-local
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 5Gi}}
---`,
		pending: pendingWith("  volumes: [{name: d, persistentVolumeClaim: {claimName: data}}]\n"),
		expect:  "3 node(s) didn't find available persistent volumes to bind",
	},
	{
		plugin: "VolumeZone", name: "a bound volume in a zone no node is in",
		clusterObjects: `
apiVersion: v1
kind: PersistentVolume
metadata:
  name: e2e-wp-zone-x
  labels: {topology.kubernetes.io/zone: zone-x}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: ""
  hostPath: {path: /tmp/e2e-wp-zone-x}
`,
		objects: `
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  storageClassName: ""
  volumeName: e2e-wp-zone-x
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---`,
		pending: pendingWith("  volumes: [{name: d, persistentVolumeClaim: {claimName: data}}]\n"),
		expect:  "3 node(s) had no available volume zone",
	},
	{
		plugin: "PodTopologySpread", name: "skew in the only zone the pod may use",
		objects: runningOn("s0", "kwok-node-0", "app: pending", "") + runningOn("s1", "kwok-node-0", "app: pending", ""),
		pending: pendingWith(`  topologySpreadConstraints:
  - maxSkew: 1
    topologyKey: topology.kubernetes.io/zone
    whenUnsatisfiable: DoNotSchedule
    nodeAffinityPolicy: Ignore
    labelSelector: {matchLabels: {app: pending}}
  nodeSelector: {topology.kubernetes.io/zone: zone-a}
`),
		expect: "didn't match pod topology spread constraints",
	},
	{
		plugin: "InterPodAffinity", name: "an existing pod's anti-affinity selects the pod's namespace by label",
		nsLabels: map[string]string{"e2e-filters-team": "web"},
		objects: runningOn("guard", "kwok-node-1", "app: guard", `  affinity:
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {matchLabels: {app: pending}}
        namespaceSelector: {matchLabels: {e2e-filters-team: web}}
        topologyKey: topology.kubernetes.io/region`),
		pending: pendingWith(""),
		expect:  "3 node(s) didn't satisfy existing pods anti-affinity rules",
	},
	{
		plugin: "DynamicResources", name: "a claim for more devices than the driver publishes",
		clusterObjects: `
apiVersion: resource.k8s.io/v1
kind: DeviceClass
metadata: {name: e2e-wp-gpu}
spec:
  selectors:
  - cel: {expression: 'device.driver == "gpu.e2e.example.com"'}
---
apiVersion: resource.k8s.io/v1
kind: ResourceSlice
metadata: {name: e2e-wp-gpu-kwok-node-0}
spec:
  driver: gpu.e2e.example.com
  nodeName: kwok-node-0
  pool: {name: kwok-node-0, generation: 1, resourceSliceCount: 1}
  devices:
  - name: gpu-0
`,
		objects: `
apiVersion: resource.k8s.io/v1
kind: ResourceClaim
metadata: {name: two-gpus}
spec:
  devices:
    requests:
    - name: gpu
      exactly: {deviceClassName: e2e-wp-gpu, allocationMode: ExactCount, count: 2}
---`,
		pending: pendingWith("  resourceClaims: [{name: gpu, resourceClaimName: two-gpus}]\n"),
		expect:  "cannot allocate all claims",
	},
	{
		plugin: "NodeDeclaredFeatures", name: "a restart rule no node declares support for",
		pending: strings.Replace(pendingWith("  restartPolicy: Never\n"), "    image: registry.example.com/app:1\n",
			"    image: registry.example.com/app:1\n    restartPolicy: Never\n    restartPolicyRules: [{action: RestartAllContainers, exitCodes: {operator: In, values: [42]}}]\n", 1),
		expect: "3 node(s) didn't match Pod's required features",
	},
}

// Whatever filter rejects a pod, why-pending must never call it schedulable
// ("fits", feasible nodes): every filter either runs on what it reads or is
// reported as not evaluated, and then the scheduler's own verdict stands.
func TestEveryFilterThatRejectsAPodIsEvaluatedOrNamed(t *testing.T) {
	c := framework.Get(t)
	for _, fc := range filterCases {
		t.Run(fc.plugin+"/"+fc.name, func(t *testing.T) {
			ns := c.Namespace(t, "wp-filter", fc.nsLabels)
			if fc.setup != nil {
				fc.setup(t, c)
			}
			if fc.clusterObjects != "" {
				c.Apply(t, "", fc.clusterObjects)
				t.Cleanup(func() {
					c.KubectlResult(t, fc.clusterObjects, "delete", "--wait=false", "--ignore-not-found", "-f", "-")
				})
			}
			if fc.objects != "" {
				c.Apply(t, ns, fc.objects)
				waitRunning(t, c, ns)
			}
			c.Apply(t, ns, fc.pending)
			t.Cleanup(func() { c.Kubectl(t, "delete", "pods", "--all", "-n", ns, "--grace-period=0", "--wait=false") })
			if !fc.unscheduled {
				waitForSchedulerMessage(t, c, ns, "pending", fc.expect)
			}

			r, res := explain(t, c, "-n", ns, "pending")
			p := r.pod(t, "pending")
			if res.Code != 1 || p.Stage == "Schedulable" || len(p.Feasible) > 0 || strings.Contains(p.Reason, "fits") {
				t.Fatalf("the scheduler rejects the pod, why-pending says it fits: stage %s, feasible %v, reason %q\n%s", p.Stage, p.Feasible, p.Reason, res)
			}
			if fc.unscheduled {
				return
			}
			// Either the simulation is the scheduler's word for word, or it
			// names the filter it could not evaluate.
			if p.SimulatedSchedulerMessage != p.SchedulerMessage && !r.has("WP183") {
				t.Errorf("simulated message\n  %q\ndiffers from kube-scheduler's\n  %q\nand no filter is reported as not evaluated\n%s", p.SimulatedSchedulerMessage, p.SchedulerMessage, res)
			}
		})
	}
}

// waitForSchedulerMessage waits until the pod's PodScheduled=False message
// contains want: the scheduler rejected it for the reason under test.
func waitForSchedulerMessage(t *testing.T, c *framework.Cluster, ns, name, want string) {
	t.Helper()
	framework.Eventually(t, time.Minute, func() (bool, error) {
		p, err := c.Client.CoreV1().Pods(ns).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		last := ""
		for _, pc := range p.Status.Conditions {
			if pc.Type == corev1.PodScheduled && pc.Status == corev1.ConditionFalse {
				last = pc.Message
			}
		}
		if strings.Contains(last, want) {
			return true, nil
		}
		return false, fmt.Errorf("the scheduler's message so far: %q", last)
	}, fmt.Sprintf("the scheduler's message on %s/%s to contain %q", ns, name, want))
}

// waitRunning waits until every pod of the namespace is Running.
func waitRunning(t *testing.T, c *framework.Cluster, ns string) {
	t.Helper()
	framework.Eventually(t, time.Minute, func() (bool, error) {
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
	}, "the pods of "+ns+" to be Running")
}

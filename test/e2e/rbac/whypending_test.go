package rbac

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ktriage/ktriage/test/e2e/framework"
)

// pendingWorkloads leaves a pod Pending for each kind of reason why-pending
// reads something for: too big for any node, an unbound claim, a missing
// resource claim, a node that runs nothing (the pod names a ConfigMap and a
// Secret), a Deployment whose pods the LimitRange refuses, and a
// StatefulSet, a Job, a DaemonSet, a CronJob and a ReplicationController to
// name as TYPE/NAME. A
// running pod on kwok-node-0 makes preemption worth weighing.
// %[1]s is the node that runs nothing.
const pendingWorkloads = `apiVersion: v1
kind: LimitRange
metadata: {name: cpu-cap}
spec:
  limits: [{type: Container, max: {cpu: "700"}}]
---
apiVersion: v1
kind: Pod
metadata: {name: huge}
spec:
  containers: [{name: app, image: registry.example.com/app:1, resources: {requests: {cpu: "640"}}}]
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: none-such
  resources: {requests: {storage: 1Gi}}
---
apiVersion: v1
kind: Pod
metadata: {name: with-volume}
spec:
  volumes: [{name: data, persistentVolumeClaim: {claimName: data}}]
  containers: [{name: app, image: registry.example.com/app:1, volumeMounts: [{name: data, mountPath: /data}]}]
---
apiVersion: v1
kind: Pod
metadata: {name: with-device}
spec:
  resourceClaims: [{name: gpu, resourceClaimName: gpu}]
  containers: [{name: app, image: registry.example.com/app:1, resources: {claims: [{name: gpu}]}}]
---
apiVersion: v1
kind: Pod
metadata: {name: on-silent-node}
spec:
  nodeName: %[1]s
  volumes: [{name: conf, configMap: {name: app-conf}}]
  containers:
  - name: app
    image: registry.example.com/app:1
    env: [{name: TOKEN, valueFrom: {secretKeyRef: {name: app-token, key: token}}}]
    volumeMounts: [{name: conf, mountPath: /conf}]
---
apiVersion: v1
kind: Pod
metadata: {name: neighbour}
spec:
  nodeName: kwok-node-0
  containers: [{name: app, image: registry.example.com/app:1, resources: {requests: {cpu: "1"}}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: too-big}
spec:
  replicas: 1
  selector: {matchLabels: {app: too-big}}
  template:
    metadata: {labels: {app: too-big}}
    spec:
      containers: [{name: app, image: registry.example.com/app:1, resources: {requests: {cpu: "800"}}}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  replicas: 1
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: app, image: registry.example.com/app:1, resources: {requests: {cpu: "600"}}}]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      nodeSelector: {rbac-test: none}
      containers: [{name: app, image: registry.example.com/app:1}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: once}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: app, image: registry.example.com/app:1, resources: {requests: {cpu: "600"}}}]
---
apiVersion: v1
kind: ReplicationController
metadata: {name: legacy}
spec:
  replicas: 1
  selector: {app: legacy}
  template:
    metadata: {labels: {app: legacy}}
    spec:
      containers: [{name: app, image: registry.example.com/app:1, resources: {requests: {cpu: "600"}}}]
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  schedule: "0 3 * * *"
  suspend: true
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: app, image: registry.example.com/app:1}]
`

// pendingManifest is checked with -f against the live cluster.
const pendingManifest = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: app, image: registry.example.com/app:1, resources: {requests: {cpu: "5"}}}]
`

func TestWhyPending(t *testing.T) {
	c := framework.Get(t)
	s := loadShipped(t, c, "why-pending")
	ns := c.Namespace(t, "rbac-wp", nil)
	volumeLimit(t, c, "kwok-node-0")
	c.Apply(t, ns, fmt.Sprintf(pendingWorkloads, silentNode(t, c)))
	waitPending(t, c, ns)
	manifest := filepath.Join(t.TempDir(), "web.yaml")
	if err := os.WriteFile(manifest, []byte(pendingManifest), 0o600); err != nil {
		t.Fatal(err)
	}
	const bin = "kubectl-why_pending"
	verdict := pendingVerdict(ns)

	t.Run("the shipped ClusterRole gives the administrator's verdict and is all the plugin uses", func(t *testing.T) {
		a := withClusterRole(t, c, s, ns, "wp-cluster")
		offset := c.AuditLogSize(t)
		for _, args := range [][]string{
			{"-n", ns, "-o", "json"},
			{"-A", "-o", "json"},
			{"-n", ns, "pod/huge", "statefulset/db", "job/once", "cronjob/nightly", "daemonset/agent", "deployment/too-big", "rc/legacy", "-o", "json"},
			{"-n", ns, "-f", manifest, "-o", "json"},
		} {
			res := sameVerdict(t, c, a, verdict, bin, args...)
			if res.Code != 1 {
				t.Errorf("want exit 1: every case here is stuck\n%s", res)
			}
		}
		checkRequests(t, c, s.file, s.clusterRole.Rules, offset, a.user, []string{"get", "list"}, map[permission]string{
			perm("list", "nodepools", "karpenter.sh"):  "this cluster has no Karpenter",
			perm("list", "nodeclaims", "karpenter.sh"): "this cluster has no Karpenter",
		})
	})

	t.Run("the shipped Role explains the namespace and warns about nodes", func(t *testing.T) {
		a := withRole(t, c, s, ns, "wp-role")
		res := c.RunWith(t, a.run(), bin, "-n", ns, "-o", "json")
		if !checkConfined(t, res) || res.Code != 1 {
			t.Fatalf("want a partial report and exit 1\n%s", res)
		}
		if !strings.Contains(res.Stderr, "Warning: cannot list nodes at cluster scope: forbidden") {
			t.Errorf("want a warning naming the node list\n%s", res)
		}
		if got := verdictStages(t, res, ns); !strings.Contains(got, "huge Unschedulable") || !strings.Contains(got, "deployment/too-big NotCreated") {
			t.Errorf("want the pods explained without nodes\n%s", got)
		}
	})

	t.Run("read access to the namespace only gives a partial report", func(t *testing.T) {
		a := withNamespaceRead(t, c, ns, "wp-view")
		res := c.RunWith(t, a.run(), bin, "-n", ns, "-o", "json")
		if !checkConfined(t, res) || res.Code != 1 {
			t.Fatalf("want a partial report and exit 1\n%s", res)
		}
		for _, w := range []string{"cannot list nodes at cluster scope: forbidden", "cannot list secrets in namespace " + ns + ": forbidden"} {
			if !strings.Contains(res.Stderr, "Warning: "+w) {
				t.Errorf("want the warning %q\n%s", w, res)
			}
		}
		res = c.RunWith(t, a.run(), bin, "-A")
		checkConfined(t, res)
		if res.Code != 2 || !strings.Contains(res.Stderr, "cannot list pods at cluster scope: forbidden; grant get,list on pods") {
			t.Errorf("-A without the right to list pods everywhere: want exit 2 naming the list of pods\n%s", res)
		}
	})
}

// silentNode creates a node no kwok manages, so that the pods bound to it
// stay Pending, and removes it when the test ends. It is cordoned: the
// scheduler leaves it out.
func silentNode(t *testing.T, c *framework.Cluster) string {
	t.Helper()
	name := fmt.Sprintf("rbac-silent-%05d", rand.Intn(100000))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/hostname": name}},
		Spec:       corev1.NodeSpec{Unschedulable: true},
	}
	if _, err := c.Client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Client.CoreV1().Nodes().Delete(context.Background(), name, metav1.DeleteOptions{}) })
	return name
}

// volumeLimit gives node a CSINode declaring how many volumes of a CSI
// driver it takes, and removes it when the test ends: the scheduler's
// volume limits then count every node's attachments.
func volumeLimit(t *testing.T, c *framework.Cluster, node string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	count := int32(8)
	if _, err := c.Client.StorageV1().CSINodes().Create(ctx, &storagev1.CSINode{
		ObjectMeta: metav1.ObjectMeta{Name: node},
		Spec: storagev1.CSINodeSpec{Drivers: []storagev1.CSINodeDriver{{
			Name: "disk.csi.example.com", NodeID: node, Allocatable: &storagev1.VolumeNodeResources{Count: &count},
		}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Client.StorageV1().CSINodes().Delete(context.Background(), node, metav1.DeleteOptions{}) })
}

// waitPending waits until the scheduler has judged every pod that can be
// scheduled and the ReplicaSet of too-big has reported its failure.
func waitPending(t *testing.T, c *framework.Cluster, ns string) {
	t.Helper()
	ctx := context.Background()
	framework.Eventually(t, 90*time.Second, func() (bool, error) {
		pods, err := c.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		if len(pods.Items) != 8 {
			return false, fmt.Errorf("%d pods, want 8", len(pods.Items))
		}
		for _, p := range pods.Items {
			if p.Spec.NodeName != "" || len(p.Spec.ResourceClaims) > 0 {
				continue // bound, or held back by the scheduler until its claim exists
			}
			judged := false
			for _, cond := range p.Status.Conditions {
				judged = judged || cond.Type == corev1.PodScheduled && cond.Reason == corev1.PodReasonUnschedulable
			}
			if !judged {
				return false, fmt.Errorf("pod %s not judged by the scheduler yet", p.Name)
			}
		}
		events, err := c.Client.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: "reason=FailedCreate"})
		if err != nil {
			return false, err
		}
		return len(events.Items) > 0, nil
	}, "the pods of namespace "+ns+" judged")
}

// pendingVerdict is each pod's (or workload's) stage and every finding, in
// namespace ns.
func pendingVerdict(ns string) func(*testing.T, framework.Result) string {
	return func(t *testing.T, res framework.Result) string {
		t.Helper()
		return verdictStages(t, res, ns) + "\n" + inNamespace(findingsVerdict(t, res), ns)
	}
}

func verdictStages(t *testing.T, res framework.Result, ns string) string {
	t.Helper()
	var r struct {
		Pods []struct{ Namespace, Name, Stage string }
	}
	res.DecodeJSON(t, &r)
	var lines []string
	for _, p := range r.Pods {
		if p.Namespace == ns {
			lines = append(lines, p.Name+" "+p.Stage)
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// inNamespace keeps the lines of a verdict about objects of namespace ns or
// of no namespace: a run over every namespace also sees other tests' objects.
func inNamespace(verdict, ns string) string {
	var out []string
	for _, l := range strings.Split(verdict, "\n") {
		if strings.Contains(l, "/"+ns+"/") || strings.Contains(l, "//") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// A pod with inter-pod affinity makes every node's pods matter, so
// why-pending lists pods at cluster scope. A user who may read nodes but
// only their own namespace's pods gets a partial report (the pods of the
// namespace stand in) with one warning naming the list it could not make,
// not exit 2.
func TestWhyPendingAffinityConfinedToANamespace(t *testing.T) {
	c := framework.Get(t)
	ns := c.Namespace(t, "rbac-wp-aff", nil)
	c.Apply(t, ns, `apiVersion: v1
kind: Pod
metadata: {name: near-db, labels: {app: web}}
spec:
  affinity:
    podAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {matchLabels: {app: no-such-db}}
        topologyKey: kubernetes.io/hostname
  containers: [{name: app, image: registry.example.com/app:1}]
---
apiVersion: v1
kind: Pod
metadata: {name: alone, labels: {app: alone}}
spec:
  affinity:
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {matchLabels: {app: alone}}
        topologyKey: kubernetes.io/hostname
  nodeSelector: {rbac-test: none}
  containers: [{name: app, image: registry.example.com/app:1}]
`)
	framework.Eventually(t, 60*time.Second, func() (bool, error) {
		for _, name := range []string{"near-db", "alone"} {
			p, err := c.Client.CoreV1().Pods(ns).Get(context.Background(), name, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			judged := false
			for _, cond := range p.Status.Conditions {
				judged = judged || cond.Type == corev1.PodScheduled && cond.Reason == corev1.PodReasonUnschedulable
			}
			if !judged {
				return false, fmt.Errorf("pod %s not judged by the scheduler yet", name)
			}
		}
		return true, nil
	}, "both pods Unschedulable")

	a := withNamespaceRead(t, c, ns, "wp-aff")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.Client.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "wp-aff-nodes-" + ns},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"nodes"}, Verbs: []string{"get", "list"}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.Client.RbacV1().ClusterRoles().Delete(context.Background(), "wp-aff-nodes-"+ns, metav1.DeleteOptions{})
	})
	if _, err := c.Client.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "wp-aff-nodes-" + ns},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "wp-aff-nodes-" + ns},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Namespace: ns, Name: "wp-aff"}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.Client.RbacV1().ClusterRoleBindings().Delete(context.Background(), "wp-aff-nodes-"+ns, metav1.DeleteOptions{})
	})
	framework.Eventually(t, 30*time.Second, func() (bool, error) {
		sar, err := c.Client.AuthorizationV1().SubjectAccessReviews().Create(context.Background(), &authorizationv1.SubjectAccessReview{
			Spec: authorizationv1.SubjectAccessReviewSpec{
				User: a.user, Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"},
				ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "list", Resource: "nodes"},
			},
		}, metav1.CreateOptions{})
		if err != nil {
			return false, err
		}
		return sar.Status.Allowed, nil
	}, a.user+" allowed to list nodes")

	res := c.RunWith(t, a.run(), "kubectl-why_pending", "-n", ns, "-o", "json")
	if !checkConfined(t, res) || res.Code != 1 {
		t.Fatalf("want a partial report and exit 1\n%s", res)
	}
	if n := strings.Count(res.Stderr, "Warning: cannot list pods at cluster scope: forbidden; grant get,list on pods"); n != 1 {
		t.Errorf("want one warning naming the list of pods at cluster scope, got %d\n%s", n, res)
	}
	if strings.Contains(res.Stderr, "cannot list nodes") {
		t.Errorf("the user may list nodes: no warning about them expected\n%s", res)
	}
	if got := verdictStages(t, res, ns); got != "alone Unschedulable\nnear-db Unschedulable" {
		t.Errorf("want both pods explained as Unschedulable, got\n%s\n%s", got, res)
	}
	if !strings.Contains(res.Stdout, `"WP115"`) {
		t.Errorf("want the inter-pod affinity finding (WP115)\n%s", res)
	}
}

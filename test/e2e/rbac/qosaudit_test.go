package rbac

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ktriage/ktriage/test/e2e/framework"
)

// runningWorkloads puts pods of every owner kind qos-audit names on
// kwok-node-0, under a LimitRange: a Deployment (through its ReplicaSet), a
// StatefulSet, a DaemonSet, a Job, a CronJob (through a Job it owns), a
// ReplicationController and a bare pod.
const runningWorkloads = `apiVersion: v1
kind: LimitRange
metadata: {name: defaults}
spec:
  limits: [{type: Container, default: {memory: 256Mi}, defaultRequest: {memory: 128Mi}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      nodeName: kwok-node-0
      containers: [{name: app, image: registry.example.com/app:1, resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {cpu: 100m, memory: 64Mi}}}]
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
      nodeName: kwok-node-0
      containers: [{name: app, image: registry.example.com/app:1, resources: {requests: {cpu: 100m}}}]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      nodeSelector: {kubernetes.io/hostname: kwok-node-0}
      containers: [{name: app, image: registry.example.com/app:1}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: once}
spec:
  template:
    spec:
      nodeName: kwok-node-0
      restartPolicy: Never
      containers: [{name: app, image: registry.example.com/app:1}]
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
          nodeName: kwok-node-0
          restartPolicy: Never
          containers: [{name: app, image: registry.example.com/app:1}]
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
      nodeName: kwok-node-0
      containers: [{name: app, image: registry.example.com/app:1}]
---
apiVersion: v1
kind: Pod
metadata: {name: solo}
spec:
  nodeName: kwok-node-0
  containers: [{name: app, image: registry.example.com/app:1, resources: {limits: {memory: 1Gi}}}]
`

// qosManifest is audited with -f against the live cluster.
const qosManifest = `apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers: [{name: app, image: registry.example.com/app:1}]
`

func TestQOSAudit(t *testing.T) {
	c := framework.Get(t)
	s := loadShipped(t, c, "qos-audit")
	ns := c.Namespace(t, "rbac-qos", nil)
	c.Apply(t, ns, runningWorkloads)
	// The CronJob is suspended: give it a Job by hand, as its controller would.
	cj, err := c.Client.BatchV1().CronJobs(ns).Get(context.Background(), "nightly", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c.Apply(t, ns, fmt.Sprintf(`apiVersion: batch/v1
kind: Job
metadata:
  name: nightly-manual
  ownerReferences: [{apiVersion: batch/v1, kind: CronJob, name: nightly, uid: %s, controller: true}]
spec:
  template:
    spec:
      nodeName: kwok-node-0
      restartPolicy: Never
      containers: [{name: app, image: registry.example.com/app:1}]
`, cj.UID))
	rs := waitRunning(t, c, ns, 8)
	manifest := filepath.Join(t.TempDir(), "api.yaml")
	if err := os.WriteFile(manifest, []byte(qosManifest), 0o600); err != nil {
		t.Fatal(err)
	}
	const bin = "kubectl-qos_audit"
	verdict := qosVerdict(ns)

	t.Run("the shipped ClusterRole gives the administrator's verdict and is all the plugin uses", func(t *testing.T) {
		a := withClusterRole(t, c, s, ns, "qos-cluster")
		offset := c.AuditLogSize(t)
		for _, args := range [][]string{
			{"-n", ns, "-o", "json"},
			{"-A", "-o", "json"},
			{"-n", ns, "--node", "kwok-node-0", "-o", "json"},
			{"-n", ns, "deployment/web", "replicaset/" + rs, "statefulset/db", "daemonset/agent", "job/once", "cronjob/nightly", "rc/legacy", "pod/solo", "-o", "json"},
			{"-n", ns, "-f", manifest, "-o", "json"},
		} {
			res := sameVerdict(t, c, a, verdict, bin, args...)
			if res.Code != 0 && res.Code != 1 {
				t.Errorf("want a report\n%s", res)
			}
		}
		checkRequests(t, c, s.file, s.clusterRole.Rules, offset, a.user, []string{"get", "list"}, nil)
	})

	t.Run("the shipped Role audits the namespace and warns about nodes", func(t *testing.T) {
		a := withRole(t, c, s, ns, "qos-role")
		res := c.RunWith(t, a.run(), bin, "-n", ns, "-o", "json")
		if !checkConfined(t, res) {
			t.Fatalf("want a partial report\n%s", res)
		}
		if !strings.Contains(res.Stderr, "Warning: cannot list nodes at cluster scope: forbidden") {
			t.Errorf("want a warning naming the node list\n%s", res)
		}
		if got := qosClasses(t, res, ns); !strings.Contains(got, "solo Burstable") {
			t.Errorf("want every pod of the namespace classified\n%s", got)
		}
	})

	t.Run("read access to the namespace only gives a partial report", func(t *testing.T) {
		a := withNamespaceRead(t, c, ns, "qos-view")
		res := c.RunWith(t, a.run(), bin, "-n", ns, "-o", "json")
		if !checkConfined(t, res) {
			t.Fatalf("want a partial report\n%s", res)
		}
		if !strings.Contains(res.Stderr, "Warning: cannot list nodes at cluster scope: forbidden") {
			t.Errorf("want a warning naming the node list\n%s", res)
		}
		res = c.RunWith(t, a.run(), bin, "-A")
		checkConfined(t, res)
		if res.Code != 2 || !strings.Contains(res.Stderr, "cannot list pods at cluster scope: forbidden; grant get,list on pods") {
			t.Errorf("-A without the right to list pods everywhere: want exit 2 naming the list of pods\n%s", res)
		}
	})
}

// waitRunning waits until the namespace has n pods past Pending and returns
// the name of the Deployment's ReplicaSet.
func waitRunning(t *testing.T, c *framework.Cluster, ns string, n int) string {
	t.Helper()
	ctx := context.Background()
	rs := ""
	framework.Eventually(t, 90*time.Second, func() (bool, error) {
		pods, err := c.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		started := 0
		for _, p := range pods.Items {
			if p.Status.Phase != corev1.PodPending {
				started++
			}
			if ref := metav1.GetControllerOf(&p); ref != nil && ref.Kind == "ReplicaSet" {
				rs = ref.Name
			}
		}
		if started != n || rs == "" {
			return false, fmt.Errorf("%d of %d pods started", started, n)
		}
		return true, nil
	}, "the pods of namespace "+ns)
	return rs
}

// qosVerdict is each pod's class, each node's eviction order and every
// finding, in namespace ns.
func qosVerdict(ns string) func(*testing.T, framework.Result) string {
	return func(t *testing.T, res framework.Result) string {
		t.Helper()
		var r struct {
			Nodes []struct {
				Name          string
				EvictionOrder []struct{ Namespace, Name string }
			}
		}
		res.DecodeJSON(t, &r)
		var order []string
		for _, n := range r.Nodes {
			var pods []string
			for _, p := range n.EvictionOrder {
				if p.Namespace == ns {
					pods = append(pods, p.Name)
				}
			}
			order = append(order, n.Name+": "+strings.Join(pods, " "))
		}
		sort.Strings(order)
		return qosClasses(t, res, ns) + "\n" + strings.Join(order, "\n") + "\n" + inNamespace(findingsVerdict(t, res), ns)
	}
}

func qosClasses(t *testing.T, res framework.Result, ns string) string {
	t.Helper()
	var r struct {
		Pods []struct{ Namespace, Name, QOSClass string }
	}
	res.DecodeJSON(t, &r)
	var lines []string
	for _, p := range r.Pods {
		if p.Namespace == ns || p.Namespace == "" {
			lines = append(lines, p.Name+" "+p.QOSClass)
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

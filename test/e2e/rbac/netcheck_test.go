package rbac

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ktriage/ktriage/test/e2e/framework"
)

// network is a frontend, an api behind a Service and a db isolated by a
// policy that lets only the api in, plus a pod of each source kind netcheck
// accepts as TYPE/NAME (the Job's pod completes at once: it has no ready
// pod, which both runs must say alike).
const network = `apiVersion: v1
kind: Pod
metadata: {name: frontend, labels: {app: frontend}}
spec:
  nodeName: kwok-node-1
  containers: [{name: c, image: registry.example.com/frontend:1}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  replicas: 1
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      nodeName: kwok-node-1
      containers: [{name: c, image: registry.example.com/api:1, ports: [{name: http, containerPort: 8080}]}]
---
apiVersion: v1
kind: Service
metadata: {name: api}
spec: {selector: {app: api}, ports: [{name: http, port: 80, targetPort: http}]}
---
apiVersion: v1
kind: Pod
metadata: {name: db, labels: {app: db}}
spec:
  nodeName: kwok-node-1
  containers: [{name: c, image: registry.example.com/db:1, ports: [{name: pg, containerPort: 5432}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-from-api}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Ingress]
  ingress: [{from: [{podSelector: {matchLabels: {app: api}}}], ports: [{port: pg}]}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: cache}
spec:
  replicas: 1
  serviceName: cache
  selector: {matchLabels: {app: cache}}
  template:
    metadata: {labels: {app: cache}}
    spec:
      nodeName: kwok-node-1
      containers: [{name: c, image: registry.example.com/cache:1}]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      nodeSelector: {kubernetes.io/hostname: kwok-node-1}
      containers: [{name: c, image: registry.example.com/agent:1}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: once}
spec:
  template:
    spec:
      nodeName: kwok-node-1
      restartPolicy: Never
      containers: [{name: c, image: registry.example.com/once:1}]
`

func TestNetcheck(t *testing.T) {
	c := framework.Get(t)
	s := loadShipped(t, c, "netcheck")
	ns := c.Namespace(t, "rbac-nc", nil)
	c.Apply(t, ns, network)
	dbIP, rs := waitNetwork(t, c, ns)
	// With -f the files are merged over the namespace's live objects: this
	// policy would shut the api off.
	lockdown := filepath.Join(t.TempDir(), "lockdown.yaml")
	if err := os.WriteFile(lockdown, []byte(`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api-closed, namespace: `+ns+`}
spec:
  podSelector: {matchLabels: {app: api}}
  policyTypes: [Ingress]
`), 0o600); err != nil {
		t.Fatal(err)
	}
	const bin = "kubectl-netcheck"
	// A probe cannot run on kwok nodes: it is added, then the bounded wait
	// ends the run with exit 2.
	probe := []string{"-n", ns, "frontend", "svc/api:80", "--image", "netcheck-probe:e2e", "--start-timeout", "2s", "--timeout", "1s"}

	t.Run("the shipped ClusterRole gives the administrator's verdict and is all the plugin uses", func(t *testing.T) {
		a := withClusterRole(t, c, s, ns, "nc-cluster")
		offset := c.AuditLogSize(t)
		for _, args := range [][]string{
			{"-n", ns, "frontend", "svc/api:80"},
			{"-n", ns, "frontend", "db", "--port", "5432"},
			{"-n", ns, "deployment/api", dbIP + ":5432"},
			{"-n", ns, "replicaset/" + rs, "api." + ns + ":80"},
			{"-n", ns, "statefulset/cache", "svc/api:80"},
			{"-n", ns, "daemonset/agent", "db", "--port", "pg"},
			{"-n", ns, "svc/api", "db", "--port", "pg"},
			{"-n", ns, "job/once", "db", "--port", "pg"},
			{"-n", ns, "-f", lockdown, "frontend", "svc/api:80"},
		} {
			sameVerdict(t, c, a, netcheckVerdict, bin, append(args, "--no-probe", "-o", "json")...)
		}
		probeAt := c.AuditLogSize(t)
		res := sameVerdict(t, c, a, netcheckVerdict, bin, probe...)
		if res.Code != 2 || !strings.Contains(res.Stderr, "did not finish within") {
			t.Errorf("want the probe added and its wait to end the run\n%s", res)
		}
		reqs := checkRequests(t, c, s.file, s.clusterRole.Rules, offset, a.user, []string{"get", "list", "patch"}, nil)
		var writes []auditRequest
		for _, q := range reqs {
			if q.Verb == "patch" {
				writes = append(writes, q)
				if resource(q) != "pods/ephemeralcontainers." || q.Offset < probeAt {
					t.Errorf("want no write but the probe run's patch of pods/ephemeralcontainers: %s", q)
				}
			}
		}
		if len(writes) != 1 {
			t.Errorf("want exactly one write, the probe's patch; got %v", writes)
		}
	})

	t.Run("the shipped Role gives the administrator's verdict inside its namespace", func(t *testing.T) {
		a := withRole(t, c, s, ns, "nc-role")
		offset := c.AuditLogSize(t)
		sameVerdict(t, c, a, netcheckVerdict, bin, "-n", ns, "frontend", "svc/api:80", "--no-probe", "-o", "json")
		sameVerdict(t, c, a, netcheckVerdict, bin, "-n", ns, "frontend", "db", "--port", "5432", "--no-probe", "-o", "json")
		res := sameVerdict(t, c, a, netcheckVerdict, bin, probe...)
		if res.Code != 2 || !strings.Contains(res.Stderr, "did not finish within") {
			t.Errorf("want the probe added and its wait to end the run\n%s", res)
		}
		// Only what lies outside the namespace may be refused (the cluster
		// DNS Service in kube-system).
		for _, q := range requestsBy(t, c, offset, a.user) {
			if q.ResponseStatus.Code == 403 && q.ObjectRef != nil && q.ObjectRef.Namespace == ns {
				t.Errorf("refused in the Role's own namespace: %s", q)
			}
		}
		// An IP is looked up among every namespace's pods and Services.
		res = c.RunWith(t, a.run(), bin, "-n", ns, "frontend", dbIP+":5432", "--no-probe", "-o", "json")
		checkConfined(t, res)
	})

	t.Run("read access to the namespace only explains but cannot probe", func(t *testing.T) {
		a := withNamespaceRead(t, c, ns, "nc-view")
		res := c.RunWith(t, a.run(), bin, "-n", ns, "frontend", dbIP+":5432", "--no-probe", "-o", "json")
		checkConfined(t, res)
		res = c.RunWith(t, a.run(), bin, probe...)
		if checkConfined(t, res) || !strings.Contains(res.Stderr, "cannot patch pods/ephemeralcontainers in namespace "+ns) || !strings.Contains(res.Stderr, "--no-probe") {
			t.Errorf("without patch on pods/ephemeralcontainers: want exit 2 naming them and --no-probe\n%s", res)
		}
		pod, err := c.Client.CoreV1().Pods(ns).Get(context.Background(), "frontend", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if n := len(pod.Spec.EphemeralContainers); n != 4 {
			t.Errorf("want the 4 probe containers of the runs allowed to patch (administrator twice, ClusterRole, Role), got %d", n)
		}
	})
}

// waitNetwork waits until the pods run with IPs and the Service has its
// endpoint; it returns db's IP and the api Deployment's ReplicaSet.
func waitNetwork(t *testing.T, c *framework.Cluster, ns string) (string, string) {
	t.Helper()
	ctx := context.Background()
	dbIP, rs := "", ""
	framework.Eventually(t, 90*time.Second, func() (bool, error) {
		pods, err := c.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		running := 0
		for _, p := range pods.Items {
			if p.Status.Phase == corev1.PodRunning && p.Status.PodIP != "" {
				running++
			}
			if p.Name == "db" {
				dbIP = p.Status.PodIP
			}
			if ref := metav1.GetControllerOf(&p); ref != nil && ref.Kind == "ReplicaSet" {
				rs = ref.Name
			}
		}
		if running < 5 || dbIP == "" || rs == "" {
			return false, fmt.Errorf("%d pods running", running)
		}
		sl, err := c.Client.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: "kubernetes.io/service-name=api"})
		if err != nil {
			return false, err
		}
		for _, s := range sl.Items {
			for _, e := range s.Endpoints {
				if e.Conditions.Ready != nil && *e.Conditions.Ready {
					return true, nil
				}
			}
		}
		return false, fmt.Errorf("no ready endpoint for Service api")
	}, "the network of namespace "+ns)
	return dbIP, rs
}

// probeNameRE matches the generated name of a probe container.
var probeNameRE = regexp.MustCompile(`netcheck-[a-z0-9]+`)

// netcheckVerdict is the verdict, its basis and the findings; for a run
// that could not decide (exit 2), its error line with the probe container's
// generated name left out.
func netcheckVerdict(t *testing.T, res framework.Result) string {
	t.Helper()
	if res.Code == 2 {
		return probeNameRE.ReplaceAllString(res.Stderr, "netcheck-*")
	}
	var r struct{ Verdict, Basis string }
	res.DecodeJSON(t, &r)
	return r.Verdict + " " + r.Basis + "\n" + findingsVerdict(t, res)
}

package qosaudit

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ktriage/ktriage/test/e2e/framework"
)

const liveWorkloads = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: app
        image: registry.k8s.io/pause:3.10
        resources: {requests: {cpu: 100m, memory: 256Mi}, limits: {memory: 512Mi}}
---
apiVersion: v1
kind: Pod
metadata: {name: scratch, labels: {app: scratch}}
spec:
  containers:
  - {name: app, image: registry.k8s.io/pause:3.10}
---
apiVersion: v1
kind: Pod
metadata: {name: db, labels: {app: db, tier: db}}
spec:
  initContainers:
  - name: exporter
    image: registry.k8s.io/pause:3.10
    restartPolicy: Always
    resources: {limits: {cpu: 100m, memory: 64Mi}}
  containers:
  - name: app
    image: registry.k8s.io/pause:3.10
    resources: {limits: {cpu: 500m, memory: 1Gi}}
`

// TestLiveAudit runs the plugin on scheduled pods: classes against
// status.qosClass, the kubelet's view per node, workload and node scopes,
// --require, and what it asks the apiserver for.
func TestLiveAudit(t *testing.T) {
	c := framework.Get(t)
	ns := c.Namespace(t, "qos-live", nil)
	c.Apply(t, ns, liveWorkloads)
	pods := map[string]*corev1.Pod{}
	framework.Eventually(t, 60*time.Second, func() (bool, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		l, err := c.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		bound := 0
		for i := range l.Items {
			p := &l.Items[i]
			pods[p.Name] = p
			if p.Spec.NodeName != "" {
				bound++
			}
		}
		return bound == 4, nil
	}, "4 pods bound to kwok nodes")

	offset := c.AuditLogSize(t)
	res := c.Run(t, binary, "-n", ns, "-o", "json", "--fail-on", "never")
	if res.Code != 0 {
		t.Fatalf("%s", res)
	}
	var rep auditReport
	res.DecodeJSON(t, &rep)

	t.Run("every pod's class is the stored one", func(t *testing.T) {
		if len(rep.Pods) != 4 {
			t.Fatalf("want 4 pods, got %+v", rep.Pods)
		}
		for _, p := range rep.Pods {
			want := string(pods[p.Name].Status.QOSClass)
			if p.QOSClass != want || p.StoredQOSClass != want {
				t.Errorf("%s: qosClass %s storedQosClass %s, apiserver %s", p.Name, p.QOSClass, p.StoredQOSClass, want)
			}
		}
	})

	t.Run("each pod is ranked on its node with the kubelet's oom_score_adj", func(t *testing.T) {
		nodes := map[string]*corev1.Node{}
		for _, n := range rep.Nodes {
			node, err := c.Client.CoreV1().Nodes().Get(context.Background(), n.Name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			nodes[n.Name] = node
			if n.UsageSource != "requests" {
				t.Errorf("node %s: usageSource %q, want requests (no metrics API in this cluster)", n.Name, n.UsageSource)
			}
		}
		found := 0
		for _, n := range rep.Nodes {
			capacity := nodes[n.Name].Status.Capacity.Memory().Value()
			for _, e := range n.EvictionOrder {
				p, ours := pods[e.Name]
				if e.Namespace != ns || !ours {
					continue
				}
				found++
				if p.Spec.NodeName != n.Name {
					t.Errorf("%s ranked on %s but runs on %s", e.Name, n.Name, p.Spec.NodeName)
				}
				for _, ctr := range e.Containers {
					// policy.go: Guaranteed -997, BestEffort 1000, Burstable
					// 1000 - 1000*request/capacity (here above 3 and below 999).
					want := 0
					switch p.Status.QOSClass {
					case corev1.PodQOSGuaranteed:
						want = -997
					case corev1.PodQOSBestEffort:
						want = 1000
					default:
						want = int(1000 - 1000*(256<<20)/capacity)
					}
					if ctr.OOMScoreAdj != want {
						t.Errorf("%s/%s: oomScoreAdj %d, want %d (capacity %d)", e.Name, ctr.Name, ctr.OOMScoreAdj, want, capacity)
					}
				}
			}
		}
		if found != 4 {
			t.Errorf("%d of 4 pods found in the nodes' eviction orders", found)
		}
	})

	t.Run("the plugin lists pods of the namespace and of their nodes, paginated", func(t *testing.T) {
		c.WaitForAuditLog(t)
		reqs := c.AuditedRequests(t, offset, "kubectl-qos_audit")
		if len(reqs) == 0 {
			t.Fatal("no request of the plugin in the audit log")
		}
		for _, r := range reqs {
			verb, uri, _ := strings.Cut(r, " ")
			u, err := url.Parse(uri)
			if err != nil {
				t.Fatal(err)
			}
			if verb != "list" && verb != "get" {
				t.Errorf("the plugin changed the cluster: %s", r)
			}
			if verb == "list" && u.Query().Get("limit") == "" && !strings.Contains(u.Path, "metrics.k8s.io") {
				t.Errorf("unpaginated list: %s", r)
			}
			if verb == "list" && u.Path == "/api/v1/pods" && !strings.HasPrefix(u.Query().Get("fieldSelector"), "spec.nodeName=") {
				t.Errorf("pods of the whole cluster listed without a node field selector: %s", r)
			}
		}
	})

	t.Run("deploy/web selects only the Deployment's pods", func(t *testing.T) {
		res := c.Run(t, binary, "deploy/web", "-n", ns, "-o", "json", "--fail-on", "never")
		var r auditReport
		res.DecodeJSON(t, &r)
		if len(r.Pods) != 2 || !strings.HasPrefix(r.Pods[0].Name, "web-") || !strings.HasPrefix(r.Pods[1].Name, "web-") {
			t.Errorf("got %+v\n%s", r.Pods, res)
		}
	})

	t.Run("--require Guaranteed -l tier=db passes, and fails on the whole namespace", func(t *testing.T) {
		if res := c.Run(t, binary, "-n", ns, "-l", "tier=db", "--require", "Guaranteed"); res.Code != 0 {
			t.Errorf("the db pod is Guaranteed: want exit 0\n%s", res)
		}
		res := c.Run(t, binary, "-n", ns, "--require", "Guaranteed", "-o", "json")
		var r auditReport
		res.DecodeJSON(t, &r)
		var objects []string
		for _, f := range r.Findings {
			if f.RuleID == "QA108" {
				objects = append(objects, f.Object.Kind+"/"+f.Object.Name)
			}
		}
		if res.Code != 1 || strings.Join(objects, ",") != "Deployment/web,Pod/scratch" {
			t.Errorf("want exit 1 and QA108 on Deployment/web and Pod/scratch, got %d %v\n%s", res.Code, objects, res.Stdout)
		}
	})

	t.Run("--node shows exactly that node", func(t *testing.T) {
		node := pods["scratch"].Spec.NodeName
		res := c.Run(t, binary, "-A", "--node", node, "-o", "json", "--fail-on", "never")
		var r auditReport
		res.DecodeJSON(t, &r)
		if len(r.Nodes) != 1 || r.Nodes[0].Name != node {
			t.Fatalf("nodes %+v", r.Nodes)
		}
		ranked := false
		for _, e := range r.Nodes[0].EvictionOrder {
			if e.Name == "scratch" && e.Namespace == ns {
				ranked = true
			}
		}
		if !ranked {
			t.Errorf("scratch is not in %s's eviction order", node)
		}
	})

	t.Run("a ReplicaSet whose template changed has pods of two classes: QA107", func(t *testing.T) {
		c.Apply(t, ns, `apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: mixed}
spec:
  replicas: 1
  selector: {matchLabels: {app: mixed}}
  template:
    metadata: {labels: {app: mixed}}
    spec:
      containers:
      - {name: app, image: registry.k8s.io/pause:3.10}
`)
		waitForPods(t, c, ns, "mixed")
		// A ReplicaSet does not replace its pods when its template changes:
		// the new replica gets the new resources, the old one keeps its class.
		c.Kubectl(t, "-n", ns, "patch", "rs", "mixed", "--type=merge", "-p",
			`{"spec":{"replicas":2,"template":{"spec":{"containers":[{"name":"app","image":"registry.k8s.io/pause:3.10","resources":{"limits":{"cpu":"100m","memory":"64Mi"}}}]}}}}`)
		framework.Eventually(t, 60*time.Second, func() (bool, error) {
			return len(waitForPods(t, c, ns, "mixed")) == 2, nil
		}, "2 pods of rs/mixed")
		res := c.Run(t, binary, "rs/mixed", "-n", ns, "-o", "json", "--fail-on", "warning")
		var r auditReport
		res.DecodeJSON(t, &r)
		classes := map[string]bool{}
		for _, p := range r.Pods {
			classes[p.QOSClass] = true
		}
		found := false
		for _, f := range r.Findings {
			if f.RuleID == "QA107" && f.Object.Kind == "ReplicaSet" && f.Object.Name == "mixed" {
				found = true
			}
		}
		if res.Code != 1 || !found || !classes["BestEffort"] || !classes["Guaranteed"] {
			t.Errorf("want a BestEffort and a Guaranteed pod and QA107 on ReplicaSet/mixed (exit 1)\n%s", res)
		}
	})

	t.Run("an unknown pod or node is one error line and exit 2", func(t *testing.T) {
		for _, args := range [][]string{{"nope", "-n", ns}, {"-A", "--node", "no-such-node"}} {
			res := c.Run(t, binary, args...)
			if res.Code != 2 || strings.Count(strings.TrimSpace(res.Stderr), "\n") != 0 || !strings.Contains(res.Stderr, "not found") {
				t.Errorf("want exit 2 and one line\n%s", res)
			}
		}
	})
}

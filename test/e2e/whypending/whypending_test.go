// Package whypending_test runs kubectl why-pending against a real control
// plane (kube-apiserver, kube-scheduler, kube-controller-manager, kwok
// nodes): each cause is created for real and the explanation, the
// scheduler's own message and the exit code are checked.
package whypending_test

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ktriage/ktriage/test/e2e/framework"
)

const bin = "kubectl-why_pending"

func TestMain(m *testing.M) { framework.Main(m, framework.Options{Name: "e2e-whypending", Nodes: 3}) }

type report struct {
	Kind     string `json:"kind"`
	Findings []struct {
		RuleID  string         `json:"ruleID"`
		Message string         `json:"message"`
		Fix     string         `json:"fix"`
		Details map[string]any `json:"details"`
		Object  struct {
			Kind, Namespace, Name string
			Source                *struct {
				File string
				Line int
			}
		} `json:"object"`
	} `json:"findings"`
	Pods []pod `json:"pods"`
}

type pod struct {
	Namespace                 string   `json:"namespace"`
	Name                      string   `json:"name"`
	Stage                     string   `json:"stage"`
	Reason                    string   `json:"reason"`
	SimulatedSchedulerMessage string   `json:"simulatedSchedulerMessage"`
	SchedulerMessage          string   `json:"schedulerMessage"`
	Feasible                  []string `json:"feasible"`
	NodeReasons               []struct {
		Plugin, Message     string
		Reported, PreFilter bool
		Count               int
		Nodes               []string
	} `json:"nodeReasons"`
	Nodes []struct {
		Name    string `json:"name"`
		Reasons []struct {
			Plugin, Message, Detail string
		} `json:"reasons"`
	} `json:"nodes"`
}

func (r report) pod(t *testing.T, name string) pod {
	t.Helper()
	for _, p := range r.Pods {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("no explanation for %q in %+v", name, r.Pods)
	return pod{}
}

// reportedGroups renders the groups kube-scheduler counts as its message's
// "<count> <reason>" items: merged by reason, sorted with sort.Strings.
func reportedGroups(p pod) string {
	counts := map[string]int{}
	var items []string
	for _, g := range p.NodeReasons {
		switch {
		case g.PreFilter:
			items = append(items, g.Message)
		case g.Reported:
			counts[g.Message] += g.Count
		}
	}
	for m, n := range counts {
		items = append(items, fmt.Sprintf("%d %s", n, m))
	}
	sort.Strings(items)
	return strings.Join(items, ", ")
}

// schedulerReasons is the reasons part of "0/N nodes are available:
// <reasons>. preemption: ...".
func schedulerReasons(msg string) string {
	_, s, _ := strings.Cut(msg, "nodes are available: ")
	s, _, _ = strings.Cut(s, ". preemption:")
	return strings.TrimSuffix(s, ".")
}

func (r report) has(rule string) bool {
	for _, f := range r.Findings {
		if f.RuleID == rule {
			return true
		}
	}
	return false
}

func (r report) fix(rule string) string {
	for _, f := range r.Findings {
		if f.RuleID == rule {
			return f.Fix
		}
	}
	return ""
}

func explain(t *testing.T, c *framework.Cluster, args ...string) (report, framework.Result) {
	t.Helper()
	res := c.Run(t, bin, append(args, "-o", "json")...)
	var r report
	res.DecodeJSON(t, &r)
	return r, res
}

func TestAGatedPodIsGated(t *testing.T) {
	c := framework.Get(t)
	ns := c.Namespace(t, "wp-gated", nil)
	c.Apply(t, ns, `
apiVersion: v1
kind: Pod
metadata: {name: gated}
spec:
  schedulingGates: [{name: example.com/approval}]
  containers: [{name: app, image: registry.example.com/app:1}]
`)
	r, res := explain(t, c, "-n", ns, "gated")
	if res.Code != 1 {
		t.Fatalf("want exit 1 for a Pending pod\n%s", res)
	}
	if p := r.pod(t, "gated"); p.Stage != "Gated" || !strings.Contains(p.Reason, "example.com/approval") || !r.has("WP101") {
		t.Errorf("got %+v\n%s", p, res)
	}
}

func TestAPodForAnUnknownSchedulerIsNoScheduler(t *testing.T) {
	c := framework.Get(t)
	ns := c.Namespace(t, "wp-nosched", nil)
	c.Apply(t, ns, `
apiVersion: v1
kind: Pod
metadata: {name: custom}
spec:
  schedulerName: no-such-scheduler
  containers: [{name: app, image: registry.example.com/app:1}]
---
apiVersion: v1
kind: Pod
metadata: {name: normal}
spec:
  containers: [{name: app, image: registry.example.com/app:1}]
`)
	c.WaitForPodRunning(t, ns, "normal", time.Minute)
	// The clock is what is tested: the pod must have waited longer than
	// --scheduler-timeout without any scheduler acting on it.
	time.Sleep(3 * time.Second)
	r, res := explain(t, c, "-n", ns, "--scheduler-timeout", "2s")
	if res.Code != 1 || len(r.Pods) != 1 {
		t.Fatalf("want exit 1 and only the Pending pod explained\n%s", res)
	}
	p := r.pod(t, "custom")
	if p.Stage != "NoScheduler" || !strings.Contains(p.Reason, `"no-such-scheduler"`) || !strings.Contains(r.fix("WP102"), "default-scheduler") {
		t.Errorf("got %+v\n%s", p, res)
	}
}

// The scheduler's real PodScheduled message and the simulated one must be
// the same text.
func TestUnschedulablePodsCarryTheSchedulersExactMessage(t *testing.T) {
	c := framework.Get(t)
	ns := c.Namespace(t, "wp-filters", nil)
	c.Apply(t, ns, `
apiVersion: v1
kind: Pod
metadata: {name: huge}
spec:
  containers:
  - name: app
    image: registry.example.com/app:1
    resources: {requests: {cpu: "64", memory: 1Gi}}
---
apiVersion: v1
kind: Pod
metadata: {name: ssd}
spec:
  nodeSelector: {disktype: ssd}
  containers: [{name: app, image: registry.example.com/app:1}]
---
apiVersion: v1
kind: Pod
metadata: {name: zone}
spec:
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchExpressions:
          - {key: topology.kubernetes.io/zone, operator: In, values: [zone-x]}
  containers: [{name: app, image: registry.example.com/app:1}]
`)
	for _, name := range []string{"huge", "ssd", "zone"} {
		c.WaitForPodScheduledCondition(t, ns, name, time.Minute)
	}
	r, res := explain(t, c, "-n", ns, "--per-node")
	if res.Code != 1 || len(r.Pods) != 3 {
		t.Fatalf("want 3 explanations and exit 1\n%s", res)
	}
	for _, p := range r.Pods {
		if p.Stage != "Unschedulable" {
			t.Errorf("%s: stage %s", p.Name, p.Stage)
		}
		if p.SchedulerMessage == "" || p.SimulatedSchedulerMessage != p.SchedulerMessage {
			t.Errorf("%s: simulated message\n  %q\ndiffers from kube-scheduler's\n  %q", p.Name, p.SimulatedSchedulerMessage, p.SchedulerMessage)
		}
		if len(p.Nodes) != 3 {
			t.Errorf("%s: want a verdict per node, got %+v", p.Name, p.Nodes)
		}
	}
	// Without --per-node the nodes are grouped by reason: the groups the
	// scheduler reports spell its own message, and no node is listed.
	grouped, res := explain(t, c, "-n", ns)
	for _, p := range grouped.Pods {
		if got, want := reportedGroups(p), schedulerReasons(p.SchedulerMessage); got != want || p.Nodes != nil {
			t.Errorf("%s: nodes by reason %q, kube-scheduler says %q; nodes listed: %+v\n%s", p.Name, got, want, p.Nodes, res)
		}
	}
	// Other tests' pods may still hold some cpu: at most 4 of 4 is free.
	if !regexp.MustCompile(`lower resources.requests.cpu from 64 to at most ([0-3](\.\d+)?|4|\d+m) \(fits on kwok-node-\d\)`).MatchString(r.fix("WP113")) {
		t.Errorf("want the largest cpu request that fits: %q", r.fix("WP113"))
	}
	// 64 cpu is more than any 4-cpu node holds: no node is big enough.
	if !strings.Contains(r.fix("WP113"), "no node is big enough for 64 cpu (the largest allocatable is 4, on kwok-node-") || !strings.Contains(r.fix("WP113"), "add a node with at least 64 cpu allocatable") {
		t.Errorf("want a bigger node named as the other way out: %q", r.fix("WP113"))
	}
	if !strings.Contains(r.fix("WP112"), "disktype=ssd") {
		t.Errorf("want the label to add: %q", r.fix("WP112"))
	}

	// -o wide adds the per-node breakdown with the filter names.
	wide := c.Run(t, bin, "-n", ns, "-o", "wide")
	for _, want := range []string{"NodeResourcesFit", "NodeAffinity", "Insufficient cpu", "kubectl label node"} {
		if !strings.Contains(wide.Stdout, want) {
			t.Errorf("wide output lacks %q\n%s", want, wide)
		}
	}
}

func TestATaintedNodeNamesTheTolerationToAdd(t *testing.T) {
	c := framework.Get(t)
	ns := c.Namespace(t, "wp-taint", nil)
	c.Kubectl(t, "taint", "node", "kwok-node-2", "e2e-dedicated=db:NoSchedule")
	t.Cleanup(func() { c.Kubectl(t, "taint", "node", "kwok-node-2", "e2e-dedicated-") })
	c.Apply(t, ns, `
apiVersion: v1
kind: Pod
metadata: {name: picky}
spec:
  nodeSelector: {kubernetes.io/hostname: kwok-node-2}
  containers: [{name: app, image: registry.example.com/app:1}]
`)
	c.WaitForPodScheduledCondition(t, ns, "picky", time.Minute)
	r, res := explain(t, c, "-n", ns, "picky")
	p := r.pod(t, "picky")
	if p.SimulatedSchedulerMessage != p.SchedulerMessage {
		t.Errorf("simulated %q != real %q", p.SimulatedSchedulerMessage, p.SchedulerMessage)
	}
	// A mix of causes: cpu on node-0, affinity on node-1, the taint on node-2.
	c.Apply(t, ns, `
apiVersion: v1
kind: Pod
metadata: {name: filler}
spec:
  nodeName: kwok-node-0
  containers:
  - name: app
    image: registry.example.com/app:1
    resources: {requests: {cpu: "2"}}
---
apiVersion: v1
kind: Pod
metadata: {name: mixed}
spec:
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchExpressions:
          - {key: topology.kubernetes.io/zone, operator: NotIn, values: [zone-b]}
  containers:
  - name: app
    image: registry.example.com/app:1
    resources: {requests: {cpu: "3"}}
`)
	c.WaitForPodScheduledCondition(t, ns, "mixed", time.Minute)
	rm, resm := explain(t, c, "-n", ns, "mixed")
	m := rm.pod(t, "mixed")
	if m.SchedulerMessage == "" || m.SimulatedSchedulerMessage != m.SchedulerMessage {
		t.Errorf("mixed causes: simulated %q != real %q\n%s", m.SimulatedSchedulerMessage, m.SchedulerMessage, resm)
	}
	for _, rule := range []string{"WP111", "WP112", "WP113"} {
		if !rm.has(rule) {
			t.Errorf("mixed causes: want %s\n%s", rule, resm)
		}
	}

	fix := r.fix("WP111")
	for _, want := range []string{`key: "e2e-dedicated"`, `value: "db"`, "effect: NoSchedule"} {
		if !strings.Contains(fix, want) {
			t.Errorf("toleration fix lacks %q:\n%s\n%s", want, fix, res)
		}
	}
}

func TestClaims(t *testing.T) {
	c := framework.Get(t)
	ns := c.Namespace(t, "wp-claims", nil)
	c.Apply(t, "", `
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: e2e-local-wffc}
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: WaitForFirstConsumer
`)
	t.Cleanup(func() { c.Kubectl(t, "delete", "storageclass", "e2e-local-wffc", "--ignore-not-found") })
	c.Apply(t, ns, `
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: noclass}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: local}
spec:
  storageClassName: e2e-local-wffc
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: v1
kind: Pod
metadata: {name: uses-noclass}
spec:
  volumes: [{name: data, persistentVolumeClaim: {claimName: noclass}}]
  containers: [{name: app, image: registry.example.com/app:1}]
---
apiVersion: v1
kind: Pod
metadata: {name: uses-missing}
spec:
  volumes: [{name: data, persistentVolumeClaim: {claimName: does-not-exist}}]
  containers: [{name: app, image: registry.example.com/app:1}]
---
apiVersion: v1
kind: Pod
metadata: {name: uses-local}
spec:
  volumes: [{name: data, persistentVolumeClaim: {claimName: local}}]
  containers: [{name: app, image: registry.example.com/app:1}]
`)
	for _, name := range []string{"uses-noclass", "uses-missing", "uses-local"} {
		c.WaitForPodScheduledCondition(t, ns, name, time.Minute)
	}
	r, res := explain(t, c, "-n", ns)
	if res.Code != 1 {
		t.Fatalf("want exit 1\n%s", res)
	}
	for _, tc := range []struct{ pod, rule string }{{"uses-noclass", "WP121"}, {"uses-missing", "WP120"}, {"uses-local", "WP123"}} {
		p := r.pod(t, tc.pod)
		if p.Stage != "VolumeBinding" || !r.has(tc.rule) {
			t.Errorf("%s: stage %s, want VolumeBinding with %s\n%s", tc.pod, p.Stage, tc.rule, res)
		}
	}
	// The WaitForFirstConsumer claim reaches the scheduler's filters: its
	// message must be kube-scheduler's.
	if p := r.pod(t, "uses-local"); p.SimulatedSchedulerMessage != p.SchedulerMessage {
		t.Errorf("uses-local: simulated %q != real %q", p.SimulatedSchedulerMessage, p.SchedulerMessage)
	}
}

func TestWorkloadsWithoutPods(t *testing.T) {
	c := framework.Get(t)
	ns := c.Namespace(t, "wp-notcreated", nil)
	c.Apply(t, ns, `
apiVersion: v1
kind: ResourceQuota
metadata: {name: compute}
spec:
  hard: {requests.cpu: "1", requests.memory: 1Gi}
---
apiVersion: v1
kind: LimitRange
metadata: {name: limits}
spec:
  limits:
  - type: Container
    max: {memory: 512Mi}
`)
	// Let the quota controller fill status.used before the workloads.
	framework.Eventually(t, 30*time.Second, func() (bool, error) {
		out := c.Kubectl(t, "get", "resourcequota", "compute", "-n", ns, "-o", "jsonpath={.status.used}")
		return strings.Contains(out, "requests.cpu"), nil
	}, "quota status")
	c.Apply(t, ns, `
apiVersion: apps/v1
kind: Deployment
metadata: {name: greedy}
spec:
  replicas: 1
  selector: {matchLabels: {app: greedy}}
  template:
    metadata: {labels: {app: greedy}}
    spec:
      containers:
      - name: app
        image: registry.example.com/app:1
        resources:
          requests: {cpu: "2", memory: 128Mi}
          limits: {memory: 128Mi}
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
      containers:
      - name: app
        image: registry.example.com/db:1
        resources:
          requests: {cpu: 100m, memory: 128Mi}
          limits: {memory: 2Gi}
`)
	framework.Eventually(t, 30*time.Second, func() (bool, error) {
		out := c.Kubectl(t, "get", "events", "-n", ns, "--field-selector", "reason=FailedCreate", "-o", "name")
		return strings.Count(out, "\n") >= 2, nil
	}, "FailedCreate events for both workloads")

	r, res := explain(t, c, "-n", ns, "deploy/greedy")
	if res.Code != 1 {
		t.Fatalf("want exit 1\n%s", res)
	}
	p := r.pod(t, "deployment/greedy")
	if p.Stage != "NotCreated" || !strings.Contains(p.Reason, "exceeded quota compute") {
		t.Errorf("got %+v\n%s", p, res)
	}
	if fix := r.fix("WP130"); !strings.Contains(fix, `"requests.cpu":"2"`) {
		t.Errorf("want the quota to raise to used+requested: %q", fix)
	}

	r, res = explain(t, c, "-n", ns, "sts/db")
	if p := r.pod(t, "statefulset/db"); p.Stage != "NotCreated" || !strings.Contains(p.Reason, "maximum memory usage per Container is 512Mi, but limit is 2Gi") || !r.has("WP131") {
		t.Errorf("got %+v\n%s", p, res)
	}

	// With no argument, controllers that cannot create pods are found
	// through their FailedCreate events.
	r, res = explain(t, c, "-n", ns)
	if res.Code != 1 || len(r.Pods) != 2 {
		t.Errorf("want both workloads explained\n%s", res)
	}
}

func TestAPodBoundToAGoneNodeIsNodeLost(t *testing.T) {
	c := framework.Get(t)
	ns := c.Namespace(t, "wp-nodelost", nil)
	c.Apply(t, ns, `
apiVersion: v1
kind: Pod
metadata: {name: orphan}
spec:
  nodeName: kwok-node-deleted
  containers: [{name: app, image: registry.example.com/app:1}]
`)
	r, res := explain(t, c, "-n", ns, "orphan")
	if p := r.pod(t, "orphan"); res.Code != 1 || p.Stage != "NodeLost" || !r.has("WP170") {
		t.Errorf("got %+v\n%s", p, res)
	}
}

func TestAnUnknownPodIsAOneLineErrorWithExitCode2(t *testing.T) {
	c := framework.Get(t)
	ns := c.Namespace(t, "wp-unknown", nil)
	res := c.Run(t, bin, "-n", ns, "nope")
	if res.Code != 2 || res.Stderr != `error: pod "nope" not found in namespace "`+ns+`"`+"\n" || res.Stdout != "" {
		t.Errorf("want one error line and exit 2\n%s", res)
	}
	res = c.Run(t, bin, "-n", ns, "deploy/nope")
	if res.Code != 2 || !strings.Contains(res.Stderr, `deployment "nope" not found in namespace "`+ns+`"`) {
		t.Errorf("want one error line and exit 2\n%s", res)
	}
}

func TestNothingPendingExitsZero(t *testing.T) {
	c := framework.Get(t)
	ns := c.Namespace(t, "wp-empty", nil)
	res := c.Run(t, bin, "-n", ns)
	if res.Code != 0 || !strings.Contains(res.Stdout, "No Pending pods.") {
		t.Errorf("want exit 0 and an empty table\n%s", res)
	}
	// A workload scaled to zero wants no pods: nothing is stuck.
	c.Apply(t, ns, `
apiVersion: apps/v1
kind: Deployment
metadata: {name: idle}
spec:
  replicas: 0
  selector: {matchLabels: {app: idle}}
  template:
    metadata: {labels: {app: idle}}
    spec:
      containers: [{name: app, image: registry.example.com/app:1}]
`)
	res = c.Run(t, bin, "-n", ns, "deploy/idle")
	if res.Code != 0 || !strings.Contains(res.Stdout, "No Pending pods.") {
		t.Errorf("a Deployment at replicas 0: want exit 0 and an empty table\n%s", res)
	}
}

// Explaining one pod must not list every pod of the cluster: only GET the
// pod, LIST nodes, and LIST pods per candidate node.
func TestExplainingOnePodListsPodsOnlyPerNode(t *testing.T) {
	c := framework.Get(t)
	ns := c.Namespace(t, "wp-audit", nil)
	c.Apply(t, ns, `
apiVersion: v1
kind: Pod
metadata: {name: one}
spec:
  nodeSelector: {kubernetes.io/hostname: kwok-node-1}
  containers:
  - name: app
    image: registry.example.com/app:1
    resources: {requests: {cpu: "64"}}
`)
	c.WaitForPodScheduledCondition(t, ns, "one", time.Minute)
	offset := c.AuditLogSize(t)
	res := c.Run(t, bin, "-n", ns, "one")
	if res.Code != 1 {
		t.Fatalf("want exit 1\n%s", res)
	}
	var reqs []string
	framework.Eventually(t, 10*time.Second, func() (bool, error) {
		reqs = c.AuditedRequests(t, offset, "kubectl-why_pending/")
		for _, r := range reqs {
			if strings.HasPrefix(r, "get /api/v1/namespaces/"+ns+"/pods/one") {
				return true, nil
			}
		}
		return false, nil
	}, "the plugin's requests in the audit log")
	podLists := 0
	for _, r := range reqs {
		verb, uri, _ := strings.Cut(r, " ")
		u, err := url.Parse(uri)
		if err != nil {
			t.Fatal(err)
		}
		if verb == "list" && strings.HasSuffix(u.Path, "/pods") {
			podLists++
			if fs := u.Query().Get("fieldSelector"); fs != "spec.nodeName=kwok-node-1,status.phase!=Succeeded,status.phase!=Failed" {
				t.Errorf("pods listed with fieldSelector %q: only the candidate node's pods may be listed", fs)
			}
		}
	}
	if podLists != 1 {
		t.Errorf("want exactly one pod LIST (the candidate node's), got %d: %q", podLists, reqs)
	}
}

func TestManifestsAgainstTheLiveCluster(t *testing.T) {
	c := framework.Get(t)
	ns := c.Namespace(t, "wp-ci", nil)
	dir := filepath.Join("testdata", "ci")
	r, res := explain(t, c, "-f", dir, "-n", ns)
	if res.Code != 1 {
		t.Fatalf("4 anti-affine replicas on 3 nodes: want exit 1\n%s", res)
	}
	p := r.pod(t, "web")
	if p.Stage != "Unschedulable" || !strings.Contains(p.SimulatedSchedulerMessage, "3 node(s) didn't match pod anti-affinity rules") {
		t.Errorf("got %+v", p)
	}
	found := false
	for _, f := range r.Findings {
		if f.RuleID == "WP115" && f.Object.Source != nil && strings.HasSuffix(f.Object.Source.File, "web.yaml") && f.Object.Source.Line > 0 {
			found = true
		}
	}
	if !found {
		t.Errorf("want WP115 pointing at web.yaml:line\n%s", res)
	}

	res = c.Run(t, bin, "-f", filepath.Join("testdata", "ci-ok"), "-n", ns)
	if res.Code != 0 || !strings.Contains(res.Stdout, "Schedulable") {
		t.Errorf("3 small replicas fit: want exit 0\n%s", res)
	}
}

func TestManifestsAgainstADumpWorkOffline(t *testing.T) {
	c := framework.Get(t)
	dump := c.Kubectl(t, "get", "nodes,pods,pvc,pv,storageclasses,resourcequotas,limitranges,poddisruptionbudgets", "-A", "-o", "yaml")
	state := filepath.Join(t.TempDir(), "state.yaml")
	if err := os.WriteFile(state, []byte(dump), 0o644); err != nil {
		t.Fatal(err)
	}
	// No cluster at all: the dump is the cluster.
	opts := framework.RunOptions{Env: []string{"KUBECONFIG=" + filepath.Join(t.TempDir(), "none")}}
	res := c.RunWith(t, opts, bin, "-f", filepath.Join("testdata", "ci"), "--cluster-state", state, "-n", "offline", "-o", "json")
	var r report
	res.DecodeJSON(t, &r)
	if res.Code != 1 || r.pod(t, "web").Stage != "Unschedulable" {
		t.Errorf("want the same verdict offline\n%s", res)
	}
	res = c.RunWith(t, opts, bin, "-f", filepath.Join("testdata", "ci-ok"), "--cluster-state", state, "-n", "offline")
	if res.Code != 0 {
		t.Errorf("want exit 0 offline for manifests that fit\n%s", res)
	}
}

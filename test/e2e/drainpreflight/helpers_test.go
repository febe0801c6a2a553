package drainpreflight

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ktriage/ktriage/test/e2e/framework"
)

// report is the part of the JSON document the tests read; the field names
// are the plugin's contract.
type report struct {
	Kind     string   `json:"kind"`
	Verdict  string   `json:"verdict"`
	Reasons  []string `json:"reasons"`
	Findings []struct {
		RuleID   string          `json:"ruleID"`
		Severity string          `json:"severity"`
		Message  string          `json:"message"`
		Fix      string          `json:"fix"`
		Object   json.RawMessage `json:"object"`
	} `json:"findings"`
	Nodes []struct {
		Name string    `json:"name"`
		Pods []podPlan `json:"pods"`
	} `json:"nodes"`
	PDBs []struct {
		Namespace          string `json:"namespace"`
		Name               string `json:"name"`
		DesiredHealthy     int    `json:"desiredHealthy"`
		CurrentHealthy     int    `json:"currentHealthy"`
		DisruptionsAllowed int    `json:"disruptionsAllowed"`
		ExpectedPods       int    `json:"expectedPods"`
		Evicted            int    `json:"evicted"`
		Blocks             bool   `json:"blocks"`
		Reason             string `json:"reason"`
	} `json:"pdbs"`
	Capacity  []json.RawMessage `json:"capacity"`
	Preempted []struct {
		Namespace   string `json:"namespace"`
		Name        string `json:"name"`
		Node        string `json:"node"`
		Destination string `json:"destination"`
	} `json:"preempted"`
	Order []struct {
		Node    string `json:"node"`
		Verdict string `json:"verdict"`
	} `json:"order"`
}

type podPlan struct {
	Namespace   string `json:"namespace"`
	Name        string `json:"name"`
	Action      string `json:"action"`
	Reason      string `json:"reason"`
	Destination string `json:"destination"`
	Replaced    bool   `json:"replaced"`
	Pending     *struct {
		Message string          `json:"message"`
		Nodes   json.RawMessage `json:"nodes"`
	} `json:"pending"`
}

// pod is the plan drain-preflight made for the pod namespace/name.
func (r report) pod(namespace, name string) (podPlan, bool) {
	for _, n := range r.Nodes {
		for _, p := range n.Pods {
			if p.Namespace == namespace && p.Name == name {
				return p, true
			}
		}
	}
	return podPlan{}, false
}

// scenario is one case's world: a namespace, its own kwok nodes (labelled
// dp-case=<id> so that the case's pods, which select that label, never land
// anywhere else) and cluster-scoped objects named after it.
type scenario struct {
	t  *testing.T
	c  *framework.Cluster
	id string
	ns string
	// vars are substituted into manifests: {{case}}, {{a}}, {{b}}, ...
	vars map[string]string
	// healthy is the status.currentHealthy each budget must reach before
	// the case may start.
	healthy map[string]int32
	// owners maps the name of every pod that existed before the drain to
	// the controller that recreates it ("ReplicaSet/web-7d9c") or to
	// "Pod/<name>" for a pod nothing recreates.
	owners map[string]string
}

func newScenario(t *testing.T, id string) *scenario {
	t.Helper()
	c := framework.Get(t)
	s := &scenario{t: t, c: c, id: id, vars: map[string]string{"{{case}}": id}, healthy: map[string]int32{}}
	s.ns = c.Namespace(t, "dp-"+id, nil)
	s.vars["{{ns}}"] = s.ns
	return s
}

// nodeSpec shapes a kwok node; the zero value is 2 cpu, 4Gi, 110 pods.
type nodeSpec struct {
	cpu    string
	labels map[string]string
	taints []corev1.Taint
	// unmanaged leaves kwok out: the node never becomes Ready and nothing
	// acts on its pods, so a pod held by a finalizer stays Terminating.
	unmanaged bool
}

// node creates a Ready kwok node for the case and returns its name; manifests
// name it {{role}}.
func (s *scenario) node(role string, spec nodeSpec) string {
	s.t.Helper()
	name := fmt.Sprintf("dp-%s-%s-%05d", s.id, role, rand.Intn(100000))
	cpu := spec.cpu
	if cpu == "" {
		cpu = "2"
	}
	labels := map[string]string{
		"dp-case":                s.id,
		"kubernetes.io/hostname": name,
		"kubernetes.io/os":       "linux",
		"kubernetes.io/arch":     "amd64",
	}
	maps.Copy(labels, spec.labels)
	res := corev1.ResourceList{
		corev1.ResourceCPU:              resource.MustParse(cpu),
		corev1.ResourceMemory:           resource.MustParse("4Gi"),
		corev1.ResourcePods:             resource.MustParse("110"),
		corev1.ResourceEphemeralStorage: resource.MustParse("100Gi"),
	}
	annotations := map[string]string{"kwok.x-k8s.io/node": "fake"}
	if spec.unmanaged {
		annotations = nil
	}
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels, Annotations: annotations},
		Spec:       corev1.NodeSpec{Taints: spec.taints},
		Status: corev1.NodeStatus{
			Capacity:    res,
			Allocatable: res,
			Addresses:   []corev1.NodeAddress{{Type: corev1.NodeHostName, Address: name}},
			NodeInfo:    corev1.NodeSystemInfo{KubeletVersion: "v1.37.2", Architecture: "amd64", OperatingSystem: "linux"},
		},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.c.Client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
		s.t.Fatalf("creating node %s: %v", name, err)
	}
	s.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.c.Client.CoreV1().Nodes().Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			s.t.Logf("deleting node %s: %v", name, err)
		}
	})
	s.vars["{{"+role+"}}"] = name
	if spec.unmanaged {
		return name
	}
	// kwok sets Ready; the node lifecycle controller then lifts the
	// not-ready taint. Until both happened the scheduler avoids the node.
	framework.Eventually(s.t, 90*time.Second, func() (bool, error) {
		n, err := s.c.Client.CoreV1().Nodes().Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, taint := range n.Spec.Taints {
			if strings.HasPrefix(taint.Key, "node.kubernetes.io/") {
				return false, nil
			}
		}
		for _, cond := range n.Status.Conditions {
			if cond.Type == corev1.NodeReady {
				return cond.Status == corev1.ConditionTrue, nil
			}
		}
		return false, nil
	}, "node "+name+" Ready without the not-ready taint")
	return name
}

// priorityClass creates a PriorityClass for the case; manifests name it
// {{role}}.
func (s *scenario) priorityClass(role string, value int) {
	s.t.Helper()
	name := fmt.Sprintf("dp-%s-%s-%05d", s.id, role, rand.Intn(100000))
	s.c.Apply(s.t, "", fmt.Sprintf("apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: %s}\nvalue: %d\n", name, value))
	s.t.Cleanup(func() {
		s.c.KubectlResult(s.t, "", "delete", "priorityclass", name, "--ignore-not-found")
	})
	s.vars["{{"+role+"}}"] = name
}

func (s *scenario) expand(text string) string {
	keys := slices.Sorted(maps.Keys(s.vars))
	var pairs []string
	for _, k := range keys {
		pairs = append(pairs, k, s.vars[k])
	}
	return strings.NewReplacer(pairs...).Replace(text)
}

// apply applies manifests in the case's namespace after substituting the
// case's names.
func (s *scenario) apply(manifests ...string) {
	s.t.Helper()
	s.c.Apply(s.t, s.ns, s.expand(strings.Join(manifests, "\n---\n")))
}

// kubectl runs kubectl in the case's namespace.
func (s *scenario) kubectl(args ...string) string {
	s.t.Helper()
	return s.c.Kubectl(s.t, append([]string{"-n", s.ns}, args...)...)
}

// deployment is a Deployment "name" whose pods request cpu and select the
// case's nodes; selector adds nodeSelector entries (", key: value") and
// extra adds lines to the pod spec (indented by six spaces).
func deployment(name string, replicas int, cpu, selector, extra string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: %[1]s}
spec:
  replicas: %[2]d
  selector: {matchLabels: {app: %[1]s}}
  template:
    metadata: {labels: {app: %[1]s}}
    spec:
      nodeSelector: {dp-case: "{{case}}"%[4]s}
      containers:
      - name: app
        image: registry.example.com/app:1
        resources: {requests: {cpu: "%[3]s", memory: 100Mi}}
%[5]s`, name, replicas, cpu, selector, extra)
}

// budget is a PodDisruptionBudget over app=<app>; spec holds its
// minAvailable/maxUnavailable (and more) as YAML flow entries.
func budget(name, app, spec string) string {
	return fmt.Sprintf(`apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: %s}
spec: {selector: {matchLabels: {app: %s}}, %s}
`, name, app, spec)
}

// expectBudget records the status.currentHealthy budget name must show
// before the case runs.
func (s *scenario) expectBudget(name string, currentHealthy int32) {
	s.healthy[name] = currentHealthy
}

// waitWorkloads waits until every Deployment and DaemonSet of the case is
// fully ready, every Job has succeeded and every other pod is Running and
// Ready.
func (s *scenario) waitWorkloads() {
	s.t.Helper()
	ctx := context.Background()
	cl := s.c.Client
	framework.Eventually(s.t, 90*time.Second, func() (bool, error) {
		deps, err := cl.AppsV1().Deployments(s.ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		for _, d := range deps.Items {
			if !deploymentReady(&d) {
				return false, nil
			}
		}
		dss, err := cl.AppsV1().DaemonSets(s.ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		for _, ds := range dss.Items {
			st := ds.Status
			if st.ObservedGeneration < ds.Generation || st.DesiredNumberScheduled == 0 || st.NumberReady != st.DesiredNumberScheduled {
				return false, nil
			}
		}
		jobs, err := cl.BatchV1().Jobs(s.ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		for _, j := range jobs.Items {
			if j.Status.Succeeded < 1 {
				return false, nil
			}
		}
		pods, err := cl.CoreV1().Pods(s.ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		for _, p := range pods.Items {
			if p.DeletionTimestamp != nil {
				return false, nil
			}
			if p.Status.Phase != corev1.PodSucceeded && (p.Status.Phase != corev1.PodRunning || !podReady(&p)) {
				return false, nil
			}
		}
		return true, nil
	}, "the workloads of namespace "+s.ns+" to be ready")
}

func deploymentReady(d *appsv1.Deployment) bool {
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	st := d.Status
	return st.ObservedGeneration >= d.Generation && st.Replicas == want && st.UpdatedReplicas == want && st.ReadyReplicas == want
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// waitBudgets waits until the disruption controller has observed every
// budget of the case and counts the healthy pods expectBudget named.
func (s *scenario) waitBudgets() {
	s.t.Helper()
	framework.Eventually(s.t, 60*time.Second, func() (bool, error) {
		pdbs, err := s.c.Client.PolicyV1().PodDisruptionBudgets(s.ns).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		if len(pdbs.Items) != len(s.healthy) {
			return false, fmt.Errorf("%d budgets in %s, %d expected", len(pdbs.Items), s.ns, len(s.healthy))
		}
		for _, p := range pdbs.Items {
			want, ok := s.healthy[p.Name]
			if !ok {
				return false, fmt.Errorf("no expectation for budget %s", p.Name)
			}
			if p.Status.ObservedGeneration != p.Generation || p.Status.CurrentHealthy != want {
				return false, fmt.Errorf("budget %s: observedGeneration %d of %d, currentHealthy %d (want %d)", p.Name, p.Status.ObservedGeneration, p.Generation, p.Status.CurrentHealthy, want)
			}
		}
		return true, nil
	}, "the budgets of namespace "+s.ns+" to be observed")
}

// podsOn returns the case's pods bound to node with label app=<app>.
func (s *scenario) podsOn(node, app string) []corev1.Pod {
	s.t.Helper()
	pods, err := s.c.Client.CoreV1().Pods(s.ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app=" + app, FieldSelector: "spec.nodeName=" + node})
	if err != nil {
		s.t.Fatal(err)
	}
	return pods.Items
}

// setNotReady turns the pod's Ready condition False through the status
// subresource, as a failing readiness probe would. kwok leaves it so: it
// only writes the status of pods that have no IP yet.
func (s *scenario) setNotReady(pod string) {
	s.t.Helper()
	s.kubectl("patch", "pod", pod, "--subresource=status", "--type=strategic",
		"-p", `{"status":{"conditions":[{"type":"Ready","status":"False","reason":"ReadinessProbeFailed"},{"type":"ContainersReady","status":"False"}]}}`)
	framework.Eventually(s.t, 30*time.Second, func() (bool, error) {
		p, err := s.c.Client.CoreV1().Pods(s.ns).Get(context.Background(), pod, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return !podReady(p), nil
	}, "pod "+pod+" not ready")
}

// recordOwners remembers, for every pod of the case, what recreates it.
func (s *scenario) recordOwners() {
	s.t.Helper()
	pods, err := s.c.Client.CoreV1().Pods(s.ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		s.t.Fatal(err)
	}
	s.owners = map[string]string{}
	for _, p := range pods.Items {
		s.owners[p.Name] = ownerKey(&p)
	}
}

func ownerKey(p *corev1.Pod) string {
	if ref := metav1.GetControllerOf(p); ref != nil {
		return ref.Kind + "/" + ref.Name
	}
	return "Pod/" + p.Name
}

// preflight runs drain-preflight on node with flags and decodes its JSON.
func (s *scenario) preflight(node string, flags ...string) (report, framework.Result) {
	s.t.Helper()
	args := append(append([]string{node}, flags...), "-o", "json")
	res := s.c.Run(s.t, bin, args...)
	if res.Code != 0 && res.Code != 1 {
		s.t.Fatalf("drain-preflight could not run (want exit 0 or 1)\n%s", res)
	}
	var r report
	res.DecodeJSON(s.t, &r)
	if r.Kind != "DrainPreflightReport" {
		s.t.Errorf("kind %q, want DrainPreflightReport", r.Kind)
	}
	return r, res
}

// drain runs the real kubectl drain with the same flags; a drain that would
// wait for ever gives up after 30 s and fails.
func (s *scenario) drain(node string, flags ...string) framework.Result {
	s.t.Helper()
	return s.c.KubectlResult(s.t, "", append([]string{"drain", node, "--timeout=30s"}, flags...)...)
}

// predictedPending counts, per owner, the pods drain-preflight says stay
// Pending: evicted pods whose replacement finds no node, and preemption
// victims with no destination whose owner recreates them.
func (s *scenario) predictedPending(r report) map[string]int {
	out := map[string]int{}
	for _, n := range r.Nodes {
		for _, p := range n.Pods {
			if p.Namespace == s.ns && p.Replaced && p.Destination == "" {
				out[s.ownerOf(p.Name)]++
			}
		}
	}
	for _, v := range r.Preempted {
		if v.Namespace == s.ns && v.Destination == "" {
			if owner := s.ownerOf(v.Name); !strings.HasPrefix(owner, "Pod/") {
				out[owner]++
			}
		}
	}
	return out
}

func (s *scenario) ownerOf(pod string) string {
	if o, ok := s.owners[pod]; ok {
		return o
	}
	return "Pod/" + pod
}

// pendingAfterDrain waits until the controllers have recreated what the drain
// evicted and the scheduler has placed every replacement or given up on it
// (PodScheduled=False, reason Unschedulable, no nominated node), the picture
// holding still for two seconds; then it counts the unscheduled pods per
// owner.
func (s *scenario) pendingAfterDrain() map[string]int {
	s.t.Helper()
	ctx := context.Background()
	cl := s.c.Client
	var last map[string]int
	var since time.Time
	framework.Eventually(s.t, 90*time.Second, func() (bool, error) {
		rss, err := cl.AppsV1().ReplicaSets(s.ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		pods, err := cl.CoreV1().Pods(s.ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		live := map[string]int32{}
		pending := map[string]int{}
		for _, p := range pods.Items {
			if p.DeletionTimestamp != nil {
				continue // controllers replace a pod once it is terminating
			}
			live[ownerKey(&p)]++
			if p.Spec.NodeName != "" {
				continue
			}
			if p.Status.NominatedNodeName != "" || !unschedulable(&p) {
				return false, nil
			}
			pending[ownerKey(&p)]++
		}
		for _, rs := range rss.Items {
			if rs.Spec.Replicas != nil && live["ReplicaSet/"+rs.Name] != *rs.Spec.Replicas {
				return false, nil
			}
		}
		if last == nil || !maps.Equal(last, pending) {
			last, since = pending, time.Now()
			return false, nil
		}
		return time.Since(since) >= 2*time.Second, nil
	}, "the scheduler to place or give up on every pod of namespace "+s.ns)
	return last
}

func unschedulable(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled {
			return c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable
		}
	}
	return false
}

func formatCounts(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	var parts []string
	for k, v := range m {
		parts = append(parts, fmt.Sprintf("%d of %s", v, k))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

package drainpreflight

import (
	"context"
	"fmt"
	"math/rand"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ktriage/ktriage/test/e2e/framework"
)

// rbacPlugin is the binary these tests run.
const rbacPlugin = "kubectl-drain_preflight"

// rbacRoleFile is the ClusterRole the project ships for drain-preflight.
const rbacRoleFile = "deploy/rbac/drain-preflight.yaml"

// A ServiceAccount bound to exactly the shipped ClusterRole gets a verdict,
// and the audit log shows that the plugin only read, was never refused, and
// used every rule of the role: the role is enough and holds nothing unused.
func TestRBACTheShippedClusterRoleIsEnoughAndReadOnly(t *testing.T) {
	t.Parallel()
	c := framework.Get(t)
	role := c.ShippedRoles(t, "drain-preflight").ClusterRole
	for _, r := range role.Rules {
		for _, v := range r.Verbs {
			if v != "get" && v != "list" {
				t.Errorf("%s grants %q on %v: the plugin only reads (get, list)", rbacRoleFile, v, r.Resources)
			}
		}
	}

	ns := c.Namespace(t, "dp-rbac", nil)
	node := rbacNode(t, c, ns)
	// Two replicas under a budget that allows no disruption, a pod with a
	// PersistentVolumeClaim and one with a resource claim: the drained pods
	// then call for every object the plugin may read. --force lets the drain
	// delete the two bare pods and reach the budget.
	c.Apply(t, ns, fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      nodeSelector: {kubernetes.io/hostname: %[1]s}
      containers:
      - name: app
        image: registry.example.com/app:1
        resources: {requests: {cpu: 100m, memory: 100Mi}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web}
spec: {maxUnavailable: 0, selector: {matchLabels: {app: web}}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: v1
kind: Pod
metadata: {name: with-volume}
spec:
  nodeName: %[1]s
  volumes: [{name: data, persistentVolumeClaim: {claimName: data}}]
  containers:
  - name: app
    image: registry.example.com/app:1
    volumeMounts: [{name: data, mountPath: /data}]
---
apiVersion: v1
kind: Pod
metadata: {name: with-device}
spec:
  nodeName: %[1]s
  resourceClaims: [{name: gpu, resourceClaimName: gpu}]
  containers:
  - name: app
    image: registry.example.com/app:1
    resources: {claims: [{name: gpu}]}
`, node))
	rbacWaitReady(t, c, ns, 4, "web", 2)

	sa := "drain-reader"
	name := "dp-rbac-" + ns
	c.BindClusterRole(t, role, name, ns, sa)
	kubeconfig := c.ServiceAccountKubeconfig(t, ns, sa)
	user := "system:serviceaccount:" + ns + ":" + sa
	c.WaitAllowed(t, ns, sa, authorizationv1.ResourceAttributes{Verb: "list", Resource: "nodes"})

	offset := c.AuditLogSize(t)
	res := c.RunWith(t, framework.RunOptions{Env: []string{"KUBECONFIG=" + kubeconfig}}, rbacPlugin, node, "--ignore-daemonsets", "--force", "-o", "json")
	if res.Code != 0 && res.Code != 1 {
		t.Fatalf("as a ServiceAccount bound to %s: want exit 0 or 1 with a verdict\n%s", rbacRoleFile, res)
	}
	var r struct {
		Kind    string `json:"kind"`
		Verdict string `json:"verdict"`
		PDBs    []struct {
			Name   string `json:"name"`
			Blocks bool   `json:"blocks"`
		} `json:"pdbs"`
	}
	res.DecodeJSON(t, &r)
	if r.Kind != "DrainPreflightReport" || r.Verdict == "" {
		t.Errorf("want a DrainPreflightReport with a verdict, got kind %q verdict %q\n%s", r.Kind, r.Verdict, res)
	}
	if r.Verdict != "blocked" || len(r.PDBs) != 1 || r.PDBs[0].Name != "web" || !r.PDBs[0].Blocks {
		t.Errorf("verdict %q, budgets %+v: want blocked by budget web (maxUnavailable: 0)\n%s", r.Verdict, r.PDBs, res)
	}
	if strings.Contains(res.Stderr, "forbidden") {
		t.Errorf("the role left something out: the plugin warned about a forbidden read\n%s", res)
	}

	want := rbacRoleResources(role)
	var reqs []framework.AuditEvent
	framework.Eventually(t, 10*time.Second, func() (bool, error) {
		reqs = c.AuditEventsBy(t, offset, user)
		seen := map[string]bool{}
		for _, q := range reqs {
			seen[rbacResource(q)] = true
		}
		for _, w := range want {
			if !seen[w] {
				return false, fmt.Errorf("no request for %s yet", w)
			}
		}
		return true, nil
	}, "a request of "+user+" for every resource of "+rbacRoleFile)
	for _, q := range reqs {
		if q.Verb != "get" && q.Verb != "list" && q.Verb != "watch" {
			t.Errorf("the plugin sent %s %s: only get, list and watch are allowed", q.Verb, q.RequestURI)
		}
		if q.ResponseStatus.Code == 403 {
			t.Errorf("the plugin was refused %s %s with the shipped role", q.Verb, q.RequestURI)
		}
		if q.ObjectRef != nil && q.ObjectRef.Subresource != "" {
			t.Errorf("the plugin used a subresource: %s %s", q.Verb, q.RequestURI)
		}
	}
	if t.Failed() {
		for _, q := range reqs {
			t.Logf("audited: %s %s -> %d", q.Verb, q.RequestURI, q.ResponseStatus.Code)
		}
	}
}

// A ServiceAccount without any cluster-wide right cannot run the check: the
// run fails with exit 2 and one line naming the verb, the resource and what
// to grant.
func TestRBACWithoutClusterRightsTheErrorNamesVerbAndResource(t *testing.T) {
	t.Parallel()
	c := framework.Get(t)
	ns := c.Namespace(t, "dp-rbac-none", nil)
	kubeconfig := c.ServiceAccountKubeconfig(t, ns, "nobody")
	res := c.RunWith(t, framework.RunOptions{Env: []string{"KUBECONFIG=" + kubeconfig}}, rbacPlugin, "kwok-node-0", "--ignore-daemonsets")
	if res.Code != 2 {
		t.Fatalf("want exit 2 (could not run)\n%s", res)
	}
	msg := strings.TrimRight(res.Stderr, "\n")
	if msg == "" || strings.Contains(msg, "\n") {
		t.Errorf("want exactly one line on stderr\n%s", res)
	}
	re := regexp.MustCompile(`cannot list (nodes|pods|poddisruptionbudgets\.policy|daemonsets\.apps)\b.*forbidden.*grant get,list on (nodes|pods|poddisruptionbudgets\.policy|daemonsets\.apps)`)
	if !re.MatchString(msg) {
		t.Errorf("want the error to name the verb and resource and what to grant (%s)\n%s", re, res)
	}
	if res.Stdout != "" {
		t.Errorf("want nothing on stdout\n%s", res)
	}
}

// rbacRoleResources lists the role's resources as "resource.group"
// ("resource" for the core group), sorted.
func rbacRoleResources(role *rbacv1.ClusterRole) []string {
	var out []string
	for _, r := range role.Rules {
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				out = append(out, rbacResourceName(res, g))
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func rbacResourceName(resource, group string) string {
	if group == "" {
		return resource
	}
	return resource + "." + group
}

// rbacNode creates a Ready kwok node that only this test's pods select and
// deletes it when the test ends.
func rbacNode(t *testing.T, c *framework.Cluster, namespace string) string {
	t.Helper()
	name := fmt.Sprintf("dp-rbac-%05d", rand.Intn(100000))
	res := corev1.ResourceList{
		corev1.ResourceCPU:              resource.MustParse("2"),
		corev1.ResourceMemory:           resource.MustParse("4Gi"),
		corev1.ResourcePods:             resource.MustParse("110"),
		corev1.ResourceEphemeralStorage: resource.MustParse("100Gi"),
	}
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name: name,
			Labels: map[string]string{
				"dp-case":                namespace,
				"kubernetes.io/hostname": name,
				"kubernetes.io/os":       "linux",
				"kubernetes.io/arch":     "amd64",
			},
			Annotations: map[string]string{"kwok.x-k8s.io/node": "fake"},
		},
		Status: corev1.NodeStatus{
			Capacity:    res,
			Allocatable: res,
			Addresses:   []corev1.NodeAddress{{Type: corev1.NodeHostName, Address: name}},
			NodeInfo:    corev1.NodeSystemInfo{KubeletVersion: "v1.37.2", Architecture: "amd64", OperatingSystem: "linux"},
		},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.Client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating node %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := c.Client.CoreV1().Nodes().Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			t.Logf("deleting node %s: %v", name, err)
		}
	})
	framework.Eventually(t, 90*time.Second, func() (bool, error) {
		n, err := c.Client.CoreV1().Nodes().Get(context.Background(), name, metav1.GetOptions{})
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

// rbacWaitReady waits until the namespace has pods Running and Ready and
// the budget has been observed with healthy pods.
func rbacWaitReady(t *testing.T, c *framework.Cluster, namespace string, pods int, budget string, healthy int32) {
	t.Helper()
	ctx := context.Background()
	framework.Eventually(t, 90*time.Second, func() (bool, error) {
		list, err := c.Client.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		ready := 0
		for _, p := range list.Items {
			if p.Status.Phase != corev1.PodRunning {
				continue
			}
			for _, cond := range p.Status.Conditions {
				if cond.Type == corev1.PodReady && cond.Status == corev1.ConditionTrue {
					ready++
				}
			}
		}
		if ready != pods {
			return false, fmt.Errorf("%d of %d pods ready", ready, pods)
		}
		pdb, err := c.Client.PolicyV1().PodDisruptionBudgets(namespace).Get(ctx, budget, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		if pdb.Status.ObservedGeneration != pdb.Generation || pdb.Status.CurrentHealthy != healthy {
			return false, fmt.Errorf("budget %s: currentHealthy %d, want %d", budget, pdb.Status.CurrentHealthy, healthy)
		}
		return true, nil
	}, "the pods and budget of namespace "+namespace)
}

// rbacResource names what q was about as "resource.group" ("resource" for
// the core group).
func rbacResource(q framework.AuditEvent) string {
	if q.ObjectRef == nil {
		return ""
	}
	return rbacResourceName(q.ObjectRef.Resource, q.ObjectRef.APIGroup)
}

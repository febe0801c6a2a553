package whypending_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ktriage/ktriage/test/e2e/framework"
)

// -A over the cluster costs one LIST of pods and one of nodes.
func TestAllNamespacesListsPodsOnce(t *testing.T) {
	c := framework.Get(t)
	ns := c.Namespace(t, "wp-all", nil)
	c.Apply(t, ns, `
apiVersion: v1
kind: Pod
metadata: {name: too-big}
spec:
  containers:
  - name: app
    image: registry.example.com/app:1
    resources: {requests: {memory: 1Ti}}
`)
	c.WaitForPodScheduledCondition(t, ns, "too-big", time.Minute)
	offset := c.AuditLogSize(t)
	r, res := explain(t, c, "-A")
	if res.Code != 1 || r.pod(t, "too-big").Stage != "Unschedulable" {
		t.Fatalf("want the pod explained and exit 1\n%s", res)
	}
	var reqs []string
	framework.Eventually(t, 10*time.Second, func() (bool, error) {
		reqs = c.AuditedRequests(t, offset, "kubectl-why_pending/")
		return len(reqs) >= 2, nil
	}, "the plugin's requests in the audit log")
	pods, nodes := 0, 0
	for _, r := range reqs {
		verb, uri, _ := strings.Cut(r, " ")
		u, err := url.Parse(uri)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case verb == "list" && u.Path == "/api/v1/pods":
			pods++
		case verb == "list" && strings.HasSuffix(u.Path, "/pods"):
			t.Errorf("a further pod LIST: %s", uri)
		case verb == "list" && u.Path == "/api/v1/nodes":
			nodes++
		}
	}
	if pods != 1 || nodes != 1 {
		t.Errorf("want one pod LIST and one node LIST, got %d and %d: %q", pods, nodes, reqs)
	}
}

// A user who may read pods and nodes but not events or claims gets the
// explanation with a warning naming what was left out.
func TestMissingRBACOnOptionalResourcesGivesAPartialResult(t *testing.T) {
	c := framework.Get(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ns := c.Namespace(t, "wp-rbac", nil)
	c.Apply(t, ns, `
apiVersion: v1
kind: Pod
metadata: {name: with-claim}
spec:
  volumes: [{name: data, persistentVolumeClaim: {claimName: data}}]
  containers: [{name: app, image: registry.example.com/app:1}]
`)
	c.WaitForPodScheduledCondition(t, ns, "with-claim", time.Minute)

	name := "wp-rbac-reader-" + ns
	_, err := c.Client.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods", "nodes"}, Verbs: []string{"get", "list"}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.Client.RbacV1().ClusterRoles().Delete(context.Background(), name, metav1.DeleteOptions{})
	})
	// Events may be read, ReplicaSets not: a FailedCreate event of a
	// ReplicaSet then cannot be followed up.
	c.GrantInNamespace(t, ns, "reader", "events", rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"events"}, Verbs: []string{"get", "list"}})
	_, err = c.Client.CoreV1().Events(ns).Create(ctx, &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: "workers.failed"},
		InvolvedObject: corev1.ObjectReference{Kind: "ReplicaSet", APIVersion: "apps/v1", Namespace: ns, Name: "workers-5d8f"},
		Reason:         "FailedCreate", Type: corev1.EventTypeWarning, Message: `pods "workers-5d8f-x" is forbidden: exceeded quota`,
		Source:         corev1.EventSource{Component: "replicaset-controller"},
		FirstTimestamp: metav1.Now(), LastTimestamp: metav1.Now(), Count: 1,
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Client.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: name},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Namespace: ns, Name: "reader"}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.Client.RbacV1().ClusterRoleBindings().Delete(context.Background(), name, metav1.DeleteOptions{})
	})
	kubeconfig := c.ServiceAccountKubeconfig(t, ns, "reader")
	res := c.RunWith(t, framework.RunOptions{Env: []string{"KUBECONFIG=" + kubeconfig}}, bin, "with-claim", "-o", "json")
	var r report
	res.DecodeJSON(t, &r)
	if res.Code != 1 || r.pod(t, "with-claim").Stage != "Unschedulable" {
		t.Errorf("want the scheduler's verdict without the claim details, exit 1\n%s", res)
	}
	if !strings.Contains(res.Stderr, "Warning: cannot list persistentvolumeclaims in namespace "+ns+": forbidden") {
		t.Errorf("want a warning naming the forbidden list\n%s", res)
	}

	// The whole namespace: the ReplicaSet behind the FailedCreate event
	// cannot be read, which costs the pod nothing.
	res = c.RunWith(t, framework.RunOptions{Env: []string{"KUBECONFIG=" + kubeconfig}}, bin, "-n", ns, "-o", "json")
	r = report{}
	res.DecodeJSON(t, &r)
	if res.Code != 1 || r.pod(t, "with-claim").Stage != "Unschedulable" {
		t.Errorf("want the pod explained, exit 1\n%s", res)
	}
	if !strings.Contains(res.Stderr, "replicaset "+ns+"/workers-5d8f has a FailedCreate event but could not be looked at") {
		t.Errorf("want a warning naming the ReplicaSet that could not be read\n%s", res)
	}
}

// Only the candidate nodes' pods are listed for one pod, but a pod on
// another node can still reject it through its required anti-affinity over
// a shared topology domain: the explanation must match the scheduler's.
func TestAnExistingPodsAntiAffinityOnANodeOutsideTheCandidatesCounts(t *testing.T) {
	c := framework.Get(t)
	ns := c.Namespace(t, "wp-farguard", nil)
	c.Apply(t, ns, `
apiVersion: v1
kind: Pod
metadata: {name: guard}
spec:
  nodeName: kwok-node-1
  affinity:
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {matchLabels: {app: farguard-web}}
        topologyKey: topology.kubernetes.io/region
  containers: [{name: app, image: registry.example.com/app:1}]
---
apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: farguard-web}}
spec:
  nodeSelector: {kubernetes.io/hostname: kwok-node-0}
  containers: [{name: app, image: registry.example.com/app:1}]
`)
	c.WaitForPodScheduledCondition(t, ns, "web", time.Minute)
	r, res := explain(t, c, "-n", ns, "web")
	p := r.pod(t, "web")
	if res.Code != 1 || p.Stage != "Unschedulable" || p.SimulatedSchedulerMessage != p.SchedulerMessage {
		t.Errorf("want the scheduler's own message, not a stale verdict\n got: %s\nwant: %s\n%s", p.SimulatedSchedulerMessage, p.SchedulerMessage, res)
	}
}

// A user limited to one namespace cannot read nodes: the pod is still
// explained, with the scheduler's own message and a warning.
func TestAUserWhoCannotReadNodesGetsTheSchedulersMessage(t *testing.T) {
	c := framework.Get(t)
	ns := c.Namespace(t, "wp-nsonly", nil)
	c.Apply(t, ns, `
apiVersion: v1
kind: Pod
metadata: {name: huge}
spec:
  containers:
  - name: app
    image: registry.example.com/app:1
    resources: {requests: {cpu: "640"}}
`)
	c.WaitForPodScheduledCondition(t, ns, "huge", time.Minute)
	c.GrantInNamespace(t, ns, "reader", "reader", rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods", "events"}, Verbs: []string{"get", "list"}})
	kubeconfig := c.ServiceAccountKubeconfig(t, ns, "reader")
	res := c.RunWith(t, framework.RunOptions{Env: []string{"KUBECONFIG=" + kubeconfig}}, bin, "-n", ns, "-o", "json")
	var r report
	res.DecodeJSON(t, &r)
	p := r.pod(t, "huge")
	if res.Code != 1 || p.Stage != "Unschedulable" || !strings.Contains(p.Reason, "Insufficient cpu") || !strings.Contains(p.Reason, "nodes not readable") || !r.has("WP183") {
		t.Errorf("want the scheduler's message, a WP183 warning and exit 1\n%s", res)
	}
	if !strings.Contains(res.Stderr, "cannot list nodes") {
		t.Errorf("want a warning naming the forbidden node list\n%s", res)
	}
}

package qosaudit

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ktriage/ktriage/test/e2e/framework"
)

// A user who may read nodes but pods only in their own namespace gets the
// eviction order of their pods' node, ranking the pods they can see, marked
// partial with a warning, instead of a failed run.
func TestPodsOfOneNamespaceOnlyGiveAPartialEvictionOrder(t *testing.T) {
	c := framework.Get(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	nodes, err := c.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil || len(nodes.Items) == 0 {
		t.Fatalf("listing nodes: %v", err)
	}
	node := nodes.Items[0].Name
	ns := c.Namespace(t, "qos-rbac", nil)
	other := c.Namespace(t, "qos-rbac-other", nil)
	pod := func(name string) string {
		return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  nodeName: %s
  containers: [{name: app, image: registry.k8s.io/pause:3.10}]
`, name, node)
	}
	c.Apply(t, ns, pod("mine"))
	c.Apply(t, other, pod("theirs"))

	name := "qos-rbac-nodes-" + ns
	if _, err := c.Client.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"nodes"}, Verbs: []string{"get", "list"}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.Client.RbacV1().ClusterRoles().Delete(context.Background(), name, metav1.DeleteOptions{})
	})
	if _, err := c.Client.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: name},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Namespace: ns, Name: "reader"}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.Client.RbacV1().ClusterRoleBindings().Delete(context.Background(), name, metav1.DeleteOptions{})
	})
	c.GrantInNamespace(t, ns, "reader", "pods", rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list"}})
	kubeconfig := c.ServiceAccountKubeconfig(t, ns, "reader")

	res := c.RunWith(t, framework.RunOptions{Env: []string{"KUBECONFIG=" + kubeconfig}}, binary, "-n", ns, "-o", "json", "--fail-on", "never")
	if res.Code != 0 {
		t.Fatalf("a forbidden list of other namespaces' pods must not fail the run\n%s", res)
	}
	var rep auditReport
	res.DecodeJSON(t, &rep)
	if len(rep.Nodes) != 1 || rep.Nodes[0].Name != node {
		t.Fatalf("want node %s, got %+v\n%s", node, rep.Nodes, res)
	}
	n := rep.Nodes[0]
	if n.Partial != "pods of other namespaces unknown" {
		t.Errorf("node %s: partial %q\n%s", node, n.Partial, res)
	}
	if len(n.EvictionOrder) != 1 || n.EvictionOrder[0].Name != "mine" {
		t.Errorf("want only the pod the user can see ranked: %+v", n.EvictionOrder)
	}
	if !strings.Contains(res.Stderr, "eviction order partial on node "+node+": pods of other namespaces unknown") {
		t.Errorf("want a warning naming the partial node\n%s", res)
	}
}

package rbac

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ktriage/ktriage/test/e2e/framework"
)

// shipped holds the roles of one deploy/rbac/<plugin>.yaml file.
type shipped struct {
	file        string
	clusterRole *rbacv1.ClusterRole
	role        *rbacv1.Role
}

// loadShipped reads the ClusterRole and the Role of the plugin's RBAC file;
// each must be there exactly once, strictly valid.
func loadShipped(t *testing.T, c *framework.Cluster, plugin string) shipped {
	t.Helper()
	r := c.ShippedRoles(t, plugin)
	s := shipped{file: r.File, clusterRole: r.ClusterRole, role: r.Role}
	if s.role == nil || len(s.role.Rules) == 0 {
		t.Fatalf("%s must hold a ClusterRole and a Role, each with rules", s.file)
	}
	if s.role.Namespace != "" {
		t.Errorf("%s: the Role names namespace %q; leave it out so that kubectl apply -n puts it anywhere", s.file, s.role.Namespace)
	}
	return s
}

// account is a ServiceAccount a plugin runs as.
type account struct {
	user       string // system:serviceaccount:NS:NAME, as the audit log names it
	kubeconfig string
	// confined: the account may read its namespace only, so warnings about
	// what lies outside are expected.
	confined bool
}

func (a account) run() framework.RunOptions {
	return framework.RunOptions{Env: []string{"KUBECONFIG=" + a.kubeconfig}}
}

// withClusterRole creates the ServiceAccount namespace/name bound to a copy
// of the shipped ClusterRole (under a name of its own, removed when the test
// ends).
func withClusterRole(t *testing.T, c *framework.Cluster, s shipped, namespace, name string) account {
	t.Helper()
	c.BindClusterRole(t, s.clusterRole, s.clusterRole.Name+"-"+namespace, namespace, name)
	return newAccount(t, c, namespace, name, s.clusterRole.Rules[0], "")
}

// withRole creates the ServiceAccount namespace/name bound to the shipped
// Role, created in that namespace.
func withRole(t *testing.T, c *framework.Cluster, s shipped, namespace, name string) account {
	t.Helper()
	c.GrantInNamespace(t, namespace, name, s.role.Name, s.role.Rules...)
	a := newAccount(t, c, namespace, name, s.role.Rules[0], namespace)
	a.confined = true
	return a
}

// withNamespaceRead creates the ServiceAccount namespace/name holding only
// read access to its namespace: Kubernetes' own "view" ClusterRole through a
// RoleBinding (every namespaced object but Secrets, nothing cluster-scoped).
func withNamespaceRead(t *testing.T, c *framework.Cluster, namespace, name string) account {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.Client.RbacV1().RoleBindings(namespace).Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name + "-view"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Namespace: namespace, Name: name}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	a := newAccount(t, c, namespace, name, rbacv1.PolicyRule{Verbs: []string{"list"}, APIGroups: []string{""}, Resources: []string{"pods"}}, namespace)
	a.confined = true
	return a
}

// newAccount creates the ServiceAccount and waits until the authorizer has
// seen its binding (it allows the first verb and resource of rule).
func newAccount(t *testing.T, c *framework.Cluster, namespace, name string, rule rbacv1.PolicyRule, scope string) account {
	t.Helper()
	a := account{user: "system:serviceaccount:" + namespace + ":" + name, kubeconfig: c.ServiceAccountKubeconfig(t, namespace, name)}
	resource, sub, _ := strings.Cut(rule.Resources[0], "/")
	c.WaitAllowed(t, namespace, name, authorizationv1.ResourceAttributes{
		Namespace: scope, Verb: rule.Verbs[0], Group: rule.APIGroups[0], Resource: resource, Subresource: sub,
	})
	return a
}

// auditRequest is one request from the audit log.
type auditRequest = framework.AuditEvent

// resource names what the request was about as RBAC does:
// "pods/ephemeralcontainers.", "deployments.apps".
func resource(q auditRequest) string {
	if q.ObjectRef == nil {
		return ""
	}
	r := q.ObjectRef.Resource
	if q.ObjectRef.Subresource != "" {
		r += "/" + q.ObjectRef.Subresource
	}
	return r + "." + q.ObjectRef.APIGroup
}

// requestsBy returns the completed requests user made from the audit log's
// offset on.
func requestsBy(t *testing.T, c *framework.Cluster, offset int64, user string) []auditRequest {
	t.Helper()
	return c.AuditEventsBy(t, offset, user)
}

// permission is one verb on one resource ("list pods.", "get deployments.apps").
type permission string

func perm(verb, resource, group string) permission {
	return permission(verb + " " + resource + "." + group)
}

// permissions lists every verb on every resource a set of rules grants.
func permissions(rules []rbacv1.PolicyRule) []permission {
	var out []permission
	for _, r := range rules {
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				for _, v := range r.Verbs {
					out = append(out, perm(v, res, g))
				}
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// granted says whether rules allow the request, as the RBAC authorizer
// decides it (no wildcards: the shipped roles use none).
func granted(rules []rbacv1.PolicyRule, q auditRequest) bool {
	if q.ObjectRef == nil {
		return false
	}
	res := q.ObjectRef.Resource
	if q.ObjectRef.Subresource != "" {
		res += "/" + q.ObjectRef.Subresource
	}
	for _, r := range rules {
		if slices.Contains(r.APIGroups, q.ObjectRef.APIGroup) && slices.Contains(r.Resources, res) && slices.Contains(r.Verbs, q.Verb) &&
			(len(r.ResourceNames) == 0 || slices.Contains(r.ResourceNames, q.ObjectRef.Name)) {
			return true
		}
	}
	return false
}

// discoveryRE matches the discovery documents of the API.
var discoveryRE = regexp.MustCompile(`^/(api|apis)(/[a-z0-9.-]+){0,2}/?(\?.*)?$|^/version/?$`)

// checkRequests fails the test unless every request is granted by rules,
// was not refused, and is one of the verbs allowed; then, unless every
// permission of rules was used at least once, it names the unused ones (the
// role would hold more than the plugin needs). untested names the
// permissions this cluster cannot exercise, with why. The requests come
// from the audit log: the API server writes it asynchronously, so this
// waits until every permission shows up, for at most 20 seconds.
func checkRequests(t *testing.T, c *framework.Cluster, file string, rules []rbacv1.PolicyRule, offset int64, user string, verbs []string, untested map[permission]string) []auditRequest {
	t.Helper()
	var want []permission
	for _, p := range permissions(rules) {
		if untested[p] == "" {
			want = append(want, p)
		}
	}
	for p := range untested {
		if !slices.Contains(permissions(rules), p) {
			t.Errorf("%s does not grant %s: drop it from the untested permissions", file, p)
		}
	}
	var reqs []auditRequest
	var unused []permission
	deadline := time.Now().Add(20 * time.Second)
	for {
		reqs = requestsBy(t, c, offset, user)
		used := map[permission]bool{}
		for _, q := range reqs {
			if q.ObjectRef != nil {
				used[perm(q.Verb, strings.TrimSuffix(resource(q), "."+q.ObjectRef.APIGroup), q.ObjectRef.APIGroup)] = true
			}
		}
		unused = unused[:0]
		for _, p := range want {
			if !used[p] {
				unused = append(unused, p)
			}
		}
		if len(unused) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if len(reqs) == 0 {
		t.Fatalf("the audit log shows no request of %s: the check cannot see the plugin", user)
	}
	for _, q := range reqs {
		switch {
		case q.ObjectRef == nil && q.Verb == "get" && discoveryRE.MatchString(q.RequestURI):
			// Discovery: every authenticated user may read it (system:discovery).
		case q.ObjectRef == nil:
			t.Errorf("a request outside the resource API, which %s cannot grant: %s", file, q)
		case !granted(rules, q):
			t.Errorf("%s does not grant %s on %s: %s", file, q.Verb, resource(q), q)
		case q.ResponseStatus.Code == 403:
			t.Errorf("refused although %s grants it: %s", file, q)
		}
		if !slices.Contains(verbs, q.Verb) {
			t.Errorf("the plugin sent %s; only %s are expected: %s", q.Verb, strings.Join(verbs, ", "), q)
		}
	}
	if len(unused) > 0 {
		t.Errorf("%s grants permissions no run used (remove them, or add a run that needs them): %v", file, unused)
	}
	if t.Failed() {
		for _, q := range reqs {
			t.Logf("audited: %s", q)
		}
	}
	return reqs
}

// warningRE is how a warning or an error names what could not be read:
// "cannot list nodes", "cannot get namespaces", "cannot patch pods/ephemeralcontainers".
var warningRE = regexp.MustCompile(`cannot (get|list|watch|patch) [a-z]+(/[a-z]+)?(\.[a-z0-9.-]+)?\b`)

// checkConfined checks a run of an account confined to a namespace: either
// a report (exit 0 or 1, a JSON document on stdout) with at least one
// warning naming the verb and resource it could not use, or, where the
// plugin cannot work at all, exit 2 with one line naming them. Never a
// crash. It returns whether the run gave a report.
func checkConfined(t *testing.T, res framework.Result) bool {
	t.Helper()
	if strings.Contains(res.Stderr, "panic") || strings.Contains(res.Stderr, "goroutine ") {
		t.Fatalf("the plugin crashed\n%s", res)
	}
	switch res.Code {
	case 0, 1:
		var doc struct{ Kind string }
		res.DecodeJSON(t, &doc)
		if !strings.HasSuffix(doc.Kind, "Report") {
			t.Errorf("want a report on stdout\n%s", res)
		}
		named := 0
		for _, line := range strings.Split(strings.TrimSpace(res.Stderr), "\n") {
			if !strings.HasPrefix(line, "Warning: ") {
				if line != "" {
					t.Errorf("stderr holds a line that is no warning: %q\n%s", line, res)
				}
				continue
			}
			if warningRE.MatchString(line) {
				named++
			} else if strings.Contains(line, "forbidden") {
				t.Errorf("a warning about a refused request must name the verb and resource: %q", line)
			}
		}
		if named == 0 {
			t.Errorf("a partial report must come with a warning naming the verb and resource it could not use (%s)\n%s", warningRE, res)
		}
		return true
	case 2:
		msg := strings.TrimRight(res.Stderr, "\n")
		if strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "error: ") || !warningRE.MatchString(msg) {
			t.Errorf("exit 2 must come with one line naming the verb and resource (%s)\n%s", warningRE, res)
		}
		if res.Stdout != "" {
			t.Errorf("exit 2 must leave stdout empty\n%s", res)
		}
		return false
	}
	t.Fatalf("exit %d: want 0 or 1 with a partial report, or 2 with one line\n%s", res.Code, res)
	return false
}

// sameVerdict runs the plugin as the administrator and as the account with
// the same arguments and fails unless both exit alike and verdict (the part
// of the output that must not depend on who asks) gives the same text.
func sameVerdict(t *testing.T, c *framework.Cluster, a account, verdict func(*testing.T, framework.Result) string, binary string, args ...string) framework.Result {
	t.Helper()
	res := c.RunWith(t, a.run(), binary, args...)
	admin := c.Run(t, binary, args...)
	if res.Code != admin.Code {
		t.Errorf("exit %d with the shipped role, %d as administrator\nrole: %s\nadmin: %s", res.Code, admin.Code, res, admin)
		return res
	}
	if !a.confined && strings.Contains(res.Stderr, "forbidden") {
		t.Errorf("the shipped role left something out: the plugin was refused a read\n%s", res)
	}
	if got, want := verdict(t, res), verdict(t, admin); got != want {
		t.Errorf("%s %s: the verdict with the shipped role differs from the administrator's\nrole:\n%s\nadmin:\n%s\nrole run: %s", binary, strings.Join(args, " "), got, want, res)
	}
	return res
}

// findingsVerdict is the rule, severity and object of every finding, one a
// line, sorted: what a run concluded, without messages that may name
// changing details (an event's latest pod name).
func findingsVerdict(t *testing.T, res framework.Result) string {
	t.Helper()
	var r struct {
		Findings []struct {
			RuleID, Severity string
			Object           struct{ Kind, Namespace, Name string }
		}
	}
	res.DecodeJSON(t, &r)
	var lines []string
	for _, f := range r.Findings {
		lines = append(lines, fmt.Sprintf("%s %s %s/%s/%s", f.RuleID, f.Severity, f.Object.Kind, f.Object.Namespace, f.Object.Name))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

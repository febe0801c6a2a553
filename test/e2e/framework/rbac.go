package framework

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// ShippedRBAC is what deploy/rbac/<plugin>.yaml holds: a ClusterRole and,
// for most plugins, a namespaced Role (nil when the file has none).
type ShippedRBAC struct {
	File        string // relative to the repository root
	ClusterRole *rbacv1.ClusterRole
	Role        *rbacv1.Role
}

// ShippedRoles reads the plugin's RBAC file strictly: a ClusterRole with
// rules, at most one Role, nothing else.
func (c *Cluster) ShippedRoles(t testing.TB, plugin string) ShippedRBAC {
	t.Helper()
	s := ShippedRBAC{File: "deploy/rbac/" + plugin + ".yaml"}
	b, err := os.ReadFile(filepath.Join(c.Root(), s.File))
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(b), -1) {
		var meta metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
			t.Fatalf("%s: %v", s.File, err)
		}
		var into any
		switch meta.Kind {
		case "ClusterRole":
			if s.ClusterRole != nil {
				t.Fatalf("%s holds more than one ClusterRole", s.File)
			}
			s.ClusterRole = &rbacv1.ClusterRole{}
			into = s.ClusterRole
		case "Role":
			if s.Role != nil {
				t.Fatalf("%s holds more than one Role", s.File)
			}
			s.Role = &rbacv1.Role{}
			into = s.Role
		case "":
			continue // comments only
		default:
			t.Fatalf("%s: unexpected kind %q", s.File, meta.Kind)
		}
		if err := yaml.UnmarshalStrict([]byte(doc), into); err != nil {
			t.Fatalf("%s: %v", s.File, err)
		}
	}
	if s.ClusterRole == nil || len(s.ClusterRole.Rules) == 0 {
		t.Fatalf("%s holds no ClusterRole with rules", s.File)
	}
	return s
}

// BindClusterRole creates a copy of role named name, bound to the
// ServiceAccount namespace/sa, and removes both when the test ends.
func (c *Cluster) BindClusterRole(t testing.TB, role *rbacv1.ClusterRole, name, namespace, sa string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cr := role.DeepCopy()
	cr.ObjectMeta = metav1.ObjectMeta{Name: name, Labels: role.Labels}
	if _, err := c.Client.RbacV1().ClusterRoles().Create(ctx, cr, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.Client.RbacV1().ClusterRoles().Delete(context.Background(), name, metav1.DeleteOptions{})
	})
	if _, err := c.Client.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Namespace: namespace, Name: sa}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.Client.RbacV1().ClusterRoleBindings().Delete(context.Background(), name, metav1.DeleteOptions{})
	})
}

// WaitAllowed waits until the authorizer has seen a binding: it allows the
// ServiceAccount namespace/sa what attrs asks.
func (c *Cluster) WaitAllowed(t testing.TB, namespace, sa string, attrs authorizationv1.ResourceAttributes) {
	t.Helper()
	user := "system:serviceaccount:" + namespace + ":" + sa
	Eventually(t, 30*time.Second, func() (bool, error) {
		sar, err := c.Client.AuthorizationV1().SubjectAccessReviews().Create(context.Background(), &authorizationv1.SubjectAccessReview{
			Spec: authorizationv1.SubjectAccessReviewSpec{
				User:               user,
				Groups:             []string{"system:serviceaccounts", "system:serviceaccounts:" + namespace, "system:authenticated"},
				ResourceAttributes: &attrs,
			},
		}, metav1.CreateOptions{})
		if err != nil {
			return false, err
		}
		return sar.Status.Allowed, nil
	}, user+" allowed to "+attrs.Verb+" "+attrs.Resource)
}

// AuditEvent is the part of an audit log event the tests read.
type AuditEvent struct {
	Offset     int64 `json:"-"` // where the event starts in the log
	Stage      string
	Verb       string
	RequestURI string
	User       struct{ Username string }
	ObjectRef  *struct {
		Resource, Subresource, APIGroup, Namespace, Name string
	}
	ResponseStatus struct{ Code int }
}

func (q AuditEvent) String() string {
	return q.Verb + " " + q.RequestURI + " -> " + strconv.Itoa(q.ResponseStatus.Code)
}

// AuditEventsBy returns the completed requests user made from the audit
// log's offset on. The API server writes the log asynchronously: callers
// wait for what they expect.
func (c *Cluster) AuditEventsBy(t testing.TB, offset int64, user string) []AuditEvent {
	t.Helper()
	b, err := os.ReadFile(c.AuditLog)
	if err != nil {
		t.Fatal(err)
	}
	if offset > int64(len(b)) {
		t.Fatalf("audit log %s shrank below offset %d", c.AuditLog, offset)
	}
	var out []AuditEvent
	sc := bufio.NewScanner(bytes.NewReader(b[offset:]))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	pos := offset
	for sc.Scan() {
		line := sc.Bytes()
		at := pos
		pos += int64(len(line)) + 1
		if !bytes.Contains(line, []byte(user)) {
			continue
		}
		var q AuditEvent
		if json.Unmarshal(line, &q) != nil {
			continue
		}
		if q.Stage == "ResponseComplete" && q.User.Username == user {
			q.Offset = at
			out = append(out, q)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

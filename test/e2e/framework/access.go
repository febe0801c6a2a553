package framework

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Kubeconfig describes a one-context kubeconfig for WriteKubeconfig.
type Kubeconfig struct {
	Server string
	// CAFile verifies the server; empty means insecure-skip-tls-verify.
	CAFile    string
	User      string
	Token     string
	Namespace string
	// ClientCert and ClientKey (PEM files) authenticate instead of Token.
	ClientCert, ClientKey string
	// ExecCommand names an exec credential plugin that authenticates instead
	// of Token.
	ExecCommand string
}

// WriteKubeconfig writes k into a temporary file and returns its path.
func WriteKubeconfig(t testing.TB, k Kubeconfig) string {
	t.Helper()
	tls := fmt.Sprintf("certificate-authority: %q", k.CAFile)
	if k.CAFile == "" {
		tls = "insecure-skip-tls-verify: true"
	}
	ns := k.Namespace
	if ns == "" {
		ns = "default"
	}
	user := fmt.Sprintf("{token: %q}", k.Token)
	switch {
	case k.ClientCert != "":
		user = fmt.Sprintf("{client-certificate: %q, client-key: %q}", k.ClientCert, k.ClientKey)
	case k.ExecCommand != "":
		user = fmt.Sprintf("{exec: {apiVersion: client.authentication.k8s.io/v1, command: %q, interactiveMode: Never}}", k.ExecCommand)
	}
	text := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: %q, %s}}]
users: [{name: %s, user: %s}]
contexts: [{name: c, context: {cluster: c, user: %s, namespace: %s}}]
current-context: c
`, k.Server, tls, k.User, user, k.User, ns)
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// ServiceAccountKubeconfig creates the ServiceAccount namespace/name and
// returns a kubeconfig that talks to the cluster as it, with namespace as
// the context's namespace. It has only the rights bound to it (none unless
// the test binds some).
func (c *Cluster) ServiceAccountKubeconfig(t testing.TB, namespace, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sa, err := c.Client.CoreV1().ServiceAccounts(namespace).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := c.Client.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, sa.Name, &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return WriteKubeconfig(t, Kubeconfig{Server: c.APIServer, CAFile: c.CAFile, User: name, Token: tok.Status.Token, Namespace: namespace})
}

// GrantInNamespace binds the ServiceAccount namespace/sa to a Role named
// role in the same namespace holding rules.
func (c *Cluster) GrantInNamespace(t testing.TB, namespace, sa, role string, rules ...rbacv1.PolicyRule) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.Client.RbacV1().Roles(namespace).Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: role}, Rules: rules}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err := c.Client.RbacV1().RoleBindings(namespace).Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: role},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: role},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Namespace: namespace, Name: sa}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

// AuditLogSize is the audit log's current size: pass it to AuditedRequests
// to see only what came after.
func (c *Cluster) AuditLogSize(t testing.TB) int64 {
	t.Helper()
	st, err := os.Stat(c.AuditLog)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// AuditedRequests returns "verb uri" of the completed requests whose user
// agent starts with agentPrefix, from the audit log's offset on. The API
// server writes the log asynchronously: callers wait for what they expect.
func (c *Cluster) AuditedRequests(t testing.TB, offset int64, agentPrefix string) []string {
	t.Helper()
	f, err := os.Open(c.AuditLog)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Seek(offset, 0); err != nil {
		t.Fatal(err)
	}
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var ev struct{ Stage, RequestURI, Verb, UserAgent string }
		if json.Unmarshal(sc.Bytes(), &ev) != nil {
			continue
		}
		if strings.HasPrefix(ev.UserAgent, agentPrefix) && ev.Stage == "ResponseComplete" {
			out = append(out, ev.Verb+" "+ev.RequestURI)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

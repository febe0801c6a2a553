// Package netcheck_test runs kubectl netcheck against a real control plane
// whose pods run on kwok nodes: the pods get IPs, the real
// EndpointSlice controller fills the Services' slices, and the real API
// server admits (or refuses) the probe's ephemeral container. kwok runs no
// containers, so the probe itself never starts here: these tests check the
// explanation (--no-probe) and the probe's API path up to the wait.
package netcheck_test

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

	"github.com/ktriage/ktriage/test/e2e/framework"
)

func TestMain(m *testing.M) { framework.Main(m, framework.Options{Name: "e2e-netcheck", Nodes: 2}) }

const bin = "kubectl-netcheck"

// report is the part of the JSON document the tests read.
type report struct {
	Kind     string `json:"kind"`
	Verdict  string `json:"verdict"`
	Basis    string `json:"basis"`
	Reason   string `json:"reason"`
	Fix      string `json:"fix"`
	Findings []struct {
		RuleID string `json:"ruleID"`
		Object struct {
			Kind, Namespace, Name string
		} `json:"object"`
	} `json:"findings"`
	Source struct {
		Namespace, Name, IP, Node string
	} `json:"source"`
	Probe  *json.RawMessage `json:"probe"`
	Policy *struct {
		Allowed bool `json:"allowed"`
		Egress  direction
		Ingress direction
		Targets []struct {
			Pod  string `json:"pod"`
			IP   string `json:"ip"`
			Port int32  `json:"port"`
		} `json:"targets"`
	} `json:"policy"`
	Service *struct {
		Name         string `json:"name"`
		SelectedPods int    `json:"selectedPods"`
		Ready        int    `json:"ready"`
		Endpoints    []struct {
			IP   string `json:"ip"`
			Pod  string `json:"pod"`
			Port int32  `json:"port"`
		} `json:"endpoints"`
		Problems []struct {
			Reason string `json:"reason"`
		} `json:"problems"`
	} `json:"service"`
	DNS *struct {
		Lookups  int    `json:"lookups"`
		Resolves string `json:"resolves"`
		Queries  []struct {
			Name, Answer string
		} `json:"queries"`
	} `json:"dns"`
}

type direction struct {
	Allowed   bool   `json:"allowed"`
	Reason    string `json:"reason"`
	AllowedBy []struct {
		Policy string `json:"policy"`
		Rule   int    `json:"rule"`
	} `json:"allowedBy"`
	IsolatedBy []struct {
		Policy string `json:"policy"`
	} `json:"isolatedBy"`
}

// shop creates the workloads of examples/netcheck in fresh namespaces and
// waits for the pods to run and the api Service's slice to list its pod.
func shop(t *testing.T, c *framework.Cluster) (shopNS, otherNS string) {
	t.Helper()
	shopNS = c.Namespace(t, "nc-shop", map[string]string{"team": "shop"})
	otherNS = c.Namespace(t, "nc-other", map[string]string{"team": "other"})
	pod := func(ns, name, app, ports string) string {
		return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %s, namespace: %s, labels: {app: %s}}
spec:
  containers: [{name: c, image: registry.example/%s:1, ports: [%s]}]
---
`, name, ns, app, app, ports)
	}
	manifests := pod(shopNS, "frontend", "frontend", "{name: http, containerPort: 8080}") +
		pod(shopNS, "api", "api", "{name: http, containerPort: 8080}") +
		pod(shopNS, "db", "db", "{name: pg, containerPort: 5432}") +
		pod(otherNS, "intruder", "frontend", "") +
		fmt.Sprintf(`apiVersion: v1
kind: Service
metadata: {name: api, namespace: %[1]s}
spec: {selector: {app: api}, ports: [{name: http, port: 80, targetPort: http}]}
---
apiVersion: v1
kind: Service
metadata: {name: api-typo, namespace: %[1]s}
spec: {selector: {app: apii}, ports: [{port: 80, targetPort: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: api-wrong-port, namespace: %[1]s}
spec: {selector: {app: api}, ports: [{port: 80, targetPort: grpc}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-from-api, namespace: %[1]s}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Ingress]
  ingress: [{from: [{podSelector: {matchLabels: {app: api}}}], ports: [{port: pg}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api-from-frontends, namespace: %[1]s}
spec:
  podSelector: {matchLabels: {app: api}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {team: shop}}
      podSelector: {matchLabels: {app: frontend}}
`, shopNS)
	c.Apply(t, "", manifests)
	for _, p := range []struct{ ns, name string }{{shopNS, "frontend"}, {shopNS, "api"}, {shopNS, "db"}, {otherNS, "intruder"}} {
		pod := c.WaitForPodRunning(t, p.ns, p.name, time.Minute)
		framework.Eventually(t, 30*time.Second, func() (bool, error) {
			got, err := c.Client.CoreV1().Pods(p.ns).Get(context.Background(), p.name, metav1.GetOptions{})
			return err == nil && got.Status.PodIP != "", err
		}, "an IP for pod "+pod.Name)
	}
	framework.Eventually(t, time.Minute, func() (bool, error) {
		sl, err := c.Client.DiscoveryV1().EndpointSlices(shopNS).List(context.Background(), metav1.ListOptions{LabelSelector: "kubernetes.io/service-name=api"})
		if err != nil {
			return false, err
		}
		for _, s := range sl.Items {
			for _, e := range s.Endpoints {
				if e.Conditions.Ready != nil && *e.Conditions.Ready && len(s.Ports) > 0 {
					return true, nil
				}
			}
		}
		return false, nil
	}, "a ready endpoint in the api Service's EndpointSlice")
	return shopNS, otherNS
}

func run(t *testing.T, c *framework.Cluster, args ...string) (framework.Result, report) {
	t.Helper()
	res := c.Run(t, bin, append(args, "-o", "json")...)
	var r report
	if res.Code == 2 {
		t.Fatalf("netcheck could not run:\n%s", res)
	}
	res.DecodeJSON(t, &r)
	return res, r
}

func TestExplanationsFromTheClustersObjects(t *testing.T) {
	c := framework.Get(t)
	shopNS, otherNS := shop(t, c)
	api, err := c.Client.CoreV1().Pods(shopNS).Get(context.Background(), "api", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("a Service whose named targetPort resolves on a ready pod is reachable and its ingress rule is named", func(t *testing.T) {
		res, r := run(t, c, "--no-probe", "-n", shopNS, "frontend", "svc/api:80")
		if res.Code != 0 || r.Verdict != "reachable" || r.Basis != "analysis" || r.Probe != nil {
			t.Fatalf("want exit 0, reachable by analysis, no probe\n%s", res)
		}
		if r.Service == nil || r.Service.Ready != 1 || len(r.Service.Endpoints) != 1 || r.Service.Endpoints[0].Pod != "api" ||
			r.Service.Endpoints[0].IP != api.Status.PodIP || r.Service.Endpoints[0].Port != 8080 {
			t.Errorf("want the controller's endpoint api %s:8080 in .service\n%s", api.Status.PodIP, res.Stdout)
		}
		if r.Policy == nil || !r.Policy.Allowed || len(r.Policy.Ingress.AllowedBy) != 1 || r.Policy.Ingress.AllowedBy[0].Policy != "api-from-frontends" || r.Policy.Ingress.AllowedBy[0].Rule != 0 {
			t.Errorf("want ingress allowed by api-from-frontends rule 0\n%s", res.Stdout)
		}
		if r.Policy.Egress.Reason != "not-isolated" {
			t.Errorf("no policy selects frontend for egress: want not-isolated, got %s", r.Policy.Egress.Reason)
		}
	})

	t.Run("a pod isolated by a policy whose rule names another pod is blocked-by-policy, naming the policy", func(t *testing.T) {
		res, r := run(t, c, "--no-probe", "-n", shopNS, "frontend", "db", "--port", "5432")
		if res.Code != 1 || r.Verdict != "blocked-by-policy" || r.Policy.Ingress.Allowed || len(r.Policy.Ingress.IsolatedBy) != 1 || r.Policy.Ingress.IsolatedBy[0].Policy != "db-from-api" {
			t.Fatalf("want exit 1, blocked-by-policy, isolated by db-from-api\n%s", res)
		}
		if !strings.Contains(r.Fix, "ingress rule") || len(r.Findings) == 0 || r.Findings[0].RuleID != "NC101" || r.Findings[0].Object.Name != "db-from-api" {
			t.Errorf("want an NC101 finding on the policy and a fix adding an ingress rule\n%s", res.Stdout)
		}
	})

	t.Run("the named port of the allowing rule resolves on the destination pod", func(t *testing.T) {
		res, r := run(t, c, "--no-probe", "-n", shopNS, "api", "db", "--port", "pg")
		if res.Code != 0 || r.Verdict != "reachable" || r.Policy.Ingress.AllowedBy[0].Policy != "db-from-api" || r.Policy.Targets[0].Port != 5432 {
			t.Fatalf("want reachable via db-from-api on 5432\n%s", res)
		}
		res, r = run(t, c, "--no-probe", "-n", shopNS, "api", "db", "--port", "5433")
		if res.Code != 1 || r.Verdict != "blocked-by-policy" {
			t.Fatalf("port 5433 is not db's pg port: want blocked\n%s", res)
		}
	})

	t.Run("a peer with namespaceSelector and podSelector needs both: the namespace label decides, read live", func(t *testing.T) {
		res, r := run(t, c, "--no-probe", otherNS+"/intruder", shopNS+"/api", "--port", "8080")
		if res.Code != 1 || r.Verdict != "blocked-by-policy" {
			t.Fatalf("intruder is a frontend in a team=other namespace: want blocked\n%s", res)
		}
		c.Kubectl(t, "label", "namespace", otherNS, "team=shop", "--overwrite")
		res, r = run(t, c, "--no-probe", otherNS+"/intruder", shopNS+"/api", "--port", "8080")
		if res.Code != 0 || r.Verdict != "reachable" {
			t.Fatalf("after labelling its namespace team=shop: want reachable\n%s", res)
		}
		c.Kubectl(t, "label", "namespace", otherNS, "team=other", "--overwrite")
	})

	t.Run("a Service whose selector matches no pod has no endpoints", func(t *testing.T) {
		res, r := run(t, c, "--no-probe", "-n", shopNS, "frontend", "svc/api-typo:80")
		if res.Code != 1 || r.Verdict != "no-endpoints" || r.Service.SelectedPods != 0 || !hasProblem(r, "selector-matches-none") {
			t.Fatalf("want no-endpoints with selector-matches-none\n%s", res)
		}
	})

	t.Run("a Service whose named targetPort no pod declares is a port mismatch", func(t *testing.T) {
		res, r := run(t, c, "--no-probe", "-n", shopNS, "frontend", "svc/api-wrong-port")
		if res.Code != 1 || r.Verdict != "port-mismatch" || !hasProblem(r, "named-target-port-missing") || r.Service.SelectedPods != 1 {
			t.Fatalf("want port-mismatch with named-target-port-missing\n%s", res)
		}
	})

	t.Run("a port the Service does not have is a port mismatch", func(t *testing.T) {
		res, r := run(t, c, "--no-probe", "-n", shopNS, "frontend", "svc/api:443")
		if res.Code != 1 || r.Verdict != "port-mismatch" || !hasProblem(r, "no-such-port") {
			t.Fatalf("want port-mismatch with no-such-port\n%s", res)
		}
	})

	t.Run("a short name expands with the namespace search domain first and finds the Service in one lookup", func(t *testing.T) {
		res, r := run(t, c, "--no-probe", "-n", shopNS, "frontend", "api:80")
		if res.Code != 0 || r.Verdict != "reachable" || r.DNS == nil || r.DNS.Lookups != 1 || r.DNS.Queries[0].Name != "api."+shopNS+".svc.cluster.local." || r.Service == nil {
			t.Fatalf("want one lookup api.%s.svc.cluster.local. answered by the Service\n%s", shopNS, res)
		}
	})

	t.Run("NAME.NAMESPACE costs a first NXDOMAIN query under ndots:5", func(t *testing.T) {
		res, r := run(t, c, "--no-probe", "-n", shopNS, "frontend", "api."+shopNS+":80")
		if res.Code != 0 || r.DNS == nil || r.DNS.Lookups != 2 || r.DNS.Queries[0].Answer != "nxdomain" || r.DNS.Queries[1].Answer != "service" {
			t.Fatalf("want 2 lookups, the first NXDOMAIN\n%s", res)
		}
		if !hasRule(r, "NC203") {
			t.Errorf("want an NC203 finding about the extra lookup\n%s", res.Stdout)
		}
	})

	t.Run("a cluster name of a missing Service is a DNS failure", func(t *testing.T) {
		res, r := run(t, c, "--no-probe", "-n", shopNS, "frontend", "nosuch."+shopNS+".svc.cluster.local.:80")
		if res.Code != 1 || r.Verdict != "dns-failure" || r.DNS.Resolves != "no" {
			t.Fatalf("want dns-failure\n%s", res)
		}
	})

	t.Run("a pod IP destination is matched to its pod for the policy analysis", func(t *testing.T) {
		db, err := c.Client.CoreV1().Pods(shopNS).Get(context.Background(), "db", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		res, r := run(t, c, "--no-probe", "-n", shopNS, "frontend", db.Status.PodIP+":5432")
		if res.Code != 1 || r.Verdict != "blocked-by-policy" || r.Policy.Targets[0].Pod != "db" {
			t.Fatalf("want the IP matched to pod db and blocked\n%s", res)
		}
	})

	t.Run("SRC as TYPE/NAME picks a ready pod of the Service", func(t *testing.T) {
		res, r := run(t, c, "--no-probe", "-n", shopNS, "svc/api", "db", "--port", "pg")
		if res.Code != 0 || r.Source.Name != "api" {
			t.Fatalf("want the source to be pod api\n%s", res)
		}
	})

	t.Run("the table output names the verdict, the checks and the fix", func(t *testing.T) {
		res := c.Run(t, bin, "--no-probe", "-n", shopNS, "frontend", "db", "--port", "5432")
		for _, want := range []string{"blocked-by-policy", "ingress policy", "denied", "isolated by " + shopNS + "/db-from-api", "Fix: add an ingress rule"} {
			if !strings.Contains(res.Stdout, want) {
				t.Errorf("table output lacks %q\n%s", want, res)
			}
		}
	})
}

func hasProblem(r report, reason string) bool {
	if r.Service == nil {
		return false
	}
	for _, p := range r.Service.Problems {
		if p.Reason == reason {
			return true
		}
	}
	return false
}

func hasRule(r report, id string) bool {
	for _, f := range r.Findings {
		if f.RuleID == id {
			return true
		}
	}
	return false
}

func TestNoProbeChangesNothing(t *testing.T) {
	c := framework.Get(t)
	shopNS, _ := shop(t, c)
	since := time.Now()
	for _, args := range [][]string{
		{"frontend", "svc/api:80"}, {"frontend", "db", "--port", "5432"}, {"frontend", "api." + shopNS + ":80"}, {"frontend", "svc/api-typo:80"},
	} {
		c.Run(t, bin, append([]string{"--no-probe", "-n", shopNS}, args...)...)
	}
	pod, err := c.Client.CoreV1().Pods(shopNS).Get(context.Background(), "frontend", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(pod.Spec.EphemeralContainers) != 0 {
		t.Errorf("--no-probe added ephemeral containers: %+v", pod.Spec.EphemeralContainers)
	}
	reads, writes := auditedCalls(t, c, since)
	if reads == 0 {
		t.Fatal("the audit log shows no request from kubectl-netcheck: the check cannot see the plugin")
	}
	if len(writes) > 0 {
		t.Errorf("--no-probe made write requests: %v", writes)
	}
}

// auditedCalls counts kubectl-netcheck's requests in the API server's audit
// log since a time, and lists the ones that are not reads.
func auditedCalls(t *testing.T, c *framework.Cluster, since time.Time) (int, []string) {
	t.Helper()
	c.WaitForAuditLog(t)
	f, err := os.Open(c.AuditLog)
	if err != nil {
		t.Fatalf("audit log: %v", err)
	}
	defer f.Close()
	reads := 0
	var writes []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var e struct {
			Verb, RequestURI, UserAgent, Stage string
			RequestReceivedTimestamp           time.Time
		}
		if json.Unmarshal(sc.Bytes(), &e) != nil || !strings.HasPrefix(e.UserAgent, "kubectl-netcheck/") || e.RequestReceivedTimestamp.Before(since.Add(-time.Second)) {
			continue
		}
		if e.Stage != "ResponseComplete" && e.Stage != "" {
			continue
		}
		switch e.Verb {
		case "get", "list", "watch":
			reads++
		default:
			writes = append(writes, e.Verb+" "+e.RequestURI)
		}
	}
	return reads, writes
}

func TestProbeIsAddedThroughTheSubresourceAndItsWaitIsBounded(t *testing.T) {
	c := framework.Get(t)
	// A namespace enforcing the restricted Pod Security Standard: the real
	// admission plugin judges the probe container.
	ns := c.Namespace(t, "nc-restricted", map[string]string{"pod-security.kubernetes.io/enforce": "restricted"})
	c.Apply(t, ns, `apiVersion: v1
kind: Pod
metadata: {name: locked, labels: {app: locked}}
spec:
  securityContext: {runAsNonRoot: true, runAsUser: 1000, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: c
    image: registry.example/app:1
    ports: [{containerPort: 8080}]
    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
`)
	c.WaitForPodRunning(t, ns, "locked", time.Minute)
	framework.Eventually(t, 30*time.Second, func() (bool, error) {
		p, err := c.Client.CoreV1().Pods(ns).Get(context.Background(), "locked", metav1.GetOptions{})
		return err == nil && p.Status.PodIP != "", err
	}, "an IP for pod locked")

	since := time.Now()
	start := time.Now()
	res := c.Run(t, bin, "-n", ns, "locked", "locked", "--image", "netcheck-probe:e2e", "--image-pull-policy", "Never", "--start-timeout", "3s", "--timeout", "1s")
	elapsed := time.Since(start)
	// kwok runs no containers, so the probe never reports: exit 2 after the
	// bounded wait, having said that the container was added.
	if res.Code != 2 || !strings.Contains(res.Stderr, "Added ephemeral container netcheck-") || !strings.Contains(res.Stderr, "cannot be removed") ||
		!strings.Contains(res.Stderr, "did not finish within 4s") {
		t.Fatalf("want the container added, then exit 2 after the bounded wait\n%s", res)
	}
	if elapsed > 20*time.Second {
		t.Errorf("the wait took %s; it is bounded by --start-timeout + --timeout", elapsed)
	}
	if strings.Count(res.Stderr, "\n") > 2 {
		t.Errorf("want one notice and one error line on stderr\n%s", res.Stderr)
	}
	pod, err := c.Client.CoreV1().Pods(ns).Get(context.Background(), "locked", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(pod.Spec.EphemeralContainers) != 1 {
		t.Fatalf("want exactly one ephemeral container, got %+v", pod.Spec.EphemeralContainers)
	}
	ec := pod.Spec.EphemeralContainers[0]
	sc := ec.SecurityContext
	if !strings.HasPrefix(ec.Name, "netcheck-") || ec.Image != "netcheck-probe:e2e" || sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot ||
		sc.RunAsUser == nil || *sc.RunAsUser != 65532 || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault || sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 {
		t.Errorf("the probe container is not the restricted one: %+v", ec)
	}
	if want := "--host=" + pod.Status.PodIP; !strings.Contains(strings.Join(ec.Args, " "), want) {
		t.Errorf("probe args %v lack %s", ec.Args, want)
	}
	_, writes := auditedCalls(t, c, since)
	if len(writes) != 1 || !strings.HasPrefix(writes[0], "patch /api/v1/namespaces/"+ns+"/pods/locked/ephemeralcontainers") {
		t.Errorf("want exactly one write, the patch of pods/ephemeralcontainers; got %v", writes)
	}
}

func TestProbeWithoutPatchPermissionNamesTheSubresource(t *testing.T) {
	c := framework.Get(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ns := c.Namespace(t, "nc-rbac", nil)
	c.Apply(t, ns, `apiVersion: v1
kind: Pod
metadata: {name: p, labels: {app: p}}
spec: {containers: [{name: c, image: registry.example/app:1, ports: [{containerPort: 80}]}]}
`)
	c.WaitForPodRunning(t, ns, "p", time.Minute)
	framework.Eventually(t, 30*time.Second, func() (bool, error) {
		p, err := c.Client.CoreV1().Pods(ns).Get(ctx, "p", metav1.GetOptions{})
		return err == nil && p.Status.PodIP != "", err
	}, "an IP for pod p")
	// A reader of pods and policies that may not patch ephemeral containers.
	if _, err := c.Client.RbacV1().Roles(ns).Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "reader"}, Rules: []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"pods", "services"}, Verbs: []string{"get", "list"}},
		{APIGroups: []string{"networking.k8s.io"}, Resources: []string{"networkpolicies"}, Verbs: []string{"list"}},
	}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	sa, err := c.Client.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "reader"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Client.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "reader"},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "reader"},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "reader", Namespace: ns}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	tok, err := c.Client.CoreV1().ServiceAccounts(ns).CreateToken(ctx, sa.Name, &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ca, err := os.ReadFile(c.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	caFile, kubeconfig := filepath.Join(dir, "ca.crt"), filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(caFile, ca, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(kubeconfig, []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: %q, certificate-authority: %q}}]
users: [{name: reader, user: {token: %q}}]
contexts: [{name: c, context: {cluster: c, user: reader, namespace: %s}}]
current-context: c
`, c.APIServer, caFile, tok.Status.Token, ns)), 0o600); err != nil {
		t.Fatal(err)
	}
	env := framework.RunOptions{Env: []string{"KUBECONFIG=" + kubeconfig}}

	res := c.RunWith(t, env, bin, "p", "p", "--start-timeout", "3s")
	if res.Code != 2 || !strings.Contains(res.Stderr, "pods/ephemeralcontainers") || !strings.Contains(res.Stderr, "--no-probe") || strings.Contains(res.Stderr, "Added ephemeral") {
		t.Fatalf("want exit 2 naming patch on pods/ephemeralcontainers and --no-probe\n%s", res)
	}
	// The same user can still get the explanation, with a warning for the
	// namespace it may not read.
	res = c.RunWith(t, env, bin, "p", "p", "--no-probe", "-o", "json")
	var r report
	res.DecodeJSON(t, &r)
	if res.Code != 0 || r.Verdict != "reachable" || !strings.Contains(res.Stderr, "cannot get namespaces in namespace "+ns) {
		t.Fatalf("want the explanation with a warning about the namespace\n%s", res)
	}

	res = c.Run(t, bin, "-n", ns, "nosuch", "p", "--no-probe")
	if res.Code != 2 || strings.Count(strings.TrimSpace(res.Stderr), "\n") != 0 || !strings.Contains(res.Stderr, `pod "nosuch" not found`) {
		t.Errorf("an unknown source pod: want one line and exit 2\n%s", res)
	}
}

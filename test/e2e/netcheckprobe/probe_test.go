// Package netcheckprobe runs kubectl netcheck's live probe on a real node
// (hack/real-node: kubelet, containerd, the CNI bridge, kube-proxy and
// CoreDNS as a pod). When the host cannot run one, every test is skipped and
// says why.
//
// KTRIAGE_REAL_NODE_REUSE=1 uses a real node started by hand
// (hack/real-node up) and leaves it running.
package netcheckprobe

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

var (
	skipReason string
	env        map[string]string
	client     kubernetes.Interface
	binDir     string
	root       string
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	wd, _ := os.Getwd()
	root = filepath.Join(wd, "..", "..", "..")
	script := filepath.Join(root, "hack", "real-node")
	if out, err := exec.Command(script, "check").CombinedOutput(); err != nil {
		skipReason = "this host cannot run a real node: " + strings.TrimSpace(string(out))
		return m.Run()
	}
	reuse := os.Getenv("KTRIAGE_REAL_NODE_REUSE") != ""
	// Test packages running in parallel share the one real node: each
	// registers as a holder and the last one out tears it down.
	holder := fmt.Sprintf("KTRIAGE_REAL_NODE_HOLDER=%d", os.Getpid())
	up := exec.Command(script, "up")
	up.Env = append(os.Environ(), holder)
	var stdout bytes.Buffer
	up.Stdout, up.Stderr = &stdout, os.Stderr
	if err := up.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: hack/real-node up:", err)
		return 2
	}
	if !reuse {
		defer func() {
			down := exec.Command(script, "down")
			down.Env = append(os.Environ(), holder)
			down.Stdout, down.Stderr = os.Stderr, os.Stderr
			_ = down.Run()
		}()
	}
	env = parseExports(stdout.String())
	cfg, err := clientcmd.BuildConfigFromFlags("", env["KUBECONFIG"])
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 2
	}
	if client, err = kubernetes.NewForConfig(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 2
	}
	if binDir = os.Getenv("KTRIAGE_BIN"); binDir == "" {
		dir, err := os.MkdirTemp("", "ktriage-e2e-bin-")
		if err != nil {
			return 2
		}
		defer os.RemoveAll(dir)
		build := exec.Command("go", "build", "-o", dir+"/", "./cmd/kubectl-netcheck")
		build.Dir, build.Stderr = root, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "e2e: building the plugin:", err)
			return 2
		}
		binDir = dir
	}
	return m.Run()
}

func parseExports(s string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		k, v, ok := strings.Cut(strings.TrimPrefix(strings.TrimSpace(line), "export "), "=")
		if ok {
			out[k] = strings.Trim(v, `'"`)
		}
	}
	return out
}

func need(t *testing.T) {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
}

type result struct {
	code           int
	stdout, stderr string
	rep            struct {
		Verdict      string `json:"verdict"`
		Basis        string `json:"basis"`
		Reason       string `json:"reason"`
		Disagreement string `json:"disagreement"`
		Probe        *struct {
			Result     string   `json:"result"`
			LatencyMs  float64  `json:"latencyMs"`
			Container  string   `json:"container"`
			HTTPStatus int      `json:"httpStatus"`
			Addresses  []string `json:"addresses"`
		} `json:"probe"`
		Findings []struct {
			RuleID string `json:"ruleID"`
		} `json:"findings"`
		DNS *struct {
			Lookups    int `json:"lookups"`
			ResolvConf struct {
				Source string `json:"source"`
				Ndots  int    `json:"ndots"`
			} `json:"resolvConf"`
		} `json:"dns"`
	}
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// netcheck runs the plugin with the locally built probe image, JSON output.
func netcheck(t *testing.T, args ...string) result {
	t.Helper()
	args = append(args, "-o", "json", "--image", env["KTRIAGE_PROBE_IMAGE"], "--image-pull-policy", "Never", "--timeout", "3s", "--start-timeout", "60s")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "kubectl-netcheck"), args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+env["KUBECONFIG"], "NO_COLOR=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running netcheck: %v", err)
	}
	if r.code != 2 {
		if err := json.Unmarshal(stdout.Bytes(), &r.rep); err != nil {
			t.Fatalf("stdout is not JSON: %v\n%s", err, r)
		}
	}
	return r
}

func kubectl(t *testing.T, stdin string, args ...string) {
	t.Helper()
	cmd := exec.Command(env["KTRIAGE_KUBECTL"], args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+env["KUBECONFIG"])
	cmd.Stdin = strings.NewReader(stdin)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// namespace creates a namespace (restricted Pod Security when asked) with a
// web server pod "web" (busybox httpd on 8080), a client pod "client", and
// Services; it waits for the pods to be Ready.
func namespace(t *testing.T, restricted bool) string {
	t.Helper()
	ns := fmt.Sprintf("nc-real-%05d", rand.Intn(100000))
	labels := ""
	if restricted {
		labels = "\n  labels: {pod-security.kubernetes.io/enforce: restricted}"
	}
	img := env["KTRIAGE_BUSYBOX_IMAGE"]
	sc := `securityContext: {runAsNonRoot: true, runAsUser: 1000, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}, seccompProfile: {type: RuntimeDefault}}`
	kubectl(t, fmt.Sprintf(`apiVersion: v1
kind: Namespace
metadata:
  name: %[1]s%[2]s
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: %[1]s, labels: {app: web}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: httpd
    image: %[3]s
    imagePullPolicy: Never
    command: [sh, -c, 'mkdir -p /tmp/www && echo ok > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www']
    ports: [{name: http, containerPort: 8080}]
    readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
    %[4]s
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: %[1]s, labels: {app: client}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: sleep, image: %[3]s, imagePullPolicy: Never, command: [sleep, "3600"], %[4]s}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: %[1]s}
spec: {selector: {app: web}, ports: [{name: http, port: 80, targetPort: http}]}
---
apiVersion: v1
kind: Service
metadata: {name: empty, namespace: %[1]s}
spec: {selector: {app: nothing}, ports: [{port: 80, targetPort: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: wrong-port, namespace: %[1]s}
spec: {selector: {app: web}, ports: [{port: 80, targetPort: 9999}]}
`, ns, labels, img, sc), "apply", "-f", "-")
	t.Cleanup(func() {
		_ = client.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{})
	})
	deadline := time.Now().Add(90 * time.Second)
	for _, name := range []string{"web", "client"} {
		for {
			p, err := client.CoreV1().Pods(ns).Get(context.Background(), name, metav1.GetOptions{})
			if err == nil && ready(p) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("pod %s/%s not Ready in time: %v %+v", ns, name, err, p.Status)
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
	waitForServiceRules(t, ns, "web", 80)
	return ns
}

// waitForServiceRules waits until kube-proxy has programmed a Service: until
// then its ClusterIP rejects connections even though the endpoints are
// ready. kube-proxy's rules apply to connections from the host too, so the
// test dials the ClusterIP from here.
func waitForServiceRules(t *testing.T, ns, name string, port int) {
	t.Helper()
	svc, err := client.CoreV1().Services(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort(svc.Spec.ClusterIP, strconv.Itoa(port))
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("service %s/%s (%s) not reachable from the host after 30s: %v", ns, name, addr, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func ready(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func TestLiveProbe(t *testing.T) {
	need(t)
	ns := namespace(t, false)

	t.Run("pod to pod on a listening port is reachable", func(t *testing.T) {
		r := netcheck(t, "-n", ns, "client", "web", "--port", "8080")
		if r.code != 0 || r.rep.Verdict != "reachable" || r.rep.Basis != "probe" || r.rep.Probe == nil || r.rep.Probe.Result != "reachable" || r.rep.Probe.LatencyMs <= 0 {
			t.Fatalf("want reachable by probe\n%s", r)
		}
		if !strings.HasPrefix(r.rep.Probe.Container, "netcheck-") || !strings.Contains(r.stderr, "cannot be removed") {
			t.Errorf("want the container named and the notice on stderr\n%s", r)
		}
	})

	t.Run("a closed port is refused", func(t *testing.T) {
		r := netcheck(t, "-n", ns, "client", "web", "--port", "8081")
		if r.code != 1 || r.rep.Verdict != "refused" || r.rep.Probe.Result != "refused" {
			t.Fatalf("want refused\n%s", r)
		}
	})

	t.Run("a Service reached by its DNS name answers HTTP through kube-proxy", func(t *testing.T) {
		r := netcheck(t, "-n", ns, "client", "web:80", "--protocol", "http")
		if r.code != 0 || r.rep.Verdict != "reachable" || r.rep.Probe.HTTPStatus != 200 || len(r.rep.Probe.Addresses) == 0 {
			t.Fatalf("want reachable with HTTP 200\n%s", r)
		}
		if r.rep.DNS == nil || r.rep.DNS.ResolvConf.Source != "pod" || r.rep.DNS.ResolvConf.Ndots != 5 || r.rep.DNS.Lookups != 1 {
			t.Errorf("want the DNS analysis from the pod's own resolv.conf (ndots:5, one lookup)\n%s", r.stdout)
		}
	})

	t.Run("a Service with no endpoints is no-endpoints", func(t *testing.T) {
		r := netcheck(t, "-n", ns, "client", "svc/empty:80")
		if r.code != 1 || r.rep.Verdict != "no-endpoints" || r.rep.Probe == nil || r.rep.Probe.Result == "reachable" {
			t.Fatalf("want no-endpoints from a failed probe\n%s", r)
		}
	})

	t.Run("a Service whose targetPort matches no container port is port-mismatch", func(t *testing.T) {
		r := netcheck(t, "-n", ns, "client", "svc/wrong-port:80")
		if r.code != 1 || r.rep.Verdict != "port-mismatch" || r.rep.Probe == nil || r.rep.Probe.Result != "refused" {
			t.Fatalf("want port-mismatch from a refused probe\n%s", r)
		}
	})

	t.Run("a name that does not resolve is dns-failure", func(t *testing.T) {
		r := netcheck(t, "-n", ns, "client", "nosuch-service:80")
		if r.code != 1 || r.rep.Verdict != "dns-failure" || r.rep.Probe.Result != "dns-failure" {
			t.Fatalf("want dns-failure\n%s", r)
		}
	})

	t.Run("UDP gets an answer from the cluster DNS and --protocol dns resolves a Service name", func(t *testing.T) {
		r := netcheck(t, "-n", ns, "client", "10.96.0.10:53", "--protocol", "udp")
		if r.code != 0 || r.rep.Probe.Result != "reachable" {
			t.Fatalf("want a UDP answer from kube-dns\n%s", r)
		}
		r = netcheck(t, "-n", ns, "client", "web."+ns, "--protocol", "dns")
		if r.code != 0 || r.rep.Probe.Result != "reachable" || len(r.rep.Probe.Addresses) != 1 {
			t.Fatalf("want web.%s resolved\n%s", ns, r)
		}
	})

	t.Run("a policy the bridge plugin does not enforce is reported as a disagreement", func(t *testing.T) {
		kubectl(t, fmt.Sprintf(`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-web, namespace: %s}
spec: {podSelector: {matchLabels: {app: web}}, policyTypes: [Ingress]}
`, ns), "apply", "-f", "-")
		r := netcheck(t, "-n", ns, "client", "web", "--port", "8080")
		if r.rep.Probe == nil || r.rep.Probe.Result != "reachable" || r.rep.Disagreement == "" {
			t.Fatalf("the CNI bridge does not enforce NetworkPolicy: want the probe through and a disagreement\n%s", r)
		}
		found := false
		for _, f := range r.rep.Findings {
			found = found || f.RuleID == "NC201"
		}
		if !found {
			t.Errorf("want an NC201 finding\n%s", r.stdout)
		}
		kubectl(t, "", "-n", ns, "delete", "networkpolicy", "deny-web")
	})

	t.Run("--no-probe adds no ephemeral container", func(t *testing.T) {
		before, err := client.CoreV1().Pods(ns).Get(context.Background(), "client", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		r := netcheck(t, "-n", ns, "client", "web", "--port", "8080", "--no-probe")
		after, err := client.CoreV1().Pods(ns).Get(context.Background(), "client", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if r.code != 0 || r.rep.Probe != nil || len(after.Spec.EphemeralContainers) != len(before.Spec.EphemeralContainers) {
			t.Fatalf("--no-probe changed the pod: %d -> %d ephemeral containers\n%s", len(before.Spec.EphemeralContainers), len(after.Spec.EphemeralContainers), r)
		}
	})
}

func TestLiveProbeInARestrictedNamespace(t *testing.T) {
	need(t)
	ns := namespace(t, true)
	r := netcheck(t, "-n", ns, "client", "svc/web:80", "--protocol", "http")
	if r.code != 0 || r.rep.Verdict != "reachable" || r.rep.Probe == nil || r.rep.Probe.HTTPStatus != 200 {
		t.Fatalf("the probe must be admitted and run under the restricted Pod Security Standard\n%s", r)
	}
}

func TestImageThatCannotBeUsedEndsQuickly(t *testing.T) {
	need(t)
	ns := namespace(t, false)
	start := time.Now()
	cmd := exec.Command(filepath.Join(binDir, "kubectl-netcheck"), "-n", ns, "client", "web", "--port", "8080",
		"--image", "ktriage.local/not-there:1", "--image-pull-policy", "Never", "--start-timeout", "60s")
	cmd.Env = append(os.Environ(), "KUBECONFIG="+env["KUBECONFIG"])
	out, err := cmd.CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 2 || !strings.Contains(string(out), "ErrImageNeverPull") || !strings.Contains(string(out), "--image") {
		t.Fatalf("want exit 2 naming ErrImageNeverPull and --image: %v\n%s", err, out)
	}
	if time.Since(start) > 30*time.Second {
		t.Errorf("took %s: an image that cannot be used must end well before --start-timeout", time.Since(start))
	}
}

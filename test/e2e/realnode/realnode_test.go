// Package realnode checks that hack/real-node gives a working single-node
// cluster: real containers on containerd, pod-to-pod TCP over the CNI bridge,
// Service ClusterIPs through kube-proxy, cluster DNS from CoreDNS, and
// ephemeral containers (also in a PSA restricted namespace) reporting their
// exit code and termination message.
//
// The node is started once for the package (hack/real-node up) and removed
// afterwards unless another test package still uses it. When the host cannot
// run a real node (not root, no cgroups, packages missing and not
// installable), every test is skipped and says why.
package realnode

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/ktriage/ktriage/test/e2e/framework"
)

var (
	skipReason string
	cluster    *framework.Cluster
	busybox    string
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	root, err := framework.RepoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 2
	}
	script := filepath.Join(root, "hack", "real-node")
	if out, err := exec.Command(script, "check").CombinedOutput(); err != nil {
		skipReason = "this host cannot run a real node (hack/real-node check): " + strings.TrimSpace(string(out))
		return m.Run()
	}
	// Other test packages may share the node: register as one of its users
	// so that their `down` leaves it running while these tests use it.
	holder := fmt.Sprintf("KTRIAGE_REAL_NODE_HOLDER=%d", os.Getpid())
	defer func() {
		down := exec.Command(script, "down")
		down.Env = append(os.Environ(), holder)
		down.Stdout, down.Stderr = os.Stderr, os.Stderr
		_ = down.Run()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Minute) // a cold tools build included
	defer cancel()
	up := exec.CommandContext(ctx, script, "up")
	up.Env = append(os.Environ(), holder)
	var stdout bytes.Buffer
	up.Stdout, up.Stderr = &stdout, os.Stderr
	if err := up.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: hack/real-node up:", err)
		return 2
	}
	env := parseExports(stdout.String())
	if cluster, err = newCluster(env); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 2
	}
	busybox = env["KTRIAGE_BUSYBOX_IMAGE"]
	return m.Run()
}

func newCluster(env map[string]string) (*framework.Cluster, error) {
	c := &framework.Cluster{
		Name:       env["KTRIAGE_CLUSTER_NAME"],
		Kubeconfig: env["KUBECONFIG"],
		KubectlBin: env["KTRIAGE_KUBECTL"],
	}
	if c.Kubeconfig == "" || c.KubectlBin == "" || env["KTRIAGE_BUSYBOX_IMAGE"] == "" {
		return nil, fmt.Errorf("hack/real-node up printed no KUBECONFIG, KTRIAGE_KUBECTL or KTRIAGE_BUSYBOX_IMAGE")
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", c.Kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", c.Kubeconfig, err)
	}
	cfg.Timeout = 30 * time.Second
	c.Config = cfg
	c.Client, err = kubernetes.NewForConfig(cfg)
	return c, err
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

func need(t *testing.T) *framework.Cluster {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
	return cluster
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// restricted is a security context the restricted Pod Security Standard
// admits.
func restricted() *corev1.SecurityContext {
	no, yes, uid := false, true, int64(65534)
	return &corev1.SecurityContext{
		RunAsNonRoot:             &yes,
		RunAsUser:                &uid,
		AllowPrivilegeEscalation: &no,
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
}

// sleeper creates a busybox pod that sleeps, waits until it is Running and
// Ready and returns it.
func sleeper(t *testing.T, c *framework.Cluster, ns, name string, labels map[string]string, args ...string) *corev1.Pod {
	t.Helper()
	if len(args) == 0 {
		args = []string{"sleep", "3600"}
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec: corev1.PodSpec{
			TerminationGracePeriodSeconds: ptr(int64(1)),
			Containers: []corev1.Container{{
				Name: "main", Image: busybox, ImagePullPolicy: corev1.PullNever,
				Command: args, SecurityContext: restricted(),
				Ports: []corev1.ContainerPort{{Name: "echo", ContainerPort: 8080}},
			}},
		},
	}
	if _, err := c.Client.CoreV1().Pods(ns).Create(ctx(t), pod, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating pod %s/%s: %v", ns, name, err)
	}
	var got *corev1.Pod
	framework.Eventually(t, 60*time.Second, func() (bool, error) {
		p, err := c.Client.CoreV1().Pods(ns).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		got = p
		for _, cond := range p.Status.Conditions {
			if cond.Type == corev1.PodReady && cond.Status == corev1.ConditionTrue {
				return true, nil
			}
		}
		return false, nil
	}, fmt.Sprintf("pod %s/%s Ready", ns, name))
	return got
}

// oneShot runs a busybox shell script in a pod of its own and returns the
// container's exit code and what it wrote to /dev/termination-log.
func oneShot(t *testing.T, c *framework.Cluster, ns, name, script string) (int32, string) {
	t.Helper()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			Containers: []corev1.Container{{
				Name: "main", Image: busybox, ImagePullPolicy: corev1.PullNever,
				Command:         []string{"sh", "-c", script},
				SecurityContext: restricted(),
			}},
		},
	}
	if _, err := c.Client.CoreV1().Pods(ns).Create(ctx(t), pod, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating pod %s/%s: %v", ns, name, err)
	}
	var term *corev1.ContainerStateTerminated
	framework.Eventually(t, 60*time.Second, func() (bool, error) {
		p, err := c.Client.CoreV1().Pods(ns).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, cs := range p.Status.ContainerStatuses {
			if cs.State.Terminated != nil {
				term = cs.State.Terminated
				return true, nil
			}
		}
		return false, nil
	}, fmt.Sprintf("pod %s/%s terminated", ns, name))
	return term.ExitCode, strings.TrimSpace(term.Message)
}

// echoServer starts a pod answering every TCP connection on 8080 with its
// name, behind a Service "echo" (port 80 -> named port echo).
func echoServer(t *testing.T, c *framework.Cluster, ns string) (*corev1.Pod, *corev1.Service) {
	t.Helper()
	// Debian's busybox nc has no -k: serve one connection at a time.
	pod := sleeper(t, c, ns, "server", map[string]string{"app": "echo"},
		"sh", "-c", "while true; do echo pong-from-server | nc -l -p 8080; done")
	svc, err := c.Client.CoreV1().Services(ns).Create(ctx(t), &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "echo"},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": "echo"},
			Ports:    []corev1.ServicePort{{Name: "tcp", Port: 80, TargetPort: intstr.FromString("echo")}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating Service %s/echo: %v", ns, err)
	}
	return pod, svc
}

func TestBusyboxPodRunsOnContainerd(t *testing.T) {
	c := need(t)
	ns := c.Namespace(t, "realnode-pod", nil)
	pod := sleeper(t, c, ns, "sleeper", nil)
	if pod.Status.Phase != corev1.PodRunning {
		t.Fatalf("phase = %s, want Running", pod.Status.Phase)
	}
	cs := pod.Status.ContainerStatuses
	if len(cs) != 1 || !strings.HasPrefix(cs[0].ContainerID, "containerd://") || cs[0].State.Running == nil {
		t.Fatalf("container statuses = %+v, want one running container with a containerd:// ID", cs)
	}
	if !strings.HasPrefix(pod.Status.PodIP, "10.244.0.") {
		t.Fatalf("pod IP = %q, want one from the CNI bridge's 10.244.0.0/24", pod.Status.PodIP)
	}
}

func TestNetworking(t *testing.T) {
	c := need(t)
	ns := c.Namespace(t, "realnode-net", nil)
	server, svc := echoServer(t, c, ns)
	// The EndpointSlice must list the server before kube-proxy programs the
	// ClusterIP.
	framework.Eventually(t, 30*time.Second, func() (bool, error) {
		code, _ := oneShotQuiet(t, c, ns, svc.Spec.ClusterIP)
		return code == 0, nil
	}, "Service echo reachable")

	cases := []struct {
		name, script string
		wantCode     int32
		wantMessage  string
	}{
		{
			name:        "a pod reaches another pod's port over the CNI bridge",
			script:      fmt.Sprintf("nc -w 5 %s 8080 </dev/null >/dev/termination-log", server.Status.PodIP),
			wantMessage: "pong-from-server",
		},
		{
			name:        "a pod reaches a Service's ClusterIP through kube-proxy",
			script:      fmt.Sprintf("nc -w 5 %s 80 </dev/null >/dev/termination-log", svc.Spec.ClusterIP),
			wantMessage: "pong-from-server",
		},
		{
			name:        "a closed port refuses the connection",
			script:      fmt.Sprintf("nc -w 5 %s 9 </dev/null 2>/dev/termination-log; exit $?", server.Status.PodIP),
			wantCode:    1,
			wantMessage: "Connection refused",
		},
		{
			name:        "cluster DNS resolves a Service's full name to its ClusterIP",
			script:      fmt.Sprintf("busybox nslookup echo.%s.svc.cluster.local >/dev/termination-log", ns),
			wantMessage: svc.Spec.ClusterIP,
		},
		{
			name: "cluster DNS resolves a Service's short name through the pod's search list",
			// nslookup tries every search domain and fails when one of
			// them does not resolve: keep the answer that did.
			script:      fmt.Sprintf("busybox nslookup echo | grep -A1 'Name:.*echo.%s.svc.cluster.local' >/dev/termination-log", ns),
			wantMessage: svc.Spec.ClusterIP,
		},
		{
			name:        "a pod reaches a Service by name",
			script:      "nc -w 5 echo 80 </dev/null >/dev/termination-log",
			wantMessage: "pong-from-server",
		},
		{
			name:        "cluster DNS answers NXDOMAIN for a Service that does not exist",
			script:      fmt.Sprintf("busybox nslookup missing.%s.svc.cluster.local >/dev/termination-log 2>&1", ns),
			wantCode:    1,
			wantMessage: "NXDOMAIN",
		},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, msg := oneShot(t, c, ns, fmt.Sprintf("client-%d", i), tc.script)
			if code != tc.wantCode || !strings.Contains(msg, tc.wantMessage) {
				t.Fatalf("exit %d, message %q; want exit %d and a message containing %q", code, msg, tc.wantCode, tc.wantMessage)
			}
		})
	}
}

var probeSeq int

// oneShotQuiet is oneShot for polling: a connection to ip:80 from a fresh
// pod, removed afterwards.
func oneShotQuiet(t *testing.T, c *framework.Cluster, ns, ip string) (int32, string) {
	t.Helper()
	probeSeq++
	name := fmt.Sprintf("wait-%d", probeSeq)
	code, msg := oneShot(t, c, ns, name, fmt.Sprintf("nc -w 2 %s 80 </dev/null >/dev/termination-log", ip))
	_ = c.Client.CoreV1().Pods(ns).Delete(context.Background(), name, metav1.DeleteOptions{GracePeriodSeconds: ptr(int64(0))})
	return code, msg
}

func TestEphemeralContainerReportsExitCodeAndMessage(t *testing.T) {
	c := need(t)
	cases := []struct {
		name   string
		labels map[string]string
	}{
		{name: "in a namespace without Pod Security labels"},
		{name: "in a namespace enforcing the restricted Pod Security Standard", labels: map[string]string{
			"pod-security.kubernetes.io/enforce":         "restricted",
			"pod-security.kubernetes.io/enforce-version": "latest",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ns := c.Namespace(t, "realnode-eph", tc.labels)
			sleeper(t, c, ns, "target", nil)
			status := addEphemeral(t, c, ns, "target", corev1.EphemeralContainer{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
				Name: "check", Image: busybox, ImagePullPolicy: corev1.PullNever,
				Command:         []string{"sh", "-c", "echo '{\"result\":\"done\"}' >/dev/termination-log; exit 3"},
				SecurityContext: restricted(),
			}})
			if status.ExitCode != 3 || strings.TrimSpace(status.Message) != `{"result":"done"}` {
				t.Fatalf("ephemeral container terminated with exit %d, message %q; want exit 3 and {\"result\":\"done\"}", status.ExitCode, status.Message)
			}
		})
	}

	t.Run("a restricted namespace refuses a privileged ephemeral container", func(t *testing.T) {
		ns := c.Namespace(t, "realnode-psa", map[string]string{"pod-security.kubernetes.io/enforce": "restricted"})
		sleeper(t, c, ns, "target", nil)
		pod, err := c.Client.CoreV1().Pods(ns).Get(ctx(t), "target", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		pod.Spec.EphemeralContainers = append(pod.Spec.EphemeralContainers, corev1.EphemeralContainer{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
			Name: "root", Image: busybox, ImagePullPolicy: corev1.PullNever, Command: []string{"true"},
			SecurityContext: &corev1.SecurityContext{Privileged: ptr(true)},
		}})
		_, err = c.Client.CoreV1().Pods(ns).UpdateEphemeralContainers(ctx(t), "target", pod, metav1.UpdateOptions{})
		if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "violates PodSecurity") {
			t.Fatalf("adding a privileged ephemeral container: err = %v, want Forbidden: violates PodSecurity", err)
		}
	})
}

// addEphemeral adds ec to the pod through the ephemeralcontainers subresource
// and waits for it to terminate.
func addEphemeral(t *testing.T, c *framework.Cluster, ns, name string, ec corev1.EphemeralContainer) *corev1.ContainerStateTerminated {
	t.Helper()
	pod, err := c.Client.CoreV1().Pods(ns).Get(ctx(t), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pod.Spec.EphemeralContainers = append(pod.Spec.EphemeralContainers, ec)
	if _, err := c.Client.CoreV1().Pods(ns).UpdateEphemeralContainers(ctx(t), name, pod, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("adding ephemeral container %s to %s/%s: %v", ec.Name, ns, name, err)
	}
	var term *corev1.ContainerStateTerminated
	framework.Eventually(t, 30*time.Second, func() (bool, error) {
		p, err := c.Client.CoreV1().Pods(ns).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, s := range p.Status.EphemeralContainerStatuses {
			if s.Name == ec.Name && s.State.Terminated != nil {
				term = s.State.Terminated
				return true, nil
			}
		}
		return false, nil
	}, fmt.Sprintf("ephemeral container %s of %s/%s terminated", ec.Name, ns, name))
	return term
}

func ptr[T any](v T) *T { return &v }

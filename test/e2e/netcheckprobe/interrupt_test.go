package netcheckprobe

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// silentServer adds to ns a pod "silent" that accepts TCP connections on
// 9000 and never answers, so that an HTTP probe to it runs its whole
// --timeout.
func silentServer(t *testing.T, ns string) {
	t.Helper()
	sc := `securityContext: {runAsNonRoot: true, runAsUser: 1000, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}, seccompProfile: {type: RuntimeDefault}}`
	kubectl(t, fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: silent, namespace: %s, labels: {app: silent}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: nc
    image: %s
    imagePullPolicy: Never
    command: [sh, -c, 'while true; do sleep 3600 | nc -l -p 9000 >/dev/null; done']
    ports: [{name: silent, containerPort: 9000}]
    %s
`, ns, env["KTRIAGE_BUSYBOX_IMAGE"], sc), "apply", "-f", "-")
	deadline := time.Now().Add(60 * time.Second)
	for {
		p, err := client.CoreV1().Pods(ns).Get(context.Background(), "silent", metav1.GetOptions{})
		if err == nil && ready(p) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pod %s/silent not Ready in time: %v", ns, err)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// syncBuffer collects a process's stderr while the test reads it.
type syncBuffer struct {
	mu    sync.Mutex
	lines []string
}

func (b *syncBuffer) add(line string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lines = append(b.lines, line)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.lines, "\n")
}

// probeRun is netcheck running a probe in the background.
type probeRun struct {
	cmd       *exec.Cmd
	stdout    strings.Builder
	stderr    syncBuffer
	done      chan struct{}
	container string
}

var addedRE = regexp.MustCompile(`^Added ephemeral container (netcheck-[a-z0-9]+) to pod `)

// startProbe starts netcheck from ns/client to the silent server over HTTP
// and returns once it says it added the probe container.
func startProbe(t *testing.T, ns string) *probeRun {
	t.Helper()
	r := &probeRun{done: make(chan struct{})}
	r.cmd = exec.Command(filepath.Join(binDir, "kubectl-netcheck"), "-n", ns, "client", "silent", "--port", "9000", "--protocol", "http",
		"--timeout", "15s", "--start-timeout", "60s", "--image", env["KTRIAGE_PROBE_IMAGE"], "--image-pull-policy", "Never")
	r.cmd.Env = append(os.Environ(), "KUBECONFIG="+env["KUBECONFIG"], "NO_COLOR=1")
	r.cmd.Stdout = &r.stdout
	pipe, err := r.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	added := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			r.stderr.add(sc.Text())
			if m := addedRE.FindStringSubmatch(sc.Text()); m != nil {
				added <- m[1]
			}
		}
		close(r.done)
	}()
	t.Cleanup(func() { _ = r.cmd.Process.Kill(); <-r.done; _ = r.cmd.Wait() })
	select {
	case r.container = <-added:
	case <-r.done:
		t.Fatalf("netcheck ended before adding the probe container\nstderr:\n%s", r.stderr.String())
	case <-time.After(90 * time.Second):
		t.Fatalf("netcheck did not add the probe container within 90s\nstderr:\n%s", r.stderr.String())
	}
	return r
}

// wait waits for the run to end, at most limit, and returns its exit code
// and how long it took.
func (r *probeRun) wait(t *testing.T, limit time.Duration) (int, time.Duration) {
	t.Helper()
	start := time.Now()
	select {
	case <-r.done:
	case <-time.After(limit):
		t.Fatalf("netcheck still running %s later\nstderr:\n%s", limit, r.stderr.String())
	}
	err := r.cmd.Wait()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	return code, time.Since(start)
}

// lastLine is the run's last line on stderr.
func (r *probeRun) lastLine() string {
	lines := strings.Split(strings.TrimSpace(r.stderr.String()), "\n")
	return lines[len(lines)-1]
}

// writesSince returns "verb path" of the completed requests netcheck made
// from the audit log's offset on, other than reads.
func writesSince(t *testing.T, offset int64) []string {
	t.Helper()
	b, err := os.ReadFile(env["KTRIAGE_AUDIT_LOG"])
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(string(b[offset:]), "\n") {
		var ev struct{ Stage, Verb, RequestURI, UserAgent string }
		if json.Unmarshal([]byte(line), &ev) != nil || ev.Stage != "ResponseComplete" || !strings.HasPrefix(ev.UserAgent, "kubectl-netcheck/") {
			continue
		}
		if !slices.Contains([]string{"get", "list", "watch"}, ev.Verb) {
			path, _, _ := strings.Cut(ev.RequestURI, "?")
			out = append(out, ev.Verb+" "+path)
		}
	}
	return out
}

func auditOffset(t *testing.T) int64 {
	t.Helper()
	st, err := os.Stat(env["KTRIAGE_AUDIT_LOG"])
	if err != nil {
		t.Fatalf("the real node's audit log: %v", err)
	}
	return st.Size()
}

// onlyTheProbePatch checks that, from the audit log, netcheck changed
// nothing but the one patch adding its container to ns/client (the API
// server writes the log asynchronously: wait for it).
func onlyTheProbePatch(t *testing.T, offset int64, ns string) {
	t.Helper()
	want := []string{"patch /api/v1/namespaces/" + ns + "/pods/client/ephemeralcontainers"}
	var got []string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(300 * time.Millisecond) {
		got = writesSince(t, offset)
		if slices.Equal(got, want) || time.Now().After(deadline) {
			break
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("netcheck's writes in the audit log: %q, want only %q", got, want)
	}
}

// podNames lists the pods of ns.
func podNames(t *testing.T, ns string) []string {
	t.Helper()
	pods, err := client.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range pods.Items {
		out = append(out, p.Name)
	}
	slices.Sort(out)
	return out
}

// SIGINT during the probe ends netcheck at once with one line naming the
// probe container it leaves, and exit 2; that container, which stops by
// itself, is all that remains of the run.
func TestInterruptDuringTheProbe(t *testing.T) {
	need(t)
	ns := namespace(t, true)
	silentServer(t, ns)
	offset := auditOffset(t)
	r := startProbe(t, ns)
	time.Sleep(2 * time.Second) // the probe is under way: its HTTP request waits on the silent server
	if err := r.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	code, took := r.wait(t, 30*time.Second)
	if took > 3*time.Second {
		t.Errorf("netcheck took %s to end after SIGINT", took)
	}
	want := "error: interrupted by SIGINT; still waiting for: the result of the probe container " + r.container + " in pod " + ns + "/client (the container stays in the pod's spec and stops by itself within --timeout)"
	if code != 2 || !strings.HasPrefix(r.lastLine(), want) || strings.Contains(r.stderr.String(), "goroutine ") {
		t.Errorf("want exit 2 and the last line %q\nexit %d\nstderr:\n%s", want, code, r.stderr.String())
	}
	if r.stdout.Len() != 0 {
		t.Errorf("an interrupted run prints no report, got\n%s", r.stdout.String())
	}

	onlyTheProbePatch(t, offset, ns)
	if got, want := podNames(t, ns), []string{"client", "silent", "web"}; !slices.Equal(got, want) {
		t.Errorf("pods in %s after the run: %q, want %q", ns, got, want)
	}
	// The container it leaves stops by itself, as the line says.
	deadline := time.Now().Add(40 * time.Second)
	for {
		p, err := client.CoreV1().Pods(ns).Get(context.Background(), "client", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Spec.EphemeralContainers) != 1 || p.Spec.EphemeralContainers[0].Name != r.container {
			t.Fatalf("ephemeral containers of %s/client: %+v, want only %s", ns, p.Spec.EphemeralContainers, r.container)
		}
		stopped := false
		for _, st := range p.Status.EphemeralContainerStatuses {
			stopped = stopped || st.Name == r.container && st.State.Terminated != nil
		}
		if stopped {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the probe container %s still runs 40s after an interrupted 15s probe: %+v", r.container, p.Status.EphemeralContainerStatuses)
		}
		time.Sleep(time.Second)
	}
}

// The source pod deleted while the probe runs: netcheck notices within a
// poll, ends with one line saying so, and exit 2. With the pod gone nothing
// of the run remains; its only write was the probe's patch.
func TestSourcePodDeletedDuringTheProbe(t *testing.T) {
	need(t)
	ns := namespace(t, true)
	silentServer(t, ns)
	offset := auditOffset(t)
	r := startProbe(t, ns)
	time.Sleep(time.Second)
	grace := int64(1)
	if err := client.CoreV1().Pods(ns).Delete(context.Background(), "client", metav1.DeleteOptions{GracePeriodSeconds: &grace}); err != nil {
		t.Fatal(err)
	}
	code, took := r.wait(t, 30*time.Second)
	if took > 5*time.Second {
		t.Errorf("netcheck took %s to notice its source pod deleted", took)
	}
	line := r.lastLine()
	if code != 2 || !strings.HasPrefix(line, "error: pod was deleted: pod "+ns+"/client ") || !strings.Contains(line, "the probe has no result") {
		t.Errorf("want exit 2 and one line saying the source pod was deleted\nexit %d\nstderr:\n%s", code, r.stderr.String())
	}
	onlyTheProbePatch(t, offset, ns)
	deadline := time.Now().Add(30 * time.Second)
	for !slices.Equal(podNames(t, ns), []string{"silent", "web"}) {
		if time.Now().After(deadline) {
			t.Fatalf("pods in %s 30s after deleting client: %q, want only silent and web", ns, podNames(t, ns))
		}
		time.Sleep(500 * time.Millisecond)
	}
}

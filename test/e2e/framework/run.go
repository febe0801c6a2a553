package framework

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Result is what a command did.
type Result struct {
	Args   []string
	Stdout string
	Stderr string
	Code   int
}

// RunOptions tune one plugin run.
type RunOptions struct {
	Stdin string
	// Env is added to the environment (KUBECONFIG is always the cluster's
	// unless Env sets it).
	Env []string
	// Timeout bounds the run (default 2 minutes): a plugin must never hang.
	Timeout time.Duration
}

// Run executes a plugin binary, e.g. c.Run(t, "kubectl-why_pending", "-A").
func (c *Cluster) Run(t testing.TB, binary string, args ...string) Result {
	t.Helper()
	return c.RunWith(t, RunOptions{}, binary, args...)
}

// RunWith executes a plugin binary with stdin, extra env or a timeout.
func (c *Cluster) RunWith(t testing.TB, opts RunOptions, binary string, args ...string) Result {
	t.Helper()
	path := filepath.Join(c.binDir, binary)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("plugin binary %s not found: %v (run make build or unset KTRIAGE_BIN)", path, err)
	}
	return c.exec(t, opts, path, args...)
}

func (c *Cluster) exec(t testing.TB, opts RunOptions, path string, args ...string) Result {
	t.Helper()
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = 2 * time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = append(cleanEnv(), "KUBECONFIG="+c.Kubeconfig, "NO_COLOR=1", "HOME="+os.Getenv("HOME"))
	cmd.Env = append(cmd.Env, opts.Env...)
	if opts.Stdin != "" {
		cmd.Stdin = strings.NewReader(opts.Stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := Result{Args: append([]string{filepath.Base(path)}, args...), Stdout: stdout.String(), Stderr: stderr.String()}
	if ctx.Err() != nil {
		t.Fatalf("%s did not finish within %s\nstdout:\n%s\nstderr:\n%s", strings.Join(res.Args, " "), timeout, res.Stdout, res.Stderr)
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		res.Code = ee.ExitCode()
	default:
		t.Fatalf("running %s: %v", strings.Join(res.Args, " "), err)
	}
	return res
}

// cleanEnv drops variables that would point a plugin at another cluster.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "KUBECONFIG=") || strings.HasPrefix(kv, "NO_COLOR=") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// Kubectl runs the cluster's kubectl and fails the test on a non-zero exit.
func (c *Cluster) Kubectl(t testing.TB, args ...string) string {
	t.Helper()
	res := c.KubectlResult(t, "", args...)
	if res.Code != 0 {
		t.Fatalf("kubectl %s: exit %d\n%s%s", strings.Join(args, " "), res.Code, res.Stdout, res.Stderr)
	}
	return res.Stdout
}

// KubectlResult runs kubectl with optional stdin and returns what it did.
func (c *Cluster) KubectlResult(t testing.TB, stdin string, args ...string) Result {
	t.Helper()
	return c.exec(t, RunOptions{Stdin: stdin}, c.KubectlBin, args...)
}

// Apply applies YAML manifests (kubectl apply -f -), failing on error.
func (c *Cluster) Apply(t testing.TB, namespace, manifests string) {
	t.Helper()
	args := []string{"apply", "-f", "-"}
	if namespace != "" {
		args = append(args, "-n", namespace)
	}
	res := c.KubectlResult(t, manifests, args...)
	if res.Code != 0 {
		t.Fatalf("kubectl apply: exit %d\n%s%s\nmanifests:\n%s", res.Code, res.Stdout, res.Stderr, manifests)
	}
}

// DecodeJSON parses a run's stdout, failing the test with the output on error.
func (r Result) DecodeJSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.Stdout), v); err != nil {
		t.Fatalf("%s: stdout is not JSON: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(r.Args, " "), err, r.Stdout, r.Stderr)
	}
}

// String renders the run for failure messages.
func (r Result) String() string {
	return strings.Join(r.Args, " ") + "\nexit: " + itoa(r.Code) + "\nstdout:\n" + r.Stdout + "\nstderr:\n" + r.Stderr
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// localCluster is a control plane started with hack/local-cluster.
type localCluster struct {
	repo, name string
	env        map[string]string // what `hack/local-cluster env` exports
}

// startCluster runs `hack/local-cluster up` with no kwok nodes: the
// benchmark creates its own nodes.
func startCluster(ctx context.Context, repo, name string) (*localCluster, error) {
	c := &localCluster{repo: repo, name: name, env: map[string]string{}}
	// hack/local-cluster up takes a cluster whose controller manager is
	// stopped for stale and removes it: that would be another run's.
	if dir := stateDir(name); dirExists(dir) {
		return nil, fmt.Errorf("cluster %q exists (%s): another bench-e2e run uses it, or one was killed; "+
			"use another -name, or remove it with hack/local-cluster down --name %s", name, dir, name)
	}
	cmd := exec.CommandContext(ctx, filepath.Join(repo, "hack/local-cluster"), "up", "--name", name, "--nodes", "0")
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return c, fmt.Errorf("hack/local-cluster up --name %s: %w", name, err)
	}
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		line := strings.TrimPrefix(sc.Text(), "export ")
		k, v, ok := strings.Cut(line, "=")
		if ok {
			c.env[k] = strings.Trim(v, "'")
		}
	}
	for _, k := range []string{"KUBECONFIG", "KTRIAGE_APISERVER", "KTRIAGE_CLUSTER_DIR", "KTRIAGE_KUBECTL"} {
		if c.env[k] == "" {
			return c, fmt.Errorf("hack/local-cluster up printed no %s", k)
		}
	}
	return c, nil
}

// stateDir is where hack/local-cluster keeps cluster name's state.
func stateDir(name string) string {
	cache := os.Getenv("KTRIAGE_CACHE_DIR")
	if cache == "" {
		base := os.Getenv("XDG_CACHE_HOME")
		if base == "" {
			home, _ := os.UserHomeDir()
			base = filepath.Join(home, ".cache")
		}
		cache = filepath.Join(base, "ktriage")
	}
	return filepath.Join(cache, "clusters", name)
}

func dirExists(dir string) bool {
	st, err := os.Stat(dir)
	return err == nil && st.IsDir()
}

// stop tears the cluster down, whatever state it is in.
func (c *localCluster) stop() {
	if c == nil {
		return
	}
	cmd := exec.Command(filepath.Join(c.repo, "hack/local-cluster"), "down", "--name", c.name)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "bench-e2e: hack/local-cluster down --name %s: %v\n", c.name, err)
	}
}

// servingCA is what verifies the API server's certificate (see
// hack/local-cluster serving_ca).
func (c *localCluster) servingCA() ([]byte, error) {
	dir := c.env["KTRIAGE_CLUSTER_DIR"]
	for _, f := range []string{filepath.Join(dir, "pki/serving/ca.crt"), filepath.Join(dir, "pki/apiserver/apiserver.crt")} {
		if b, err := os.ReadFile(f); err == nil && len(b) > 0 {
			return b, nil
		}
	}
	return nil, fmt.Errorf("no serving CA under %s/pki", dir)
}

// stopComponent stops one control-plane process of this cluster, found by
// the pid file hack/local-cluster wrote. The benchmark stops
// kube-controller-manager once the namespaces are ready: the objects it
// creates carry the status a running cluster would show, and no controller
// may rewrite them (or evict pods from nodes without a kubelet) while the
// contenders are measured. hack/local-cluster down still cleans up.
func (c *localCluster) stopComponent(comp string) error {
	dir := c.env["KTRIAGE_CLUSTER_DIR"]
	b, err := os.ReadFile(filepath.Join(dir, "pids", comp+".pid"))
	if err != nil {
		return err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return err
	}
	// The recorded pid must still be this cluster's process.
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !bytes.Contains(cmdline, []byte(dir)) {
		return fmt.Errorf("%s (pid %d) is not running", comp, pid)
	}
	if err := syscall.Kill(-pid, syscall.SIGTERM); err != nil {
		return err
	}
	for range 100 {
		if err := syscall.Kill(pid, 0); err != nil {
			return nil
		}
		if st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
			if f := strings.Fields(string(st[bytes.LastIndexByte(st, ')')+1:])); len(f) > 0 && f[0] == "Z" {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return syscall.Kill(-pid, syscall.SIGKILL)
}

// adminClient is a fast client for filling the cluster (it does not go
// through the counting proxy).
func (c *localCluster) adminClient() (*kubernetes.Clientset, *rest.Config, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", c.env["KUBECONFIG"])
	if err != nil {
		return nil, nil, err
	}
	cfg.QPS, cfg.Burst = 20000, 40000
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	cfg.Timeout = 60 * time.Second
	cs, err := kubernetes.NewForConfig(cfg)
	return cs, cfg, err
}

// writeKubeconfig writes the kubeconfig every contender uses: the proxy,
// trusted by its own CA, and the admin token.
func writeKubeconfig(path, server string, ca []byte, token string) error {
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: bench
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: admin
  user:
    token: %s
contexts:
- name: bench
  context:
    cluster: bench
    user: admin
    namespace: default
current-context: bench
`, server, base64.StdEncoding.EncodeToString(ca), token)
	return os.WriteFile(path, []byte(cfg), 0o600)
}

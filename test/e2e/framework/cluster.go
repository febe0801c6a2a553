// Package framework runs end-to-end tests the way a user works: a real local
// control plane (hack/local-cluster: etcd, kube-apiserver, kube-scheduler,
// kube-controller-manager, kwok nodes), the real plugin binaries, their argv,
// stdout, stderr and exit code.
//
// Each test package calls Main from its TestMain; it starts one cluster for
// the package and removes it afterwards. Set KTRIAGE_E2E_CLUSTER=NAME to reuse
// a cluster started by hand (hack/local-cluster up --name NAME) and keep it.
package framework

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Options shape the cluster a package gets.
type Options struct {
	// Name prefixes the cluster's name; the package name is a good choice.
	Name string
	// Nodes is the number of kwok nodes (hack/local-cluster's default when 0).
	Nodes int
	// Zones spreads the nodes over that many topology zones.
	Zones int
	// Env is added to hack/local-cluster's environment.
	Env []string
}

// Cluster is the running local cluster of a test package.
type Cluster struct {
	Name       string
	Dir        string
	Kubeconfig string
	APIServer  string
	CAFile     string
	Token      string
	AuditLog   string
	KubectlBin string

	Config *rest.Config
	Client kubernetes.Interface

	root   string
	binDir string
}

var current *Cluster

// Main starts the package's cluster, runs the tests and tears the cluster
// down, whatever the tests did. Call it from TestMain.
func Main(m *testing.M, opts Options) {
	os.Exit(run(m, opts))
}

func run(m *testing.M, opts Options) int {
	root, err := RepoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 2
	}
	name := os.Getenv("KTRIAGE_E2E_CLUSTER")
	reuse := name != ""
	if !reuse {
		prefix := opts.Name
		if prefix == "" {
			prefix = "e2e"
		}
		name = fmt.Sprintf("%s-%d", sanitize(prefix), os.Getpid())
	}
	c := &Cluster{Name: name, root: root}
	if !reuse {
		defer c.down()
	}
	if err := c.up(opts, reuse); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: starting the local cluster:", err)
		return 2
	}
	if err := c.findBinaries(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 2
	}
	current = c
	return m.Run()
}

// Get returns the package's cluster; it fails the test when Main did not run.
func Get(t testing.TB) *Cluster {
	t.Helper()
	if current == nil {
		t.Fatal("no local cluster: call framework.Main from TestMain")
	}
	return current
}

func sanitize(s string) string {
	s = strings.ToLower(s)
	var b strings.Builder
	for _, r := range s {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '-' {
			b.WriteRune(r)
		} else {
			b.WriteRune('-')
		}
	}
	return strings.Trim(b.String(), "-")
}

// RepoRoot is the directory holding the project's go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && bytes.HasPrefix(b, []byte("module github.com/ktriage/ktriage\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("cannot find the ktriage repository root above the working directory")
		}
		dir = parent
	}
}

func (c *Cluster) script() string { return filepath.Join(c.root, "hack", "local-cluster") }

func (c *Cluster) up(opts Options, reuse bool) error {
	args := []string{"up", "--name", c.Name}
	if reuse {
		args = []string{"env", "--name", c.Name}
	} else {
		if opts.Nodes > 0 {
			args = append(args, "--nodes", fmt.Sprint(opts.Nodes))
		}
		if opts.Zones > 0 {
			args = append(args, "--zones", fmt.Sprint(opts.Zones))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Minute) // a cold tools build included
	defer cancel()
	cmd := exec.CommandContext(ctx, c.script(), args...)
	cmd.Env = append(os.Environ(), opts.Env...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("hack/local-cluster %s: %w", strings.Join(args, " "), err)
	}
	env := parseExports(string(out))
	c.Kubeconfig = env["KUBECONFIG"]
	c.Dir = env["KTRIAGE_CLUSTER_DIR"]
	c.APIServer = env["KTRIAGE_APISERVER"]
	c.CAFile = env["KTRIAGE_APISERVER_CA"]
	c.Token = env["KTRIAGE_ADMIN_TOKEN"]
	c.AuditLog = env["KTRIAGE_AUDIT_LOG"]
	c.KubectlBin = env["KTRIAGE_KUBECTL"]
	if c.Kubeconfig == "" {
		return fmt.Errorf("hack/local-cluster printed no KUBECONFIG")
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", c.Kubeconfig)
	if err != nil {
		return fmt.Errorf("reading %s: %w", c.Kubeconfig, err)
	}
	cfg.QPS, cfg.Burst, cfg.Timeout = 100, 200, 30*time.Second
	c.Config = cfg
	c.Client, err = kubernetes.NewForConfig(cfg)
	return err
}

func (c *Cluster) down() {
	cmd := exec.Command(c.script(), "down", "--name", c.Name)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	_ = cmd.Run()
}

// parseExports reads `export K='V'` lines.
func parseExports(s string) map[string]string {
	env := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		line := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(sc.Text()), "export "))
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		env[k] = strings.Trim(v, `'"`)
	}
	return env
}

// findBinaries locates the plugin binaries: $KTRIAGE_BIN (set by make e2e),
// else a fresh build of ./cmd/... into a temporary directory.
func (c *Cluster) findBinaries() error {
	if dir := os.Getenv("KTRIAGE_BIN"); dir != "" {
		c.binDir = dir
		return nil
	}
	dir, err := os.MkdirTemp("", "ktriage-e2e-bin-")
	if err != nil {
		return err
	}
	cmd := exec.Command("go", "build", "-o", dir+string(os.PathSeparator), "./cmd/...")
	cmd.Dir = c.root
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("building the plugins: %w", err)
	}
	c.binDir = dir
	return nil
}

// BinDir is where the plugin binaries under test are.
func (c *Cluster) BinDir() string { return c.binDir }

// Root is the repository root.
func (c *Cluster) Root() string { return c.root }

// Package release checks the release the way a user meets it: goreleaser
// builds a snapshot from .goreleaser.yaml (for this machine's platform only,
// to keep it short) and no binary of it may exceed 40 MB,
// hack/release/krew-manifests writes the krew manifests
// from it, krew's own validate-krew-manifest installs every one of them from a
// local server, and the real "kubectl krew install --manifest --archive"
// installs each plugin into a fresh KREW_ROOT, where a real kubectl finds it
// and completes its arguments from the local cluster.
package release

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"

	"github.com/ktriage/ktriage/test/e2e/framework"
)

func TestMain(m *testing.M) {
	framework.Main(m, framework.Options{Name: "release", Nodes: 2})
}

// plugins are the released plugins: krew name and the binary krew links.
var plugins = []struct{ name, bin string }{
	{"why-pending", "kubectl-why_pending"},
	{"netcheck", "kubectl-netcheck"},
	{"cert-expiry", "kubectl-cert_expiry"},
	{"qos-audit", "kubectl-qos_audit"},
	{"drain-preflight", "kubectl-drain_preflight"},
}

// manifest is the part of a krew manifest the test reads.
type manifest struct {
	Metadata struct{ Name string } `json:"metadata"`
	Spec     struct {
		Version   string `json:"version"`
		Caveats   string `json:"caveats"`
		Platforms []struct {
			URI string `json:"uri"`
			Bin string `json:"bin"`
		} `json:"platforms"`
	} `json:"spec"`
}

// release is one snapshot build, shared by the checks below.
type release struct {
	root      string // repository
	dist      string // goreleaser's output
	manifests string // generated krew manifests, archives served by server
	version   string // krew spec.version
	toolBin   string // kubectl and kubectl-krew, for krew and its validator
	validate  string // validate-krew-manifest
	server    *httptest.Server
}

// TestRelease builds the snapshot once (the expensive part) and checks it.
func TestRelease(t *testing.T) {
	c := framework.Get(t)
	r := &release{}
	if err := r.build(c, t.TempDir()); err != nil {
		t.Fatal(err)
	}
	defer r.server.Close()
	t.Run("every released binary is at most 40 MB", func(t *testing.T) {
		testBinarySizes(t, r)
	})
	t.Run("every generated manifest passes krew's validation and installs from its uri", func(t *testing.T) {
		testGeneratedManifests(t, r)
	})
	t.Run("the committed manifests are one per plugin and pass krew's validation", func(t *testing.T) {
		testCommittedManifests(t, r)
	})
	t.Run("plugins installed with krew run and complete through kubectl", func(t *testing.T) {
		testKrewInstall(t, r, c)
	})
}

func (r *release) build(c *framework.Cluster, work string) error {
	r.root = c.Root()
	tools, err := toolDirs(r.root, "goreleaser", "krew", "validate-krew-manifest")
	if err != nil {
		return err
	}
	r.validate = filepath.Join(tools["validate-krew-manifest"], "validate-krew-manifest")

	r.dist = filepath.Join(work, "dist")
	r.manifests = filepath.Join(work, "manifests")
	r.toolBin = filepath.Join(work, "bin")
	if err := os.MkdirAll(r.toolBin, 0o755); err != nil {
		return err
	}
	for name, target := range map[string]string{"kubectl": c.KubectlBin, "kubectl-krew": filepath.Join(tools["krew"], "krew")} {
		if err := os.Symlink(target, filepath.Join(r.toolBin, name)); err != nil {
			return err
		}
	}

	config, err := singlePlatformConfig(r.root, r.dist, filepath.Join(work, "goreleaser.yaml"))
	if err != nil {
		return err
	}
	start := time.Now()
	if out, err := run(30*time.Minute, r.root, nil, filepath.Join(tools["goreleaser"], "goreleaser"),
		"release", "--snapshot", "--clean", "--skip=publish", "--config", config); err != nil {
		return fmt.Errorf("goreleaser release --snapshot: %v\n%s", err, out)
	}
	fmt.Fprintf(os.Stderr, "release e2e: goreleaser snapshot for %s/%s took %s\n", runtime.GOOS, runtime.GOARCH, time.Since(start).Round(time.Second))

	r.server = httptest.NewServer(http.FileServer(http.Dir(r.dist)))
	if out, err := run(5*time.Minute, r.root, nil, "go", "run", "./hack/release/krew-manifests",
		"-dist", r.dist, "-out", r.manifests, "-base-url", r.server.URL); err != nil {
		return fmt.Errorf("generating the krew manifests: %v\n%s", err, out)
	}
	m, err := readManifest(filepath.Join(r.manifests, "why-pending.yaml"))
	if err != nil {
		return err
	}
	r.version = m.Spec.Version
	return nil
}

// toolDirs builds (or finds cached) tools with hack/build-tools.sh and
// returns their directories.
func toolDirs(root string, tools ...string) (map[string]string, error) {
	script := filepath.Join(root, "hack", "build-tools.sh")
	if out, err := run(45*time.Minute, root, nil, script, tools...); err != nil {
		return nil, fmt.Errorf("building %v: %v\n%s", tools, err, out)
	}
	out, err := run(time.Minute, root, nil, script, append([]string{"--print-dir"}, tools...)...)
	if err != nil {
		return nil, fmt.Errorf("locating %v: %v\n%s", tools, err, out)
	}
	dirs := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if f := strings.Fields(line); len(f) == 2 {
			dirs[f[0]] = f[1]
		}
	}
	return dirs, nil
}

// singlePlatformConfig writes .goreleaser.yaml with every build narrowed to
// this machine's platform and dist/ moved to a temporary directory: the same
// builds, archives and checksums, a fraction of the time.
func singlePlatformConfig(root, dist, path string) (string, error) {
	raw, err := os.ReadFile(filepath.Join(root, ".goreleaser.yaml"))
	if err != nil {
		return "", err
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		return "", fmt.Errorf(".goreleaser.yaml: %w", err)
	}
	builds, _ := cfg["builds"].([]any)
	if len(builds) == 0 {
		return "", fmt.Errorf(".goreleaser.yaml has no builds")
	}
	for _, b := range builds {
		build := b.(map[string]any)
		build["goos"] = []string{runtime.GOOS}
		build["goarch"] = []string{runtime.GOARCH}
	}
	cfg["dist"] = dist
	out, err := yaml.Marshal(cfg)
	if err != nil {
		return "", err
	}
	return path, os.WriteFile(path, out, 0o644)
}

func readManifest(path string) (manifest, error) {
	var m manifest
	b, err := os.ReadFile(path)
	if err != nil {
		return m, err
	}
	return m, yaml.Unmarshal(b, &m)
}

// run executes a command with a deadline and returns its combined output.
func run(timeout time.Duration, dir string, env []string, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	if env != nil {
		cmd.Env = env
	}
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		return string(out), fmt.Errorf("%s %s did not finish within %s", name, strings.Join(args, " "), timeout)
	}
	return string(out), err
}

// maxBinaryBytes bounds each released binary (stripped, as goreleaser builds
// it): a kubectl plugin is downloaded by every user of it, and a binary that
// grows by a third has usually picked up a dependency by accident (executing
// a text/template alone keeps every exported method of every linked type,
// about 19 MB here).
const maxBinaryBytes = 40_000_000

func testBinarySizes(t *testing.T, r *release) {
	want := map[string]bool{"netcheck-probe": true}
	for _, p := range plugins {
		want[p.bin] = true
	}
	found := map[string]bool{}
	err := filepath.WalkDir(r.dist, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !want[strings.TrimSuffix(d.Name(), ".exe")] {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		found[strings.TrimSuffix(d.Name(), ".exe")] = true
		t.Logf("%s: %.1f MB", path, float64(info.Size())/1e6)
		if info.Size() > maxBinaryBytes {
			t.Errorf("%s is %.1f MB, more than %.0f MB: see what grew with go tool nm -size -sort size (build without -s) and go list -deps",
				path, float64(info.Size())/1e6, float64(maxBinaryBytes)/1e6)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for bin := range want {
		if !found[bin] && (bin != "netcheck-probe" || runtime.GOOS == "linux") {
			t.Errorf("no %s in %s", bin, r.dist)
		}
	}
}

func testGeneratedManifests(t *testing.T, r *release) {
	for _, p := range plugins {
		t.Run(p.name, func(t *testing.T) {
			path := filepath.Join(r.manifests, p.name+".yaml")
			m, err := readManifest(path)
			if err != nil {
				t.Fatal(err)
			}
			if m.Metadata.Name != p.name || len(m.Spec.Platforms) != 1 || m.Spec.Platforms[0].Bin != p.bin {
				t.Fatalf("manifest %s: name %q, platforms %+v", path, m.Metadata.Name, m.Spec.Platforms)
			}
			// Without -skip-install the validator runs "kubectl krew install"
			// for every platform: it downloads the archive from the manifest's
			// uri (the local server), checks its sha256 and looks for LICENSE.
			env := append(os.Environ(), "PATH="+r.toolBin+string(os.PathListSeparator)+os.Getenv("PATH"))
			out, err := run(5*time.Minute, r.root, env, r.validate, "-manifest", path)
			if err != nil || !strings.Contains(out, "all 1 spec.platforms installed fine") {
				t.Fatalf("validate-krew-manifest %s: %v\n%s", path, err, out)
			}
		})
	}
}

func testCommittedManifests(t *testing.T, r *release) {
	files, err := filepath.Glob(filepath.Join(r.root, "krew-manifests", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var names, want []string
	for _, f := range files {
		names = append(names, strings.TrimSuffix(filepath.Base(f), ".yaml"))
		out, err := run(time.Minute, r.root, nil, r.validate, "-manifest", f, "-skip-install")
		if err != nil {
			t.Errorf("validate-krew-manifest %s: %v\n%s", f, err, out)
		}
	}
	for _, p := range plugins {
		want = append(want, p.name)
	}
	sort.Strings(names)
	sort.Strings(want)
	if !slices.Equal(names, want) {
		t.Errorf("krew-manifests/ holds %v, want one manifest per plugin %v", names, want)
	}
}

// krewUser is a user with an empty HOME and KREW_ROOT and kubectl on PATH.
type krewUser struct {
	t          *testing.T
	krewRoot   string
	env        []string
	kubeconfig string
}

func newKrewUser(t *testing.T, r *release, c *framework.Cluster) *krewUser {
	home, krewRoot := t.TempDir(), t.TempDir()
	path := strings.Join([]string{filepath.Join(krewRoot, "bin"), r.toolBin, "/usr/local/bin", "/usr/bin", "/bin"}, string(os.PathListSeparator))
	return &krewUser{
		t:          t,
		krewRoot:   krewRoot,
		kubeconfig: c.Kubeconfig,
		env:        []string{"HOME=" + home, "KREW_ROOT=" + krewRoot, "PATH=" + path, "KUBECONFIG=" + c.Kubeconfig, "NO_COLOR=1"},
	}
}

// sh runs a command line as the user would type it.
func (u *krewUser) sh(line string) (string, error) {
	return run(2*time.Minute, u.krewRoot, u.env, "/bin/sh", "-c", line)
}

func (u *krewUser) kubectl(args ...string) (string, error) {
	return run(2*time.Minute, u.krewRoot, u.env, "kubectl", args...)
}

// completions runs "kubectl __complete args..." as the shell does on TAB and
// returns the choices and the directive line.
func (u *krewUser) completions(args ...string) ([]string, string) {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "kubectl", append([]string{"__complete"}, args...)...)
	cmd.Dir, cmd.Env = u.krewRoot, u.env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		u.t.Fatalf("kubectl __complete %q: %v\n%s", args, err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[:len(lines)-1], lines[len(lines)-1]
}

func testKrewInstall(t *testing.T, r *release, c *framework.Cluster) {
	u := newKrewUser(t, r, c)

	for _, p := range plugins {
		archive := strings.TrimPrefix(mustManifest(t, r, p.name).Spec.Platforms[0].URI, r.server.URL+"/")
		out, err := u.kubectl("krew", "install", "--manifest="+filepath.Join(r.manifests, p.name+".yaml"), "--archive="+filepath.Join(r.dist, archive))
		if err != nil || !strings.Contains(out, "Installed plugin: "+p.name) {
			t.Fatalf("kubectl krew install %s: %v\n%s", p.name, err, out)
		}
	}

	list, err := u.kubectl("plugin", "list")
	if err != nil {
		t.Fatalf("kubectl plugin list: %v\n%s", err, list)
	}
	for _, p := range plugins {
		t.Run(p.name+" is found by kubectl and shows its help and version", func(t *testing.T) {
			if !strings.Contains(list, filepath.Join(u.krewRoot, "bin", p.bin)+"\n") {
				t.Errorf("kubectl plugin list does not list %s:\n%s", p.bin, list)
			}
			help, err := u.kubectl(p.name, "--help")
			if err != nil || !strings.Contains(help, "Usage:\n  kubectl "+p.name) {
				t.Errorf("kubectl %s --help: %v\n%s", p.name, err, help)
			}
			version, err := u.kubectl(p.name, "--version")
			if want := "kubectl " + p.name + " " + strings.TrimPrefix(r.version, "v") + "\n"; err != nil || version != want {
				t.Errorf("kubectl %s --version: %v: %q, want %q (the release's version, set by ldflags)", p.name, err, version, want)
			}
			store := filepath.Join(u.krewRoot, "store", p.name, r.version)
			for _, f := range []string{"LICENSE", "README.md", "completion/kubectl_complete-" + strings.TrimPrefix(p.bin, "kubectl-")} {
				if _, err := os.Stat(filepath.Join(store, f)); err != nil {
					t.Errorf("the archive did not bring %s: %v", f, err)
				}
			}
		})
	}

	ns := c.Namespace(t, "release", nil)
	c.Apply(t, ns, `apiVersion: v1
kind: Pod
metadata: {name: web-1}
spec: {containers: [{name: app, image: registry.invalid/app:1}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web-2}
spec: {containers: [{name: app, image: registry.invalid/app:1}]}
---
apiVersion: v1
kind: Pod
metadata: {name: db-0}
spec: {containers: [{name: db, image: registry.invalid/db:1}]}
`)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	nodeList, err := c.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil || len(nodeList.Items) == 0 {
		t.Fatalf("listing nodes: %v (%d nodes)", err, len(nodeList.Items))
	}
	var nodes []string
	for _, n := range nodeList.Items {
		nodes = append(nodes, n.Name)
	}
	kubeconfig, err := clientcmd.LoadFromFile(c.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	var contexts []string
	for name := range kubeconfig.Contexts {
		contexts = append(contexts, name)
	}
	pods := []string{"db-0", "web-1", "web-2"}

	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"why-pending completes pods of the namespace", []string{"why-pending", "-n", ns, ""}, pods},
		{"why-pending completes only pods starting with what was typed", []string{"why-pending", "-n", ns, "we"}, []string{"web-1", "web-2"}},
		{"qos-audit leaves out pods already named", []string{"qos-audit", "-n", ns, "web-1", ""}, []string{"db-0", "web-2"}},
		{"netcheck completes the source pod", []string{"netcheck", "-n", ns, ""}, pods},
		{"netcheck offers nothing after SRC and DST", []string{"netcheck", "-n", ns, "web-1", "db-0", ""}, nil},
		{"drain-preflight completes nodes", []string{"drain-preflight", ""}, nodes},
		{"cert-expiry completes --context from the kubeconfig", []string{"cert-expiry", "--context", ""}, contexts},
		{"every plugin completes -n from the cluster's namespaces", []string{"why-pending", "-n", ns[:len(ns)-2]}, []string{ns}},
	}

	// Before the caveat's step kubectl finds no helper: nothing completes.
	if got, _ := u.completions("why-pending", "-n", ns, ""); len(got) != 0 {
		t.Fatalf("completions %q before the helper is on PATH: the test would not show the helper works", got)
	}
	// The step each manifest's caveats tell the user to run once.
	for _, p := range plugins {
		step := ""
		for _, line := range strings.Split(mustManifest(t, r, p.name).Spec.Caveats, "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "cp ") {
				step = strings.TrimSpace(line)
			}
		}
		if step == "" {
			t.Fatalf("%s: the caveats name no step to enable completion", p.name)
		}
		if out, err := u.sh(step); err != nil {
			t.Fatalf("%s: running the caveats' step %q: %v\n%s", p.name, step, err, out)
		}
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, directive := u.completions(tc.args...)
			sort.Strings(got)
			want := slices.Clone(tc.want)
			sort.Strings(want)
			if !slices.Equal(got, want) {
				t.Errorf("kubectl __complete %q = %q, want %q", tc.args, got, want)
			}
			if directive != ":4" {
				t.Errorf("directive %s, want :4 (no file names)", directive)
			}
		})
	}
}

func mustManifest(t *testing.T, r *release, name string) manifest {
	t.Helper()
	m, err := readManifest(filepath.Join(r.manifests, name+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Spec.Platforms) == 0 {
		t.Fatalf("%s: no platforms", name)
	}
	return m
}

// Package badinput feeds hostile files to the plugins that read manifests
// (why-pending -f and --cluster-state, qos-audit -f, cert-expiry -f), as the
// real binaries, with no cluster: a file far larger than memory, nesting
// beyond any parser's depth, billion-laughs aliases, binary garbage, keys set
// twice, unknown kinds, wrong and removed apiVersions, and a directory of
// 10,000 files. A file named with -f that cannot be used must end the run
// with exit 2 and one line "FILE:LINE: what is wrong"; inside a directory
// cert-expiry may instead skip it with a warning finding. Every run must
// stay within a time and memory bound, and nothing may panic.
package badinput

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ktriage/ktriage/test/e2e/framework"
)

var binDir string

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	binDir = os.Getenv("KTRIAGE_BIN")
	if binDir == "" {
		root, err := framework.RepoRoot()
		if err != nil {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			return 2
		}
		dir, err := os.MkdirTemp("", "ktriage-badinput-bin-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			return 2
		}
		defer os.RemoveAll(dir)
		cmd := exec.Command("go", "build", "-o", dir+string(os.PathSeparator), "./cmd/...")
		cmd.Dir = root
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "e2e: building the plugins:", err)
			return 2
		}
		binDir = dir
	}
	code := m.Run()
	if shared != nil {
		os.RemoveAll(shared.dir)
	}
	return code
}

// result is what one run did, and what it cost.
type result struct {
	args           []string
	stdout, stderr string
	code           int
	elapsed        time.Duration
	maxRSS         int64 // bytes
}

func (r result) String() string {
	return fmt.Sprintf("%s\nexit %d after %s, max RSS %d MiB\nstdout:\n%s\nstderr:\n%s", strings.Join(r.args, " "), r.code, r.elapsed.Round(time.Millisecond), r.maxRSS>>20, clip(r.stdout), clip(r.stderr))
}

func clip(s string) string {
	if len(s) > 2000 {
		return s[:2000] + "..."
	}
	return s
}

// runLimit bounds every run: the whole corpus is meant to be answered in
// seconds, and the address space cap keeps a runaway allocation from taking
// the machine down before the test can report it.
const (
	runLimit   = 60 * time.Second
	addressCap = 8 << 30
)

// runPlugin runs a plugin with no kubeconfig, so that only files are read.
func runPlugin(t *testing.T, binary string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runLimit)
	defer cancel()
	// bash's ulimit caps the address space of the plugin it execs.
	cmd := exec.CommandContext(ctx, "bash", append([]string{"-c", fmt.Sprintf(`ulimit -v %d && exec "$0" "$@"`, addressCap>>10), filepath.Join(binDir, binary)}, args...)...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+filepath.Join(t.TempDir(), "none"), "NO_COLOR=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := result{args: append([]string{binary}, args...), stdout: stdout.String(), stderr: stderr.String(), elapsed: time.Since(start)}
	if ctx.Err() != nil {
		t.Fatalf("did not finish within %s\n%s", runLimit, r)
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("running %s: %v", binary, err)
	}
	r.code = cmd.ProcessState.ExitCode()
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.maxRSS = ru.Maxrss << 10
	}
	if strings.Contains(r.stderr, "panic") || strings.Contains(r.stderr, "goroutine ") || strings.Contains(r.stderr, "fatal error") {
		t.Fatalf("the plugin crashed\n%s", r)
	}
	return r
}

// corpus is the hostile files, written once.
type corpus struct {
	dir               string
	files             map[string]string // case name -> path
	state             string            // a small valid cluster dump for why-pending
	many              string            // a directory of 10,000 small manifests
	oneBad, badInMany string            // a directory of 10,000 with one broken file, and that file
}

var shared *corpus

func hostile(t *testing.T) *corpus {
	t.Helper()
	if shared != nil {
		return shared
	}
	dir, err := os.MkdirTemp("", "ktriage-badinput-")
	if err != nil {
		t.Fatal(err)
	}
	c := &corpus{dir: dir, files: map[string]string{}}
	write := func(name string, data []byte) string {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	huge := filepath.Join(dir, "huge.yaml")
	f, err := os.Create(huge)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(4 << 30); err != nil { // sparse: 4 GiB that take no disk
		t.Fatal(err)
	}
	f.Close()
	c.files["huge"] = huge
	c.files["endless"] = "/dev/zero"
	header := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\n"
	c.files["deep-yaml"] = write("deep.yaml", []byte(header+"data: "+strings.Repeat("[", 100000)+strings.Repeat("]", 100000)+"\n"))
	c.files["deep-json"] = write("deep.json", []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"},"data":`+strings.Repeat(`{"a":`, 100000)+"1"+strings.Repeat("}", 100000)+"}\n"))
	laughs := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\nl0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
	for i := 1; i < 12; i++ {
		laughs += fmt.Sprintf("l%d: &l%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*l%d, ", i-1), 9), ", "))
	}
	c.files["billion-laughs"] = write("laughs.yaml", []byte(laughs))
	garbage := make([]byte, 1<<20)
	rand.New(rand.NewSource(1)).Read(garbage)
	c.files["garbage"] = write("garbage.yaml", garbage)
	c.files["duplicate-keys"] = write("duplicate.yaml", []byte("apiVersion: v1\nkind: Pod\nmetadata:\n  name: dup\nspec:\n  containers:\n  - name: app\n    image: a:1\n    image: b:2\n"))
	c.files["unknown-kind"] = write("unknown-kind.yaml", []byte("apiVersion: v1\nkind: Pood\nmetadata:\n  name: typo\n"))
	c.files["wrong-group"] = write("wrong-group.yaml", []byte("apiVersion: apps/v1\nkind: Pod\nmetadata:\n  name: misplaced\n"))
	c.files["removed-apiversion"] = write("removed.yaml", []byte("apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata:\n  name: old\n"))
	c.files["malformed-apiversion"] = write("malformed.yaml", []byte("apiVersion: apps/v1/beta\nkind: Deployment\nmetadata:\n  name: x\n"))

	c.state = write("state.yaml", []byte(`apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Node
  metadata: {name: node-1, labels: {kubernetes.io/hostname: node-1}}
  status:
    allocatable: {cpu: "4", memory: 8Gi, pods: "110"}
    capacity: {cpu: "4", memory: 8Gi, pods: "110"}
    conditions: [{type: Ready, status: "True"}]
`))
	pod := func(i int) []byte {
		return []byte(fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p-%05d\nspec:\n  containers:\n  - name: app\n    image: registry.example.com/app:1\n    resources: {requests: {cpu: 10m, memory: 16Mi}}\n", i))
	}
	c.many = filepath.Join(dir, "many")
	c.oneBad = filepath.Join(dir, "one-bad")
	for i := range 10000 {
		write(filepath.Join("many", fmt.Sprintf("pod-%05d.yaml", i)), pod(i))
		write(filepath.Join("one-bad", fmt.Sprintf("pod-%05d.yaml", i)), pod(i))
	}
	c.badInMany = write(filepath.Join("one-bad", "pod-05000.yaml"), []byte("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p-05000\n  name: again\n"))
	shared = c
	return c
}

// want is what a plugin must answer for one hostile file named with -f.
var want = map[string]string{
	"huge":                 `the file is 4 GiB, more than 256 MiB, the most a manifest file may be`,
	"endless":              `the file is more than 256 MiB, the most a manifest file may be`,
	"deep-yaml":            `exceeded max depth`,
	"deep-json":            `exceeded max depth`,
	"billion-laughs":       `excessive aliasing`,
	"garbage":              ``,
	"duplicate-keys":       `duplicate key "image": a mapping may set each key once`,
	"unknown-kind":         `unknown kind "Pood" in apiVersion v1`,
	"wrong-group":          `unknown kind "Pod" in apiVersion apps/v1; Pod is v1`,
	"removed-apiversion":   `apiVersion extensions/v1beta1 is no longer served by Kubernetes; Deployment is apps/v1`,
	"malformed-apiversion": `invalid apiVersion "apps/v1/beta"`,
}

// wantLine is the line each answer must name.
var wantLine = map[string]int{"duplicate-keys": 9, "unknown-kind": 1, "wrong-group": 1, "removed-apiversion": 1, "malformed-apiversion": 1, "huge": 1, "endless": 1}

// plugins are the ways a manifest reaches a plugin; %s is the file.
var plugins = []struct {
	name, binary string
	args         func(c *corpus, file string) []string
	prefix       string // what precedes FILE:LINE in the error
}{
	{"why-pending -f", "kubectl-why_pending", func(c *corpus, f string) []string { return []string{"-f", f, "--cluster-state", c.state} }, ""},
	{"why-pending --cluster-state", "kubectl-why_pending", func(c *corpus, f string) []string {
		return []string{"-f", filepath.Join(c.many, "pod-00001.yaml"), "--cluster-state", f}
	}, "--cluster-state: "},
	{"qos-audit -f", "kubectl-qos_audit", func(c *corpus, f string) []string { return []string{"-f", f, "--local"} }, ""},
	{"cert-expiry -f", "kubectl-cert_expiry", func(c *corpus, f string) []string { return []string{"-f", f} }, ""},
}

// memoryBound is the most a run may hold: the plugins read files whole, but
// never more than their limit (an endless input is read up to it).
const memoryBound = 400 << 20

func TestANamedHostileFileIsOneLineAndExit2(t *testing.T) {
	c := hostile(t)
	for _, p := range plugins {
		for name, path := range c.files {
			t.Run(p.name+"/"+name, func(t *testing.T) {
				r := runPlugin(t, p.binary, p.args(c, path)...)
				re := regexp.MustCompile(`^error: ` + regexp.QuoteMeta(p.prefix+path) + `:([1-9][0-9]*): (.+)\n$`)
				m := re.FindStringSubmatch(r.stderr)
				if r.code != 2 || m == nil || r.stdout != "" {
					t.Fatalf("want exit 2, nothing on stdout and one line error: %sFILE:LINE: what is wrong\n%s", p.prefix, r)
				}
				if w := want[name]; w != "" && !strings.Contains(m[2], w) && !(p.binary == "kubectl-cert_expiry" && certExpiryOwn(name, m[2])) {
					t.Errorf("want the message to say %q\n%s", w, r)
				}
				if l, ok := wantLine[name]; ok && m[1] != fmt.Sprint(l) {
					t.Errorf("want line %d\n%s", l, r)
				}
				if r.maxRSS > memoryBound {
					t.Errorf("used %d MiB, more than %d MiB\n%s", r.maxRSS>>20, memoryBound>>20, r)
				}
				if r.elapsed > 20*time.Second {
					t.Errorf("took %s\n%s", r.elapsed, r)
				}
			})
		}
	}
}

// certExpiryOwn: cert-expiry reads garbage as what it is, binary data that
// holds no certificate, rather than as YAML.
func certExpiryOwn(name, msg string) bool {
	return name == "garbage" && strings.Contains(msg, "holds no certificate")
}

// Ten thousand small manifests are read in bounded time and memory; one
// broken file among them is named with its line (cert-expiry: skipped with
// a warning finding, as any unreadable file in a directory).
func TestADirectoryOfTenThousandFiles(t *testing.T) {
	c := hostile(t)
	for _, p := range plugins {
		if p.name == "why-pending --cluster-state" {
			continue
		}
		t.Run(p.name, func(t *testing.T) {
			r := runPlugin(t, p.binary, append(p.args(c, c.many), "-o", "json")...)
			if r.code != 0 && r.code != 1 {
				t.Fatalf("want a report\n%s", r)
			}
			if r.maxRSS > 1<<30 || r.elapsed > 45*time.Second {
				t.Errorf("10,000 files took %s and %d MiB\n%s", r.elapsed.Round(time.Millisecond), r.maxRSS>>20, r)
			}
			t.Logf("10,000 files: %s, %d MiB", r.elapsed.Round(time.Millisecond), r.maxRSS>>20)

			r = runPlugin(t, p.binary, append(p.args(c, c.oneBad), "-o", "json")...)
			if p.binary == "kubectl-cert_expiry" {
				if (r.code != 0 && r.code != 1) || !strings.Contains(r.stdout, `"CE113"`) || !strings.Contains(r.stdout, c.badInMany+":5: duplicate key") {
					t.Errorf("want the broken file skipped with a CE113 warning naming FILE:LINE\n%s", r)
				}
				return
			}
			if r.code != 2 || r.stderr != "error: "+c.badInMany+`:5: duplicate key "name": a mapping may set each key once`+"\n" {
				t.Errorf("want exit 2 naming the broken file and line\n%s", r)
			}
		})
	}
}

package netcheck

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/ktriage/ktriage/internal/golden"
	"github.com/ktriage/ktriage/pkg/cli"
	nc "github.com/ktriage/ktriage/pkg/netcheck"
	"github.com/ktriage/ktriage/pkg/version"
)

const (
	appYAML    = "testdata/manifests/app.yaml"
	expectYAML = "testdata/manifests/expect.yaml"
	changeYAML = "testdata/manifests/change.yaml"
)

// runOffline runs kubectl netcheck as a user would, with no cluster
// configured: KUBECONFIG names a file that does not exist.
func runOffline(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "no-kubeconfig"))
	version.Version = "dev"
	in := &bytes.Buffer{}
	out, errOut := &bytes.Buffer{}, &bytes.Buffer{}
	streams := genericiooptions.IOStreams{In: in, Out: out, ErrOut: errOut}
	cmd := NewCommand(streams)
	cmd.SetArgs(args)
	code = cli.Execute(cmd, streams)
	return out.String(), errOut.String(), code
}

func TestManifestOutputsAreGolden(t *testing.T) {
	cases := []struct {
		name    string
		args    []string
		code    int
		formats []string
	}{
		{"manifest-check", []string{"-n", "ci-shop", "-f", appYAML, "deploy/frontend", "svc/api-metrics"}, cli.ExitFound, []string{"table", "json"}},
		{"expect", []string{"-n", "ci-shop", "-f", appYAML, "--expect", expectYAML}, cli.ExitFound, []string{"table", "wide", "json", "yaml", "sarif", "junit"}},
		{"matrix", []string{"-f", appYAML, "--matrix"}, cli.ExitOK, []string{"table", "json", "yaml"}},
		{"matrix-diff", []string{"--cluster-state", appYAML, "-f", changeYAML, "--matrix"}, cli.ExitOK, []string{"table", "wide", "json"}},
	}
	for _, c := range cases {
		for _, format := range c.formats {
			t.Run(c.name+"."+format, func(t *testing.T) {
				out, errOut, code := runOffline(t, append(c.args, "-o", format)...)
				if code != c.code || errOut != "" {
					t.Fatalf("exit %d, stderr %q: want exit %d and no warning", code, errOut, c.code)
				}
				golden.Assert(t, filepath.Join("testdata", c.name+"."+format), []byte(out))
				if format == "sarif" {
					golden.SARIF(t, []byte(out))
				}
			})
		}
	}
}

// matrixDoc is the part of the JSON document scripts read.
type matrixDoc struct {
	Kind         string `json:"kind"`
	Expectations []struct {
		From, To, Expect, Verdict, DecidedBy string
		Met                                  bool
		Source                               struct {
			File string
			Line int
		}
	} `json:"expectations"`
	Matrix *struct {
		Diff      bool `json:"diff"`
		Workloads []struct {
			Namespace, Kind, Name string
			Ports                 []struct {
				Port     int32
				Name     string
				Protocol string
			}
		} `json:"workloads"`
		Cells []struct {
			From, To, Protocol, Verdict, DecidedBy, Change, Before string
			Port                                                   int32
		} `json:"cells"`
	} `json:"matrix"`
	Findings []struct {
		RuleID string `json:"ruleID"`
		Object struct {
			Kind, Name string
			Source     *struct {
				File string
				Line int
			}
		} `json:"object"`
		Details map[string]any `json:"details"`
	} `json:"findings"`
}

func decodeDoc(t *testing.T, out string) matrixDoc {
	t.Helper()
	var d matrixDoc
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	return d
}

func TestAnExpectationNotMetIsAFindingAtItsLineNamingThePolicy(t *testing.T) {
	out, _, code := runOffline(t, "-n", "ci-shop", "-f", appYAML, "--expect", expectYAML, "-o", "json")
	if code != cli.ExitFound {
		t.Fatalf("exit %d, want 1: an expectation is not met", code)
	}
	d := decodeDoc(t, out)
	if len(d.Expectations) != 5 || d.Matrix != nil {
		t.Fatalf("expectations %+v: want all 5 and no matrix", d.Expectations)
	}
	for i, e := range d.Expectations {
		if e.Met != (i != 4) {
			t.Errorf("%s -> %s (expect %s, got %s): met %v", e.From, e.To, e.Expect, e.Verdict, e.Met)
		}
	}
	if len(d.Findings) != 1 {
		t.Fatalf("findings %+v: want the one expectation not met", d.Findings)
	}
	f := d.Findings[0]
	if f.RuleID != nc.RuleExpectation || f.Object.Kind != "NetworkPolicy" || f.Object.Name != "db-from-api" || f.Object.Source == nil ||
		f.Object.Source.File != expectYAML || f.Object.Source.Line != 7 {
		t.Errorf("finding %+v: want NC108 on the db-from-api policy at %s:7", f, expectYAML)
	}
	if f.Details["decidedBy"] != "ingress: no rule of ci-shop/db-from-api, ci-shop/default-deny allows it" {
		t.Errorf("decidedBy %v", f.Details["decidedBy"])
	}
}

func TestAnExpectationOfBlockedTrafficThatPassesNamesTheAllowingRule(t *testing.T) {
	dir := t.TempDir()
	expect := filepath.Join(dir, "expect.yaml")
	writeFile(t, expect, "- {from: deploy/frontend, to: svc/api, port: 80, expect: blocked}\n")
	out, _, code := runOffline(t, "-n", "ci-shop", "-f", appYAML, "--expect", expect, "-o", "json")
	d := decodeDoc(t, out)
	if code != cli.ExitFound || len(d.Findings) != 1 {
		t.Fatalf("exit %d, findings %+v: want exit 1 and one finding", code, d.Findings)
	}
	rule, _ := d.Findings[0].Details["rule"].(map[string]any)
	if d.Findings[0].Object.Name != "api-from-frontend" || rule["policy"] != "api-from-frontend" || rule["direction"] != "ingress" || rule["rule"] != float64(0) {
		t.Errorf("finding %+v: want the rule ci-shop/api-from-frontend ingress 0 that allows it", d.Findings[0])
	}
}

func TestBadExpectationsAreOneLineWithFileAndLine(t *testing.T) {
	cases := []struct {
		name, content, want string
	}{
		{"a workload the files do not have", "- {from: deploy/frontend, to: svc/api, port: 80, expect: reachable}\n- {from: deploy/nosuch, to: svc/api, port: 80, expect: reachable}\n",
			`expect.yaml:2: deployment "nosuch" not found in namespace ci-shop`},
		{"broken YAML", "- from: deploy/frontend\n  to: [svc/api\n", "expect.yaml:"},
		{"a mapping instead of a list", "from: deploy/frontend\n", "expect.yaml:1: expected a YAML list"},
		{"an unknown field", "- {from: deploy/frontend, to: svc/api, expected: reachable}\n", `expect.yaml:1: unknown field "expected"`},
		{"an unknown expectation", "- from: deploy/frontend\n  to: svc/api\n  expect: open\n", `expect.yaml:3: expect "open"`},
		{"a missing destination", "- {from: deploy/frontend, expect: reachable}\n", "expect.yaml:1: the expectation has no to"},
		{"a bad port", "- {from: deploy/frontend, to: svc/api, port: 99999, expect: reachable}\n", `expect.yaml:1: port "99999"`},
		{"an unknown protocol", "- {from: deploy/frontend, to: svc/api, protocol: icmp, expect: reachable}\n", `expect.yaml:1: protocol "icmp"`},
		{"an empty file", "", "expect.yaml:1: no expectations"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "expect.yaml")
			writeFile(t, path, c.content)
			out, errOut, code := runOffline(t, "-n", "ci-shop", "-f", appYAML, "--expect", path)
			if code != cli.ExitFailure || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, c.want) {
				t.Errorf("exit %d, stdout %q, stderr %q: want exit 2 and one line with %q", code, out, errOut, c.want)
			}
		})
	}
}

func TestMatrixJSONShape(t *testing.T) {
	out, _, _ := runOffline(t, "-f", appYAML, "--matrix", "-o", "json")
	d := decodeDoc(t, out)
	if d.Kind != "NetcheckReport" || d.Matrix == nil || d.Matrix.Diff || len(d.Matrix.Workloads) != 3 || len(d.Matrix.Cells) != 6 {
		t.Fatalf("matrix %+v: want 3 workloads and 6 cells (each to the others' one port)", d.Matrix)
	}
	w := d.Matrix.Workloads[0]
	if w.Namespace != "ci-shop" || w.Kind != "deployment" || w.Name != "api" || len(w.Ports) != 1 || w.Ports[0].Port != 8080 || w.Ports[0].Name != "http" || w.Ports[0].Protocol != "TCP" {
		t.Errorf("first workload %+v", w)
	}
	verdicts := map[string]string{}
	for _, c := range d.Matrix.Cells {
		verdicts[c.From+" "+c.To] = c.Verdict
	}
	for pair, want := range map[string]string{
		"ci-shop/deployment/frontend ci-shop/deployment/api": nc.VerdictReachable,
		"ci-shop/deployment/frontend ci-shop/statefulset/db": nc.VerdictBlockedByPolicy,
		"ci-shop/deployment/api ci-shop/statefulset/db":      nc.VerdictReachable,
		"ci-shop/statefulset/db ci-shop/deployment/frontend": nc.VerdictBlockedByPolicy,
	} {
		if verdicts[pair] != want {
			t.Errorf("%s: %q, want %q", pair, verdicts[pair], want)
		}
	}
}

func TestMatrixAgainstAnOldStateListsOnlyWhatChanged(t *testing.T) {
	out, _, _ := runOffline(t, "--cluster-state", appYAML, "-f", changeYAML, "--matrix", "-o", "json")
	d := decodeDoc(t, out)
	if d.Matrix == nil || !d.Matrix.Diff || len(d.Matrix.Cells) != 1 {
		t.Fatalf("matrix %+v: want a diff with one cell", d.Matrix)
	}
	c := d.Matrix.Cells[0]
	if c.From != "ci-shop/deployment/frontend" || c.To != "ci-shop/statefulset/db" || c.Port != 5432 || c.Change != nc.ChangeChanged ||
		c.Before != nc.VerdictBlockedByPolicy || c.Verdict != nc.VerdictReachable || !strings.Contains(c.DecidedBy, "ci-shop/db-from-api rule 0") {
		t.Errorf("cell %+v: want frontend -> db:5432 changed from blocked-by-policy to reachable by the new rule", c)
	}
	// The same files as both sides change nothing.
	out, _, _ = runOffline(t, "--cluster-state", appYAML, "-f", appYAML, "--matrix", "-o", "json")
	if d := decodeDoc(t, out); d.Matrix == nil || len(d.Matrix.Cells) != 0 {
		t.Errorf("no change: cells %+v", d.Matrix)
	}
}

func TestManifestModeUsage(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"--expect needs -f", []string{"--expect", expectYAML}, "--expect and --matrix need -f"},
		{"--matrix takes no SRC and DST", []string{"-f", appYAML, "--matrix", "a", "b"}, "take no SRC and DST"},
		{"SRC DST are still required without --expect or --matrix", []string{"-f", appYAML, "a"}, "requires SRC and DST"},
		{"a missing manifest is one line", []string{"-f", "testdata/manifests/nope.yaml", "a", "b"}, "nope.yaml"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, errOut, code := runOffline(t, c.args...)
			if code != cli.ExitFailure || out != "" || !strings.Contains(errOut, c.want) {
				t.Errorf("exit %d, stderr %q: want exit 2 and %q", code, errOut, c.want)
			}
		})
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// The CI example of examples/netcheck runs as the README shows it.
func TestTheCIExampleRuns(t *testing.T) {
	const dir = "../../examples/netcheck/ci/"
	out, errOut, code := runOffline(t, "-n", "nc-ci", "-f", dir+"manifests/", "--expect", dir+"netcheck-expect.yaml")
	if code != cli.ExitOK || errOut != "" || strings.Contains(out, "NOT MET") {
		t.Errorf("the manifests as they are: exit %d, stderr %q: want every expectation met\n%s", code, errOut, out)
	}
	out, _, code = runOffline(t, "-n", "nc-ci", "-f", dir+"manifests/", "-f", dir+"change/", "--expect", dir+"netcheck-expect.yaml", "-o", "json")
	d := decodeDoc(t, out)
	if code != cli.ExitFound || len(d.Findings) != 1 || d.Findings[0].Object.Source == nil || d.Findings[0].Object.Source.Line != 5 {
		t.Errorf("with the change: exit %d, findings %+v: want exit 1 and the expectation at line 5 not met", code, d.Findings)
	}
	out, _, _ = runOffline(t, "--cluster-state", dir+"manifests/app.yaml", "-f", dir+"change/", "--matrix", "-o", "json")
	if d := decodeDoc(t, out); d.Matrix == nil || len(d.Matrix.Cells) != 1 || d.Matrix.Cells[0].Change != nc.ChangeChanged {
		t.Errorf("the change's matrix: %+v, want one changed cell", d.Matrix)
	}
}

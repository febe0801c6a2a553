package drainpreflight

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/ktriage/ktriage/internal/golden"
	"github.com/ktriage/ktriage/pkg/cli"
	"github.com/ktriage/ktriage/pkg/version"
)

// The golden files hold the version a build without a release version
// reports, whatever the build information of the test binary says.
func TestMain(m *testing.M) {
	version.Version = "dev"
	os.Exit(m.Run())
}

// The drain starts at this time in every test.
var fixedNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

const state = "testdata/state.yaml"

func run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	streams, _, out, errOut := genericiooptions.NewTestIOStreams()
	// No kubeconfig of the machine running the tests may leak in.
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "none"))
	cmd := newCommand(streams, func() time.Time { return fixedNow })
	cmd.SetArgs(args)
	code := cli.Execute(cmd, streams)
	return out.String(), errOut.String(), code
}

func TestGoldenOutput(t *testing.T) {
	scenarios := []struct {
		name string
		args []string
		code int
	}{
		// payments' budget (maxUnavailable: 0) refuses its pod for ever;
		// analytics, kept to pool=green, finds no room on node-4.
		{"blocked", []string{"node-3", "--ignore-daemonsets"}, cli.ExitFound},
		// The blue pool, one node after the other: web's budget lets one
		// pod go at a time and node-4 takes the replacements.
		{"pool", []string{"-l", "pool=blue", "--ignore-daemonsets"}, cli.ExitOK},
	}
	for _, sc := range scenarios {
		for _, format := range []string{"table", "wide", "json", "yaml", "sarif", "junit"} {
			t.Run(sc.name+"-"+format, func(t *testing.T) {
				args := append([]string{"--cluster-state", state, "-o", format, "--color", "never"}, sc.args...)
				out, errOut, code := run(t, args...)
				if code != sc.code || errOut != "" {
					t.Errorf("exit %d, want %d; stderr %q", code, sc.code, errOut)
				}
				golden.Assert(t, filepath.Join("testdata", sc.name+"-"+format+".golden"), []byte(out))
				if format == "sarif" {
					golden.SARIF(t, []byte(out))
				}
			})
		}
	}
}

// TestJSONContract pins what scripts read: the verdict, the per-pod plan,
// the budgets and the order, at the top level of the report.
func TestJSONContract(t *testing.T) {
	out, _, _ := run(t, "--cluster-state", state, "-o", "json", "node-3", "--ignore-daemonsets")
	var doc struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Plugin, Version, Input string
		} `json:"metadata"`
		Verdict string   `json:"verdict"`
		Reasons []string `json:"reasons"`
		Fixes   []string `json:"fixes"`
		Nodes   []struct {
			Name    string `json:"name"`
			Verdict string `json:"verdict"`
			Pods    []struct {
				Namespace, Name, Action, Destination string
				Replaced                             bool
			} `json:"pods"`
		} `json:"nodes"`
		PDBs []struct {
			Name   string `json:"name"`
			Blocks bool   `json:"blocks"`
		} `json:"pdbs"`
		Findings []struct {
			RuleID string `json:"ruleID"`
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.APIVersion != "ktriage.io/v1alpha1" || doc.Kind != "DrainPreflightReport" || doc.Metadata.Plugin != "drain-preflight" || doc.Metadata.Input != "files" {
		t.Errorf("header %s %s %+v", doc.APIVersion, doc.Kind, doc.Metadata)
	}
	if doc.Verdict != "blocked" || len(doc.Reasons) == 0 || len(doc.Fixes) == 0 {
		t.Errorf("verdict %s, reasons %q, fixes %q", doc.Verdict, doc.Reasons, doc.Fixes)
	}
	actions := map[string]string{}
	for _, n := range doc.Nodes {
		for _, p := range n.Pods {
			actions[p.Namespace+"/"+p.Name] = p.Action
		}
	}
	want := map[string]string{"kube-system/log-shipper-3": "skip", "shop/payments-1": "blocked", "shop/analytics-1": "evict"}
	for k, v := range want {
		if actions[k] != v {
			t.Errorf("%s: action %q, want %q", k, actions[k], v)
		}
	}
	if len(doc.PDBs) != 1 || doc.PDBs[0].Name != "payments" || !doc.PDBs[0].Blocks {
		t.Errorf("pdbs %+v, want payments blocking", doc.PDBs)
	}
	rules := map[string]bool{}
	for _, f := range doc.Findings {
		rules[f.RuleID] = true
	}
	if !rules["DP110"] || !rules["DP120"] {
		t.Errorf("findings %v, want DP110 and DP120", rules)
	}
}

func TestExitCodes(t *testing.T) {
	cases := []struct {
		name string
		args []string
		code int
		// stderr is a substring of the one-line error.
		stderr string
	}{
		{"a safe drain exits 0", []string{"node-1", "--ignore-daemonsets"}, 0, ""},
		{"a blocked drain exits 1", []string{"node-3", "--ignore-daemonsets"}, 1, ""},
		{"a drain that refuses DaemonSet pods exits 1", []string{"node-1"}, 1, ""},
		{"--fail-on never exits 0 even when blocked", []string{"node-3", "--ignore-daemonsets", "--fail-on", "never"}, 0, ""},
		{"an unknown node exits 2", []string{"node-9"}, 2, `error: node "node-9" not found: list the nodes with kubectl get nodes`},
		{"a selector matching no node exits 2", []string{"-l", "pool=red"}, 2, `no node matches the selector "pool=red"`},
		{"no node is a usage error", []string{}, 2, "name the nodes to check: NODE... or -l NODE_SELECTOR"},
		{"a node and -l together are a usage error", []string{"node-1", "-l", "pool=blue"}, 2, "cannot specify both a node name and a --selector option"},
		{"a negative --skip-wait-for-delete-timeout is a usage error", []string{"node-1", "--skip-wait-for-delete-timeout", "-1"}, 2, "must not be negative"},
		{"a bad --pod-selector is a usage error", []string{"node-1", "--pod-selector", "app in (web"}, 2, "--pod-selector: "},
		{"a missing --cluster-state file exits 2", []string{"node-1", "--cluster-state", "testdata/nope.yaml"}, 2, "nope.yaml"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args
			if !strings.Contains(strings.Join(args, " "), "--cluster-state") {
				args = append([]string{"--cluster-state", state}, args...)
			}
			out, errOut, code := run(t, args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out, errOut)
			}
			if tc.code != 2 {
				return
			}
			if out != "" || !strings.HasPrefix(errOut, "error: ") || !strings.Contains(errOut, tc.stderr) {
				t.Errorf("want nothing on stdout and an error with %q, got\nstdout: %q\nstderr: %q", tc.stderr, out, errOut)
			}
			if first := strings.SplitN(errOut, "\n", 2)[0]; strings.Contains(strings.TrimPrefix(errOut, first+"\n"), "error") {
				t.Errorf("error is not one line: %q", errOut)
			}
		})
	}
}

// A dump with no nodes cannot answer anything.
func TestAClusterStateWithoutNodesIsAnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "empty.yaml")
	if err := os.WriteFile(path, []byte("apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Namespace\n  metadata: {name: shop}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := run(t, "--cluster-state", path, "node-1")
	if code != 2 || !strings.Contains(errOut, "holds no nodes") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

// The help's examples name only flags the command has.
func TestExamplesUseRealFlags(t *testing.T) {
	cmd := NewCommand(genericiooptions.IOStreams{})
	for _, line := range strings.Split(examples, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "kubectl drain-preflight ") {
			continue
		}
		for _, word := range strings.Fields(line) {
			if !strings.HasPrefix(word, "-") {
				continue
			}
			name := strings.TrimLeft(word, "-")
			if i := strings.Index(name, "="); i >= 0 {
				name = name[:i]
			}
			if cmd.Flags().Lookup(name) == nil && cmd.Flags().ShorthandLookup(name) == nil {
				t.Errorf("example %q uses unknown flag %s", line, word)
			}
		}
	}
}

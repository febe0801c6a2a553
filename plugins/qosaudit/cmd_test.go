package qosaudit

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/ktriage/ktriage/pkg/cli"
	"github.com/ktriage/ktriage/pkg/qosaudit"
)

func run(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	streams := genericiooptions.IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut}
	cmd := NewCommand(streams)
	// No kubeconfig of the machine running the tests may leak in.
	args = append(args, "--kubeconfig", "/nonexistent/kubeconfig")
	cmd.SetArgs(args)
	code := cli.Execute(cmd, streams)
	return out.String(), errOut.String(), code
}

func TestUsageErrors(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"an unknown class for --require is refused", []string{"--require", "Gold", "-f", "testdata/manifests.yaml"}, "unknown QoS class"},
		{"--local without -f is refused", []string{"--local"}, "--local needs -f"},
		{"-f with names is refused", []string{"-f", "testdata/manifests.yaml", "web"}, "not both"},
		{"--node with -f is refused", []string{"-f", "testdata/manifests.yaml", "--node", "n1"}, "--node works on the live cluster"},
		{"-A with names is refused", []string{"-A", "web"}, "use -n instead of -A"},
		{"an unknown TYPE is refused", []string{"svc/web"}, "TYPE one of"},
		{"an unknown output format is refused", []string{"-o", "xml", "-f", "testdata/manifests.yaml"}, "unknown output format"},
		{"a missing manifest is a one-line error", []string{"-f", "testdata/nope.yaml", "--local"}, "nope.yaml"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := run(t, "", tc.args...)
			if code != cli.ExitFailure || !strings.Contains(errOut, tc.want) || out != "" {
				t.Errorf("exit %d, stderr %q, stdout %q; want exit 2 and %q", code, errOut, out, tc.want)
			}
			if strings.Count(strings.TrimSpace(errOut), "\n") > 1 {
				t.Errorf("error is not one line: %q", errOut)
			}
		})
	}
}

func TestManifestsWithoutCluster(t *testing.T) {
	t.Run("an error finding exits 1 and the JSON names each workload's class", func(t *testing.T) {
		out, errOut, code := run(t, "", "-f", "testdata/manifests.yaml", "--local", "-o", "json")
		if code != cli.ExitFound {
			t.Fatalf("exit %d, stderr %s", code, errOut)
		}
		var doc struct {
			Workloads []struct{ Kind, Name, QOSClass string } `json:"workloads"`
			Summary   struct{ Counts map[string]int }         `json:"summary"`
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatal(err)
		}
		if len(doc.Workloads) != 4 || doc.Summary.Counts["Burstable"] != 2 {
			t.Errorf("got %+v", doc)
		}
	})
	t.Run("--fail-on never exits 0", func(t *testing.T) {
		if _, errOut, code := run(t, "", "-f", "testdata/manifests.yaml", "--local", "--fail-on", "never"); code != 0 {
			t.Errorf("exit %d: %s", code, errOut)
		}
	})
	t.Run("--ignore QA108 leaves only warnings: exit 0 at --fail-on error", func(t *testing.T) {
		if _, errOut, code := run(t, "", "-f", "testdata/manifests.yaml", "--local", "--ignore", "QA108"); code != 0 {
			t.Errorf("exit %d: %s", code, errOut)
		}
	})
	t.Run("--require Guaranteed reports every non-Guaranteed manifest", func(t *testing.T) {
		out, _, code := run(t, "", "-f", "testdata/manifests.yaml", "--local", "--require", "guaranteed", "-o", "json")
		var doc struct {
			Findings []struct{ RuleID string } `json:"findings"`
		}
		_ = json.Unmarshal([]byte(out), &doc)
		n := 0
		for _, f := range doc.Findings {
			if f.RuleID == qosaudit.RuleRequiredClass {
				n++
			}
		}
		if code != cli.ExitFound || n != 3 {
			t.Errorf("exit %d, %d QA108 findings, want 3", code, n)
		}
	})
	t.Run("-l keeps the workloads whose pod labels match", func(t *testing.T) {
		out, errOut, code := run(t, "", "-f", "testdata/manifests.yaml", "--local", "--require", "Guaranteed", "-l", "app=db", "-o", "json")
		var doc struct {
			Workloads []struct{ Kind, Name string } `json:"workloads"`
			Findings  []struct {
				RuleID string
				Object struct{ Name string }
			} `json:"findings"`
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatalf("exit %d %v %s", code, err, errOut)
		}
		if len(doc.Workloads) != 1 || doc.Workloads[0].Name != "db" {
			t.Errorf("workloads %+v, want only db", doc.Workloads)
		}
		for _, f := range doc.Findings {
			if f.Object.Name != "db" {
				t.Errorf("finding %s on %s, outside -l app=db", f.RuleID, f.Object.Name)
			}
		}
	})
	t.Run("-l matches a bare Pod's own labels; nothing matching exits 0", func(t *testing.T) {
		pods := "apiVersion: v1\nkind: Pod\nmetadata: {name: a, labels: {tier: db}}\nspec:\n  containers:\n  - {name: c, image: x, resources: {limits: {cpu: 1, memory: 1Gi}}}\n" +
			"---\napiVersion: v1\nkind: Pod\nmetadata: {name: b, labels: {tier: web}}\nspec:\n  containers:\n  - {name: c, image: x}\n"
		out, errOut, code := run(t, pods, "-f", "-", "--local", "--require", "Guaranteed", "-l", "tier=db", "-o", "json")
		var doc struct {
			Pods []struct{ Name string } `json:"pods"`
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil || code != 0 {
			t.Fatalf("exit %d %v %s", code, err, errOut)
		}
		if len(doc.Pods) != 1 || doc.Pods[0].Name != "a" {
			t.Errorf("got %+v, want only pod a", doc.Pods)
		}
		if _, errOut, code := run(t, pods, "-f", "-", "--local", "--require", "Guaranteed", "-l", "tier=cache"); code != 0 {
			t.Errorf("exit %d: %s", code, errOut)
		}
	})
	t.Run("a LimitRange default limit below the request: the apiserver refuses the pod", func(t *testing.T) {
		in := "apiVersion: v1\nkind: LimitRange\nmetadata: {name: defaults}\nspec:\n  limits:\n  - type: Container\n    default: {memory: 512Mi}\n" +
			"---\napiVersion: v1\nkind: Pod\nmetadata: {name: big}\nspec:\n  containers:\n  - {name: app, image: x, resources: {requests: {memory: 1Gi}}}\n"
		out, errOut, code := run(t, in, "-f", "-", "--local", "-n", "team", "-o", "json")
		var doc struct {
			Workloads []struct {
				ValidationErrors []string `json:"validationErrors"`
			} `json:"workloads"`
			Findings []struct{ RuleID, Message string } `json:"findings"`
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil || code != cli.ExitFound {
			t.Fatalf("exit %d %v %s", code, err, errOut)
		}
		want := `spec.containers[0].resources.requests: Invalid value: "1Gi": must be less than or equal to memory limit of 512Mi`
		if len(doc.Workloads) != 1 || len(doc.Workloads[0].ValidationErrors) != 1 || doc.Workloads[0].ValidationErrors[0] != want {
			t.Fatalf("workloads %+v", doc.Workloads)
		}
		found := false
		for _, f := range doc.Findings {
			if f.RuleID == qosaudit.RuleLimitRangeRejects && strings.Contains(f.Message, want) && strings.Contains(f.Message, "LimitRange defaults") {
				found = true
			}
		}
		if !found {
			t.Errorf("no QA113 finding naming the LimitRange default: %+v", doc.Findings)
		}
	})
	t.Run("manifests from stdin land in the -n namespace", func(t *testing.T) {
		pod := "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: c, image: x, resources: {limits: {cpu: 1, memory: 1Gi}}}\n"
		out, errOut, code := run(t, pod, "-f", "-", "--local", "-n", "team", "-o", "json")
		var doc struct {
			Pods []struct{ Namespace, Name, QOSClass string } `json:"pods"`
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil || code != 0 {
			t.Fatalf("exit %d %v %s", code, err, errOut)
		}
		if len(doc.Pods) != 1 || doc.Pods[0].Namespace != "team" || doc.Pods[0].QOSClass != "Guaranteed" {
			t.Errorf("got %+v", doc.Pods)
		}
	})
}

// TestHelpExamplesAreValidCommands parses every example of the help text
// with the command's own flags and validation.
func TestHelpExamplesAreValidCommands(t *testing.T) {
	n := 0
	for _, line := range strings.Split(examples, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "kubectl qos-audit") {
			continue
		}
		n++
		t.Run(line, func(t *testing.T) {
			args := strings.Fields(strings.TrimPrefix(line, "kubectl qos-audit"))
			var out bytes.Buffer
			cmd, o := newCommand(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &out})
			if err := cmd.ParseFlags(args); err != nil {
				t.Fatal(err)
			}
			o.Args = cmd.Flags().Args()
			if err := o.Validate(); err != nil {
				t.Errorf("invalid example: %v", err)
			}
		})
	}
	if n < 5 {
		t.Errorf("found %d examples", n)
	}
}

// closedPipe fails every write, as stdout does once the reader of a pipe
// has gone (`kubectl qos-audit -o json | head`).
type closedPipe struct{}

func (closedPipe) Write([]byte) (int, error) { return 0, errBrokenPipe }

var errBrokenPipe = errors.New("write /dev/stdout: broken pipe")

func TestClosedOutputIsOneLineAndExitCode2(t *testing.T) {
	for _, format := range []string{"table", "wide", "json", "yaml", "sarif", "junit"} {
		var errOut bytes.Buffer
		streams := genericiooptions.IOStreams{In: strings.NewReader(""), Out: closedPipe{}, ErrOut: &errOut}
		cmd := NewCommand(streams)
		cmd.SetArgs([]string{"-f", "testdata/manifests.yaml", "--local", "-o", format, "--kubeconfig", "/nonexistent/kubeconfig"})
		if code := cli.Execute(cmd, streams); code != cli.ExitFailure || errOut.String() != "error: write /dev/stdout: broken pipe\n" {
			t.Errorf("-o %s: exit %d, stderr %q; want exit 2 and the write's error on one line", format, code, errOut.String())
		}
	}
}

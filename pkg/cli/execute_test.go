package cli

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// run builds a plugin-like root command whose RunE returns runErr after the
// common flags were validated, executes it with args and returns what a user
// sees.
func run(t *testing.T, runErr error, configure func(*cobra.Command), args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	streams := genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	common := NewCommon(streams)
	cmd := NewRoot("kubectl fake-plugin", "Fake", "Fake plugin.", "  kubectl fake-plugin -n x")
	common.AddFlags(cmd, Features{Namespaced: true, Selector: true, Files: true})
	cmd.RunE = func(c *cobra.Command, a []string) error {
		if err := common.Validate(); err != nil {
			return err
		}
		return runErr
	}
	if configure != nil {
		configure(cmd)
	}
	cmd.SetArgs(args)
	code = Execute(cmd, streams)
	return code, out.String(), errOut.String()
}

func TestExecute(t *testing.T) {
	forbidden := APIError(apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "", errors.New("no")), "list", "pods", "x")
	noArgs := func(c *cobra.Command) { c.Args = cobra.NoArgs }
	cases := []struct {
		name       string
		runErr     error
		configure  func(*cobra.Command)
		args       []string
		wantCode   int
		wantStderr string
	}{
		{"a clean run exits 0 silently", nil, nil, nil, 0, ""},
		{"findings at --fail-on exit 1 without a message", Found(), nil, nil, 1, ""},
		{"a runtime error is one line and exit 2", forbidden, nil, nil, 2,
			"error: cannot list pods in namespace x: forbidden; grant get,list on pods (kubectl auth can-i list pods -n x)\n"},
		{"a runtime error that reads like a usage message gets no help pointer", errors.New("pod requires 4 CPUs; accepts 2"), nil, nil, 2,
			"error: pod requires 4 CPUs; accepts 2\n"},
		{"a multi-line error is folded into one line", errors.New("first\nsecond\n"), nil, nil, 2,
			"error: first; second\n"},
		{"an error already prefixed is not prefixed twice", errors.New("error: bad"), nil, nil, 2,
			"error: bad\n"},
		{"an unknown flag points at --help", nil, nil, []string{"--bogus"}, 2,
			"error: unknown flag: --bogus\nSee 'kubectl fake-plugin --help' for usage.\n"},
		{"a bad flag value points at --help", nil, nil, []string{"-A=maybe"}, 2,
			"error: invalid argument \"maybe\" for \"-A, --all-namespaces\" flag: strconv.ParseBool: parsing \"maybe\": invalid syntax\nSee 'kubectl fake-plugin --help' for usage.\n"},
		{"an unexpected argument points at --help", nil, noArgs, []string{"extra"}, 2,
			"error: unknown command \"extra\" for \"kubectl fake-plugin\"\nSee 'kubectl fake-plugin --help' for usage.\n"},
		{"an unknown output format points at --help", nil, nil, []string{"-o", "xml"}, 2,
			"error: unknown output format \"xml\": use one of table, wide, json, yaml, sarif, junit\nSee 'kubectl fake-plugin --help' for usage.\n"},
		{"UsageErrorf from a plugin points at --help", UsageErrorf("pod name required"), nil, nil, 2,
			"error: pod name required\nSee 'kubectl fake-plugin --help' for usage.\n"},
		{"an explicit exit code is kept", &ExitError{Code: 1, Err: errors.New("connection failed")}, nil, nil, 1,
			"error: connection failed\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := run(t, tc.runErr, tc.configure, tc.args...)
			if code != tc.wantCode || stderr != tc.wantStderr {
				t.Errorf("exit %d, stderr %q\nwant exit %d, stderr %q", code, stderr, tc.wantCode, tc.wantStderr)
			}
			if strings.Contains(stderr, "Usage:") || strings.Contains(stderr, "goroutine") {
				t.Errorf("usage or stack dumped: %q", stderr)
			}
		})
	}
}

func TestExecuteArgCountErrorIsAUsageError(t *testing.T) {
	code, _, stderr := run(t, nil, func(c *cobra.Command) { c.Args = cobra.ExactArgs(1) })
	if code != 2 || stderr != "error: accepts 1 arg(s), received 0\nSee 'kubectl fake-plugin --help' for usage.\n" {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

func TestExecuteVersionAndHelp(t *testing.T) {
	code, stdout, stderr := run(t, nil, nil, "--version")
	if code != 0 || !strings.HasPrefix(stdout, "kubectl fake-plugin ") || stderr != "" {
		t.Errorf("--version: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	code, stdout, _ = run(t, nil, nil, "--help")
	if code != 0 || !strings.Contains(stdout, "kubectl fake-plugin [flags]") || !strings.Contains(stdout, "--fail-on") {
		t.Errorf("--help: exit %d, stdout %q", code, stdout)
	}
}

func TestExitCode(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want int
	}{
		{"no error is 0", nil, 0},
		{"Found is 1", Found(), 1},
		{"a usage error is 2", UsageErrorf("bad"), 2},
		{"any other error is 2", errors.New("boom"), 2},
		{"a wrapped exit error keeps its code", fmt.Errorf("context: %w", &ExitError{Code: 1}), 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := ExitCode(tc.err); got != tc.want {
				t.Errorf("ExitCode(%v) = %d, want %d", tc.err, got, tc.want)
			}
		})
	}
	if ExitOK != 0 || ExitFound != 1 || ExitFailure != 2 {
		t.Error("exit codes are a contract: 0, 1, 2")
	}
}

func TestUsageErrorIsRecognisedThroughWrapping(t *testing.T) {
	if !IsUsageError(fmt.Errorf("ctx: %w", UsageErrorf("x"))) {
		t.Error("a wrapped usage error must still be one")
	}
	if IsUsageError(errors.New("requires 2 args")) {
		t.Error("a plain error is not a usage error")
	}
}

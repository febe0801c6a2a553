package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/ktriage/ktriage/pkg/printers"
	"github.com/ktriage/ktriage/pkg/report"
)

// parsed returns the common options after parsing args as a user would type them.
func parsed(t *testing.T, args ...string) (*Common, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	var out, errOut bytes.Buffer
	c := NewCommon(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	cmd := &cobra.Command{Use: "x"}
	c.AddFlags(cmd, Features{Namespaced: true, Selector: true, Files: true})
	if err := cmd.ParseFlags(args); err != nil {
		t.Fatalf("parsing %v: %v", args, err)
	}
	return c, &out, &errOut
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"the defaults are valid", nil, ""},
		{"every output format is accepted", []string{"-o", "sarif"}, ""},
		{"an unknown output format is refused", []string{"-o", "xml"}, `unknown output format "xml": use one of table, wide, json, yaml, sarif, junit`},
		{"--fail-on never is accepted", []string{"--fail-on", "never"}, ""},
		{"an unknown --fail-on is refused", []string{"--fail-on", "critical"}, `--fail-on: unknown severity "critical": use error, warning, info or never`},
		{"an unknown --color is refused", []string{"--color", "sometimes"}, `--color: unknown value "sometimes": use auto, always or never`},
		{"-A with -n is refused", []string{"-A", "-n", "x"}, "-A and -n cannot be used together: drop one of them"},
		{"-A alone is fine", []string{"-A"}, ""},
		{"a valid selector is accepted", []string{"-l", "app=web,tier!=db"}, ""},
		{"an invalid selector is refused", []string{"-l", "app in (web"}, `--selector: invalid label selector "app in (web"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, _, _ := parsed(t, tc.args...)
			err := c.Validate()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.wantErr)):
				t.Errorf("got %v, want %q", err, tc.wantErr)
			case tc.wantErr != "" && (ExitCode(err) != 2 || !IsUsageError(err)):
				t.Errorf("%v must be a usage error with exit code 2", err)
			}
		})
	}
}

func TestFailOnSeverityAfterValidate(t *testing.T) {
	for flag, want := range map[string]report.Severity{"error": report.SeverityError, "warning": report.SeverityWarning, "info": report.SeverityInfo, "never": report.SeverityNone} {
		c, _, _ := parsed(t, "--fail-on", flag)
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		if got := c.FailOnSeverity(); got != want {
			t.Errorf("--fail-on %s gave %v", flag, got)
		}
	}
}

func TestUseColor(t *testing.T) {
	tty := openTTY(t)
	cases := []struct {
		name    string
		flag    string
		noColor string
		term    string
		out     any
		want    bool
	}{
		{"auto colors a terminal", "auto", "", "xterm", tty, true},
		{"auto leaves a pipe plain", "auto", "", "xterm", &bytes.Buffer{}, false},
		{"auto leaves a regular file plain", "auto", "", "xterm", regularFile(t), false},
		{"NO_COLOR turns auto off on a terminal", "auto", "1", "xterm", tty, false},
		{"an empty NO_COLOR is ignored", "auto", "", "xterm", tty, true},
		{"a dumb terminal gets no color", "auto", "", "dumb", tty, false},
		{"always colors a pipe", "always", "", "xterm", &bytes.Buffer{}, true},
		{"always wins over NO_COLOR", "always", "1", "xterm", &bytes.Buffer{}, true},
		{"never leaves a terminal plain", "never", "", "xterm", tty, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.out == nil {
				t.Skip("no pseudo-terminal on this machine")
			}
			t.Setenv("NO_COLOR", tc.noColor)
			t.Setenv("TERM", tc.term)
			c, _, _ := parsed(t, "--color", tc.flag)
			c.Out = tc.out.(interface{ Write([]byte) (int, error) })
			if got := c.UseColor(); got != tc.want {
				t.Errorf("UseColor() = %v, want %v", got, tc.want)
			}
		})
	}
}

func regularFile(t *testing.T) *os.File {
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

type fakeReport struct {
	report.Report
	Extra string `json:"extra"`
}

func (r *fakeReport) Tables(bool) []printers.Table { return nil }

func TestPrintReport(t *testing.T) {
	newReport := func() *fakeReport {
		r := &fakeReport{Report: report.New("FakeReport", "fake", "v0"), Extra: "section"}
		r.Add(report.Finding{RuleID: "FK1", Severity: report.SeverityWarning, Object: report.ObjectRef{Kind: "Pod", Namespace: "a", Name: "b"}, Message: "m"})
		r.Add(report.Finding{RuleID: "FK2", Severity: report.SeverityInfo, Object: report.ObjectRef{Kind: "Pod", Namespace: "a", Name: "b"}, Message: "m"})
		r.Warn("cannot list events in namespace a: forbidden; grant get,list on events")
		return r
	}
	cases := []struct {
		name     string
		args     []string
		wantCode int
		wantIDs  []string
	}{
		{"a warning does not fail the default --fail-on error", nil, 0, []string{"FK1", "FK2"}},
		{"--fail-on warning fails on a warning", []string{"--fail-on", "warning"}, 1, []string{"FK1", "FK2"}},
		{"--ignore removes the finding before the threshold is checked", []string{"--fail-on", "warning", "--ignore", "FK1"}, 0, []string{"FK2"}},
		{"--fail-on never never fails", []string{"--fail-on", "never"}, 0, []string{"FK1", "FK2"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, out, errOut := parsed(t, append([]string{"-o", "json"}, tc.args...)...)
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
			err := c.PrintReport(newReport())
			if got := ExitCode(err); got != tc.wantCode {
				t.Errorf("exit code %d, want %d (%v)", got, tc.wantCode, err)
			}
			var doc struct {
				Extra    string `json:"extra"`
				Findings []struct {
					RuleID string `json:"ruleID"`
				} `json:"findings"`
			}
			if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
				t.Fatalf("stdout is not one JSON document: %v\n%s", err, out)
			}
			var ids []string
			for _, f := range doc.Findings {
				ids = append(ids, f.RuleID)
			}
			if strings.Join(ids, ",") != strings.Join(tc.wantIDs, ",") || doc.Extra != "section" {
				t.Errorf("findings %v, extra %q; want %v", ids, doc.Extra, tc.wantIDs)
			}
			if got := errOut.String(); got != "Warning: cannot list events in namespace a: forbidden; grant get,list on events\n" {
				t.Errorf("stderr %q: warnings go to stderr, once", got)
			}
		})
	}
}

func TestRESTConfigIsTunedForReading(t *testing.T) {
	c, _, _ := parsed(t, "--server", "https://127.0.0.1:6443", "--token", "x")
	cfg, err := c.RESTConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ContentType != "application/vnd.kubernetes.protobuf" || cfg.QPS < 100 || cfg.Timeout != DefaultRequestTimeout {
		t.Errorf("content type %q, QPS %v, timeout %v", cfg.ContentType, cfg.QPS, cfg.Timeout)
	}
	c, _, _ = parsed(t, "--server", "https://127.0.0.1:6443", "--request-timeout", "5s")
	if cfg, err := c.RESTConfig(); err != nil || cfg.Timeout.String() != "5s" {
		t.Errorf("--request-timeout 5s gave %v, %v", cfg.Timeout, err)
	}
}

func TestNoClusterIsConfiguredWithoutAKubeconfig(t *testing.T) {
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "no-kubeconfig"))
	streams, _, _, _ := genericiooptions.NewTestIOStreams()
	o := NewCommon(streams)
	if o.ClusterConfigured() {
		t.Fatal("no kubeconfig, no --server, no service account: want no cluster")
	}
	server := "https://127.0.0.1:1"
	o.ConfigFlags.APIServer = &server
	if !o.ClusterConfigured() {
		t.Error("--server names a cluster")
	}
}

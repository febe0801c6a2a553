package certexpiry

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/ktriage/ktriage/internal/golden"
	"github.com/ktriage/ktriage/pkg/cli"
)

// The fixtures were generated with certtest for 2030-01-01T00:00:00Z: one
// certificate per state, a DER file, broken PEM and a Secret manifest.
const fixtures = "testdata/fixtures"
const fixedNow = "2030-01-01T00:00:00Z"

func run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	streams := genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "none"))
	cmd := NewCommand(streams)
	cmd.SetArgs(args)
	code := cli.Execute(cmd, streams)
	return out.String(), errOut.String(), code
}

func TestGoldenOutput(t *testing.T) {
	for _, format := range []string{"table", "wide", "json", "yaml", "sarif", "junit"} {
		t.Run(format, func(t *testing.T) {
			out, errOut, code := run(t, "-f", fixtures, "--now", fixedNow, "-o", format, "--color", "never")
			if code != cli.ExitFound {
				t.Errorf("exit %d, want 1 (certificates expire within 7 days)\n%s", code, errOut)
			}
			golden.Assert(t, filepath.Join("testdata", "golden", format+".golden"), []byte(out))
			if format == "sarif" {
				golden.SARIF(t, []byte(out))
			}
		})
	}
}

func TestJSONContract(t *testing.T) {
	out, _, _ := run(t, "-f", fixtures, "--now", fixedNow, "-o", "json")
	var doc struct {
		APIVersion   string           `json:"apiVersion"`
		Kind         string           `json:"kind"`
		Certificates []map[string]any `json:"certificates"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.APIVersion != "ktriage.io/v1alpha1" || doc.Kind != "CertExpiryReport" || len(doc.Certificates) == 0 {
		t.Fatalf("got %s", out)
	}
	for _, c := range doc.Certificates {
		for _, field := range []string{"source", "subject", "issuer", "notAfter", "notBefore", "daysLeft", "severity", "serial", "chainRole", "chainIndex"} {
			if _, ok := c[field]; !ok {
				t.Errorf("certificate %v lacks %q", c["source"], field)
			}
		}
		if _, err := time.Parse(time.RFC3339, c["notAfter"].(string)); err != nil {
			t.Errorf("notAfter %v is not RFC 3339", c["notAfter"])
		}
		switch c["severity"] {
		case "error", "warning", "info", "none":
		default:
			t.Errorf("severity %v", c["severity"])
		}
	}
	first := doc.Certificates[0]
	if first["daysLeft"].(float64) != -2 || first["severity"] != "error" {
		t.Errorf("the expired certificate comes first: %v", first)
	}
}

func TestDaysLeftIsColoredBySeverity(t *testing.T) {
	out, _, _ := run(t, "-f", filepath.Join(fixtures, "expired.pem"), "--now", fixedNow, "--color", "always")
	if !strings.Contains(out, "\x1b[31m-2 (expired)") {
		t.Errorf("the expired certificate's days are not red:\n%q", out)
	}
}

func TestExitCodes(t *testing.T) {
	cases := []struct {
		name string
		args []string
		code int
	}{
		{"nothing within --fail exits 0", []string{"-f", filepath.Join(fixtures, "in-20-days.der")}, 0},
		{"a certificate within --fail exits 1", []string{"-f", filepath.Join(fixtures, "in-3-days.pem")}, 1},
		{"a wider --fail in days makes a warning an error", []string{"-f", filepath.Join(fixtures, "in-20-days.der"), "--fail", "21d"}, 1},
		{"--fail accepts Go durations", []string{"-f", filepath.Join(fixtures, "in-20-days.der"), "--fail", "504h"}, 1},
		{"--fail-on warning fails on a warning", []string{"-f", filepath.Join(fixtures, "in-20-days.der"), "--fail-on", "warning"}, 1},
		{"--fail-on never never fails", []string{"-f", filepath.Join(fixtures, "expired.pem"), "--fail-on", "never"}, 0},
		{"a named file of garbage could not be checked", []string{"-f", filepath.Join(fixtures, "garbage.crt")}, 2},
		{"garbage in a directory is a warning, not a failure", []string{"-f", fixtures, "--fail-on", "never"}, 0},
		{"a bad --fail is a usage error", []string{"-f", fixtures, "--fail", "soon"}, 2},
		{"a NaN --fail is a usage error", []string{"-f", fixtures, "--fail", "NaNd"}, 2},
		{"an infinite --warn is a usage error", []string{"-f", fixtures, "--warn", "Infd"}, 2},
		{"a --warn beyond a Duration is a usage error", []string{"-f", fixtures, "--warn", "1e10d"}, 2},
		{"--warn shorter than --fail is a usage error", []string{"-f", fixtures, "--fail", "30d", "--warn", "7d"}, 2},
		{"an unknown source is a usage error", []string{"--sources", "etcd"}, 2},
		{"a missing -f file is an error", []string{"-f", filepath.Join(fixtures, "missing.pem")}, 2},
		{"arguments are refused", []string{"something"}, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := run(t, append(tc.args, "--now", fixedNow)...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\n%s", code, tc.code, errOut)
			}
			if strings.Contains(errOut, "goroutine") || strings.Contains(errOut, "Usage:") {
				t.Errorf("stderr has a trace or a usage dump:\n%s", errOut)
			}
		})
	}
}

func TestPKIDirectoryMissingByDefaultIsSkippedQuietly(t *testing.T) {
	dir := t.TempDir()
	out, errOut, code := run(t, "--sources", "pki", "--pki-dir", filepath.Join(dir, "nope"), "--kubernetes-dir", filepath.Join(dir, "nope"), "--kubelet-pki-dir", filepath.Join(dir, "nope"), "-o", "json")
	if code != 0 || !strings.Contains(out, `"CE113"`) {
		t.Errorf("explicit missing directories are findings: exit %d\n%s%s", code, out, errOut)
	}
}

// Every example in the help parses with the command's own flags.
func TestHelpExamplesParse(t *testing.T) {
	n := 0
	for _, line := range strings.Split(examples, "\n") {
		line = strings.TrimSpace(line)
		_, rest, ok := strings.Cut(line, "kubectl cert-expiry")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		if i := strings.Index(rest, "|"); i >= 0 {
			rest = rest[:i]
		}
		n++
		cmd, o := newCommand(genericiooptions.NewTestIOStreamsDiscard())
		if err := cmd.ParseFlags(strings.Fields(rest)); err != nil {
			t.Errorf("%q: %v", line, err)
			continue
		}
		if err := o.Validate(); err != nil {
			t.Errorf("%q: %v", line, err)
		}
	}
	if n < 5 {
		t.Errorf("found %d examples", n)
	}
}

// Suppressed findings leave no trace in .certificates[] nor in the counts:
// scripts gating on a certificate's severity agree with the exit code.
func TestIgnoredFindingsDoNotColorTheCertificates(t *testing.T) {
	type doc struct {
		Summary struct {
			Counts map[string]int `json:"counts"`
		} `json:"summary"`
		Certificates []struct {
			Source   string   `json:"source"`
			Severity string   `json:"severity"`
			Rules    []string `json:"rules"`
		} `json:"certificates"`
	}
	check := func(t *testing.T, args ...string) {
		t.Helper()
		out, errOut, code := run(t, append(args, "--now", fixedNow, "-o", "json")...)
		if code != 0 {
			t.Errorf("exit %d, want 0: the only error is ignored\n%s", code, errOut)
		}
		var d doc
		if err := json.Unmarshal([]byte(out), &d); err != nil {
			t.Fatal(err)
		}
		if len(d.Certificates) != 1 {
			t.Fatalf("want one certificate: %s", out)
		}
		if c := d.Certificates[0]; c.Severity != "none" || len(c.Rules) != 0 {
			t.Errorf("certificate %s: severity %s, rules %v; want none and no rules", c.Source, c.Severity, c.Rules)
		}
		if d.Summary.Counts["expired"] != 0 || d.Summary.Counts["certificates"] != 1 {
			t.Errorf("counts %v", d.Summary.Counts)
		}
	}
	expired := filepath.Join(fixtures, "expired.pem")
	t.Run("--ignore", func(t *testing.T) { check(t, "-f", expired, "--ignore", "ce101") })
	t.Run("annotation", func(t *testing.T) {
		data, err := os.ReadFile(expired)
		if err != nil {
			t.Fatal(err)
		}
		manifest := filepath.Join(t.TempDir(), "secret.yaml")
		if err := os.WriteFile(manifest, []byte(`apiVersion: v1
kind: Secret
metadata:
  name: old
  namespace: default
  annotations:
    ktriage.io/ignore: CE101
stringData: {}
data:
  tls.crt: `+base64.StdEncoding.EncodeToString(data)+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		check(t, "-f", manifest)
	})
}

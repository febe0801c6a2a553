package printers

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/ktriage/ktriage/internal/golden"
	"github.com/ktriage/ktriage/pkg/report"
)

const fakePlugin = "fake-plugin"

func init() {
	report.Register(
		report.Rule{ID: "FK101", Plugin: fakePlugin, Severity: report.SeverityError, Title: "image pull will fail",
			Description: "The image reference cannot be pulled by the node.", Fix: "Use an image that exists in a reachable registry."},
		report.Rule{ID: "FK102", Plugin: fakePlugin, Severity: report.SeverityWarning, Title: "no readiness probe",
			Description: "Traffic reaches the pod before it is ready.", Fix: "Add a readinessProbe."},
		report.Rule{ID: "FK103", Plugin: fakePlugin, Severity: report.SeverityInfo, Title: "best-effort QoS",
			Description: "The pod is evicted first under memory pressure.", Fix: "Set requests and limits."},
		report.Rule{ID: "FK104", Plugin: fakePlugin, Severity: report.SeverityError, Title: "certificate expired",
			Description: "A certificate on disk is past its notAfter date.", Fix: "Renew the certificate."},
		report.Rule{ID: "FK105", Plugin: fakePlugin, Severity: report.SeverityWarning, Title: "never emitted here",
			Description: "A rule with no finding in the fixture: SARIF still lists it.", Fix: "Nothing."},
	)
}

// fakeReport is shaped like a plugin's report: the common part embedded, a
// plugin-specific section next to it, and its own tables.
type fakeReport struct {
	report.Report
	Pods []fakePod `json:"pods"`

	noTables bool
}

type fakePod struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Phase     string `json:"phase"`
	Node      string `json:"node,omitempty"`
}

func (r *fakeReport) Tables(wide bool) []Table {
	if r.noTables {
		return nil
	}
	pods := Table{Title: "PODS", Columns: []string{"NAMESPACE", "NAME", "PHASE"}, Empty: "No pods."}
	if wide {
		pods.Columns = append(pods.Columns, "NODE")
	}
	for _, p := range r.Pods {
		sev := report.SeverityNone
		if p.Phase == "Pending" {
			sev = report.SeverityError
		}
		row := []Cell{Text(p.Namespace), Text(p.Name), Sev(p.Phase, sev)}
		if wide {
			row = append(row, Text(p.Node))
		}
		pods.Rows = append(pods.Rows, row)
	}
	findings := FindingsTable(r.Findings, wide)
	findings.Title = "FINDINGS"
	return []Table{pods, findings}
}

func newFakeReport(withFindings bool) *fakeReport {
	r := &fakeReport{Report: report.New("FakePluginReport", fakePlugin, "v1.2.3")}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	r.Metadata.GeneratedAt = &at
	r.Metadata.Context = "kind-test"
	r.Metadata.Input = "files+cluster"
	r.Pods = []fakePod{
		{Namespace: "prod", Name: "api-7d9f", Phase: "Running", Node: "node-1"},
		{Namespace: "prod", Name: "web-0", Phase: "Pending"},
	}
	if !withFindings {
		r.Finalize(nil)
		return r
	}
	deploy := manifestObject("Deployment", "default", "web")
	pod := liveObject("Pod", "prod", "api-7d9f", "")
	annotated := liveObject("Pod", "prod", "batch-1", "FK102")
	r.Add(report.Finding{RuleID: "FK103", Severity: report.SeverityInfo, Object: liveObject("Pod", "prod", "cache-0", ""),
		Message: "pod has no requests or limits", Fix: "set resources.requests and resources.limits"})
	r.Add(report.Finding{RuleID: "FK102", Severity: report.SeverityWarning, Object: pod,
		Message: `container "app" has no readinessProbe`, Fix: "add a readinessProbe to container \"app\"",
		Details: map[string]any{"container": "app"}})
	r.Add(report.Finding{RuleID: "FK101", Severity: report.SeverityError,
		Object:  deploy.WithSource(&report.Source{File: "deploy/web app.yaml", Line: 12}),
		Message: `image "registry.local/web:1.0" & its digest <unknown> cannot be pulled`,
		Fix:     "push registry.local/web:1.0 or change spec.template.spec.containers[0].image"})
	r.Add(report.Finding{RuleID: "FK102", Severity: report.SeverityWarning, Object: annotated,
		Message: "suppressed by the object's annotation", Fix: "none"})
	r.Add(report.Finding{RuleID: "FK104", Severity: report.SeverityError, Object: report.ObjectRef{Path: "/etc/kubernetes/pki/apiserver.crt"},
		Message: "certificate expired 3 days ago", Fix: "kubeadm certs renew apiserver"})
	r.Warn("cannot list events in namespace prod: forbidden; grant get,list on events")
	r.Finalize(nil)
	return r
}

// liveObject is an object as a clientset returns it: no TypeMeta.
func liveObject(kind, ns, name, ignore string) report.ObjectRef {
	o := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	if ignore != "" {
		o.Annotations = map[string]string{report.IgnoreAnnotation: ignore}
	}
	return report.RefFor(kind, o)
}

// manifestObject is an object as read from a file: TypeMeta set.
func manifestObject(kind, ns, name string) report.ObjectRef {
	o := &appsv1.Deployment{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: kind}, ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	return report.RefFor(kind, o)
}

func render(t *testing.T, format string, p Printable, opts Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Print(&buf, format, p, opts); err != nil {
		t.Fatalf("Print(%s): %v", format, err)
	}
	return buf.Bytes()
}

func assertGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Assert(t, filepath.Join("testdata", name+".golden"), got)
}

var goldenCases = []struct {
	name     string
	format   string
	opts     Options
	findings bool
	noTables bool
}{
	{name: "table", format: "table", findings: true},
	{name: "table-color", format: "table", opts: Options{Color: true}, findings: true},
	{name: "table-default", format: "table", findings: true, noTables: true},
	{name: "wide", format: "wide", findings: true},
	{name: "wide-color", format: "wide", opts: Options{Color: true}, findings: true},
	{name: "json", format: "json", findings: true},
	{name: "yaml", format: "yaml", findings: true},
	{name: "sarif", format: "sarif", findings: true},
	{name: "junit", format: "junit", findings: true},
	{name: "empty-table", format: "table", noTables: true},
	{name: "empty-json", format: "json"},
	{name: "empty-sarif", format: "sarif"},
	{name: "empty-junit", format: "junit"},
}

func TestGoldenFiles(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			r := newFakeReport(tc.findings)
			r.noTables = tc.noTables
			assertGolden(t, tc.name, render(t, tc.format, r, tc.opts))
		})
	}
}

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

func TestColorNeverShiftsColumns(t *testing.T) {
	for _, format := range []string{"table", "wide"} {
		plain := render(t, format, newFakeReport(true), Options{})
		colored := render(t, format, newFakeReport(true), Options{Color: true})
		if bytes.Equal(plain, colored) {
			t.Fatalf("%s: color output has no escape codes", format)
		}
		if stripped := ansi.ReplaceAll(colored, nil); !bytes.Equal(stripped, plain) {
			t.Errorf("%s: colored output without its escape codes differs from plain output\n%s\n---\n%s", format, stripped, plain)
		}
	}
}

func TestSeverityCellsAreColoredBySeverity(t *testing.T) {
	out := string(render(t, "table", newFakeReport(true), Options{Color: true}))
	for _, want := range []string{"\x1b[31mERROR\x1b[0m", "\x1b[33mWARNING\x1b[0m", "\x1b[36mINFO\x1b[0m", "\x1b[31mPending\x1b[0m"} {
		if !strings.Contains(out, want) {
			t.Errorf("color table lacks %q\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b[31mRunning") || strings.Contains(out, "\x1b[0mRULE") {
		t.Errorf("cells without a severity must stay plain\n%s", out)
	}
}

func TestPlainTableHasNoEscapeCodesEvenOnATerminal(t *testing.T) {
	t.Setenv("FORCE_COLOR", "1")
	t.Setenv("CLICOLOR_FORCE", "1")
	out := render(t, "table", newFakeReport(true), Options{})
	if ansi.Match(out) {
		t.Errorf("Options.Color=false must never color:\n%q", out)
	}
}

func TestMultiLineCellStaysOnItsRow(t *testing.T) {
	var b strings.Builder
	w := bufio.NewWriter(&b)
	writeTable(w, Table{Columns: []string{"A", "B"}, Rows: [][]Cell{{Text("x\ny"), Text("z")}}}, Options{})
	w.Flush()
	if got, want := b.String(), "A     B\nx y   z\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestSummaryLine(t *testing.T) {
	cases := []struct {
		name string
		in   report.Summary
		want string
	}{
		{"nothing found reads as zeros", report.Summary{}, "0 errors, 0 warnings, 0 info"},
		{"one of each is singular", report.Summary{Errors: 1, Warnings: 1, Infos: 1}, "1 error, 1 warning, 1 info"},
		{"suppressed findings are counted in parentheses", report.Summary{Errors: 3, Warnings: 1, Suppressed: 2}, "3 errors, 1 warning, 0 info (2 suppressed)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := SummaryLine(tc.in); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestTableEndsWithTheSummary(t *testing.T) {
	out := strings.TrimRight(string(render(t, "table", newFakeReport(true), Options{})), "\n")
	lines := strings.Split(out, "\n")
	if got, want := lines[len(lines)-1], "2 errors, 1 warning, 1 info (1 suppressed)"; got != want {
		t.Errorf("last line %q, want %q", got, want)
	}
}

func TestYAMLUsesTheJSONFieldNames(t *testing.T) {
	r := newFakeReport(true)
	var fromJSON, fromYAML any
	if err := json.Unmarshal(render(t, "json", r, Options{}), &fromJSON); err != nil {
		t.Fatal(err)
	}
	j, err := yaml.YAMLToJSON(render(t, "yaml", r, Options{}))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(j, &fromYAML); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromJSON, fromYAML) {
		t.Errorf("YAML and JSON documents differ:\n%s\n---\n%s", j, render(t, "json", r, Options{}))
	}
}

func TestJSONDocumentShape(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(render(t, "json", newFakeReport(true), Options{}), &doc); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"apiVersion", "kind", "metadata", "findings", "summary", "pods"} {
		if _, ok := doc[key]; !ok {
			t.Errorf("top-level %q missing: %v", key, doc)
		}
	}
	if doc["apiVersion"] != "ktriage.io/v1alpha1" || doc["kind"] != "FakePluginReport" {
		t.Errorf("apiVersion/kind = %v/%v", doc["apiVersion"], doc["kind"])
	}
	f := doc["findings"].([]any)[0].(map[string]any)
	for _, key := range []string{"ruleID", "severity", "object", "message", "fix"} {
		if _, ok := f[key]; !ok {
			t.Errorf("finding field %q missing: %v", key, f)
		}
	}
	var empty map[string]any
	if err := json.Unmarshal(render(t, "json", newFakeReport(false), Options{}), &empty); err != nil {
		t.Fatal(err)
	}
	if fs, ok := empty["findings"].([]any); !ok || len(fs) != 0 {
		t.Errorf("a run without findings must have \"findings\": [], got %v", empty["findings"])
	}
}

type junitDoc struct {
	Tests    int `xml:"tests,attr"`
	Failures int `xml:"failures,attr"`
	Suites   []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Cases    []struct {
			ClassName string `xml:"classname,attr"`
			Name      string `xml:"name,attr"`
			Failure   *struct {
				Type    string `xml:"type,attr"`
				Message string `xml:"message,attr"`
				Body    string `xml:",chardata"`
			} `xml:"failure"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func TestJUnitCountsAndCases(t *testing.T) {
	var doc junitDoc
	if err := xml.Unmarshal(render(t, "junit", newFakeReport(true), Options{}), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Suites) != 1 || doc.Suites[0].Name != fakePlugin {
		t.Fatalf("want one testsuite named %s, got %+v", fakePlugin, doc.Suites)
	}
	s := doc.Suites[0]
	if s.Tests != 4 || s.Failures != 3 || doc.Tests != 4 || doc.Failures != 3 || len(s.Cases) != 4 {
		t.Errorf("tests/failures = %d/%d (root %d/%d, %d cases), want 4/3", s.Tests, s.Failures, doc.Tests, doc.Failures, len(s.Cases))
	}
	byRule := map[string]int{}
	for _, c := range s.Cases {
		byRule[c.ClassName]++
		switch c.ClassName {
		case "FK101":
			if c.Name != "deployment/default/web" || c.Failure == nil || c.Failure.Type != "error" ||
				!strings.Contains(c.Failure.Message, `<unknown>`) || !strings.Contains(c.Failure.Body, "push registry.local/web:1.0") ||
				!strings.Contains(c.Failure.Body, "deploy/web app.yaml:12") {
				t.Errorf("FK101 testcase wrong: %+v %+v", c, c.Failure)
			}
		case "FK102":
			if c.Failure == nil || c.Failure.Type != "warning" {
				t.Errorf("a warning must fail its testcase: %+v", c)
			}
		case "FK103":
			if c.Failure != nil {
				t.Errorf("an info finding must pass: %+v", c)
			}
		}
	}
	if byRule["FK101"] != 1 || byRule["FK102"] != 1 || byRule["FK103"] != 1 || byRule["FK104"] != 1 {
		t.Errorf("testcases per rule: %v", byRule)
	}
}

func TestJUnitWithoutFindingsHasOnePassingTest(t *testing.T) {
	var doc junitDoc
	if err := xml.Unmarshal(render(t, "junit", newFakeReport(false), Options{}), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Suites) != 1 || doc.Suites[0].Tests != 1 || doc.Suites[0].Failures != 0 || len(doc.Suites[0].Cases) != 1 || doc.Suites[0].Cases[0].Failure != nil {
		t.Errorf("want one passing testcase, got %+v", doc)
	}
}

func TestUnknownFormatIsRefused(t *testing.T) {
	err := Print(&bytes.Buffer{}, "xml", newFakeReport(true), Options{})
	if err == nil || !strings.Contains(err.Error(), `unknown output format "xml"`) {
		t.Errorf("got %v", err)
	}
	for _, f := range Formats {
		if err := ValidateFormat(f); err != nil {
			t.Errorf("ValidateFormat(%s): %v", f, err)
		}
	}
}

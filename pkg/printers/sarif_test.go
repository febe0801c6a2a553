package printers

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"

	"github.com/ktriage/ktriage/internal/golden"
	"github.com/ktriage/ktriage/pkg/report"
)

func TestSARIFGoldenFilesMatchTheSchema(t *testing.T) {
	files, err := filepath.Glob("testdata/*sarif*.golden")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 2 {
		t.Fatalf("want the SARIF golden files, found %v", files)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			doc, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			golden.SARIF(t, doc)
		})
	}
}

func TestBrokenSARIFFailsTheSchemaCheck(t *testing.T) {
	good, err := os.ReadFile("testdata/sarif.golden")
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]func(doc map[string]any){
		"a wrong version":          func(doc map[string]any) { doc["version"] = "2.0.0" },
		"no runs":                  func(doc map[string]any) { delete(doc, "runs") },
		"an unknown result level":  func(doc map[string]any) { firstResult(doc)["level"] = "fatal" },
		"a region starting at 0":   func(doc map[string]any) { firstRegion(doc)["startLine"] = 0 },
		"a message without text":   func(doc map[string]any) { firstResult(doc)["message"] = map[string]any{} },
		"an unknown top-level key": func(doc map[string]any) { doc["findings"] = []any{} },
	}
	for name, breakIt := range cases {
		t.Run(name, func(t *testing.T) {
			var doc map[string]any
			if err := json.Unmarshal(good, &doc); err != nil {
				t.Fatal(err)
			}
			breakIt(doc)
			b, err := json.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			if problems := golden.SARIFProblems(t, b); len(problems) == 0 {
				t.Errorf("a SARIF log with %s passed the schema check", name)
			}
		})
	}
}

func firstResult(doc map[string]any) map[string]any {
	return doc["runs"].([]any)[0].(map[string]any)["results"].([]any)[0].(map[string]any)
}

func firstRegion(doc map[string]any) map[string]any {
	for _, r := range doc["runs"].([]any)[0].(map[string]any)["results"].([]any) {
		loc := r.(map[string]any)["locations"].([]any)[0].(map[string]any)
		if phys, ok := loc["physicalLocation"].(map[string]any); ok {
			return phys["region"].(map[string]any)
		}
	}
	panic("no result with a region in testdata/sarif.golden")
}

func TestSARIFRulesAndResults(t *testing.T) {
	log := SARIF(newFakeReport(true).Base())
	if len(log.Runs) != 1 {
		t.Fatalf("want one run, got %d", len(log.Runs))
	}
	run := log.Runs[0]
	driver := run.Tool.Driver
	if *driver.Name != fakePlugin || *driver.Version != "v1.2.3" {
		t.Errorf("driver %s %s", *driver.Name, *driver.Version)
	}
	registered := report.Rules(fakePlugin)
	if len(driver.Rules) != len(registered) {
		t.Fatalf("want every registered rule (%d), got %d", len(registered), len(driver.Rules))
	}
	for i, r := range registered {
		d := driver.Rules[i]
		if *d.ID != r.ID || *d.ShortDescription.Text != r.Title || *d.FullDescription.Text != r.Description ||
			*d.Help.Text != r.Fix || d.DefaultConfiguration.Level != sarifLevel(r.Severity) || d.Name == nil {
			t.Errorf("rule %s described wrongly: %+v", r.ID, d)
		}
	}
	byRule := map[string]*sarif.Result{}
	for _, res := range run.Results {
		byRule[*res.RuleID] = res
		if *driver.Rules[res.RuleIndex].ID != *res.RuleID {
			t.Errorf("result %s has ruleIndex %d pointing at %s", *res.RuleID, res.RuleIndex, *driver.Rules[res.RuleIndex].ID)
		}
	}
	if len(run.Results) != 4 {
		t.Errorf("want 4 results (the suppressed one left out), got %d", len(run.Results))
	}
	levels := map[string]string{"FK101": "error", "FK102": "warning", "FK103": "note", "FK104": "error"}
	for id, want := range levels {
		if res := byRule[id]; res == nil || res.Level != want {
			t.Errorf("%s: want level %s, got %+v", id, want, res)
		}
	}

	manifest := byRule["FK101"].Locations[0]
	if manifest.PhysicalLocation == nil || *manifest.PhysicalLocation.ArtifactLocation.URI != "deploy/web%20app.yaml" ||
		*manifest.PhysicalLocation.Region.StartLine != 12 {
		t.Errorf("a manifest finding must point at its file and line: %+v", manifest.PhysicalLocation)
	}
	live := byRule["FK102"].Locations[0]
	if live.PhysicalLocation != nil || len(live.LogicalLocations) != 1 || *live.LogicalLocations[0].FullyQualifiedName != "pod/prod/api-7d9f" {
		t.Errorf("a live finding must name its object as a logical location: %+v", live)
	}
	if *byRule["FK101"].Message.Text == "" {
		t.Error("results need a message")
	}
	if len(run.Invocations) != 1 || !*run.Invocations[0].ExecutionSuccessful || len(run.Invocations[0].ToolExecutionNotifications) != 1 ||
		!strings.HasPrefix(*run.Invocations[0].ToolExecutionNotifications[0].Message.Text, "cannot list events") {
		t.Errorf("the run's warnings must be tool execution notifications: %+v", run.Invocations)
	}
}

func TestFindingOfAnUnregisteredRuleStillGetsADescriptor(t *testing.T) {
	r := report.New("OtherReport", "other-plugin", "v0")
	r.Add(report.Finding{RuleID: "ZZ999", Severity: report.SeverityWarning, Message: "m", Object: report.ObjectRef{Kind: "Node", Name: "n1"}})
	r.Finalize(nil)
	log := SARIF(&r)
	run := log.Runs[0]
	if len(run.Tool.Driver.Rules) != 1 || *run.Tool.Driver.Rules[0].ID != "ZZ999" || run.Results[0].RuleIndex != 0 {
		t.Errorf("want a descriptor for ZZ999 referenced by the result, got %+v", run.Tool.Driver.Rules)
	}
	if err := log.Validate(); err != nil {
		t.Error(err)
	}
}

func TestFileURI(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"a relative path stays relative", "deploy/app.yaml", "deploy/app.yaml"},
		{"a leading ./ is kept as given", "./app.yaml", "./app.yaml"},
		{"spaces are escaped", "my dir/app.yaml", "my%20dir/app.yaml"},
		{"an absolute path becomes a file URI", "/srv/app.yaml", "file:///srv/app.yaml"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := FileURI(tc.in); got != tc.want {
				t.Errorf("FileURI(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestPascalCase(t *testing.T) {
	for in, want := range map[string]string{"untolerated taint": "UntoleratedTaint", "best-effort QoS": "BestEffortQoS", "": ""} {
		if got := pascalCase(in); got != want {
			t.Errorf("pascalCase(%q) = %q, want %q", in, got, want)
		}
	}
}

package rulesdoc_test

import (
	"bytes"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ktriage/ktriage/internal/golden"
	"github.com/ktriage/ktriage/pkg/report"
	"github.com/ktriage/ktriage/pkg/report/rulesdoc"

	// Every plugin registers its rules when imported; TestEveryPluginIsImported
	// keeps this list complete.
	_ "github.com/ktriage/ktriage/plugins/certexpiry"
	_ "github.com/ktriage/ktriage/plugins/drainpreflight"
	_ "github.com/ktriage/ktriage/plugins/netcheck"
	_ "github.com/ktriage/ktriage/plugins/qosaudit"
	_ "github.com/ktriage/ktriage/plugins/whypending"
)

const docPath = "../../../docs/rules.md"

func TestRulesDocIsFresh(t *testing.T) {
	got := rulesdoc.Render(report.Rules(""))
	if golden.Updating() {
		if err := os.WriteFile(docPath, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatalf("docs/rules.md: %v; run `%s`", err, rulesdoc.Command)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("docs/rules.md is stale: the registered rules changed; run `%s` and commit the result", rulesdoc.Command)
	}
}

func TestEveryPluginIsImported(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "rulesdoc_test.go", nil, parser.ImportsOnly)
	if err != nil {
		t.Fatal(err)
	}
	imported := map[string]bool{}
	for _, spec := range f.Imports {
		path, _ := strconv.Unquote(spec.Path.Value)
		imported[path] = true
	}
	dirs, err := os.ReadDir("../../../plugins")
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		if gofiles, _ := filepath.Glob(filepath.Join("../../../plugins", d.Name(), "*.go")); len(gofiles) == 0 {
			continue
		}
		found++
		if pkg := "github.com/ktriage/ktriage/plugins/" + d.Name(); !imported[pkg] {
			t.Errorf("%s is not imported by rulesdoc_test.go, so its rules are missing from docs/rules.md", pkg)
		}
	}
	if found == 0 {
		t.Fatal("no plugin packages found under plugins/")
	}
}

func TestRender(t *testing.T) {
	rules := []report.Rule{
		{ID: "ZZ102", Plugin: "zeta", Severity: report.SeverityWarning, Title: "pipe | in title", Description: "Second.", Fix: "Do B."},
		{ID: "ZZ101", Plugin: "zeta", Severity: report.SeverityError, Title: "first", Description: "First.", Fix: "Do A."},
		{ID: "AA101", Plugin: "alpha", Severity: report.SeverityInfo, Title: "alpha rule", Description: "Alpha.", Fix: "Do C."},
	}
	doc := string(rulesdoc.Render(rules))
	for _, want := range []string{
		"- [kubectl alpha](#kubectl-alpha): 1 rule\n- [kubectl zeta](#kubectl-zeta): 2 rules\n",
		"| [ZZ101](#zz101) | error | first |\n| [ZZ102](#zz102) | warning | pipe \\| in title |\n",
		"### ZZ101\n\n**first** · plugin `zeta` · default severity `error`\n\nFirst.\n\n**Fix:** Do A.\n",
		"`make rules-doc`",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("rendered reference lacks %q:\n%s", want, doc)
		}
	}
	if strings.Index(doc, "## kubectl alpha") > strings.Index(doc, "## kubectl zeta") {
		t.Error("plugins must be in name order")
	}
	if strings.Index(doc, "### ZZ101") > strings.Index(doc, "### ZZ102") {
		t.Error("rules must be in ID order")
	}
	if empty := string(rulesdoc.Render(nil)); !strings.Contains(empty, "No rules are registered yet.") {
		t.Errorf("empty registry: %s", empty)
	}
}

package printers

import (
	"io"
	"net/url"
	"path/filepath"
	"strings"
	"time"
	"unicode"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"

	"github.com/ktriage/ktriage/pkg/report"
)

// InformationURI is the project home page named in SARIF output.
const InformationURI = "https://github.com/ktriage/ktriage"

// RulesDocURI is the generated rule reference; each rule has an anchor named
// after its lower-cased ID.
const RulesDocURI = InformationURI + "/blob/main/docs/rules.md"

// PrintSARIF writes a SARIF 2.1.0 log with one run: every rule the plugin
// registers, and one result per finding.
func PrintSARIF(w io.Writer, p Printable) error {
	return writeJSON(w, SARIF(p.Base()), "SARIF")
}

// SARIF builds the SARIF log of a finalized report.
func SARIF(r *report.Report) *sarif.Report {
	plugin := r.Metadata.Plugin
	driver := sarif.NewToolComponent().
		WithName(plugin).
		WithFullName("kubectl " + plugin).
		WithInformationURI(InformationURI)
	if r.Metadata.Version != "" {
		driver.WithVersion(r.Metadata.Version)
	}
	run := sarif.NewRun().WithTool(sarif.NewTool().WithDriver(driver))
	run.AddInvocation(invocation(r.Metadata))

	for _, rule := range report.Rules(plugin) {
		run.Tool.Driver.AddRule(ruleDescriptor(rule))
	}
	for _, f := range r.Findings {
		if run.GetRuleIndex(f.RuleID) < 0 {
			// A finding whose rule is not registered for this plugin still
			// needs a descriptor for its ruleIndex to point at.
			rule, ok := report.LookupRule(f.RuleID)
			if !ok {
				rule = report.Rule{ID: f.RuleID, Plugin: plugin, Severity: f.Severity}
			}
			run.Tool.Driver.AddRule(ruleDescriptor(rule))
		}
		run.AddResult(result(f, run.GetRuleIndex(f.RuleID)))
	}

	return sarif.NewReport().AddRun(run)
}

// invocation records that the run completed and, as tool notifications, the
// warnings about what it could not look at (e.g. a forbidden resource).
func invocation(m report.Metadata) *sarif.Invocation {
	inv := sarif.NewInvocation().WithExecutionSuccessful(true)
	if m.GeneratedAt != nil {
		inv.WithStartTimeUtc(m.GeneratedAt.UTC().Format(time.RFC3339))
	}
	for _, w := range m.Warnings {
		inv.AddToolExecutionNotification(sarif.NewNotification().
			WithLevel(sarif.LevelWarning).
			WithMessage(sarif.NewMessage().WithText(w)))
	}
	return inv
}

func ruleDescriptor(r report.Rule) *sarif.ReportingDescriptor {
	d := sarif.NewRule(r.ID).
		WithHelpURI(RulesDocURI + "#" + strings.ToLower(r.ID)).
		WithDefaultConfiguration(sarif.NewReportingConfiguration().WithLevel(sarifLevel(r.Severity)))
	if name := pascalCase(r.Title); name != "" {
		d.WithName(name)
	}
	if r.Title != "" {
		d.WithShortDescription(sarif.NewMultiformatMessageString().WithText(r.Title))
	}
	if r.Description != "" {
		d.WithFullDescription(sarif.NewMultiformatMessageString().WithText(r.Description))
	}
	if r.Fix != "" {
		d.WithHelp(sarif.NewMultiformatMessageString().WithText(r.Fix))
	}
	return d
}

func result(f report.Finding, ruleIndex int) *sarif.Result {
	msg := f.Message
	if msg == "" {
		msg = f.RuleID
	}
	res := sarif.NewRuleResult(f.RuleID).
		WithRuleIndex(ruleIndex).
		WithLevel(sarifLevel(f.Severity)).
		WithMessage(sarif.NewMessage().WithText(msg))
	if loc := location(f.Object); loc != nil {
		res.AddLocation(loc)
	}
	props := sarif.NewPropertyBag()
	if f.Fix != "" {
		props.Add("fix", f.Fix)
	}
	if len(f.Details) > 0 {
		props.Add("details", f.Details)
	}
	if len(props.Properties) > 0 {
		res.WithProperties(props)
	}
	return res
}

// location points at the manifest line when the object came from a file, and
// names the object (kind/namespace/name) as a logical location either way.
func location(o report.ObjectRef) *sarif.Location {
	loc := sarif.NewLocation()
	empty := true
	if o.Source != nil && o.Source.File != "" {
		phys := sarif.NewPhysicalLocation().
			WithArtifactLocation(sarif.NewArtifactLocation().WithURI(FileURI(o.Source.File)))
		if o.Source.Line > 0 {
			phys.WithRegion(sarif.NewRegion().WithStartLine(o.Source.Line))
		}
		loc.WithPhysicalLocation(phys)
		empty = false
	}
	if name := o.String(); name != "" {
		logical := sarif.NewLogicalLocation().
			WithFullyQualifiedName(name).
			WithKind("resource")
		if o.Name != "" {
			logical.WithName(o.Name)
		}
		loc.AddLogicalLocation(logical)
		empty = false
	}
	if empty {
		return nil
	}
	return loc
}

// FileURI turns a manifest path into a SARIF artifact URI: a relative path
// stays relative (code-scanning tools resolve it against the repository
// root), an absolute one becomes a file:// URI.
func FileURI(path string) string {
	slashed := filepath.ToSlash(path)
	if filepath.IsAbs(path) {
		if !strings.HasPrefix(slashed, "/") {
			slashed = "/" + slashed // C:/x -> file:///C:/x
		}
		return (&url.URL{Scheme: "file", Path: slashed}).String()
	}
	return (&url.URL{Path: slashed}).String()
}

func sarifLevel(s report.Severity) string {
	switch s {
	case report.SeverityError:
		return sarif.LevelError
	case report.SeverityWarning:
		return sarif.LevelWarning
	case report.SeverityInfo:
		return sarif.LevelNote
	}
	return sarif.LevelNone
}

// pascalCase makes a SARIF rule name ("untolerated taint" -> "UntoleratedTaint"):
// SARIF wants an identifier there, not a sentence.
func pascalCase(title string) string {
	var b strings.Builder
	for _, word := range strings.FieldsFunc(title, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		r := []rune(word)
		b.WriteString(strings.ToUpper(string(r[0])))
		b.WriteString(string(r[1:]))
	}
	return b.String()
}

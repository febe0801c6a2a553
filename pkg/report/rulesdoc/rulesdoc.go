package rulesdoc

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ktriage/ktriage/pkg/report"
)

// Command regenerates docs/rules.md.
const Command = "make rules-doc"

// Render writes the reference of rules, grouped by plugin (plugins in name
// order, rules in ID order). Every rule gets a heading named after its ID, so
// docs/rules.md#wp101 links to it (SARIF's helpUri does).
func Render(rules []report.Rule) []byte {
	byPlugin := map[string][]report.Rule{}
	for _, r := range rules {
		byPlugin[r.Plugin] = append(byPlugin[r.Plugin], r)
	}
	plugins := make([]string, 0, len(byPlugin))
	for p := range byPlugin {
		plugins = append(plugins, p)
		sort.Slice(byPlugin[p], func(i, j int) bool { return byPlugin[p][i].ID < byPlugin[p][j].ID })
	}
	sort.Strings(plugins)

	var b strings.Builder
	b.WriteString("# Rule reference\n\n")
	fmt.Fprintf(&b, "<!-- Generated from the rules each plugin registers by `%s`. Do not edit. -->\n\n", Command)
	b.WriteString("Every finding carries a stable rule ID. A rule ID never changes meaning and is never reused.\n")
	b.WriteString("Leave rules out of a run with `--ignore ID,ID`, or for one object with the annotation\n")
	fmt.Fprintf(&b, "`%s: \"ID,ID\"`. The severity below is the default; a finding may carry a\n", report.IgnoreAnnotation)
	b.WriteString("different one when the situation warrants it. `--fail-on` compares against the finding's severity.\n\n")
	if len(plugins) == 0 {
		b.WriteString("No rules are registered yet.\n")
		return []byte(b.String())
	}
	for _, p := range plugins {
		n := fmt.Sprintf("%d rules", len(byPlugin[p]))
		if len(byPlugin[p]) == 1 {
			n = "1 rule"
		}
		fmt.Fprintf(&b, "- [kubectl %s](#%s): %s\n", p, anchor("kubectl "+p), n)
	}
	for _, p := range plugins {
		fmt.Fprintf(&b, "\n## kubectl %s\n\n", p)
		b.WriteString("| ID | Severity | Title |\n|---|---|---|\n")
		for _, r := range byPlugin[p] {
			fmt.Fprintf(&b, "| [%s](#%s) | %s | %s |\n", r.ID, anchor(r.ID), r.Severity, cell(r.Title))
		}
		for _, r := range byPlugin[p] {
			fmt.Fprintf(&b, "\n### %s\n\n", r.ID)
			fmt.Fprintf(&b, "**%s** · plugin `%s` · default severity `%s`\n", oneLine(r.Title), r.Plugin, r.Severity)
			if r.Description != "" {
				fmt.Fprintf(&b, "\n%s\n", strings.TrimSpace(r.Description))
			}
			if r.Fix != "" {
				fmt.Fprintf(&b, "\n**Fix:** %s\n", strings.TrimSpace(r.Fix))
			}
		}
	}
	return []byte(b.String())
}

// anchor is the fragment GitHub derives from a heading.
func anchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || ('a' <= r && r <= 'z') || ('0' <= r && r <= '9'):
			b.WriteRune(r)
		}
	}
	return b.String()
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// cell keeps a table cell intact: a pipe would start a new column.
func cell(s string) string { return strings.ReplaceAll(oneLine(s), "|", `\|`) }

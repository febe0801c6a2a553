package printers

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/fatih/color"

	"github.com/ktriage/ktriage/pkg/report"
)

// columnGap is the space between two table columns, as in kubectl get.
const columnGap = 3

// PrintTable writes the plugin's tables (or the default findings table), then
// a one-line summary.
func PrintTable(w io.Writer, p Printable, wide bool, opts Options) error {
	base := p.Base()
	tables := p.Tables(wide)
	if len(tables) == 0 {
		tables = []Table{FindingsTable(base.Findings, wide)}
	}
	b := bufio.NewWriterSize(w, outBufferSize)
	for i, t := range tables {
		if i > 0 {
			b.WriteString("\n")
		}
		writeTable(b, t, opts)
	}
	b.WriteString("\n")
	if s, ok := p.(Summarizer); ok {
		b.WriteString(s.SummaryLine())
	} else {
		b.WriteString(SummaryLine(base.Summary))
	}
	b.WriteString("\n")
	return b.Flush()
}

// Summarizer is a Printable that writes its own summary line under its
// tables, counting what its reader asks about (why-pending: pods by stage)
// instead of the findings, which stay in their table.
type Summarizer interface {
	SummaryLine() string
}

// SummaryLine counts what a run found, e.g.
// "3 errors, 1 warning, 0 info (2 suppressed)".
func SummaryLine(s report.Summary) string {
	line := fmt.Sprintf("%s, %s, %d info", plural(s.Errors, "error"), plural(s.Warnings, "warning"), s.Infos)
	if s.Suppressed > 0 {
		line += fmt.Sprintf(" (%d suppressed)", s.Suppressed)
	}
	return line
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// FindingsTable is the default view: one row per finding. Wide output adds the
// fix and, when any finding came from a manifest, its file:line.
func FindingsTable(findings []report.Finding, wide bool) Table {
	t := Table{Columns: []string{"SEVERITY", "RULE", "OBJECT", "MESSAGE"}, Empty: "No findings."}
	withSource := false
	if wide {
		for _, f := range findings {
			if f.Object.Source != nil {
				withSource = true
				break
			}
		}
		if withSource {
			t.Columns = append(t.Columns, "SOURCE")
		}
		t.Columns = append(t.Columns, "FIX")
	}
	for _, f := range findings {
		row := []Cell{Sev(strings.ToUpper(f.Severity.String()), f.Severity), Text(f.RuleID), Text(f.Object.String()), Text(f.Message)}
		if withSource {
			row = append(row, Text(SourceString(f.Object.Source)))
		}
		if wide {
			row = append(row, Text(f.Fix))
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// SourceString renders a manifest position as file:line ("" when unknown).
func SourceString(s *report.Source) string {
	switch {
	case s == nil || s.File == "":
		return ""
	case s.Line > 0:
		return fmt.Sprintf("%s:%d", s.File, s.Line)
	}
	return s.File
}

// writeTable aligns the columns itself rather than with text/tabwriter:
// widths are measured on the plain text and colors are applied after padding,
// so ANSI escape codes never shift a column.
func writeTable(b *bufio.Writer, t Table, opts Options) {
	if t.Title != "" {
		b.WriteString(t.Title)
		b.WriteString("\n")
	}
	if len(t.Rows) == 0 {
		if t.Empty != "" {
			b.WriteString(t.Empty)
			b.WriteString("\n")
		}
		return
	}
	header := make([]Cell, len(t.Columns))
	for i, c := range t.Columns {
		header[i] = Text(c)
	}
	rows := append([][]Cell{header}, t.Rows...)
	ncol := 0
	for _, r := range rows {
		ncol = max(ncol, len(r))
	}
	widths := make([]int, ncol)
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], utf8.RuneCountInString(oneLine(c.Text)))
		}
	}
	for _, r := range rows {
		var line strings.Builder
		for i, c := range r {
			text := oneLine(c.Text)
			line.WriteString(colorize(text, c.Severity, opts))
			if i < len(r)-1 {
				line.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(text)+columnGap))
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteString("\n")
	}
}

// oneLine keeps a cell on its row: a message with a newline would break the grid.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n\t") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

var severityColors = map[report.Severity]color.Attribute{
	report.SeverityError:   color.FgRed,
	report.SeverityWarning: color.FgYellow,
	report.SeverityInfo:    color.FgCyan,
}

// colorize colors a severity cell when color is on. The decision is the
// caller's (Options.Color): fatih/color's own terminal detection is bypassed.
func colorize(text string, sev report.Severity, opts Options) string {
	attr, ok := severityColors[sev]
	if !opts.Color || !ok || text == "" {
		return text
	}
	c := color.New(attr)
	c.EnableColor()
	return c.Sprint(text)
}

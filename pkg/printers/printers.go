package printers

import (
	"fmt"
	"io"
	"strings"

	"github.com/ktriage/ktriage/pkg/report"
)

// Formats lists the values accepted by -o/--output.
var Formats = []string{"table", "wide", "json", "yaml", "sarif", "junit"}

// Printable is what a plugin hands to a printer: its whole document (marshalled
// as is by json and yaml), the common report part, and its table views.
type Printable interface {
	// Base returns the common report (findings, summary, metadata).
	Base() *report.Report
	// Tables returns the plugin's tables for table and wide output. A plugin
	// that returns none gets the default findings table.
	Tables(wide bool) []Table
}

// Table is a titled grid of cells. A plugin returns more columns (or other
// tables) from Tables(true) for wide output.
type Table struct {
	Title   string
	Columns []string
	Rows    [][]Cell
	// Empty is printed instead of the table when it has no rows.
	Empty string
}

// Cell is one value; Severity (when set) colors it in a color-enabled table.
type Cell struct {
	Text     string
	Severity report.Severity
}

// Text builds a plain cell.
func Text(s string) Cell { return Cell{Text: s} }

// Sev builds a cell colored by a severity.
func Sev(s string, sev report.Severity) Cell { return Cell{Text: s, Severity: sev} }

// Options tune the human-readable formats.
type Options struct {
	// Color enables ANSI colors in table and wide output.
	Color bool
}

// ValidateFormat returns a usage error for an unknown -o value.
func ValidateFormat(format string) error {
	for _, f := range Formats {
		if f == format {
			return nil
		}
	}
	return fmt.Errorf("unknown output format %q: use one of %s", format, strings.Join(Formats, ", "))
}

// Print writes p to w in the requested format.
func Print(w io.Writer, format string, p Printable, opts Options) error {
	switch format {
	case "", "table":
		return PrintTable(w, p, false, opts)
	case "wide":
		return PrintTable(w, p, true, opts)
	case "json":
		return PrintJSON(w, p)
	case "yaml":
		return PrintYAML(w, p)
	case "sarif":
		return PrintSARIF(w, p)
	case "junit":
		return PrintJUnit(w, p)
	}
	return ValidateFormat(format)
}

// PrintJSON writes the whole document as indented JSON.
func PrintJSON(w io.Writer, p Printable) error {
	return writeJSON(w, p, "report")
}

// writeJSON indents and leaves <, > and & alone: the output is read by people
// and scripts, never embedded in HTML. It writes what json.Encoder would
// (SetEscapeHTML(false), SetIndent("", "  ")), one part at a time
// (jsonstream.go), so that a report of tens of megabytes is never held as
// bytes all at once.
func writeJSON(w io.Writer, v any, what string) error {
	s := newJSONStream(w)
	if err := s.document(v); err != nil {
		if s.out.err != nil {
			return s.out.err // the output failed, not the encoding
		}
		return fmt.Errorf("encoding %s as JSON: %w", what, err)
	}
	return nil
}

// errWriter remembers the error its writer returned.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(b []byte) (int, error) {
	n, err := e.w.Write(b)
	if err != nil {
		e.err = err
	}
	return n, err
}

// PrintYAML writes the whole document as YAML with the same field names as
// JSON: the bytes sigs.k8s.io/yaml.Marshal would return, one part at a time
// (yamlstream.go).
func PrintYAML(w io.Writer, p Printable) error {
	return writeYAML(w, p, "report")
}

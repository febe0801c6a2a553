package printers

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ktriage/ktriage/pkg/report"
)

// JUnit XML as read by Jenkins, GitLab, GitHub test reporters: one testsuite
// per run, one testcase per finding. Errors and warnings fail their testcase;
// info findings pass.

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
	SystemErr  string          `xml:"system-err,omitempty"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	ClassName string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Type    string `xml:"type,attr"`
	Message string `xml:"message,attr"`
	Body    string `xml:",chardata"`
}

// PrintJUnit writes a JUnit XML report: the header, what xml.MarshalIndent
// returns and a newline, encoded straight to w rather than into one more
// copy of the document.
func PrintJUnit(w io.Writer, p Printable) error {
	doc := junitReport(p.Base())
	out := &errWriter{w: w}
	bw := bufio.NewWriterSize(out, outBufferSize)
	bw.WriteString(xml.Header)
	enc := xml.NewEncoder(bw)
	enc.Indent("", "  ")
	err := enc.Encode(doc)
	if err == nil {
		err = enc.Close()
	}
	if err == nil {
		bw.WriteByte('\n')
		err = bw.Flush()
	}
	switch {
	case out.err != nil:
		return out.err // the output failed, not the encoding
	case err != nil:
		return fmt.Errorf("encoding report as JUnit XML: %w", err)
	}
	return nil
}

// junitReport builds the JUnit document of a finalized report.
func junitReport(r *report.Report) junitSuites {
	plugin := r.Metadata.Plugin
	suite := junitSuite{Name: plugin, Time: "0"}
	if r.Metadata.GeneratedAt != nil {
		suite.Timestamp = r.Metadata.GeneratedAt.UTC().Format(time.RFC3339)
	}
	for _, kv := range [][2]string{
		{"version", r.Metadata.Version},
		{"context", r.Metadata.Context},
		{"namespace", r.Metadata.Namespace},
		{"input", r.Metadata.Input},
		{"suppressed", fmt.Sprint(r.Summary.Suppressed)},
	} {
		if kv[1] != "" {
			suite.Properties = append(suite.Properties, junitProperty{Name: kv[0], Value: kv[1]})
		}
	}
	for _, f := range r.Findings {
		c := junitCase{ClassName: f.RuleID, Name: f.Object.String(), Time: "0"}
		if f.Severity >= report.SeverityWarning {
			c.Failure = &junitFailure{Type: f.Severity.String(), Message: f.Message, Body: failureBody(f)}
			suite.Failures++
		} else {
			c.SystemOut = f.Message
		}
		suite.Cases = append(suite.Cases, c)
	}
	if len(suite.Cases) == 0 {
		// A run without findings still shows up in CI as one passing test.
		suite.Cases = []junitCase{{ClassName: plugin, Name: "no findings", Time: "0"}}
	}
	suite.Tests = len(suite.Cases)
	// Warnings say what the run could not look at: keep them next to the results.
	suite.SystemErr = strings.Join(r.Metadata.Warnings, "\n")
	return junitSuites{Name: plugin, Tests: suite.Tests, Failures: suite.Failures, Suites: []junitSuite{suite}}
}

func failureBody(f report.Finding) string {
	var lines []string
	if f.Fix != "" {
		lines = append(lines, "Fix: "+f.Fix)
	}
	if src := SourceString(f.Object.Source); src != "" {
		lines = append(lines, "Source: "+src)
	}
	return strings.Join(lines, "\n")
}

// Package golden is the one way tests compare output with files under
// testdata: Assert compares, and the test binary's -update flag rewrites
// the files instead (review the diff). SARIF checks every SARIF document
// against the official SARIF 2.1.0 schema.
//
// Only tests import it (make lint fails otherwise): it registers the
// -update flag on the test binary's command line.
package golden

import (
	"bytes"
	_ "embed"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"
	"github.com/xeipuuv/gojsonschema"
)

var update = flag.Bool("update", false, "rewrite the golden files (and docs/rules.md) from the current output; review the diff")

// Updating reports whether the test binary runs with -update: the caller
// writes what it generates instead of comparing it.
func Updating() bool { return *update }

// Assert compares got with the file at path; with -update it writes got
// to path instead.
func Assert(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("the output differs from %s at %s (run the test with -update and review the diff)\n--- got\n%s", path, firstDifference(got, want), got)
	}
}

// firstDifference names the first line where got and want differ.
func firstDifference(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl || i >= len(g) || i >= len(w) {
			return fmt.Sprintf("line %d:\n  got:  %q\n  want: %q", i+1, gl, wl)
		}
	}
	return "the end of the file"
}

// The official SARIF 2.1.0 schema (OASIS errata 01).
//
//go:embed sarif-schema-2.1.0.json
var sarifSchema []byte

// SARIFProblems lists what makes doc invalid against the SARIF 2.1.0
// schema; none when it is valid.
func SARIFProblems(t testing.TB, doc []byte) []string {
	t.Helper()
	res, err := gojsonschema.Validate(gojsonschema.NewBytesLoader(sarifSchema), gojsonschema.NewBytesLoader(doc))
	if err != nil {
		t.Fatalf("validating against the SARIF 2.1.0 schema: %v", err)
	}
	var problems []string
	for _, e := range res.Errors() {
		problems = append(problems, e.String())
	}
	return problems
}

// SARIF fails the test unless doc is valid SARIF 2.1.0: against the
// official schema, and as go-sarif reads and validates it.
func SARIF(t testing.TB, doc []byte) {
	t.Helper()
	if problems := SARIFProblems(t, doc); len(problems) > 0 {
		t.Errorf("not valid SARIF 2.1.0:\n%s", strings.Join(problems, "\n"))
	}
	log, err := sarif.FromBytes(doc)
	if err != nil {
		t.Fatalf("go-sarif cannot read the log: %v", err)
	}
	if err := log.Validate(); err != nil {
		t.Errorf("go-sarif rejects the log: %v", err)
	}
}

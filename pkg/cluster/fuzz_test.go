package cluster

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
)

// fileLineRE is the shape of every error about a document: FILE:LINE: what.
var fileLineRE = regexp.MustCompile(`^STDIN:([1-9][0-9]*): \S`)

// FuzzLoadFiles feeds any bytes to the manifest loader as stdin. It must
// never panic, and must answer either with objects whose sources lie in the
// input, or with one line "STDIN:LINE: what is wrong" whose line is in the
// input, the same on every run. Seeds: testdata/fuzz/FuzzLoadFiles.
func FuzzLoadFiles(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		lines := bytes.Count(data, []byte("\n")) + 1
		load := func() (*Snapshot, error) {
			return LoadFiles(FileOptions{Filenames: []string{"-"}, Stdin: bytes.NewReader(data), MaxFileSize: 1 << 20})
		}
		s, err := load()
		if err != nil {
			msg := err.Error()
			m := fileLineRE.FindStringSubmatch(msg)
			if m == nil || strings.ContainsAny(msg, "\n\r") {
				t.Fatalf("want one line STDIN:LINE: ..., got %q", msg)
			}
			if n, _ := strconv.Atoi(m[1]); n > lines {
				t.Fatalf("line %d of an input of %d lines: %q", n, lines, msg)
			}
			if _, again := load(); again == nil || again.Error() != msg {
				t.Fatalf("a second run answered %v, the first %q", again, msg)
			}
			return
		}
		for _, w := range s.Warnings {
			if strings.ContainsAny(w, "\n\r") {
				t.Fatalf("a warning of more than one line: %q", w)
			}
		}
		s.each(func(k Kind, obj k8sruntime.Object) {
			m, ok := obj.(metav1.Object)
			if !ok {
				t.Fatalf("%s object %T has no metadata", k, obj)
			}
			src := s.SourceOf(sourceKind(k, obj), m.GetNamespace(), m.GetName())
			if src == nil || src.File != StdinName || src.Line < 1 || src.Line > lines {
				t.Fatalf("%s %s/%s: source %+v outside the %d lines read", k, m.GetNamespace(), m.GetName(), src, lines)
			}
		})
	})
}

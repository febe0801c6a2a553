package golden

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recorder is a testing.TB that keeps failures instead of reporting them.
type recorder struct {
	testing.TB
	failed []string
}

func (r *recorder) Helper()                           {}
func (r *recorder) Errorf(format string, args ...any) { r.failed = append(r.failed, format) }
func (r *recorder) Fatalf(format string, args ...any) { r.failed = append(r.failed, format) }

func TestAssertComparesWithTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.golden")
	if err := os.WriteFile(path, []byte("a\nb\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	same := &recorder{TB: t}
	Assert(same, path, []byte("a\nb\n"))
	if len(same.failed) != 0 {
		t.Errorf("equal output failed: %v", same.failed)
	}
	differs := &recorder{TB: t}
	Assert(differs, path, []byte("a\nc\n"))
	if len(differs.failed) != 1 {
		t.Errorf("different output passed")
	}
	missing := &recorder{TB: t}
	Assert(missing, path+".nope", []byte("a\n"))
	if len(missing.failed) == 0 || !strings.Contains(missing.failed[0], "-update") {
		t.Errorf("a missing golden file passed")
	}
}

func TestFirstDifferenceNamesTheLine(t *testing.T) {
	cases := []struct{ name, got, want, says string }{
		{"a changed line", "a\nb\nc\n", "a\nx\nc\n", "line 2:"},
		{"a missing last line", "a\n", "a\nb\n", "line 2:"},
		{"an extra line", "a\nb\n", "a\n", "line 2:"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := firstDifference([]byte(tc.got), []byte(tc.want)); !strings.HasPrefix(got, tc.says) {
				t.Errorf("got %q, want it to start with %q", got, tc.says)
			}
		})
	}
}

func TestSARIFProblemsRejectsWhatIsNotSARIF(t *testing.T) {
	if problems := SARIFProblems(t, []byte(`{"version":"2.1.0","runs":[]}`)); len(problems) != 0 {
		t.Errorf("a minimal log has problems: %v", problems)
	}
	if problems := SARIFProblems(t, []byte(`{"version":"2.1.0"}`)); len(problems) == 0 {
		t.Error("a log without runs passed")
	}
}

package printers

import (
	"strings"
	"testing"
)

type summarizedReport struct{ *fakeReport }

func (summarizedReport) SummaryLine() string { return "3 Pending: 2 Unschedulable, 1 Gated" }

func TestAPlugInsOwnSummaryLineReplacesTheFindingCounts(t *testing.T) {
	out := strings.TrimRight(string(render(t, "table", summarizedReport{newFakeReport(true)}, Options{})), "\n")
	lines := strings.Split(out, "\n")
	if got, want := lines[len(lines)-1], "3 Pending: 2 Unschedulable, 1 Gated"; got != want {
		t.Errorf("last line %q, want %q", got, want)
	}
	if strings.Contains(out, "2 errors, 1 warning") {
		t.Errorf("the finding counts are still printed:\n%s", out)
	}
}

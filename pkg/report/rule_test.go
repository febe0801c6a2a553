package report

import (
	"strings"
	"testing"
)

func TestRegistry(t *testing.T) {
	Register(
		Rule{ID: "TR102", Plugin: "test-b", Severity: SeverityWarning, Title: "second"},
		Rule{ID: "TR101", Plugin: "test-a", Severity: SeverityError, Title: "first"},
		Rule{ID: "TR100", Plugin: "test-a", Severity: SeverityInfo, Title: "zeroth"},
	)
	if r, ok := LookupRule("TR101"); !ok || r.Title != "first" || r.Plugin != "test-a" {
		t.Errorf("LookupRule(TR101) = %+v, %v", r, ok)
	}
	if _, ok := LookupRule("TR999"); ok {
		t.Error("LookupRule found an unregistered ID")
	}
	got := Rules("test-a")
	if len(got) != 2 || got[0].ID != "TR100" || got[1].ID != "TR101" {
		t.Errorf("Rules(test-a) = %+v, want TR100, TR101 in order", got)
	}
	all := Rules("")
	for i := 1; i < len(all); i++ {
		if all[i-1].ID >= all[i].ID {
			t.Errorf("Rules(\"\") not sorted by ID: %s before %s", all[i-1].ID, all[i].ID)
		}
	}
}

func TestRegisteringAnIDTwicePanics(t *testing.T) {
	Register(Rule{ID: "TR200", Plugin: "test"})
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "TR200 registered twice") {
			t.Errorf("want a panic naming TR200, got %v", r)
		}
	}()
	Register(Rule{ID: "TR200", Plugin: "test"})
}

func TestRegisteringWithoutAnIDPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("want a panic for a rule without ID")
		}
	}()
	Register(Rule{Plugin: "test"})
}

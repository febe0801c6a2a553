package drain

import (
	"reflect"
	"strings"
	"testing"

	"github.com/ktriage/ktriage/pkg/printers"
	"github.com/ktriage/ktriage/pkg/report"
	"github.com/ktriage/ktriage/pkg/scheduling"
)

// blockedResult: web's budget refuses its pod, api's replacement finds no
// node, and the node that cannot go is left out of the order.
func blockedResult() *Report {
	r := NewReport("test")
	r.SetResult(&Result{
		Verdict: Blocked,
		Reasons: []string{"shop/web-1: the budget web allows no disruption"},
		Fixes:   []string{"raise web's maxUnavailable"},
		Nodes: []NodePlan{{Name: "a", Verdict: Blocked, Pods: []PodPlan{
			{Namespace: "shop", Name: "web-1", Action: ActionBlocked, Reason: "budget web allows 0", Replaced: true},
			{Namespace: "shop", Name: "api-1", Action: ActionEvict, Reason: "evicted", Replaced: true,
				Pending: &Pending{Message: "0/2 nodes are available", Nodes: []scheduling.NodeResult{{Name: "b", Reasons: []scheduling.Reason{
					{Plugin: "NodeResourcesFit", Message: "Insufficient cpu", Detail: "cpu: requested 2, free 1", Reported: true},
					{Plugin: "TaintToleration", Message: "node(s) had untolerated taint(s)"},
				}}}}},
			{Namespace: "kube-system", Name: "logs-a", Action: ActionSkip, Reason: "DaemonSet-managed"},
			{Namespace: "shop", Name: "cache-1", Action: ActionEvict, Replaced: true, Destination: "b"},
		}}},
		PDBs: []BudgetMath{{Namespace: "shop", Name: "web", DesiredHealthy: 2, CurrentHealthy: 2, Evicted: 0, Pods: 1, Blocks: true, Reason: "allows 0"}},
		Capacity: []Capacity{
			{Node: "b", Allocatable: Amounts{"4", "8Gi", 110}, Before: Amounts{"1", "1Gi", 3}, After: Amounts{"2", "2Gi", 4}},
			{Node: "c", Allocatable: Amounts{"4", "8Gi", 110}, Before: Amounts{"1", "1Gi", 3}, After: Amounts{"1", "1Gi", 3}},
		},
		Order:    []OrderStep{{Step: 1, Node: "c", Verdict: Safe}, {Node: "a", Verdict: Blocked}},
		Findings: []report.Finding{{RuleID: "DP110", Message: "budget web blocks the drain"}},
	}, []string{"cannot list priorityclasses"})
	return r
}

func texts(row []printers.Cell) []string {
	var out []string
	for _, c := range row {
		out = append(out, c.Text)
	}
	return out
}

func tableTitled(tables []printers.Table, prefix string) *printers.Table {
	for i := range tables {
		if strings.HasPrefix(tables[i].Title, prefix) {
			return &tables[i]
		}
	}
	return nil
}

func TestTables(t *testing.T) {
	r := blockedResult()
	if len(r.Report.Findings) != 1 || r.Report.Findings[0].RuleID != "DP110" || !reflect.DeepEqual(r.Metadata.Warnings, []string{"cannot list priorityclasses"}) {
		t.Errorf("SetResult: findings %v, warnings %q", r.Report.Findings, r.Metadata.Warnings)
	}
	tables := r.Tables(false)
	t.Run("each pod shows its action and where its replacement goes, Pending in error", func(t *testing.T) {
		pods := tables[0]
		want := [][]string{
			{"a", "shop", "web-1", "blocked", "Pending", "budget web allows 0"},
			{"a", "shop", "api-1", "evict", "Pending", "evicted; replacement Pending: 0/2 nodes are available"},
			{"a", "kube-system", "logs-a", "skip", "-", "DaemonSet-managed"},
			{"a", "shop", "cache-1", "evict", "b", ""},
		}
		for i, row := range pods.Rows {
			if !reflect.DeepEqual(texts(row), want[i]) {
				t.Errorf("row %d: %q, want %q", i, texts(row), want[i])
			}
		}
		if pods.Rows[0][3].Severity != report.SeverityError || pods.Rows[1][4].Severity != report.SeverityError || pods.Rows[3][4].Severity != report.SeverityNone {
			t.Errorf("a blocked action and a Pending destination are errors, a destination is not: %+v", pods.Rows)
		}
	})
	t.Run("the budget that blocks says why", func(t *testing.T) {
		b := tableTitled(tables, "PodDisruptionBudgets:")
		if b == nil || !reflect.DeepEqual(texts(b.Rows[0]), []string{"shop", "web", "2", "2", "0", "0/1", "yes: allows 0"}) {
			t.Fatalf("budgets: %+v", b)
		}
	})
	t.Run("a node left out of the order has no step", func(t *testing.T) {
		o := tableTitled(tables, "One node after another:")
		if o == nil || texts(o.Rows[0])[0] != "1" || texts(o.Rows[1])[0] != "-" || o.Rows[1][2].Severity != report.SeverityError {
			t.Fatalf("order: %+v", o)
		}
	})
	t.Run("the verdict comes last with its reasons and fixes", func(t *testing.T) {
		want := "Verdict: blocked — kubectl drain with these flags fails or waits for ever\n  - shop/web-1: the budget web allows no disruption\nFix: raise web's maxUnavailable"
		if got := tables[len(tables)-1].Title; got != want {
			t.Errorf("verdict %q, want %q", got, want)
		}
	})
	t.Run("narrow output leaves out the wide tables", func(t *testing.T) {
		if tableTitled(tables, "Other nodes") != nil || tableTitled(tables, "Why replacements") != nil {
			t.Error("wide tables in narrow output")
		}
	})
	t.Run("wide output adds the nodes that change and the scheduler's reported reasons", func(t *testing.T) {
		wide := r.Tables(true)
		c := tableTitled(wide, "Other nodes")
		if c == nil || len(c.Rows) != 1 || !reflect.DeepEqual(texts(c.Rows[0]), []string{"b", "1 → 2 of 4", "1Gi → 2Gi of 8Gi", "3 → 4 of 110"}) {
			t.Fatalf("capacity: %+v", c)
		}
		p := tableTitled(wide, "Why replacements stay Pending")
		if p == nil || len(p.Rows) != 1 || !reflect.DeepEqual(texts(p.Rows[0]), []string{"shop/api-1", "b", "NodeResourcesFit", "Insufficient cpu cpu: requested 2, free 1"}) {
			t.Fatalf("pending: %+v", p)
		}
	})
}

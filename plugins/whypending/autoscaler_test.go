package whypending

import (
	"testing"

	"github.com/ktriage/ktriage/pkg/autoscaler"
	"github.com/ktriage/ktriage/pkg/pending"
)

func TestAutoscalerTables(t *testing.T) {
	three, one, yes, no := 3, 1, true, false
	claims := 2
	pods := []pending.Explanation{
		{Namespace: "shop", Name: "gated", Stage: pending.StageGated},
		{Namespace: "shop", Name: "web", Stage: pending.StageUnschedulable, Autoscaler: &autoscaler.Explanation{
			Kind: autoscaler.KindClusterAutoscaler, Verdict: autoscaler.VerdictNotTriggered, Summary: "no scale-up: workers at its max size (3)",
			NodeGroups: []autoscaler.NodeGroup{{Name: "workers", TargetSize: &three, MaxSize: &three, MinSize: &one, Fits: &yes, Blockers: []string{"at its max size (3 of 3)"}}},
		}},
		{Namespace: "shop", Name: "api", Stage: pending.StageUnschedulable, Autoscaler: &autoscaler.Explanation{
			Kind: autoscaler.KindKarpenter, Verdict: autoscaler.VerdictNotTriggered, Summary: "Karpenter cannot place the pod",
			NodeGroups: []autoscaler.NodeGroup{{Name: "general", NodeClaims: &claims, Limits: map[string]string{"cpu": "16"}, InUse: map[string]string{"cpu": "14"}, Fits: &no}},
		}},
	}
	cases := []struct {
		name   string
		wide   bool
		tables int
		rows   [][]string
	}{
		{name: "the default view has a line per pod the autoscaler was asked about", tables: 1,
			rows: [][]string{{"shop", "web", "cluster-autoscaler", "not-triggered", "no scale-up: workers at its max size (3)"}, {"shop", "api", "karpenter", "not-triggered", "Karpenter cannot place the pod"}}},
		{name: "the wide view adds each group's size, fit and blockers", wide: true, tables: 2,
			rows: [][]string{{"shop", "web", "workers", "3/3 (min 1)", "yes", "at its max size (3 of 3)"}, {"shop", "api", "general", "2 NodeClaims, cpu 14/16", "no", "-"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tables := autoscalerTables(pods, tc.wide)
			if len(tables) != tc.tables {
				t.Fatalf("got %d tables, want %d", len(tables), tc.tables)
			}
			last := tables[len(tables)-1]
			if len(last.Rows) != len(tc.rows) {
				t.Fatalf("got %d rows, want %d", len(last.Rows), len(tc.rows))
			}
			for i, want := range tc.rows {
				for j, cell := range want {
					if got := last.Rows[i][j].Text; got != cell {
						t.Errorf("row %d column %s: got %q, want %q", i, last.Columns[j], got, cell)
					}
				}
			}
		})
	}
	if got := autoscalerTables(pods[:1], true); got != nil {
		t.Errorf("no pod with an autoscaler answer: want no table, got %+v", got)
	}
}

package pending

import (
	"testing"

	"github.com/ktriage/ktriage/pkg/autoscaler"
)

func TestAutoscalerTables(t *testing.T) {
	three, one, yes, no := 3, 1, true, false
	claims := 2
	pods := []Explanation{
		{Namespace: "shop", Name: "gated", Stage: StageGated},
		{Namespace: "shop", Name: "web", Stage: StageUnschedulable, Autoscaler: &autoscaler.Explanation{
			Kind: autoscaler.KindClusterAutoscaler, Verdict: autoscaler.VerdictNotTriggered, Summary: "no scale-up: workers at its max size (3)",
			NodeGroups: []autoscaler.NodeGroup{{Name: "workers", TargetSize: &three, MaxSize: &three, MinSize: &one, Fits: &yes, Blockers: []string{"at its max size (3 of 3)"}}},
		}},
		{Namespace: "shop", Name: "api", Stage: StageUnschedulable, Autoscaler: &autoscaler.Explanation{
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

func TestTheMainTable(t *testing.T) {
	r := NewReport("test")
	r.Pods = []Explanation{
		{Namespace: "shop", Name: "web-0", Stage: StageUnschedulable, NominatedNodeName: "node-a", Reason: "0/2 nodes are available:\n  1 Insufficient cpu"},
		{Namespace: "shop", Name: "api", Replica: 2, Replicas: 3, Stage: StageSchedulable, Node: "node-b"},
	}
	cases := []struct {
		name    string
		wide    bool
		verbose bool
		want    [][]string
	}{
		{name: "one line per pod, the reason on one line", want: [][]string{
			{"shop", "web-0", "Unschedulable", "0/2 nodes are available: 1 Insufficient cpu"},
			{"shop", "api (replica 2/3)", "Schedulable", ""}}},
		{name: "wide adds the node, or the nominated one", wide: true, want: [][]string{
			{"shop", "web-0", "Unschedulable", "node-a (nominated)", "0/2 nodes are available: 1 Insufficient cpu"},
			{"shop", "api (replica 2/3)", "Schedulable", "node-b", ""}}},
		{name: "verbose is wide", verbose: true, want: [][]string{
			{"shop", "web-0", "Unschedulable", "node-a (nominated)", "0/2 nodes are available: 1 Insufficient cpu"},
			{"shop", "api (replica 2/3)", "Schedulable", "node-b", ""}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r.Verbose = tc.verbose
			main := r.Tables(tc.wide)[0]
			if len(main.Rows) != len(tc.want) {
				t.Fatalf("got %d rows, want %d", len(main.Rows), len(tc.want))
			}
			for i, want := range tc.want {
				if len(main.Rows[i]) != len(want) {
					t.Fatalf("row %d: %d cells, want %d", i, len(main.Rows[i]), len(want))
				}
				for j, cell := range want {
					if got := main.Rows[i][j].Text; got != cell {
						t.Errorf("row %d column %s: got %q, want %q", i, main.Columns[j], got, cell)
					}
				}
			}
		})
	}
}

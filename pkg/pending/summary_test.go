package pending

import (
	"testing"
)

func TestTheSummaryLineCountsPodsByStage(t *testing.T) {
	stages := func(ss ...Stage) *Report {
		r := NewReport("test")
		for _, s := range ss {
			r.Pods = append(r.Pods, Explanation{Stage: s})
		}
		return r
	}
	many := []Stage{StageGated, StageNoScheduler}
	for range 15 {
		many = append(many, StageUnschedulable)
	}
	suppressed := stages(StageUnschedulable)
	suppressed.Summary.Suppressed = 2
	cases := []struct {
		name string
		r    *Report
		want string
	}{
		{"most common stage first, ties by name", stages(many...), "17 Pending: 15 Unschedulable, 1 Gated, 1 NoScheduler"},
		{"nothing pending", stages(), "0 Pending"},
		{"manifest pods that would schedule come after", stages(StageUnschedulable, StageSchedulable, StageSchedulable),
			"1 Pending: 1 Unschedulable; 2 Schedulable"},
		{"suppressed findings are still said", suppressed, "1 Pending: 1 Unschedulable (2 findings suppressed)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.r.SummaryLine(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

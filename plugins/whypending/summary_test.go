package whypending

import (
	"testing"

	"github.com/ktriage/ktriage/pkg/pending"
)

func TestTheSummaryLineCountsPodsByStage(t *testing.T) {
	stages := func(ss ...pending.Stage) *Report {
		r := newReport("test")
		for _, s := range ss {
			r.Pods = append(r.Pods, pending.Explanation{Stage: s})
		}
		return r
	}
	many := []pending.Stage{pending.StageGated, pending.StageNoScheduler}
	for range 15 {
		many = append(many, pending.StageUnschedulable)
	}
	suppressed := stages(pending.StageUnschedulable)
	suppressed.Summary.Suppressed = 2
	cases := []struct {
		name string
		r    *Report
		want string
	}{
		{"most common stage first, ties by name", stages(many...), "17 Pending: 15 Unschedulable, 1 Gated, 1 NoScheduler"},
		{"nothing pending", stages(), "0 Pending"},
		{"manifest pods that would schedule come after", stages(pending.StageUnschedulable, pending.StageSchedulable, pending.StageSchedulable),
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

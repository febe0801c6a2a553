package autoscaler

import (
	"reflect"
	"testing"
)

func TestParseTriggeredScaleUp(t *testing.T) {
	cases := []struct {
		name string
		msg  string
		want []ScaleUp
	}{
		{"one group", "pod triggered scale-up: [{eks-workers-6ac6e2d4 1->3 (max: 10)}]",
			[]ScaleUp{{Group: "eks-workers-6ac6e2d4", SizeChange: SizeChange{From: 1, To: 3, Max: 10}}}},
		{"balanced over two groups", "pod triggered scale-up: [{ng-a 0->1 (max: 5)} {ng-b 2->3 (max: 5)}]",
			[]ScaleUp{{Group: "ng-a", SizeChange: SizeChange{0, 1, 5}}, {Group: "ng-b", SizeChange: SizeChange{2, 3, 5}}}},
		{"a GCE managed instance group URL", "pod triggered scale-up: [{https://www.googleapis.com/compute/v1/projects/p/zones/us-central1-a/instanceGroups/gke-c-pool-1-a1b2c3d4-grp 3->4 (max: 6)}]",
			[]ScaleUp{{Group: "https://www.googleapis.com/compute/v1/projects/p/zones/us-central1-a/instanceGroups/gke-c-pool-1-a1b2c3d4-grp", SizeChange: SizeChange{3, 4, 6}}}},
		{"no group in the text", "pod triggered scale-up: []", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := ParseTriggeredScaleUp(tc.msg); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParseNotTriggerScaleUp(t *testing.T) {
	cases := []struct {
		name  string
		msg   string
		want  []CountedReason
		codes []string
	}{
		{"skipped and rejected groups are counted per reason",
			"pod didn't trigger scale-up: 2 max node group size reached, 1 Insufficient cpu, 1 node(s) didn't match Pod's node affinity/selector",
			[]CountedReason{{2, "max node group size reached"}, {1, "Insufficient cpu"}, {1, "node(s) didn't match Pod's node affinity/selector"}},
			[]string{"max-node-group-size", "scheduler-filter", "scheduler-filter"}},
		{"a reason with a comma of its own stays whole",
			"pod didn't trigger scale-up: 3 max cluster cpu, memory limit reached, 1 in backoff after failed scale-up",
			[]CountedReason{{3, "max cluster cpu, memory limit reached"}, {1, "in backoff after failed scale-up"}},
			[]string{"max-resource-limit", "backoff"}},
		{"the cluster-wide node limit has no count",
			"pod didn't trigger scale-up: max total nodes in cluster reached",
			[]CountedReason{{0, "max total nodes in cluster reached"}},
			[]string{"max-nodes-total"}},
		{"older releases explain the prefix in parentheses",
			"pod didn't trigger scale-up (it wouldn't fit if a new node is added): 1 node(s) had untolerated taint {dedicated: gpu}, 1 not ready for scale-up",
			[]CountedReason{{1, "node(s) had untolerated taint {dedicated: gpu}"}, {1, "not ready for scale-up"}},
			[]string{"scheduler-filter", "not-ready"}},
		{"capacity quotas name the quota and its resources",
			`pod didn't trigger scale-up: 1 exceeded quota: "cluster-wide", resources: cpu, memory`,
			[]CountedReason{{1, `exceeded quota: "cluster-wide", resources: cpu, memory`}},
			[]string{"quota-exceeded"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := ParseNotTriggerScaleUp(tc.msg)
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
			for i, r := range got {
				if code := caReasonCode(r.Text); code != tc.codes[i] {
					t.Errorf("%q: code %q, want %q", r.Text, code, tc.codes[i])
				}
			}
		})
	}
}

func TestParseFailedScaleUp(t *testing.T) {
	g, msg, ok := ParseFailedScaleUp("Scale-up failed for group eks-gpu-91bd0c7e: failed to increase node group size: InsufficientInstanceCapacity")
	if !ok || g != "eks-gpu-91bd0c7e" || msg != "failed to increase node group size: InsufficientInstanceCapacity" {
		t.Errorf("got %q %q %v", g, msg, ok)
	}
	if _, _, ok := ParseFailedScaleUp("Scale-up: setting group x size to 3"); ok {
		t.Error("a ScaledUpGroup message is not a failure")
	}
}

package pending

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/ktriage/ktriage/pkg/scheduling"
)

func reported(plugin, msg string) scheduling.Reason {
	return scheduling.Reason{Plugin: plugin, Message: msg, Reported: true}
}

func also(plugin, msg string) scheduling.Reason {
	return scheduling.Reason{Plugin: plugin, Message: msg}
}

// nodesWith gives count nodes named prefix-NN the same reasons.
func nodesWith(prefix string, count int, reasons ...scheduling.Reason) []scheduling.NodeResult {
	out := make([]scheduling.NodeResult, count)
	for i := range out {
		out[i] = scheduling.NodeResult{Name: fmt.Sprintf("%s-%02d", prefix, i), Reasons: reasons}
	}
	return out
}

// summary renders groups as "<count> <message> [plugin] nodes..." lines.
func summary(groups []NodeReasonGroup) []string {
	var out []string
	for _, g := range groups {
		s := fmt.Sprintf("%d %s [%s] %s", g.Count, g.Message, g.Plugin, strings.Join(g.Nodes, ","))
		if g.Truncated {
			s += " …"
		}
		if !g.Reported {
			s = "also: " + s
		}
		if g.PreFilter {
			s = "prefilter: " + s
		}
		out = append(out, s)
	}
	return out
}

func TestNodesAreGroupedByReasonAsTheSchedulerGroupsThem(t *testing.T) {
	cpu := reported("NodeResourcesFit", "Insufficient cpu")
	mem := reported("NodeResourcesFit", "Insufficient memory")
	taint := reported("TaintToleration", "node(s) had untolerated taint(s)")
	cordoned := reported("NodeUnschedulable", "node(s) were unschedulable")
	cases := []struct {
		name  string
		nodes []scheduling.NodeResult
		pre   *scheduling.Reason
		want  []string
	}{
		{
			name:  "sorted as sort.Strings sorts the scheduler's count-reason items: 10 before 2",
			nodes: slices.Concat(nodesWith("big", 10, cpu), nodesWith("gpu", 2, taint), nodesWith("old", 1, cordoned)),
			want: []string{
				"1 node(s) were unschedulable [NodeUnschedulable] old-00",
				"10 Insufficient cpu [NodeResourcesFit] big-00,big-01,big-02 …",
				"2 node(s) had untolerated taint(s) [TaintToleration] gpu-00,gpu-01",
			},
		},
		{
			name:  "a node with two reasons of its first failing plugin counts in both",
			nodes: slices.Concat(nodesWith("a", 2, cpu, mem), nodesWith("b", 1, cpu)),
			want: []string{
				"2 Insufficient memory [NodeResourcesFit] a-00,a-01",
				"3 Insufficient cpu [NodeResourcesFit] a-00,a-01,b-00",
			},
		},
		{
			name:  "reasons the scheduler does not report come after its own",
			nodes: slices.Concat(nodesWith("gpu", 4, taint, also("NodeResourcesFit", "Insufficient cpu")), nodesWith("small", 1, cpu)),
			want: []string{
				"1 Insufficient cpu [NodeResourcesFit] small-00",
				"4 node(s) had untolerated taint(s) [TaintToleration] gpu-00,gpu-01,gpu-02 …",
				"also: 4 Insufficient cpu [NodeResourcesFit] gpu-00,gpu-01,gpu-02 …",
			},
		},
		{
			name:  "a node repeating a reason counts once",
			nodes: nodesWith("n", 2, taint, taint),
			want:  []string{"2 node(s) had untolerated taint(s) [TaintToleration] n-00,n-01"},
		},
		{
			name:  "exactly three nodes are not truncated",
			nodes: nodesWith("n", 3, cordoned),
			want:  []string{"3 node(s) were unschedulable [NodeUnschedulable] n-00,n-01,n-02"},
		},
		{
			name:  "a PreFilter failure counts against every node, before what the filters still find",
			pre:   &scheduling.Reason{Plugin: "VolumeBinding", Message: "pod has unbound immediate PersistentVolumeClaims", Reported: true},
			nodes: slices.Concat(nodesWith("n", 4, also("TaintToleration", "node(s) had untolerated taint(s)")), nodesWith("m", 1)),
			want: []string{
				"prefilter: 5 pod has unbound immediate PersistentVolumeClaims [VolumeBinding] m-00,n-00,n-01 …",
				"also: 4 node(s) had untolerated taint(s) [TaintToleration] n-00,n-01,n-02 …",
			},
		},
		{
			name:  "nodes that fit are in no group",
			nodes: slices.Concat(nodesWith("fits", 5), nodesWith("gpu", 1, taint)),
			want:  []string{"1 node(s) had untolerated taint(s) [TaintToleration] gpu-00"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := summary(groupNodeReasons(scheduling.Result{Nodes: tc.nodes, PreFilter: tc.pre}))
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
		})
	}
}

func TestTheExampleNodesAreTheFirstByNameWhateverTheNodeOrder(t *testing.T) {
	taint := reported("TaintToleration", "node(s) had untolerated taint(s)")
	nodes := slices.Concat(nodesWith("z", 40, taint), nodesWith("c", 3, taint), nodesWith("m", 40, taint))
	want := groupNodeReasons(scheduling.Result{Nodes: nodes})
	if got := want[0].Nodes; !reflect.DeepEqual(got, []string{"c-00", "c-01", "c-02"}) || want[0].Count != 83 || !want[0].Truncated {
		t.Fatalf("got %+v", want[0])
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		r.Shuffle(len(nodes), func(i, j int) { nodes[i], nodes[j] = nodes[j], nodes[i] })
		if got := groupNodeReasons(scheduling.Result{Nodes: nodes}); !reflect.DeepEqual(got, want) {
			t.Fatalf("another node order gives other groups:\n got %+v\nwant %+v", got, want)
		}
	}
}

// The groups the scheduler reports, as "<count> <reason>" items, are the
// reasons part of the message the engine writes as kube-scheduler does; the
// engine's message is compared with the real scheduler's in test/e2e.
func TestTheReportedGroupsSpellTheSchedulersMessage(t *testing.T) {
	var objs []any
	for i := range 12 {
		n := node(fmt.Sprintf("node-%02d", i), "4", "8Gi")
		switch {
		case i < 2:
			n.Spec.Taints = []corev1.Taint{{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule}}
		case i < 3:
			n.Spec.Unschedulable = true
		}
		objs = append(objs, n)
	}
	p := pod("shop", "web", requests("6", "10Gi"), unschedulableCondition("0/12 nodes are available"))
	ex, res := explainOne(snapshot(append(objs, p)...), p)
	if ex.Stage != StageUnschedulable {
		t.Fatalf("stage %s", ex.Stage)
	}
	var items []string
	for _, g := range ex.NodeReasons {
		if g.Reported {
			items = append(items, fmt.Sprintf("%d %s", g.Count, g.Message))
		}
	}
	if got, want := "0/12 nodes are available: "+strings.Join(items, ", ")+".", shortSchedulerReason(ex.SimulatedSchedulerMessage)+"."; got != want {
		t.Errorf("groups spell\n  %s\nthe message says\n  %s", got, want)
	}
	rules := map[string]string{}
	for _, g := range ex.NodeReasons {
		rules[g.Plugin] = g.RuleID
	}
	if want := map[string]string{"TaintToleration": RuleTaint, "NodeUnschedulable": RuleCordoned, "NodeResourcesFit": RuleResources}; !reflect.DeepEqual(rules, want) {
		t.Errorf("rules %v, want %v (findings %v)", rules, want, ruleIDs(res))
	}
	// The tainted and cordoned nodes are too small as well.
	last := ex.NodeReasons[len(ex.NodeReasons)-1]
	if last.Reported || last.Plugin != "NodeResourcesFit" || last.Count < 3 {
		t.Errorf("want the other filters' verdicts on the nodes last, got %+v", ex.NodeReasons)
	}
}

func TestDroppingTheNodeListsKeepsTheGroupsAndAFewFeasibleNodes(t *testing.T) {
	ex := Explanation{
		NodeReasons:   []NodeReasonGroup{{Plugin: "TaintToleration", Message: "node(s) had untolerated taint(s)", Reported: true, Count: 1, Nodes: []string{"gpu-00"}}},
		Nodes:         nodesWith("n", 5),
		Feasible:      []string{"n-04", "n-02", "n-03", "n-00", "n-01"},
		FeasibleCount: 5,
	}
	ex.DropNodeLists()
	if ex.Nodes != nil || !reflect.DeepEqual(ex.Feasible, []string{"n-00", "n-01", "n-02"}) || ex.FeasibleCount != 5 || len(ex.NodeReasons) != 1 {
		t.Errorf("got %+v", ex)
	}
}

package whypending

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/ktriage/ktriage/internal/golden"
	"github.com/ktriage/ktriage/pkg/cli"
	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/pkg/pending"
	"github.com/ktriage/ktriage/pkg/printers"
)

var goldenNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func goldenNode(name string, taints ...corev1.Taint) *corev1.Node {
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("uid-node-" + name), Labels: map[string]string{"kubernetes.io/hostname": name}},
		Spec:       corev1.NodeSpec{Taints: taints},
		Status: corev1.NodeStatus{
			Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("8Gi"), corev1.ResourcePods: resource.MustParse("110")},
			Conditions:  []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
		},
	}
}

func goldenPod(name string, mods ...func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name, UID: types.UID("uid-pod-" + name), CreationTimestamp: metav1.NewTime(goldenNow.Add(-10 * time.Minute))},
		Spec:       corev1.PodSpec{SchedulerName: "default-scheduler", Containers: []corev1.Container{{Name: "app", Image: "registry.example.com/shop/app:1.4"}}},
		Status: corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "Unschedulable",
			Message: "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint(s). preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling."}}},
	}
	for _, m := range mods {
		m(p)
	}
	return p
}

// goldenReport is a fixed cluster with a pod stuck on each of three stages.
func goldenReport(t *testing.T) *pending.Report {
	t.Helper()
	busy := goldenPod("busy", func(p *corev1.Pod) {
		p.Spec.NodeName = "node-a"
		p.Status.Phase = corev1.PodRunning
		p.Status.Conditions = nil
		p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("3")}
	})
	web := goldenPod("web-7d4b9c-x2x9q", func(p *corev1.Pod) {
		p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")}
	})
	gated := goldenPod("batch-0", func(p *corev1.Pod) {
		p.Spec.SchedulingGates = []corev1.PodSchedulingGate{{Name: "example.com/capacity"}}
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "SchedulingGated", Message: "Scheduling is blocked due to non-empty scheduling gates"}}
	})
	pull := goldenPod("api-5f6d7-qq1zt", func(p *corev1.Pod) {
		p.Spec.NodeName = "node-a"
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue}}
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", Image: "registry.example.com/shop/app:1.4", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff", Message: `Back-off pulling image "registry.example.com/shop/app:1.4"`}}}}
	})
	ev := &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Namespace: "shop", Name: "api.1"},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "shop", Name: pull.Name, UID: pull.UID},
		Reason:         "Failed", Type: "Warning", LastTimestamp: metav1.NewTime(goldenNow.Add(-time.Minute)),
		Message: `Failed to pull image "registry.example.com/shop/app:1.4": rpc error: code = NotFound desc = failed to pull and unpack image "registry.example.com/shop/app:1.4": failed to resolve reference "registry.example.com/shop/app:1.4": registry.example.com/shop/app:1.4: not found`,
	}
	snap := &cluster.Snapshot{
		Nodes:  []*corev1.Node{goldenNode("node-a"), goldenNode("node-b", corev1.Taint{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule})},
		Pods:   []*corev1.Pod{busy, web, gated, pull},
		Events: []*corev1.Event{ev},
		Loaded: map[cluster.Kind]bool{cluster.KindNode: true, cluster.KindPod: true, cluster.KindEvent: true, cluster.KindSecret: true},
	}
	res := pending.Explain(snap, []pending.Subject{{Pod: web}, {Pod: gated}, {Pod: pull}}, nil, pending.Options{Now: goldenNow})
	rep := pending.NewReport("v0.0.0-test")
	rep.Metadata.Context = "prod"
	rep.Metadata.Namespace = "shop"
	rep.Metadata.Input = "cluster"
	rep.Pods = res.Pods
	for _, f := range res.Findings {
		rep.Add(f)
	}
	rep.Finalize(nil)
	return rep
}

// printed is what Run prints for the report: nodes grouped by reason unless
// --per-node (or -o wide for one pod) lists them.
func printed(t *testing.T, rep *pending.Report, format string, perNode bool) []byte {
	t.Helper()
	o := &Options{Common: cli.NewCommon(genericiooptions.IOStreams{}), PerNode: perNode}
	o.Output = format
	if !o.listsNodes(len(rep.Pods)) {
		rep.DropNodeLists()
	}
	var buf bytes.Buffer
	if err := printers.Print(&buf, format, rep, printers.Options{}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestGoldenOutput(t *testing.T) {
	for _, name := range []string{"table", "wide", "json", "yaml", "sarif", "junit", "wide.per-node", "json.per-node"} {
		t.Run(name, func(t *testing.T) {
			format, perNode := strings.CutSuffix(name, ".per-node")
			out := printed(t, goldenReport(t), format, perNode)
			golden.Assert(t, filepath.Join("testdata", "report."+name+".golden"), out)
			if format == "sarif" {
				golden.SARIF(t, out)
			}
		})
	}
}

// The JSON fields scripts read are a contract: by default each pod's nodes
// grouped by reason (.pods[].nodeReasons[]), with --per-node also every
// node's verdict (.pods[].nodes[]).
func TestJSONContract(t *testing.T) {
	type document struct {
		Kind string `json:"kind"`
		Pods []struct {
			Namespace, Name, Stage    string
			SimulatedSchedulerMessage string `json:"simulatedSchedulerMessage"`
			SchedulerMessage          string `json:"schedulerMessage"`
			NodeReasons               []struct {
				Plugin, Message, RuleID string
				Reported, Truncated     bool
				Count                   int
				Nodes                   []string
			} `json:"nodeReasons"`
			Nodes []struct {
				Name    string `json:"name"`
				Reasons []struct {
					Plugin, Message string
				} `json:"reasons"`
			} `json:"nodes"`
		} `json:"pods"`
		Findings []struct {
			RuleID string `json:"ruleID"`
		} `json:"findings"`
	}
	for _, perNode := range []bool{false, true} {
		var doc document
		if err := json.Unmarshal(printed(t, goldenReport(t), "json", perNode), &doc); err != nil {
			t.Fatal(err)
		}
		if doc.Kind != "WhyPendingReport" || len(doc.Pods) != 3 || len(doc.Findings) == 0 {
			t.Fatalf("got %+v", doc)
		}
		stages := map[string]string{}
		for _, p := range doc.Pods {
			stages[p.Name] = p.Stage
		}
		want := map[string]string{"web-7d4b9c-x2x9q": "Unschedulable", "batch-0": "Gated", "api-5f6d7-qq1zt": "ImagePull"}
		for k, v := range want {
			if stages[k] != v {
				t.Errorf("pod %s: stage %q, want %q", k, stages[k], v)
			}
		}
		for _, p := range doc.Pods {
			if p.Stage != "Unschedulable" {
				continue
			}
			if p.SimulatedSchedulerMessage != p.SchedulerMessage {
				t.Errorf("simulated %q != condition %q", p.SimulatedSchedulerMessage, p.SchedulerMessage)
			}
			groups := fmt.Sprintf("%+v", p.NodeReasons)
			if want := "[{Plugin:NodeResourcesFit Message:Insufficient cpu RuleID:WP113 Reported:true Truncated:false Count:1 Nodes:[node-a]} " +
				"{Plugin:TaintToleration Message:node(s) had untolerated taint(s) RuleID:WP111 Reported:true Truncated:false Count:1 Nodes:[node-b]}]"; groups != want {
				t.Errorf("nodes by reason\n got %s\nwant %s", groups, want)
			}
			switch {
			case perNode && (len(p.Nodes) != 2 || p.Nodes[0].Name == "" || len(p.Nodes[0].Reasons) == 0):
				t.Errorf("--per-node: want per-node reasons, got %+v", p.Nodes)
			case !perNode && p.Nodes != nil:
				t.Errorf("without --per-node the nodes are listed: %+v", p.Nodes)
			}
		}
	}
}

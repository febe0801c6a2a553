package qosaudit

import (
	"encoding/json"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/pkg/qosaudit/qosaudittest"
	"github.com/ktriage/ktriage/pkg/report"
)

func ruleIDs(fs []report.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.RuleID+" "+f.Object.String())
	}
	sort.Strings(out)
	return out
}

func TestAnalyzeLive(t *testing.T) {
	rep := AnalyzeLive(qosaudittest.LiveSnapshot(), AnalysisOptions{LimitRangesKnown: true}, "test")
	rep.Finalize(nil)
	want := []string{
		"QA101 pod/kube-system/old",
		"QA101 pod/shop/scratch",
		"QA103 deployment/shop/web",
		"QA105 deployment/shop/web",
		"QA106 namespace/shop",
		"QA107 deployment/shop/web",
		"QA108 pod/shop/scratch",
		"QA109 pod/kube-system/old",
		"QA111 node/node-1",
	}
	if got := ruleIDs(rep.Findings); !reflect.DeepEqual(got, want) {
		t.Errorf("findings\n got %q\nwant %q", got, want)
	}

	t.Run("each pod carries the computed and the stored class", func(t *testing.T) {
		got := map[string][2]string{}
		for _, p := range rep.Pods {
			got[p.Name] = [2]string{p.QOSClass, p.StoredQOSClass}
		}
		if got["old"] != [2]string{"Burstable", "BestEffort"} || got["web-5d9f-b"] != [2]string{"Burstable", "Burstable"} {
			t.Errorf("classes %v", got)
		}
	})
	t.Run("pods of a ReplicaSet are counted under its Deployment", func(t *testing.T) {
		var web *ClassCount
		for i, c := range rep.Rollups.ByWorkload {
			if c.Kind == "Deployment" && c.Name == "web" {
				web = &rep.Rollups.ByWorkload[i]
			}
		}
		if web == nil || web.Guaranteed != 1 || web.Burstable != 1 {
			t.Errorf("byWorkload %+v", rep.Rollups.ByWorkload)
		}
	})
	t.Run("the node lists the kubelet's eviction order from requests", func(t *testing.T) {
		if len(rep.Nodes) != 1 {
			t.Fatalf("nodes %+v", rep.Nodes)
		}
		n := rep.Nodes[0]
		var order []string
		for _, e := range n.EvictionOrder {
			order = append(order, e.Name)
		}
		// BestEffort (no request) counts as over its request; the rest tie on
		// priority 0 and zero usage above request: lowest class first.
		wantOrder := []string{"scratch", "old", "web-5d9f-b", "web-5d9f-a"}
		if n.UsageSource != "requests" || !reflect.DeepEqual(order, wantOrder) {
			t.Errorf("usage %s order %v, want %v", n.UsageSource, order, wantOrder)
		}
		// oom_score_adj: BestEffort 1000; stored BestEffort wins over the
		// Burstable spec (the kubelet reads status.qosClass); Guaranteed -997;
		// Burstable 1Gi of 4Gi: 1000 - 1000*1Gi/4Gi = 750.
		adj := map[string]int{}
		for _, e := range n.EvictionOrder {
			adj[e.Name] = *e.Containers[0].OOMScoreAdj
		}
		if !reflect.DeepEqual(adj, map[string]int{"scratch": 1000, "old": 1000, "web-5d9f-a": -997, "web-5d9f-b": 750}) {
			t.Errorf("oomScoreAdj %v", adj)
		}
		mem := n.Overcommit[1]
		if mem.Resource != "memory" || mem.LimitsPercent != 133 || mem.PodsWithoutLimit != 2 || mem.RequestsPercent != 69 {
			t.Errorf("memory overcommit %+v", mem)
		}
	})
	t.Run("metrics replace requests as the usage source", func(t *testing.T) {
		r := AnalyzeLive(qosaudittest.LiveSnapshot(), AnalysisOptions{Usage: map[string]int64{"shop/web-5d9f-b": 2 << 30, "shop/web-5d9f-a": 1 << 20, "shop/scratch": 1 << 20, "kube-system/old": 1 << 20}}, "test")
		n := r.Nodes[0]
		if n.UsageSource != "metrics" || n.EvictionOrder[0].Name != "web-5d9f-b" || n.EvictionOrder[0].MemoryUsage != "2Gi" {
			t.Errorf("got %+v", n.EvictionOrder)
		}
	})
	t.Run("a pod without metrics is ranked by its request, not first", func(t *testing.T) {
		// scratch (BestEffort) has no metrics: as a pod using its zero request
		// it exceeds it by next to nothing, after web-5d9f-b's 512Mi.
		r := AnalyzeLive(qosaudittest.LiveSnapshot(), AnalysisOptions{Usage: map[string]int64{"shop/web-5d9f-b": 1536 << 20, "shop/web-5d9f-a": 1 << 20, "kube-system/old": 1 << 20}}, "test")
		n := r.Nodes[0]
		var order, sources []string
		for _, e := range n.EvictionOrder {
			order = append(order, e.Name)
			sources = append(sources, e.UsageSource)
		}
		if n.UsageSource != "metrics" || !reflect.DeepEqual(order, []string{"web-5d9f-b", "scratch", "old", "web-5d9f-a"}) ||
			!reflect.DeepEqual(sources, []string{"metrics", "requests", "metrics", "metrics"}) || n.EvictionOrder[1].MemoryUsage != "" {
			t.Errorf("usage %s order %v sources %v", n.UsageSource, order, sources)
		}
	})
	t.Run("a node without metrics for any pod falls back to requests entirely", func(t *testing.T) {
		r := AnalyzeLive(qosaudittest.LiveSnapshot(), AnalysisOptions{Usage: map[string]int64{"elsewhere/x": 1}}, "test")
		n := r.Nodes[0]
		if n.UsageSource != "requests" || n.EvictionOrder[0].Name != "scratch" {
			t.Errorf("usage %s order %+v", n.UsageSource, n.EvictionOrder)
		}
		for _, e := range n.EvictionOrder {
			if e.UsageSource != "requests" {
				t.Errorf("%s: usage source %s", e.Name, e.UsageSource)
			}
		}
	})
	t.Run("--require Guaranteed reports every pod below it", func(t *testing.T) {
		r := AnalyzeLive(qosaudittest.LiveSnapshot(), AnalysisOptions{Require: corev1.PodQOSGuaranteed, RequireScope: "--require (namespace shop)"}, "test")
		var got []string
		for _, f := range r.Findings {
			if f.RuleID == RuleRequiredClass {
				got = append(got, f.Object.String()+": "+f.Message)
			}
		}
		sort.Strings(got)
		want := []string{
			"deployment/shop/web: Its Burstable pods are Burstable, below the Guaranteed class required by --require (namespace shop)",
			"pod/kube-system/old: The pod is BestEffort, below the Guaranteed class required by --require (namespace shop)",
			"pod/shop/scratch: The pod is BestEffort, below the Guaranteed class required by --require (namespace shop)",
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("QA108\n got %q\nwant %q", got, want)
		}
	})
	t.Run("InScope keeps other pods of the node out of pods but in the eviction order", func(t *testing.T) {
		r := AnalyzeLive(qosaudittest.LiveSnapshot(), AnalysisOptions{InScope: func(p *corev1.Pod) bool { return p.Namespace == "kube-system" }}, "test")
		if len(r.Pods) != 1 || len(r.Nodes) != 1 || len(r.Nodes[0].EvictionOrder) != 4 {
			t.Errorf("pods %d, eviction order %d", len(r.Pods), len(r.Nodes[0].EvictionOrder))
		}
	})
}

func TestAnalyzeFiles(t *testing.T) {
	rep := AnalyzeFiles(qosaudittest.Manifests(t), AnalysisOptions{}, "test")
	got := map[string]string{}
	for _, w := range rep.Workloads {
		got[w.Kind+"/"+w.Name] = w.QOSClass
		if w.Kind == "Deployment" && (!w.LimitRangeApplied || !w.LimitRangeChangedClass || w.ClassWithoutLimitRange != "BestEffort") {
			t.Errorf("web: %+v", w)
		}
		if w.Kind == "CronJob" && w.LimitRangeApplied {
			t.Error("a LimitRange of namespace shop applied to a CronJob in namespace batch")
		}
		if w.Source == nil || w.Source.File != "testdata/manifests.yaml" || w.Source.Line == 0 {
			t.Errorf("%s has no source: %+v", w.Name, w.Source)
		}
	}
	want := map[string]string{"Deployment/web": "Burstable", "StatefulSet/db": "Burstable", "CronJob/report": "BestEffort", "Pod/cache": "Guaranteed"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("classes %v, want %v", got, want)
	}
	if len(rep.Pods) != 1 || rep.Pods[0].Name != "cache" {
		t.Errorf("pods %+v", rep.Pods)
	}
	ids := ruleIDs(rep.Findings)
	for _, w := range []string{"QA108 statefulset/shop/db", "QA103 statefulset/shop/db", "QA110 deployment/shop/web", "QA101 cronjob/batch/report"} {
		if !slices.Contains(ids, w) {
			t.Errorf("missing %s in %q", w, ids)
		}
	}
	if slices.Contains(ids, "QA106 namespace/batch") {
		t.Error("QA106 reported although the cluster's LimitRanges were not read")
	}
}

// TestJSONContract pins the field names scripts read.
func TestJSONContract(t *testing.T) {
	rep := AnalyzeLive(qosaudittest.LiveSnapshot(), AnalysisOptions{}, "test")
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	pod := doc["pods"].([]any)[0].(map[string]any)
	for _, k := range []string{"namespace", "name", "qosClass", "storedQosClass"} {
		if _, ok := pod[k]; !ok {
			t.Errorf(".pods[] has no %q", k)
		}
	}
	node := doc["nodes"].([]any)[0].(map[string]any)
	entry := node["evictionOrder"].([]any)[0].(map[string]any)
	if _, ok := entry["containers"].([]any)[0].(map[string]any)["oomScoreAdj"]; !ok || node["name"] != "node-1" {
		t.Errorf(".nodes[].evictionOrder[].containers[].oomScoreAdj missing: %v", node)
	}
	files := AnalyzeFiles(qosaudittest.Manifests(t), AnalysisOptions{}, "test")
	b, _ = json.Marshal(files)
	doc = nil
	_ = json.Unmarshal(b, &doc)
	w := doc["workloads"].([]any)[0].(map[string]any)
	for _, k := range []string{"kind", "namespace", "name", "qosClass", "limitRangeApplied"} {
		if _, ok := w[k]; !ok {
			t.Errorf(".workloads[] has no %q", k)
		}
	}
	if doc["kind"] != "QoSAuditReport" {
		t.Errorf("kind %v", doc["kind"])
	}
}

func TestRulesAreRegistered(t *testing.T) {
	want := []string{"QA101", "QA102", "QA103", "QA104", "QA105", "QA106", "QA107", "QA108", "QA109", "QA110", "QA111", "QA112", "QA113"}
	var got []string
	for _, r := range report.Rules(Plugin) {
		got = append(got, r.ID)
		if r.Title == "" || r.Description == "" || r.Fix == "" {
			t.Errorf("%s lacks title, description or fix", r.ID)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rules %v, want %v", got, want)
	}
}

// QA103 reads the pod-level resources when they decide the class.
func TestMemoryNotEqualAtPodLevel(t *testing.T) {
	withPodLevel := func(name string, req, lim corev1.ResourceList, ctr corev1.ResourceRequirements) *corev1.Pod {
		p := qosaudittest.LivePod("db", name, "", corev1.PodQOSBurstable, nil, ctr)
		p.Spec.Resources = &corev1.ResourceRequirements{Requests: req, Limits: lim}
		return p
	}
	snap := &cluster.Snapshot{Pods: []*corev1.Pod{
		// Guaranteed but for the pod-level memory request.
		withPodLevel("pg", qosaudittest.RL("cpu", "1", "memory", "1Gi"), qosaudittest.RL("cpu", "1", "memory", "2Gi"), corev1.ResourceRequirements{}),
		// The pod-level cpu keeps it Burstable whatever the memory: no QA103,
		// though a container's memory request differs from its limit.
		withPodLevel("cpu", qosaudittest.RL("cpu", "1", "memory", "1Gi"), qosaudittest.RL("cpu", "2", "memory", "1Gi"),
			corev1.ResourceRequirements{Requests: qosaudittest.RL("memory", "100Mi"), Limits: qosaudittest.RL("memory", "200Mi")}),
	}}
	r := AnalyzeLive(snap, AnalysisOptions{Require: corev1.PodQOSGuaranteed, RequireScope: "--require"}, "test")
	var got []string
	for _, f := range r.Findings {
		if f.RuleID == RuleMemoryNotEqual {
			got = append(got, f.Object.Name+": "+f.Message)
		}
	}
	want := []string{"pg: Burstable only because memory request ≠ limit on the pod-level resources (request 1Gi, limit 2Gi), while Guaranteed is required by --require"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

// The kubelet sets oom_score_adj only on Linux: a Windows node's containers
// get none, and the node says why.
func TestWindowsNodeHasNoOOMScoreAdj(t *testing.T) {
	snap := qosaudittest.LiveSnapshot()
	snap.Nodes[0].Status.NodeInfo.OperatingSystem = "windows"
	rep := AnalyzeLive(snap, AnalysisOptions{}, "test")
	if len(rep.Nodes) != 1 {
		t.Fatalf("nodes %d", len(rep.Nodes))
	}
	n := rep.Nodes[0]
	if !strings.Contains(n.NoOOMScoreAdj, "only on Linux") || len(n.EvictionOrder) != 4 {
		t.Errorf("the node must still rank its pods and say why it has no oomScoreAdj: %q %d", n.NoOOMScoreAdj, len(n.EvictionOrder))
	}
	for _, e := range n.EvictionOrder {
		for _, c := range e.Containers {
			if c.OOMScoreAdj != nil {
				t.Errorf("%s/%s: oomScoreAdj %d on a Windows node", e.Name, c.Name, *c.OOMScoreAdj)
			}
		}
	}
	for _, p := range rep.Pods {
		for _, c := range p.Containers {
			if c.OOMScoreAdj != nil {
				t.Errorf("pod %s/%s: oomScoreAdj %d on a Windows node", p.Name, c.Name, *c.OOMScoreAdj)
			}
		}
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), `"oomScoreAdj"`) {
		t.Errorf("JSON still carries oomScoreAdj: %s", b)
	}
}

// Two LimitRanges defaulting the same value differently: -f must warn that
// the class depends on the order the LimitRanger happens to apply them in.
func TestAnalyzeFilesOverlappingLimitRanges(t *testing.T) {
	lr := func(name string, def, defReq corev1.ResourceList) *corev1.LimitRange {
		return &corev1.LimitRange{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name}, Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{
			{Type: corev1.LimitTypeContainer, Default: def, DefaultRequest: defReq}}}}
	}
	snap := &cluster.Snapshot{
		Loaded: map[cluster.Kind]bool{cluster.KindPod: true, cluster.KindLimitRange: true},
		LimitRanges: []*corev1.LimitRange{
			lr("defaults", qosaudittest.RL("cpu", "500m", "memory", "1Gi"), nil),
			lr("small-requests", nil, qosaudittest.RL("memory", "256Mi")),
		},
		Pods: []*corev1.Pod{{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "app"},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app"}}}}},
	}
	rep := AnalyzeFiles(snap, AnalysisOptions{}, "test")
	if len(rep.Workloads) != 1 {
		t.Fatalf("workloads %d", len(rep.Workloads))
	}
	w := rep.Workloads[0]
	if w.QOSClass != "Guaranteed" || !reflect.DeepEqual(w.PossibleQOSClasses, []string{"Burstable", "Guaranteed"}) || len(w.LimitRangeConflicts) != 1 {
		t.Errorf("class %s possible %v conflicts %q", w.QOSClass, w.PossibleQOSClasses, w.LimitRangeConflicts)
	}
	var warned bool
	for _, m := range rep.Metadata.Warnings {
		warned = warned || (strings.Contains(m, "Pod shop/app") && strings.Contains(m, "may be Burstable or Guaranteed"))
	}
	if !warned {
		t.Errorf("no warning that the class may differ: %q", rep.Metadata.Warnings)
	}
}

func TestRequireScopeNamesWhereTheRequirementApplies(t *testing.T) {
	for _, tc := range []struct {
		name          string
		all           bool
		ns, sel, want string
	}{
		{"manifests without a selector", false, "", "", "--require"},
		{"manifests with a selector", false, "", "tier=db", "--require (-l tier=db)"},
		{"one namespace", false, "shop", "", "--require (namespace shop)"},
		{"every namespace with a selector", true, "", "tier=db", "--require (all namespaces, -l tier=db)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := RequireScope(tc.all, tc.ns, tc.sel); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

package drain

import (
	"encoding/json"
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/ktriage/ktriage/pkg/report"
)

func TestRulesAreRegistered(t *testing.T) {
	want := []string{"DP101", "DP102", "DP103", "DP104", "DP110", "DP111", "DP112", "DP113",
		"DP120", "DP121", "DP122", "DP130", "DP131", "DP140", "DP141", "DP142", "DP143"}
	var got []string
	for _, r := range report.Rules(Plugin) {
		got = append(got, r.ID)
		if r.Title == "" || r.Description == "" || r.Fix == "" {
			t.Errorf("%s lacks a title, description or fix", r.ID)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rules %v, want %v", got, want)
	}
}

// TestResultJSONContract pins the field names scripts read.
func TestResultJSONContract(t *testing.T) {
	snap := snapshot(node("n1", "4", "8Gi"), node("n2", "1", "8Gi"), web("web-1", "n1"), web("web-2", "n1"),
		pod("shop", "api-1", "n1", ownedBy("ReplicaSet", "api"), requests("2", "1Gi")),
		pdb("shop", "web", "web", maxUnavailable(intstr.FromInt32(1)), pdbStatus(1, 2, 1, 2)))
	r, err := Simulate(snap, drainOf([]string{"n1"}))
	if err != nil {
		t.Fatal(err)
	}
	r.Order = []OrderStep{{Step: 1, Node: "n1", Verdict: Safe}}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	has := func(where string, obj any, keys ...string) {
		m, ok := obj.(map[string]any)
		if !ok {
			t.Errorf("%s is not an object: %v", where, obj)
			return
		}
		for _, k := range keys {
			if _, ok := m[k]; !ok {
				t.Errorf("%s has no %q", where, k)
			}
		}
	}
	first := func(key string) any { return doc[key].([]any)[0] }
	has(".", doc, "verdict", "reasons", "fixes", "nodes", "pdbs", "capacity", "preempted", "order")
	has(".nodes[]", first("nodes"), "name", "verdict", "pods")
	var pending any
	for _, p := range first("nodes").(map[string]any)["pods"].([]any) {
		has(".nodes[].pods[]", p, "namespace", "name", "owner", "action", "reason", "replaced", "destination", "round")
		if pp, ok := p.(map[string]any)["pending"]; ok {
			pending = pp
		}
	}
	has(".nodes[].pods[].pending", pending, "message", "nodes")
	has(".pdbs[]", first("pdbs"), "namespace", "name", "desiredHealthy", "currentHealthy", "disruptionsAllowed", "expectedPods", "evicted", "pods", "blocks")
	has(".capacity[]", first("capacity"), "node", "allocatable", "before", "after")
	has(".capacity[].after", first("capacity").(map[string]any)["after"], "cpu", "memory", "pods")
	has(".order[]", first("order"), "step", "node", "verdict")
	preemption := snapshot(node("n1", "2", "8Gi"), node("n2", "2", "8Gi"),
		pod("shop", "critical-1", "n1", ownedBy("ReplicaSet", "critical"), requests("2", "1Gi"), podPriority(1000)),
		pod("shop", "batch-1", "n2", ownedBy("ReplicaSet", "batch"), requests("1500m", "1Gi"), podPriority(0)))
	if r, err = Simulate(preemption, drainOf([]string{"n1"})); err != nil {
		t.Fatal(err)
	}
	b, _ = json.Marshal(r)
	var pre map[string]any
	if err := json.Unmarshal(b, &pre); err != nil {
		t.Fatal(err)
	}
	has(".preempted[]", pre["preempted"].([]any)[0], "namespace", "name", "node", "by", "destination", "replaced")
	if _, ok := doc["findings"]; ok {
		t.Error("findings belong to the report, not to the result")
	}
}

package qosaudit

import (
	"reflect"
	"testing"
)

func TestCountClassesCountsEachPodOnce(t *testing.T) {
	r := newResult("test")
	r.Pods = []PodResult{{Name: "bare", QOSClass: "BestEffort"}, {Name: "web-1", QOSClass: "Burstable"}}
	// A Pod manifest is among the pods already; other manifests count once.
	r.Workloads = []WorkloadResult{{Kind: "Pod", Name: "bare", QOSClass: "BestEffort"}, {Kind: "Deployment", Name: "db", QOSClass: "Guaranteed"}}
	r.CountClasses()
	want := map[string]int{"BestEffort": 1, "Burstable": 1, "Guaranteed": 1}
	if !reflect.DeepEqual(r.Summary.Counts, want) {
		t.Errorf("counts %v, want %v", r.Summary.Counts, want)
	}
}

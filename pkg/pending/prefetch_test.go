package pending

import (
	"encoding/json"
	"runtime"
	"testing"

	"github.com/ktriage/ktriage/test/bench/bigcluster"
)

// TestParallelEvaluationGivesTheSequentialAnswer explains a generated
// cluster's Pending pods (every cause, nominated pods, anti-affinity) once
// with the engine results computed in parallel and once sequentially; run
// with -race it also checks that the engine is safe for concurrent use.
func TestParallelEvaluationGivesTheSequentialAnswer(t *testing.T) {
	c := bigcluster.Generate(bigcluster.Config{Seed: 7, Nodes: 60, Running: 600, Pending: 42, Namespaces: 6})
	subjects := make([]Subject, len(c.PendingPods))
	for i, p := range c.PendingPods {
		subjects[i] = Subject{Pod: p}
	}
	opts := Options{Now: bigcluster.Now}
	explain := func(procs int) []byte {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		b, err := json.Marshal(Explain(c.Snapshot, subjects, nil, opts))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	seq, par := explain(1), explain(4)
	if string(seq) != string(par) {
		t.Fatalf("parallel and sequential explanations differ (%d and %d bytes of JSON)", len(par), len(seq))
	}
	a := newAnalyzer(c.Snapshot, opts)
	prev := runtime.GOMAXPROCS(4)
	a.prefetch(subjects)
	runtime.GOMAXPROCS(prev)
	if len(a.prefetched) < len(subjects)/2 {
		t.Errorf("only %d of %d Pending pods were evaluated ahead", len(a.prefetched), len(subjects))
	}
}

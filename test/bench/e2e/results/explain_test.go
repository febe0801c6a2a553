package results

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"
)

// profileOf builds a profile whose samples have the given stacks (leaf
// first) and values.
func profileOf(types []string, samples map[string][]int64) *bytes.Buffer {
	p := &profile.Profile{DurationNanos: int64(2 * time.Second)}
	for _, t := range types {
		p.SampleType = append(p.SampleType, &profile.ValueType{Type: t, Unit: "x"})
	}
	funcs := map[string]*profile.Function{}
	for stack, values := range samples {
		s := &profile.Sample{Value: values}
		for _, name := range strings.Split(stack, ";") {
			f := funcs[name]
			if f == nil {
				f = &profile.Function{ID: uint64(len(funcs) + 1), Name: name}
				funcs[name] = f
				p.Function = append(p.Function, f)
			}
			loc := &profile.Location{ID: uint64(len(p.Location) + 1), Line: []profile.Line{{Function: f}}}
			p.Location = append(p.Location, loc)
			s.Location = append(s.Location, loc)
		}
		p.Sample = append(p.Sample, s)
	}
	var b bytes.Buffer
	if err := p.Write(&b); err != nil {
		panic(err)
	}
	return &b
}

func TestSummarizeCPUByActivity(t *testing.T) {
	ms := int64(time.Millisecond)
	b := profileOf([]string{"samples", "cpu"}, map[string][]int64{
		"runtime.scanobject;runtime.gcBgMarkWorker":                                                                                  {1, 200 * ms},
		"crypto/ecdsa.VerifyASN1;" + module + "pkg/certs.checkSignature;" + module + "pkg/certs.Analyze":                             {1, 500 * ms},
		"encoding/json.Marshal;" + module + "pkg/printers.PrintJSON;" + module + "pkg/cli.(*Common).PrintReport":                     {1, 100 * ms},
		"protobuf.Unmarshal;k8s.io/client-go/rest.Result.Into;" + module + "pkg/cluster.listPage;" + module + "pkg/cluster.paginate": {1, 150 * ms},
		"runtime.schedinit": {1, 50 * ms},
	})
	c, err := SummarizeCPU(b)
	if err != nil {
		t.Fatal(err)
	}
	if c.Total != time.Second || c.Duration != 2*time.Second {
		t.Fatalf("total %s over %s, want 1s over 2s", c.Total, c.Duration)
	}
	want := []string{"analysis", "garbage collection", "reading from the API server (HTTP, TLS, decoding LIST pages)", "printing the output", otherActivity}
	if len(c.Parts) != len(want) {
		t.Fatalf("parts %+v", c.Parts)
	}
	for i, w := range want {
		if c.Parts[i].Name != w {
			t.Errorf("part %d is %q, want %q", i, c.Parts[i].Name, w)
		}
	}
	if top := c.Parts[0].Top; len(top) != 1 || top[0].Name != "pkg/certs.checkSignature" || top[0].Value != 500*ms {
		t.Errorf("analysis attributed to %+v, want pkg/certs.checkSignature 0.5s", top)
	}
	pr := Profile{ID: "cert-expiry", CPUFile: "p/cpu.pprof", Wall: 3 * time.Second, CPU: &c}
	got := pr.Explain(Verdict{Target: "`cert-expiry` wall time ≤ 1.3× `floor`", Contender: "cert-expiry"})
	for _, s := range []string{"[p/cpu.pprof](p/cpu.pprof)", "1.00 s of CPU", "analysis 50% (`pkg/certs.checkSignature` 0.50 s 50%)", "garbage collection 20%"} {
		if !strings.Contains(got, s) {
			t.Errorf("explanation lacks %q:\n%s", s, got)
		}
	}
}

func TestSummarizeHeapByCallerAndAllocator(t *testing.T) {
	b := profileOf([]string{"alloc_objects", "alloc_space", "inuse_objects", "inuse_space"}, map[string][]int64{
		"io.ReadAll;k8s.io/client-go/rest.Do;" + module + "pkg/cluster.listPage":                                           {1, 600 << 20, 0, 0},
		"resource.addResourceList;" + module + "pkg/qosaudit.evictionOrder.func1;" + module + "pkg/qosaudit.evictionOrder": {1, 300 << 20, 1, 100 << 20},
		"runtime.malg": {1, 100 << 20, 1, 10 << 20},
	})
	h, err := SummarizeHeap(b)
	if err != nil {
		t.Fatal(err)
	}
	if h.Allocated != 1000<<20 || h.InUse != 110<<20 {
		t.Fatalf("allocated %d in use %d", h.Allocated, h.InUse)
	}
	if h.ByCaller[0].Name != "pkg/cluster.listPage" || h.ByCaller[1].Name != "pkg/qosaudit.evictionOrder" || h.ByCaller[2].Name != "runtime.malg" {
		t.Errorf("by caller %+v", h.ByCaller)
	}
	if h.ByAllocator[0].Name != "io.ReadAll" {
		t.Errorf("by allocator %+v", h.ByAllocator)
	}
	pr := Profile{ID: "qos-audit-all", HeapFile: "p/heap.pprof", RSS: 1 << 30, Heap: &h}
	got := pr.Explain(Verdict{Target: "`qos-audit-all` peak RSS ≤ 2× `floor`", Contender: "qos-audit-all"})
	for _, s := range []string{"[p/heap.pprof](p/heap.pprof)", "peaked at 1.00 GiB", "`pkg/cluster.listPage` 600 MiB 60%", "`io.ReadAll` 600 MiB 60%"} {
		if !strings.Contains(got, s) {
			t.Errorf("explanation lacks %q:\n%s", s, got)
		}
	}
}

// Every missed target is explained next to the targets; met ones are not.
func TestReportExplainsMissedTargets(t *testing.T) {
	c := CPUSummary{Total: time.Second, Parts: []Share{{Name: "analysis", Value: int64(time.Second), Top: []Share{{Name: "pkg/x.f", Value: int64(time.Second)}}}}}
	r := Report{Verdicts: []Verdict{
		{Target: "`a` wall time ≤ 1.3× `floor`", Measured: "2×", Contender: "a"},
		{Target: "`b` wall time ≤ 1.3× `floor`", Measured: "1×", Contender: "b", Met: true},
		{Target: "`c` wall time ≤ 1.3× `floor`", Measured: "3×", Contender: "c"},
	}, Profiles: []Profile{{ID: "a", CPUFile: "a.cpu", CPU: &c}}}
	var b bytes.Buffer
	if err := WriteMarkdown(&b, r); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.Contains(out, "### Why the missed targets are missed") ||
		!strings.Contains(out, "- **`a` wall time ≤ 1.3× `floor`** — 2×. The CPU profile ([a.cpu](a.cpu))") ||
		!strings.Contains(out, "- **`c` wall time ≤ 1.3× `floor`** — 3×. No profile") || strings.Contains(out, "- **`b`") {
		t.Errorf("report:\n%s", out)
	}
}

// A missed peak RSS target is compared with the floor that keeps what it
// decodes, when the run measured one; a wall time target is not.
func TestReportComparesMissedRSSWithHeldFloor(t *testing.T) {
	ms := []Measurement{
		{ID: "p", Nodes: 10, Samples: []Sample{sample(2, 300)}},
		{ID: "floor", Nodes: 10, Samples: []Sample{sample(1, 40)}},
		{ID: "floor-held", Nodes: 10, Samples: []Sample{sample(1, 120)}},
	}
	r := Report{Measurements: ms, Held: map[string]Held{"floor": {ID: "floor-held", Why: "it needs them all."}},
		Beyond: map[string]string{"p": "It also checks signatures."},
		Verdicts: []Verdict{
			EvaluateRatio(ms, RatioTarget{Contender: "p", Baseline: "floor", Metric: MetricRSS, Limit: 2}),
			EvaluateRatio(ms, RatioTarget{Contender: "p", Baseline: "floor", Metric: MetricWall, Limit: 1.3}),
		}}
	var b bytes.Buffer
	if err := WriteMarkdown(&b, r); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	want := "(`floor-held`: managedFields dropped, nothing else) peak at 120 MiB, 3.00× the floor: it needs them all. The plugin peaks at 2.50× that."
	if strings.Count(out, want) != 1 {
		t.Errorf("report has %d× %q:\n%s", strings.Count(out, want), want, out)
	}
	if strings.Count(out, "It also checks signatures.") != 1 ||
		!strings.Contains(out, "wall time ≤ 1.3× `floor`** — 2.00× (2.00 vs 1.00 s, 10 nodes). No profile of this contender was written (-profile none). It also checks signatures.") {
		t.Errorf("the wall time target lacks the work beyond the floor, once:\n%s", out)
	}
}

package results

import (
	"bytes"
	"encoding/xml"
	"math"
	"strings"
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want Stat
	}{
		{nil, Stat{}},
		{[]float64{3}, Stat{Median: 3, Min: 3, Max: 3, N: 1}},
		{[]float64{5, 1, 3}, Stat{Median: 3, Min: 1, Max: 5, N: 3}},
		{[]float64{4, 1, 3, 10}, Stat{Median: 3.5, Min: 1, Max: 10, N: 4}},
	} {
		in := append([]float64(nil), tc.in...)
		if got := Summarize(tc.in); got != tc.want {
			t.Errorf("Summarize(%v) = %+v, want %+v", tc.in, got, tc.want)
		}
		for i := range in { // the caller's slice is left alone
			if in[i] != tc.in[i] {
				t.Errorf("Summarize sorted its input: %v", tc.in)
			}
		}
	}
}

func sample(sec float64, mib int64) Sample {
	return Sample{Wall: time.Duration(sec * float64(time.Second)), RSS: mib << 20}
}

func TestMeasurementSkipsFailedRuns(t *testing.T) {
	m := Measurement{Samples: []Sample{sample(1, 10), {Wall: time.Hour, Err: "exit code 2"}, sample(3, 30)}}
	if got := m.Wall(); got.N != 2 || got.Median != 2 || got.Max != 3 {
		t.Errorf("Wall = %+v, want the two successful runs (median 2, max 3)", got)
	}
	if got := m.RSS(); got.Median != 20 {
		t.Errorf("RSS median = %v MiB, want 20", got.Median)
	}
	if m.Failed() != 1 || m.FirstError() != "exit code 2" {
		t.Errorf("Failed = %d, FirstError = %q", m.Failed(), m.FirstError())
	}
}

func TestSequenceAddsTimesAndKeepsLargestRSS(t *testing.T) {
	a := Measurement{Nodes: 5, Samples: []Sample{{Wall: 2 * time.Second, RSS: 100, BytesIn: 7, Requests: 1, Stdout: 3}, {Wall: time.Second, Err: "boom"}}}
	b := Measurement{Nodes: 5, Samples: []Sample{{Wall: time.Second, RSS: 300, BytesIn: 1, Requests: 2, Stdout: 4}, {Wall: time.Second}}}
	s := Sequence("x", "x", "a; b", a, b)
	want := Sample{Wall: 3 * time.Second, RSS: 300, BytesIn: 8, Requests: 3, Stdout: 7}
	if len(s.Samples) != 2 || s.Samples[0] != want {
		t.Fatalf("Sequence = %+v, want first run %+v", s.Samples, want)
	}
	if s.Samples[1].Err != "boom" || s.Nodes != 5 {
		t.Errorf("a failed part must fail the run: %+v", s.Samples[1])
	}
}

func measurements() []Measurement {
	return []Measurement{
		{ID: "floor", Label: "floor", Nodes: 500, Samples: []Sample{sample(1, 50)}},
		{ID: "plugin", Label: "plugin", Nodes: 500, Samples: []Sample{sample(2, 60)}},
		{ID: "floor", Label: "floor", Nodes: 2000, Samples: []Sample{sample(4, 50), sample(5, 55), sample(6, 60)}},
		{ID: "plugin", Label: "plugin", Nodes: 2000, Samples: []Sample{sample(5, 150), sample(6, 90), sample(100, 100)}},
	}
}

func TestEvaluateRatioAtLargestSize(t *testing.T) {
	ms := measurements()
	wall := EvaluateRatio(ms, RatioTarget{Contender: "plugin", Baseline: "floor", Metric: MetricWall, Limit: 1.3})
	// Medians at 2000 nodes: 6 s vs 5 s = 1.2 (the 100 s outlier is not the median).
	if !wall.Met || math.Abs(wall.Value-1.2) > 1e-9 {
		t.Errorf("wall verdict = %+v, want met at 1.2", wall)
	}
	rss := EvaluateRatio(ms, RatioTarget{Contender: "plugin", Baseline: "floor", Metric: MetricRSS, Limit: 1.5})
	// 100 MiB vs 55 MiB = 1.82 > 1.5.
	if rss.Met || math.Abs(rss.Value-100.0/55) > 1e-9 || !strings.Contains(rss.Measured, "2000 nodes") {
		t.Errorf("rss verdict = %+v, want missed at 1.82 at 2000 nodes", rss)
	}
	missing := EvaluateRatio(ms, RatioTarget{Contender: "nope", Baseline: "floor", Metric: MetricWall, Limit: 1})
	if missing.Met || missing.Measured != "not measured" {
		t.Errorf("an unmeasured contender must miss: %+v", missing)
	}
	failed := append(ms, Measurement{ID: "broken", Nodes: 2000, Samples: []Sample{{Err: "exit code 2: forbidden"}}})
	v := EvaluateRatio(failed, RatioTarget{Contender: "broken", Baseline: "floor", Metric: MetricWall, Limit: 100})
	if v.Met || !strings.Contains(v.Measured, "forbidden") {
		t.Errorf("a contender whose runs all failed must miss, saying why: %+v", v)
	}
}

func TestEvaluateGrowth(t *testing.T) {
	out := func(nodes int, bytes int64) Measurement {
		return Measurement{ID: "wp", Nodes: nodes, Samples: []Sample{{Wall: time.Second, Stdout: bytes}}}
	}
	pending := map[int]int{500: 50, 2000: 50}
	// Grows with the nodes (Pending x nodes): 4x the nodes, 4x the bytes.
	v := EvaluateGrowth([]Measurement{out(500, 1e6), out(2000, 4e6)}, GrowthTarget{Contender: "wp", Pending: pending, Limit: 1.5})
	if v.Met || math.Abs(v.Value-4) > 1e-9 {
		t.Errorf("output growing with the nodes must miss: %+v", v)
	}
	// Grows a little (more node names in a capped list): met.
	v = EvaluateGrowth([]Measurement{out(500, 1e6), out(2000, 1.1e6)}, GrowthTarget{Contender: "wp", Pending: pending, Limit: 1.5})
	if !v.Met {
		t.Errorf("output that does not grow with the nodes must be met: %+v", v)
	}
	// Per Pending pod: twice the pods, twice the bytes is no growth.
	v = EvaluateGrowth([]Measurement{out(500, 1e6), out(2000, 2e6)}, GrowthTarget{Contender: "wp", Pending: map[int]int{500: 50, 2000: 100}, Limit: 1.5})
	if !v.Met || math.Abs(v.Value-1) > 1e-9 {
		t.Errorf("growth must be per Pending pod: %+v", v)
	}
	if v := EvaluateGrowth([]Measurement{out(500, 1e6)}, GrowthTarget{Contender: "wp", Pending: pending, Limit: 1.5}); v.Met {
		t.Errorf("one size cannot show growth: %+v", v)
	}
}

func TestWriteSVG(t *testing.T) {
	var b bytes.Buffer
	series := SeriesOf(measurements(), []string{"floor", "plugin", "absent"})
	if len(series) != 2 || len(series[1].Points) != 2 {
		t.Fatalf("SeriesOf = %+v, want floor and plugin at two sizes", series)
	}
	if err := WriteSVG(&b, "t <&>", "nodes", series); err != nil {
		t.Fatal(err)
	}
	// Well-formed XML (the title is escaped), one line per series and panel,
	// one marker per point and panel.
	dec := xml.NewDecoder(bytes.NewReader(b.Bytes()))
	lines, circles := 0, 0
	for {
		tok, err := dec.Token()
		if err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("not well-formed SVG: %v\n%s", err, b.String())
			}
			break
		}
		if se, ok := tok.(xml.StartElement); ok {
			switch se.Name.Local {
			case "polyline":
				lines++
			case "circle":
				circles++
			}
		}
	}
	if lines != 4 || circles != 8 {
		t.Errorf("%d polylines and %d circles, want 4 and 8", lines, circles)
	}
	for _, want := range []string{"wall time (s)", "peak RSS (MiB)", ">500<", ">2000<", "plugin at 2000 nodes: 6.00 s (min 5.00, max 100)"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("chart lacks %q", want)
		}
	}
}

func TestWriteMarkdown(t *testing.T) {
	ms := measurements()
	ms = append(ms, Measurement{ID: "broken", Label: "broken", Command: "broken -A", Nodes: 2000, Samples: []Sample{sample(1, 1), {Err: "exit code 2: no | pipe"}}})
	r := Report{Runs: 3, Order: []string{"floor", "plugin", "broken"}, Measurements: ms, Floor: map[string]string{"plugin": "floor"}, Kubectl: "floor",
		Verdicts: []Verdict{EvaluateRatio(ms, RatioTarget{Contender: "plugin", Baseline: "floor", Metric: MetricRSS, Limit: 1.5})},
		Sizes:    []Size{{Nodes: 2000, Pods: 30000, Pending: 50, Fill: 90 * time.Second, Writes: 60000, WritesTime: time.Minute, Plugins: "v1-abc"}}, Chart: "c.svg",
		Machine: [][2]string{{"CPU", "x"}}}
	var b bytes.Buffer
	if err := WriteMarkdown(&b, r); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{
		"| `plugin` peak RSS ≤ 1.5× `floor` | 1.82× (100 vs 55.0 MiB, 2000 nodes) | **missed** |",
		"## 2000 nodes, 30000 pods, 50 Pending",
		"| plugin<br>`` | 6.00 s (5.00–100) | 1.20 | 1.20 | 100 MiB (90.0–150) | 1.82 |",
		`**1 of 2 runs failed**: exit code 2: no \| pipe`,
		"![wall time and peak RSS against cluster size](c.svg)",
		"| 2000 | 30000 | 50 |  | 1m30s | 60000 (1000/s) | v1-abc |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
}

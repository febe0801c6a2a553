package results

import (
	"fmt"
	"math"
)

// Metric names what a ratio target compares.
type Metric string

// The metrics a ratio target can compare.
const (
	MetricWall Metric = "wall time"
	MetricRSS  Metric = "peak RSS"
)

// RatioTarget: the median of Contender's Metric is at most Limit times the
// median of Baseline's, at the largest measured size.
type RatioTarget struct {
	Contender, Baseline string // Measurement IDs
	Metric              Metric
	Limit               float64
}

// GrowthTarget: Contender's output per Pending pod at the largest size is
// at most Limit times its output per Pending pod at the smallest size,
// while the node count grew (output that grows with Pending pods x nodes
// grows with the node count; output that grows with the Pending pods does
// not).
type GrowthTarget struct {
	Contender string
	Pending   map[int]int // Pending pods in the cluster, by node count
	Limit     float64
}

// Verdict is one target checked against the measurements.
type Verdict struct {
	Target   string // what is promised, in words
	Measured string // what was measured, in words
	Value    float64
	Limit    float64
	Met      bool
	// Contender is the measurement the verdict is about (for profiling a
	// missed target), Baseline the one it is compared with (none for a
	// growth target), Metric what is compared.
	Contender, Baseline string
	Metric              Metric
}

// find returns the measurement with id at nodes.
func find(ms []Measurement, id string, nodes int) (Measurement, bool) {
	for _, m := range ms {
		if m.ID == id && m.Nodes == nodes {
			return m, true
		}
	}
	return Measurement{}, false
}

// Sizes are the node counts measured, ascending.
func Sizes(ms []Measurement) []int {
	seen := map[int]bool{}
	var out []int
	for _, m := range ms {
		if !seen[m.Nodes] {
			seen[m.Nodes] = true
			out = append(out, m.Nodes)
		}
	}
	for i := range out { // insertion sort: a handful of sizes
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// EvaluateRatio checks t at the largest size in ms. A contender or baseline
// that was not measured, or whose runs all failed, misses the target.
func EvaluateRatio(ms []Measurement, t RatioTarget) Verdict {
	sizes := Sizes(ms)
	v := Verdict{Limit: t.Limit, Contender: t.Contender, Baseline: t.Baseline, Metric: t.Metric, Value: math.NaN(),
		Target: fmt.Sprintf("`%s` %s ≤ %.2g× `%s`", t.Contender, t.Metric, t.Limit, t.Baseline)}
	if len(sizes) == 0 {
		v.Measured = "not measured"
		return v
	}
	n := sizes[len(sizes)-1]
	c, ok1 := find(ms, t.Contender, n)
	b, ok2 := find(ms, t.Baseline, n)
	if !ok1 || !ok2 {
		v.Measured = "not measured"
		return v
	}
	var cs, bs Stat
	unit := "s"
	switch t.Metric {
	case MetricRSS:
		cs, bs, unit = c.RSS(), b.RSS(), "MiB"
	default:
		cs, bs = c.Wall(), b.Wall()
	}
	if cs.N == 0 || bs.N == 0 {
		v.Measured = "failed: " + firstNonEmpty(c.FirstError(), b.FirstError())
		return v
	}
	v.Value = ratio(cs, bs)
	v.Met = v.Value <= t.Limit
	v.Measured = fmt.Sprintf("%s× (%s vs %s %s, %d nodes)", ratioText(v.Value), num(cs.Median), num(bs.Median), unit, n)
	return v
}

// EvaluateGrowth checks t between the smallest and the largest size.
func EvaluateGrowth(ms []Measurement, t GrowthTarget) Verdict {
	sizes := Sizes(ms)
	v := Verdict{Limit: t.Limit, Contender: t.Contender, Value: math.NaN(),
		Target: fmt.Sprintf("`%s` output per Pending pod grows ≤ %.2g× while the nodes grow", t.Contender, t.Limit)}
	if len(sizes) < 2 {
		v.Measured = "needs two cluster sizes"
		return v
	}
	lo, hi := sizes[0], sizes[len(sizes)-1]
	a, ok1 := find(ms, t.Contender, lo)
	b, ok2 := find(ms, t.Contender, hi)
	pa, pb := t.Pending[lo], t.Pending[hi]
	if !ok1 || !ok2 || pa == 0 || pb == 0 {
		v.Measured = "not measured"
		return v
	}
	sa, sb := a.Stdout(), b.Stdout()
	if sa.N == 0 || sb.N == 0 || sa.Median == 0 {
		v.Measured = "failed: " + firstNonEmpty(a.FirstError(), b.FirstError())
		return v
	}
	per := func(s Stat, p int) float64 { return s.Median / float64(p) }
	v.Value = per(sb, pb) / per(sa, pa)
	v.Met = v.Value <= t.Limit
	v.Measured = fmt.Sprintf("%.2f× (%s per Pending pod at %d nodes, %s at %d nodes: nodes ×%.1f)",
		v.Value, bytesHuman(per(sb, pb)), hi, bytesHuman(per(sa, pa)), lo, float64(hi)/float64(lo))
	return v
}

// ratioText prints a ratio with two decimals, or two significant digits
// below 0.1 (a single question at a few hundredths of kubectl's time).
func ratioText(x float64) string {
	if x < 0.1 {
		return fmt.Sprintf("%.2g", x)
	}
	return fmt.Sprintf("%.2f", x)
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return "no successful run"
}

// num prints a measurement with three significant digits.
func num(x float64) string {
	switch {
	case math.IsNaN(x):
		return "—"
	case x >= 100:
		return fmt.Sprintf("%.0f", x)
	case x >= 10:
		return fmt.Sprintf("%.1f", x)
	default:
		return fmt.Sprintf("%.2f", x)
	}
}

// bytesHuman prints a byte count in B, KiB, MiB or GiB.
func bytesHuman(b float64) string {
	switch {
	case b >= 1<<30:
		return num(b/(1<<30)) + " GiB"
	case b >= 1<<20:
		return num(b/(1<<20)) + " MiB"
	case b >= 1<<10:
		return num(b/(1<<10)) + " KiB"
	default:
		return fmt.Sprintf("%.0f B", b)
	}
}

// Package results holds the pure parts of the end-to-end benchmark
// (test/bench/e2e): statistics over repeated runs, the targets checked as
// ratios, and the report written as Markdown and as an SVG chart. Nothing
// here runs a process or talks to a cluster, so all of it is unit-tested.
package results

import (
	"math"
	"slices"
	"time"
)

// Sample is one run of one contender, measured as a whole process.
type Sample struct {
	Wall     time.Duration
	RSS      int64 // peak resident set size, bytes (getrusage ru_maxrss)
	BytesIn  int64 // response bytes the API server sent (as on the wire, compressed where it compressed)
	Requests int64 // HTTP requests made to the API server
	Stdout   int64 // bytes the command printed
	Err      string
}

// Stat is the median and spread of one metric over the successful runs.
type Stat struct {
	Median, Min, Max float64
	N                int
}

// Summarize returns the median, min and max of xs (the mean of the two
// middle values for an even count). An empty xs gives N == 0.
func Summarize(xs []float64) Stat {
	if len(xs) == 0 {
		return Stat{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	med := s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	return Stat{Median: med, Min: s[0], Max: s[n-1], N: n}
}

// Measurement is every run of one contender at one cluster size.
type Measurement struct {
	ID      string // stable key, e.g. "why-pending-all"
	Label   string // what the table shows
	Command string // the command line, for the report
	Nodes   int    // cluster size (nodes) it ran against
	Samples []Sample
}

// ok are the runs that succeeded.
func (m Measurement) ok() []Sample {
	var out []Sample
	for _, s := range m.Samples {
		if s.Err == "" {
			out = append(out, s)
		}
	}
	return out
}

// Failed counts the runs that did not succeed.
func (m Measurement) Failed() int { return len(m.Samples) - len(m.ok()) }

// FirstError is the error of the first failed run, "" if none failed.
func (m Measurement) FirstError() string {
	for _, s := range m.Samples {
		if s.Err != "" {
			return s.Err
		}
	}
	return ""
}

func (m Measurement) stat(f func(Sample) float64) Stat {
	var xs []float64
	for _, s := range m.ok() {
		xs = append(xs, f(s))
	}
	return Summarize(xs)
}

// Wall is the wall time in seconds.
func (m Measurement) Wall() Stat { return m.stat(func(s Sample) float64 { return s.Wall.Seconds() }) }

// RSS is the peak RSS in MiB.
func (m Measurement) RSS() Stat {
	return m.stat(func(s Sample) float64 { return float64(s.RSS) / (1 << 20) })
}

// BytesIn is what the API server sent, in MiB.
func (m Measurement) BytesIn() Stat {
	return m.stat(func(s Sample) float64 { return float64(s.BytesIn) / (1 << 20) })
}

// Requests is the number of API requests.
func (m Measurement) Requests() Stat {
	return m.stat(func(s Sample) float64 { return float64(s.Requests) })
}

// Stdout is the size of what the command printed, in bytes.
func (m Measurement) Stdout() Stat {
	return m.stat(func(s Sample) float64 { return float64(s.Stdout) })
}

// Sequence is what a user pays for running a and then b: run i of the result
// is run i of a followed by run i of b (wall times, bytes, requests and
// output add up; the peak RSS is the larger one). A run fails when either
// part failed.
func Sequence(id, label, command string, a, b Measurement) Measurement {
	m := Measurement{ID: id, Label: label, Command: command, Nodes: a.Nodes}
	for i := range min(len(a.Samples), len(b.Samples)) {
		x, y := a.Samples[i], b.Samples[i]
		s := Sample{Wall: x.Wall + y.Wall, RSS: max(x.RSS, y.RSS), BytesIn: x.BytesIn + y.BytesIn,
			Requests: x.Requests + y.Requests, Stdout: x.Stdout + y.Stdout}
		switch {
		case x.Err != "":
			s.Err = x.Err
		case y.Err != "":
			s.Err = y.Err
		}
		m.Samples = append(m.Samples, s)
	}
	return m
}

// ratio is a/b, NaN when either is unknown or b is 0.
func ratio(a, b Stat) float64 {
	if a.N == 0 || b.N == 0 || b.Median == 0 {
		return math.NaN()
	}
	return a.Median / b.Median
}

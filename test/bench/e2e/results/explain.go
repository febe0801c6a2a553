package results

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/google/pprof/profile"
)

// module is the prefix of this project's functions in a profile.
const module = "github.com/ktriage/ktriage/"

// Share is a part of a profile's total: a function or an activity.
type Share struct {
	Name  string
	Value int64 // nanoseconds of CPU, or bytes
	// Top are the functions of this activity that account for most of it.
	Top []Share
}

// CPUSummary is where a run's CPU went, by activity.
type CPUSummary struct {
	Total    time.Duration // CPU sampled
	Duration time.Duration // wall time the profile covers
	Parts    []Share       // by activity, largest first
}

// HeapSummary is what a run allocated, by the project's function that
// asked and by the function that allocated.
type HeapSummary struct {
	Allocated, InUse int64 // bytes; in use as of the last GC before exit
	ByCaller         []Share
	ByAllocator      []Share
}

// The activities a CPU sample is put in, in the order they are tried: the
// first that names a frame of the sample's stack takes it.
var activities = []struct {
	name   string
	frames []string // substrings of function names
}{
	{"garbage collection", []string{"runtime.gcBgMarkWorker", "runtime.gcAssistAlloc", "runtime.bgsweep", "runtime.bgscavenge", "runtime.GC"}},
	{"printing the output", []string{module + "pkg/printers.", "PrintReport"}},
	{"reading from the API server (HTTP, TLS, decoding LIST pages)", []string{"k8s.io/client-go/", "net/http.", "crypto/tls.", "golang.org/x/net/http2.",
		module + "pkg/cluster.paginate", module + "pkg/cluster.listPage"}},
	{"analysis", []string{module}},
}

const otherActivity = "other (start-up, Go runtime)"

// SummarizeCPU reads a CPU profile written by runtime/pprof.
func SummarizeCPU(r io.Reader) (CPUSummary, error) {
	p, err := profile.Parse(r)
	if err != nil {
		return CPUSummary{}, err
	}
	idx := sampleIndex(p, "cpu")
	if idx < 0 {
		return CPUSummary{}, fmt.Errorf("not a CPU profile (no cpu sample type)")
	}
	parts := map[string]int64{}
	top := map[string]map[string]int64{}
	var total int64
	for _, s := range p.Sample {
		v := s.Value[idx]
		total += v
		funcs := stack(s)
		name := otherActivity
	find:
		for _, a := range activities {
			for _, f := range funcs {
				for _, sub := range a.frames {
					if strings.Contains(f, sub) {
						name = a.name
						break find
					}
				}
			}
		}
		parts[name] += v
		if top[name] == nil {
			top[name] = map[string]int64{}
		}
		top[name][attribute(funcs)] += v
	}
	out := CPUSummary{Total: time.Duration(total), Duration: time.Duration(p.DurationNanos)}
	for name, v := range parts {
		out.Parts = append(out.Parts, Share{Name: name, Value: v, Top: largest(top[name], 3)})
	}
	sortShares(out.Parts)
	return out, nil
}

// SummarizeHeap reads a heap profile written by runtime/pprof.
func SummarizeHeap(r io.Reader) (HeapSummary, error) {
	p, err := profile.Parse(r)
	if err != nil {
		return HeapSummary{}, err
	}
	alloc, inuse := sampleIndex(p, "alloc_space"), sampleIndex(p, "inuse_space")
	if alloc < 0 || inuse < 0 {
		return HeapSummary{}, fmt.Errorf("not a heap profile (no alloc_space and inuse_space sample types)")
	}
	var out HeapSummary
	callers, allocators := map[string]int64{}, map[string]int64{}
	for _, s := range p.Sample {
		out.Allocated += s.Value[alloc]
		out.InUse += s.Value[inuse]
		funcs := stack(s)
		callers[attribute(funcs)] += s.Value[alloc]
		if len(funcs) > 0 {
			allocators[short(funcs[0])] += s.Value[alloc]
		}
	}
	out.ByCaller, out.ByAllocator = largest(callers, 5), largest(allocators, 5)
	return out, nil
}

func sampleIndex(p *profile.Profile, typ string) int {
	for i, st := range p.SampleType {
		if st.Type == typ {
			return i
		}
	}
	return -1
}

// stack is the sample's function names, leaf first.
func stack(s *profile.Sample) []string {
	var out []string
	for _, loc := range s.Location {
		for _, l := range loc.Line { // inlined frames first, as pprof lists them
			if l.Function != nil {
				out = append(out, l.Function.Name)
			}
		}
	}
	return out
}

// attribute names the sample after the project's function closest to the
// leaf (the code that asked for the work), outside the command layer; or
// the leaf itself when no project code is on the stack.
func attribute(funcs []string) string {
	for _, f := range funcs {
		if strings.HasPrefix(f, module) && !strings.HasPrefix(f, module+"pkg/cli.") && !strings.Contains(f, ".func") {
			return short(f)
		}
	}
	for _, f := range funcs {
		if strings.HasPrefix(f, module) && !strings.HasPrefix(f, module+"pkg/cli.") {
			return short(f)
		}
	}
	if len(funcs) > 0 {
		return short(funcs[0])
	}
	return "(unknown)"
}

func short(f string) string { return strings.TrimPrefix(f, module) }

func largest(m map[string]int64, n int) []Share {
	var out []Share
	for k, v := range m {
		out = append(out, Share{Name: k, Value: v})
	}
	sortShares(out)
	if len(out) > n {
		out = out[:n]
	}
	return out
}

func sortShares(s []Share) {
	sort.Slice(s, func(i, j int) bool {
		if s[i].Value != s[j].Value {
			return s[i].Value > s[j].Value
		}
		return s[i].Name < s[j].Name
	})
}

// pct is v's share of total in percent, as text.
func pct(v, total int64) string {
	if total <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.0f%%", 100*float64(v)/float64(total))
}

// Explain is the paragraph a missed target gets in the report: what the
// run's own CPU or heap profile of the contender shows. It names the
// activities beyond listing and decoding (all the floor does) for a wall
// time target, and the allocations behind the peak for an RSS target.
func (pr Profile) Explain(v Verdict) string {
	var b strings.Builder
	if strings.Contains(v.Target, string(MetricRSS)) && pr.Heap != nil {
		h := pr.Heap
		fmt.Fprintf(&b, "The heap profile ([%s](%s)) of a run that peaked at %s RSS: %s allocated in all, %s still in use at exit.",
			pr.HeapFile, pr.HeapFile, bytesHuman(float64(pr.RSS)), bytesHuman(float64(h.Allocated)), bytesHuman(float64(h.InUse)))
		fmt.Fprintf(&b, " Allocated for: %s.", shares(h.ByCaller, h.Allocated, bytesText))
		fmt.Fprintf(&b, " Allocated by: %s.", shares(h.ByAllocator, h.Allocated, bytesText))
		if pr.CPU != nil {
			for _, p := range pr.CPU.Parts {
				if p.Name == "garbage collection" {
					fmt.Fprintf(&b, " Garbage collection took %s of its CPU.", pct(p.Value, int64(pr.CPU.Total)))
				}
			}
		}
		return b.String()
	}
	if pr.CPU != nil {
		c := pr.CPU
		fmt.Fprintf(&b, "The CPU profile ([%s](%s)) of a %.1f s run holds %.2f s of CPU: %s.", pr.CPUFile, pr.CPUFile,
			pr.Wall.Seconds(), c.Total.Seconds(), cpuParts(c))
		fmt.Fprintf(&b, " The floor only reads and decodes: the other activities are the gap, and the wall time beyond the CPU is waiting for the API server.")
		return b.String()
	}
	return "No profile of this contender was written."
}

func cpuParts(c *CPUSummary) string {
	var parts []string
	for _, p := range c.Parts {
		s := fmt.Sprintf("%s %s", p.Name, pct(p.Value, int64(c.Total)))
		if top := shares(p.Top, int64(c.Total), cpuText); p.Name != otherActivity && p.Name != "garbage collection" && top != "" {
			s += " (" + top + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

// shares lists the shares of at least 1% of total.
func shares(s []Share, total int64, value func(int64) string) string {
	var out []string
	for _, x := range s {
		if total > 0 && x.Value*100 < total {
			continue
		}
		out = append(out, fmt.Sprintf("`%s` %s %s", x.Name, value(x.Value), pct(x.Value, total)))
	}
	return strings.Join(out, ", ")
}

func bytesText(v int64) string { return bytesHuman(float64(v)) }

func cpuText(v int64) string { return fmt.Sprintf("%.2f s", time.Duration(v).Seconds()) }

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/ktriage/ktriage/test/bench/e2e/results"
)

// machineInfo describes where the numbers were taken.
func machineInfo(ctx context.Context) [][2]string {
	var out [][2]string
	add := func(k, v string) {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, [2]string{k, v})
		}
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				add("CPU", fmt.Sprintf("%s, %d cores", strings.TrimSpace(v), runtime.NumCPU()))
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 1 {
			if kb, err := strconv.ParseFloat(f[1], 64); err == nil {
				add("memory", fmt.Sprintf("%.1f GiB", kb/(1<<20)))
			}
		}
	}
	if l := loadAverage(); l != "" {
		add("load average at start (1, 5, 15 min)", l+" (other work shares the machine: compare ratios, not seconds)")
	}
	if u, err := exec.CommandContext(ctx, "uname", "-sr").Output(); err == nil {
		add("kernel", string(u))
	}
	add("Go", runtime.Version())
	return out
}

// loadAverage is the machine's 1, 5 and 15 minute load average.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], ", ")
	}
	return ""
}

// versionOf is the client and server version kubectl reports.
func versionOf(ctx context.Context, kubectl, kubeconfig string) string {
	v, err := exec.CommandContext(ctx, kubectl, "version", "--kubeconfig", kubeconfig).Output()
	if err != nil {
		return "unknown"
	}
	return strings.ReplaceAll(strings.TrimSpace(string(v)), "\n", "; ")
}

// method is how the numbers were taken, for the report.
func method(o options) []string {
	return []string{
		"The control plane is `hack/local-cluster` (etcd, kube-apiserver, kube-scheduler v1.37.2). Nodes and pods are API objects only: " +
			"no kubelet and no kwok heartbeats run, the benchmark writes each node's and pod's status once (as a kubelet would, field manager `kubelet`), " +
			"and kube-controller-manager (and the idle kwok) are stopped once the namespaces have their ServiceAccounts, so nothing rewrites the objects while the contenders run. " +
			"The scheduler keeps running: it is what marks the Pending pods Unschedulable.",
		fmt.Sprintf("The objects come from `test/bench/bigcluster` (the in-process benchmarks' generator): nodes of three sizes in three zones with GPU-tainted, cordoned and NotReady ones; "+
			"Deployments of ten replicas, each with a ReplicaSet and a PodDisruptionBudget (one pod down, half kept, or none down); two DaemonSets with a pod on every node; "+
			"%d pods per node; %d Pending pods of every cause (insufficient CPU, untolerated taint, node selector and affinity, pod anti-affinity, topology spread, gated, "+
			"no such scheduler, missing claim, image pull, missing ConfigMap, init crash loop, NotReady node), all in namespace `%s`; TLS Secrets signed by a CA hierarchy; "+
			"NetworkPolicies; events. Each size adds the next nodes and the pods bound to them to the previous one; a Deployment's replicas are spread over the nodes of the largest size, so the smaller sizes have about as many Deployments, with fewer replicas each.", o.podsPerNode, o.pending, pendingNamespace),
		"Every contender runs as a whole process with the same kubeconfig, through a counting HTTPS proxy in front of the API server (requests, and response bytes as sent, compressed where the server compressed). " +
			"Wall time is from start to exit; peak RSS is the process's `ru_maxrss`, read by a small launcher (`test/bench/e2e/measure`: a child's `ru_maxrss` starts at its parent's peak, so the benchmark cannot start the contenders itself). kubectl's discovery cache is warm.",
		fmt.Sprintf("Runs are interleaved: run i of every contender before run i+1 of any, in an order rotated each round; %d runs per contender at the largest size and %d at the smaller ones (they place the chart's other points), median and min–max.", o.runs, o.runsSmall),
		"The floor (`test/bench/e2e/floor`) does the paginated (500 per page) protobuf LISTs a plugin needs, in parallel, decodes each page into typed objects and drops it. " +
			"`floor: pods + nodes, every object kept` does the same LISTs and keeps every object it decodes (managedFields dropped) until it exits: what holding the cluster's typed pods and nodes costs. " +
			"`floor: pods + nodes` is the floor of why-pending -A and qos-audit -A; cert-expiry's lists Secrets (not Helm releases), ConfigMaps, webhook configurations, APIServices, CRDs and CSRs; " +
			"drain-preflight's lists nodes, non-terminal pods, budgets, DaemonSets, PriorityClasses, Namespaces and the node's pods.",
		"A plugin run counts only when it exits 0 or 1 (1: it found something) and, for JSON output, prints one valid JSON document naming the pods asked about.",
		"Targets are checked at the largest size. The output-growth target compares why-pending -A's JSON per Pending pod at the largest and the smallest size: it must not grow with the node count.",
	}
}

// profiles runs the plugins of missed targets (or all) once more with
// KTRIAGE_CPUPROFILE and KTRIAGE_MEMPROFILE, and keeps the top of each.
func profiles(ctx context.Context, r *runner, cons []contender, verdicts []results.Verdict, o options, bin string) ([]results.Profile, error) {
	want := map[string]bool{}
	for _, v := range verdicts {
		if !v.Met || o.profile == "all" {
			want[v.Contender] = true
		}
	}
	if o.profile == "all" {
		for _, c := range cons {
			if isPlugin(c) {
				want[c.id] = true
			}
		}
	}
	if len(want) == 0 {
		return nil, nil
	}
	if err := os.MkdirAll(o.profileDir, 0o755); err != nil {
		return nil, err
	}
	rel := func(p string) string {
		if o.report == "" {
			return p
		}
		if r, err := filepath.Rel(filepath.Dir(o.report), p); err == nil {
			return r
		}
		return p
	}
	var out []results.Profile
	for _, c := range cons {
		if !want[c.id] || !isPlugin(c) {
			continue
		}
		cpu := filepath.Join(o.profileDir, c.id+".cpu.pprof")
		heap := filepath.Join(o.profileDir, c.id+".heap.pprof")
		logf("profiling %s", c.id)
		s := r.run(ctx, c, "KTRIAGE_CPUPROFILE="+cpu, "KTRIAGE_MEMPROFILE="+heap)
		if s.Err != "" {
			logf("  %s: %s", c.id, s.Err)
		}
		p := results.Profile{ID: c.id, Contender: fmt.Sprintf("%s (`%s`, %.1f s, %.0f MiB peak RSS in this run)", c.label, c.display(), s.Wall.Seconds(), float64(s.RSS)/(1<<20)),
			Files: []string{rel(cpu), rel(heap)}, CPUFile: rel(cpu), HeapFile: rel(heap), Wall: s.Wall, RSS: s.RSS}
		if sum, err := summarize(cpu, results.SummarizeCPU); err == nil {
			p.CPU = &sum
		} else {
			logf("  %s: %v", cpu, err)
		}
		if sum, err := summarize(heap, results.SummarizeHeap); err == nil {
			p.Heap = &sum
		} else {
			logf("  %s: %v", heap, err)
		}
		var top bytes.Buffer
		for _, args := range [][]string{
			{"tool", "pprof", "-top", "-cum", "-nodecount", "25", c.argv[0], cpu},
			{"tool", "pprof", "-top", "-sample_index", "alloc_space", "-nodecount", "20", c.argv[0], heap},
		} {
			cmd := exec.CommandContext(ctx, "go", args...)
			b, err := cmd.Output()
			if err != nil {
				fmt.Fprintf(&top, "go %s: %v\n", strings.Join(args, " "), err)
				continue
			}
			fmt.Fprintf(&top, "$ go tool pprof %s\n%s\n", strings.Join(args[2:len(args)-2], " "), b)
		}
		p.Top = top.String()
		out = append(out, p)
	}
	return out, nil
}

// summarize reads the profile in file with fn.
func summarize[T any](file string, fn func(io.Reader) (T, error)) (T, error) {
	f, err := os.Open(file)
	if err != nil {
		var zero T
		return zero, err
	}
	defer f.Close()
	return fn(f)
}

// writeOutputs writes the report and the chart.
func writeOutputs(rep results.Report, o options) error {
	if o.chart != "" {
		var ids []string
		for _, id := range rep.Order {
			if id == "kubectl-nodes" || id == "floor-drain" { // the chart keeps the lines a reader compares
				continue
			}
			ids = append(ids, id)
		}
		var b bytes.Buffer
		title := "ktriage end to end: wall time and peak RSS against cluster size (medians, min–max bars)"
		xLabel := fmt.Sprintf("nodes (%d pods per node, %d Pending pods)", o.podsPerNode, o.pending)
		if err := results.WriteSVG(&b, title, xLabel, results.SeriesOf(rep.Measurements, ids)); err != nil {
			return err
		}
		if err := writeFile(o.chart, b.Bytes()); err != nil {
			return err
		}
		logf("wrote %s", o.chart)
	}
	if o.report != "" {
		var b bytes.Buffer
		if err := results.WriteMarkdown(&b, rep); err != nil {
			return err
		}
		if err := writeFile(o.report, b.Bytes()); err != nil {
			return err
		}
		logf("wrote %s", o.report)
	}
	return nil
}

func writeFile(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

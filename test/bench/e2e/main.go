// Command bench-e2e measures the plugins as whole processes against a real
// kube-apiserver filled with a large cluster, next to the floor (the LISTs
// a plugin needs and nothing else) and what a user does by hand (kubectl
// get -o json), and writes docs/benchmarks.md and docs/benchmarks.svg.
// Run it with `make bench-e2e`; see test/bench/README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ktriage/ktriage/test/bench/e2e/results"
)

type options struct {
	sizes       []int
	podsPerNode int
	pending     int
	runs        int
	runsSmall   int
	name        string
	bin         string
	report      string
	chart       string
	profile     string
	profileDir  string
	timeout     time.Duration
	workers     int
}

func main() {
	var o options
	sizes := flag.String("sizes", "500,1000,2000", "cluster sizes to measure, in nodes, ascending (the largest is the one the targets are checked at)")
	large := flag.Bool("large", false, "the large cluster: 5,000 nodes and 150,000 pods (sizes 1000,2500,5000, 30 pods per node, 500 Pending)")
	flag.IntVar(&o.podsPerNode, "pods-per-node", 15, "pods per node (two of them from DaemonSets)")
	flag.IntVar(&o.pending, "pending", 50, "Pending pods (of every cause)")
	flag.IntVar(&o.runs, "runs", 3, "runs of each contender at the largest size, interleaved")
	flag.IntVar(&o.runsSmall, "runs-small", 1, "runs of each contender at the smaller sizes (the chart's other points)")
	flag.StringVar(&o.name, "name", "bench-e2e", "name of the local cluster (hack/local-cluster --name)")
	flag.StringVar(&o.bin, "bin", "bin", "directory of the plugin binaries (make build)")
	flag.StringVar(&o.report, "report", "docs/benchmarks.md", "where to write the report (empty: do not write)")
	flag.StringVar(&o.chart, "chart", "docs/benchmarks.svg", "where to write the chart (empty: do not write)")
	flag.StringVar(&o.profile, "profile", "missed", "CPU and heap profiles of plugin runs: missed (the plugins of missed targets), all, none")
	flag.StringVar(&o.profileDir, "profile-dir", "docs/benchmarks/profiles", "where to write the profiles")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Minute, "limit of one run of one contender")
	flag.IntVar(&o.workers, "workers", 32, "concurrent requests while filling the cluster")
	flag.Parse()
	if *large {
		*sizes = "1000,2500,5000"
		o.podsPerNode, o.pending = 30, 500
	}
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 20 || (len(o.sizes) > 0 && n <= o.sizes[len(o.sizes)-1]) {
			fatalf("-sizes: want ascending node counts of at least 20, got %q", *sizes)
		}
		o.sizes = append(o.sizes, n)
	}
	if o.podsPerNode < 3 || o.pending < 1 || o.runs < 1 || o.runsSmall < 1 {
		fatalf("-pods-per-node must be at least 3, -pending, -runs and -runs-small at least 1")
	}
	switch o.profile {
	case "missed", "all", "none":
	default:
		fatalf("-profile must be missed, all or none")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	if err := run(ctx, o); err != nil {
		fatalf("%v", err)
	}
}

func logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "%s bench-e2e: %s\n", time.Now().UTC().Format("15:04:05"), fmt.Sprintf(format, a...))
}

func fatalf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "bench-e2e: %s\n", fmt.Sprintf(format, a...))
	os.Exit(2)
}

func run(ctx context.Context, o options) error {
	began := time.Now()
	repo, err := os.Getwd()
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(repo, "hack/local-cluster")); err != nil {
		return fmt.Errorf("run from the repository root (no hack/local-cluster here)")
	}
	bin, err := filepath.Abs(o.bin)
	if err != nil {
		return err
	}
	for _, p := range pluginBinaries {
		if _, err := os.Stat(filepath.Join(bin, p)); err != nil {
			return fmt.Errorf("no %s in %s: run make build first", p, bin)
		}
	}
	work, err := os.MkdirTemp("", "bench-e2e-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	floor, measureBin := filepath.Join(work, "floor"), filepath.Join(work, "measure")
	logf("building the floor and measure programs")
	for bin, pkg := range map[string]string{floor: "./test/bench/e2e/floor", measureBin: "./test/bench/e2e/measure"} {
		build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", bin, pkg)
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("building %s: %w", pkg, err)
		}
	}

	machine := machineInfo(ctx)
	logf("starting the local cluster %q", o.name)
	lc, err := startCluster(ctx, repo, o.name)
	defer lc.stop() // always, even when up failed half-way
	if err != nil {
		return err
	}
	machine = append(machine, [2]string{"kube-apiserver", versionOf(ctx, lc.env["KTRIAGE_KUBECTL"], lc.env["KUBECONFIG"])})
	cs, _, err := lc.adminClient()
	if err != nil {
		return err
	}
	ca, err := lc.servingCA()
	if err != nil {
		return err
	}
	proxy, err := startProxy(lc.env["KTRIAGE_APISERVER"], ca)
	if err != nil {
		return err
	}
	defer proxy.Close()
	kubeconfig := filepath.Join(work, "kubeconfig")
	if err := writeKubeconfig(kubeconfig, proxy.URL, proxy.CAPEM, lc.env["KTRIAGE_ADMIN_TOKEN"]); err != nil {
		return err
	}
	r := &runner{measure: measureBin, proxy: proxy, env: contenderEnv(kubeconfig, work), timeout: o.timeout}

	f := newFiller(cs, o.sizes, o.podsPerNode, o.pending, o.workers)
	logf("creating namespaces")
	if err := f.namespaces(ctx); err != nil {
		return err
	}
	// Nothing may rewrite the objects while they are measured (see
	// stopComponent); kwok manages none of the benchmark's nodes, and every
	// pod it would otherwise watch costs the API server a little.
	for _, comp := range []string{"kube-controller-manager", "kwok"} {
		if err := lc.stopComponent(comp); err != nil {
			return fmt.Errorf("stopping %s: %w", comp, err)
		}
	}
	// kubectl's discovery cache, warm as on a user's machine.
	warm := exec.CommandContext(ctx, lc.env["KTRIAGE_KUBECTL"], "api-resources")
	warm.Env, warm.Stdout = r.env, nil
	if err := warm.Run(); err != nil {
		return fmt.Errorf("kubectl api-resources through the proxy: %w", err)
	}

	rep := results.Report{Runs: o.runs, RunsSmall: o.runsSmall, Chart: filepath.Base(o.chart), Kubectl: "kubectl-pods", Floor: map[string]string{},
		Held: map[string]results.Held{"floor-pods-nodes": {ID: "floor-pods-nodes-held",
			Why: "why-pending and qos-audit answer from every pod of every node at once (the scheduler's filters count and match a node's pods; QoS eviction ranks a node's pods against each other), so they hold the decoded pods too, trimmed of what no analysis reads."}},
		Beyond: map[string]string{"cert-expiry": "Beyond the floor's reading, cert-expiry parses every certificate and checks each one's signature against its issuer: " +
			"one public-key verification per certificate, the only way to tell a CA that has the right name but not the key that signed. " +
			"The checks run on every core while the Secrets are still being listed; what is left after the last page is what the cores could not hide."}}
	var all []contender
	pendingAt := map[int]int{}
	for _, n := range o.sizes {
		logf("filling the cluster to %d nodes", n)
		t0, w0, pods0 := time.Now(), writes.Load(), f.counts["pods"]
		if err := f.grow(ctx, n); err != nil {
			return err
		}
		created := time.Since(t0)
		w := int(writes.Load() - w0)
		logf("  %d writes in %s: %.0f writes/s, %.0f pods/s (load average %s)", w, created.Round(time.Second),
			float64(w)/created.Seconds(), float64(f.counts["pods"]-pods0)/created.Seconds(), loadAverage())
		if err := f.settle(ctx); err != nil {
			return err
		}
		fill := time.Since(t0)
		logf("  %d nodes, %d pods (%d Pending), %s: created in %s, scheduler settled after %s", n, f.counts["pods"], f.counts["Pending pods"],
			f.describe(), created.Round(time.Second), (fill - created).Round(time.Second))
		// The plugins are taken from -bin now, when this size is measured,
		// and copied: a rebuild of -bin while a long run fills the next size
		// measures the newest build there (the report names each size's).
		plugins, version, err := snapshotPlugins(ctx, bin, filepath.Join(work, fmt.Sprintf("bin-%d", n)))
		if err != nil {
			return err
		}
		rep.Sizes = append(rep.Sizes, results.Size{Nodes: n, Pods: f.counts["pods"], Pending: f.counts["Pending pods"], Objects: f.describe(),
			Fill: fill, Writes: w, WritesTime: created, Plugins: version})
		pendingAt[n] = f.counts["Pending pods"]

		cons := contenders(plugins, floor, lc.env["KTRIAGE_KUBECTL"], f, n)
		all = cons
		runs := o.runsSmall
		if n == o.sizes[len(o.sizes)-1] {
			runs = o.runs
		}
		ms, err := measure(ctx, r, cons, n, runs)
		if err != nil {
			return err
		}
		rep.Measurements = append(rep.Measurements, ms...)
	}
	if len(all) == 0 {
		return errors.New("nothing measured")
	}
	// The by-hand row: both kubectl commands, one after the other.
	for _, n := range o.sizes {
		var pods, nodes results.Measurement
		for _, m := range rep.Measurements {
			if m.Nodes == n && m.ID == "kubectl-pods" {
				pods = m
			}
			if m.Nodes == n && m.ID == "kubectl-nodes" {
				nodes = m
			}
		}
		rep.Measurements = append(rep.Measurements, results.Sequence("by-hand", "by hand: kubectl pods + nodes as JSON",
			"kubectl get pods -A -o json; kubectl get nodes -o json", pods, nodes))
	}
	for _, c := range all {
		rep.Order = append(rep.Order, c.id)
		if c.id == "kubectl-nodes" {
			rep.Order = append(rep.Order, "by-hand")
		}
		if c.floor != "" {
			rep.Floor[c.id] = c.floor
		}
	}
	rep.Verdicts = evaluate(rep.Measurements, pendingAt)
	for _, v := range rep.Verdicts {
		mark := "MISSED"
		if v.Met {
			mark = "met"
		}
		logf("%-6s %s: %s", mark, v.Target, v.Measured)
	}

	if o.profile != "none" {
		prof, err := profiles(ctx, r, all, rep.Verdicts, o, bin)
		if err != nil {
			return err
		}
		rep.Profiles = prof
	}
	rep.Machine = machine
	rep.Method = method(o)
	rep.Generated = time.Now()
	rep.Duration = time.Since(began)
	if err := writeOutputs(rep, o); err != nil {
		return err
	}
	logf("done in %s", rep.Duration.Round(time.Second))
	return nil
}

var pluginBinaries = []string{"kubectl-why_pending", "kubectl-qos_audit", "kubectl-cert_expiry", "kubectl-netcheck", "kubectl-drain_preflight"}

// snapshotPlugins copies the plugin binaries from bin to dir and returns
// dir and their version.
func snapshotPlugins(ctx context.Context, bin, dir string) (string, string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err
	}
	for _, p := range pluginBinaries {
		b, err := os.ReadFile(filepath.Join(bin, p))
		if err != nil {
			return "", "", fmt.Errorf("no %s in %s: %w", p, bin, err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), b, 0o755); err != nil {
			return "", "", err
		}
	}
	v, err := exec.CommandContext(ctx, filepath.Join(dir, "kubectl-why_pending"), "--version").Output()
	if err != nil {
		return "", "", fmt.Errorf("kubectl-why_pending --version: %w", err)
	}
	f := strings.Fields(string(v))
	return dir, f[len(f)-1], nil
}

// measure runs every contender o.runs times, interleaved: run i of each
// before run i+1 of any, in an order rotated each round so that none always
// runs first (on a cold cache) or right after the heaviest.
func measure(ctx context.Context, r *runner, cons []contender, nodes, runs int) ([]results.Measurement, error) {
	ms := make([]results.Measurement, len(cons))
	for i, c := range cons {
		ms[i] = results.Measurement{ID: c.id, Label: c.label, Command: c.display(), Nodes: nodes}
	}
	for round := range runs {
		for k := range cons {
			i := (k + round*len(cons)/max(runs, 1)) % len(cons)
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			s := r.run(ctx, cons[i])
			ms[i].Samples = append(ms[i].Samples, s)
			status := "ok"
			if s.Err != "" {
				status = s.Err
			}
			logf("  [%d/%d] %-22s %7.2fs %6.0f MiB %7.1f MiB in, %5d requests: %s", round+1, runs, cons[i].id,
				s.Wall.Seconds(), float64(s.RSS)/(1<<20), float64(s.BytesIn)/(1<<20), s.Requests, status)
		}
	}
	return ms, nil
}

// evaluate checks the targets of the performance issue at the largest size.
func evaluate(ms []results.Measurement, pendingAt map[int]int) []results.Verdict {
	var out []results.Verdict
	for _, id := range []string{"why-pending-all", "qos-audit-all", "cert-expiry"} {
		floor := "floor-pods-nodes"
		if id == "cert-expiry" {
			floor = "floor-cert-sources"
		}
		out = append(out,
			results.EvaluateRatio(ms, results.RatioTarget{Contender: id, Baseline: floor, Metric: results.MetricWall, Limit: 1.3}),
			results.EvaluateRatio(ms, results.RatioTarget{Contender: id, Baseline: floor, Metric: results.MetricRSS, Limit: 2}))
	}
	for _, id := range []string{"why-pending-pod-1", "netcheck", "drain-preflight"} {
		out = append(out, results.EvaluateRatio(ms, results.RatioTarget{Contender: id, Baseline: "kubectl-pods", Metric: results.MetricWall, Limit: 0.2}))
	}
	out = append(out, results.EvaluateGrowth(ms, results.GrowthTarget{Contender: "why-pending-all", Pending: pendingAt, Limit: 1.5}))
	return out
}

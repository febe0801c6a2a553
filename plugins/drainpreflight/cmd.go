// Package drainpreflight implements "kubectl drain-preflight": say, before
// anyone drains a node, whether `kubectl drain` with the same flags will
// finish and where every pod will land. It wires flags → Snapshot (load.go)
// → drain.Analyze → printer; the analysis and its tables are pkg/drain.
package drainpreflight

import (
	"context"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/ktriage/ktriage/pkg/cli"
	"github.com/ktriage/ktriage/pkg/drain"
	"github.com/ktriage/ktriage/pkg/report"
	"github.com/ktriage/ktriage/pkg/version"
)

const long = `Say whether draining nodes will finish, and where every pod will land, before draining.

It answers what "kubectl drain" with the same flags would do, without cordoning, evicting
or deleting anything:
  - each pod's action (evict, delete, skip, blocked), decided by kubectl's own drain filters
    with kubectl's own messages;
  - each eviction as the Eviction API answers it, PodDisruptionBudgets spent and recovering
    as replacements are scheduled and become ready, round after round;
  - where each replacement is scheduled (kube-scheduler's filters, priority order and
    preemption), the pods that would stay Pending and why, and the load on the other nodes.

Verdict: safe (the drain finishes and every replacement finds a node), unschedulable (the
drain finishes but pods stay Pending) or blocked (kubectl drain fails or waits for ever),
with the smallest change that unblocks it. With several nodes it also says in what order
they can be drained one after another.

Exit codes: 0 safe, 1 unschedulable or blocked, 2 could not run.`

const examples = `  # Will draining this node finish, and where does every pod go?
  kubectl drain-preflight node-1 --ignore-daemonsets --delete-emptydir-data

  # Per-pod detail, the budgets' math and the other nodes' load
  kubectl drain-preflight node-1 --ignore-daemonsets -o wide

  # A pool: which nodes can go one after another, and in what order
  kubectl drain-preflight -l pool=blue --ignore-daemonsets

  # Offline, against a dump of the cluster
  kubectl get nodes,pods,poddisruptionbudgets,daemonsets,priorityclasses -A -o yaml > state.yaml
  kubectl drain-preflight node-1 --ignore-daemonsets --cluster-state state.yaml`

// Options are the command's flags and arguments.
type Options struct {
	*cli.Common
	Drain        drain.Options
	ClusterState string
	Nodes        []string

	now func() time.Time
}

// NewCommand builds the "kubectl drain-preflight" command.
func NewCommand(streams genericiooptions.IOStreams) *cobra.Command {
	return newCommand(streams, time.Now)
}

// newCommand builds the command with the clock that says when the drain
// starts.
func newCommand(streams genericiooptions.IOStreams, now func() time.Time) *cobra.Command {
	o := &Options{Common: cli.NewCommon(streams), now: now}
	o.Drain.GracePeriodSeconds = -1
	cmd := cli.NewRoot("kubectl drain-preflight", "Say whether draining nodes will finish and where every pod will land", long, examples)
	cmd.Use = "drain-preflight NODE... | -l NODE_SELECTOR [flags]"
	cmd.RunE = o.RunE(o.Complete, o.Validate, o.Run)
	o.AddFlags(cmd, cli.Features{Selector: true})
	if f := cmd.Flags().Lookup("selector"); f != nil {
		f.Usage = "Select the nodes to drain by label, as kubectl drain -l does"
	}
	o.CompleteNodes(cmd, 0)
	f := cmd.Flags()
	f.BoolVar(&o.Drain.Force, "force", false, "As kubectl drain: also delete pods that declare no controller")
	f.BoolVar(&o.Drain.IgnoreDaemonSets, "ignore-daemonsets", false, "As kubectl drain: leave DaemonSet-managed pods on the node")
	f.BoolVar(&o.Drain.DeleteEmptyDirData, "delete-emptydir-data", false, "As kubectl drain: also delete pods with emptyDir data")
	f.BoolVar(&o.Drain.DisableEviction, "disable-eviction", false, "As kubectl drain: delete instead of evict, bypassing PodDisruptionBudgets")
	f.StringVar(&o.Drain.PodSelector, "pod-selector", "", "As kubectl drain: only pods matching this label selector are drained")
	f.IntVar(&o.Drain.GracePeriodSeconds, "grace-period", -1, "As kubectl drain: seconds each pod is given to terminate (-1: the pod's own)")
	f.IntVar(&o.Drain.SkipWaitForDeleteTimeoutSeconds, "skip-wait-for-delete-timeout", 0, "As kubectl drain: do not wait for pods deleted more than this many seconds ago")
	f.StringVar(&o.ClusterState, "cluster-state", "", "Read nodes, pods, budgets... from this dump (kubectl get ... -A -o yaml) instead of the live cluster")
	return cmd
}

// Complete takes the arguments.
func (o *Options) Complete(_ *cobra.Command, args []string) error {
	o.Nodes = args
	return nil
}

// Validate checks flag combinations, as kubectl drain does.
func (o *Options) Validate() error {
	if err := o.Common.Validate(); err != nil {
		return err
	}
	switch {
	case len(o.Nodes) == 0 && o.Selector == "":
		return cli.UsageErrorf("name the nodes to check: NODE... or -l NODE_SELECTOR")
	case len(o.Nodes) > 0 && o.Selector != "":
		return cli.UsageErrorf("cannot specify both a node name and a --selector option")
	case o.Drain.SkipWaitForDeleteTimeoutSeconds < 0:
		return cli.UsageErrorf("--skip-wait-for-delete-timeout must not be negative")
	}
	if o.Drain.PodSelector != "" {
		if _, err := labels.Parse(o.Drain.PodSelector); err != nil {
			return cli.UsageErrorf("--pod-selector: %v", err)
		}
	}
	return nil
}

// Run loads the snapshot, simulates the drain, prints and sets the exit code.
func (o *Options) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	rep := drain.NewReport(version.Get())
	snap, nodes, err := o.load(ctx, &rep.Metadata)
	if err != nil {
		return err
	}
	opts := o.Drain
	opts.Nodes = nodes
	opts.Now = o.now()
	res, err := drain.Analyze(snap, opts)
	if err != nil {
		return err
	}
	rep.SetResult(res, snap.Warnings)
	if err := o.PrintReport(rep); err != nil {
		return err
	}
	if res.Verdict != drain.Safe && o.FailOnSeverity() != report.SeverityNone {
		return cli.Found()
	}
	return nil
}

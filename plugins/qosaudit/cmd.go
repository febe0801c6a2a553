// Package qosaudit implements "kubectl qos-audit": QoS classes exactly as
// Kubernetes computes them, for live pods and for manifests before they are
// applied, with the kubelet's eviction order and OOM score adjustments. It
// wires flags → Snapshot → qosaudit.AnalyzeLive or AnalyzeFiles → printer;
// the analysis is pkg/qosaudit.
package qosaudit

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/ktriage/ktriage/pkg/cli"
	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/pkg/qos"
	"github.com/ktriage/ktriage/pkg/qosaudit"
	"github.com/ktriage/ktriage/pkg/version"
)

const long = `Show the QoS class of pods exactly as Kubernetes computes it, and what it means
when a node runs out of memory.

Live (default): for the pods in scope, the class computed from each pod's spec next
to the class the apiserver stored (status.qosClass); per node, the order in which the
kubelet evicts pods under memory pressure (usage above requests, then priority, then
usage; usage from metrics.k8s.io when served, else each pod's memory request) and the
oom_score_adj the kubelet gives each container; requests and limits against the
node's allocatable.

Manifests (-f): the class the apiserver will assign when the manifests are applied:
requests defaulted from limits, the namespace's LimitRange defaults (from the live
cluster, or LimitRange objects in the -f input; --local uses only the latter) and
pod-level resource defaulting, then the class. Shows when a LimitRange changes it.

Findings (rule IDs for --ignore and the ktriage.io/ignore annotation):
  QA101 BestEffort pod                      QA107 pods of one workload differ in class
  QA102 container without memory limit      QA108 required class not met (--require, or the
  QA103 memory request ≠ limit where              ktriage.io/qos-required annotation on a pod,
        Guaranteed is expected                    workload or namespace)
  QA104 container without requests          QA109 stored class differs from the computed one
  QA105 CPU limit (throttling, info)        QA110 LimitRange changes the class (-f)
  QA106 namespace without LimitRange        QA111 memory limits overcommit a node
                                            QA112 requests exceed a node's allocatable
                                            QA113 apiserver refuses the pods after
                                                  defaulting (-f)

Exit codes: 0 nothing at or above --fail-on, 1 a finding reaches it, 2 could not run.`

const examples = `  # Classes of the pods in the current namespace, eviction order of their nodes
  kubectl qos-audit

  # Every pod of the cluster, one row per container with its oom_score_adj
  kubectl qos-audit -A -o wide

  # The kubelet's eviction order on one node
  kubectl qos-audit -A --node worker-3

  # One workload
  kubectl qos-audit deploy/web -n shop

  # Policy: every database pod must be Guaranteed (exit 1 otherwise)
  kubectl qos-audit -A -l tier=db --require Guaranteed

  # CI: the class these manifests will get in namespace shop, LimitRanges included
  kubectl qos-audit -f k8s/ -R -n shop -o json

  # CI without a cluster: only LimitRanges from the manifests count
  kubectl qos-audit -f k8s/ --local --fail-on warning`

// Options are the command's flags and arguments.
type Options struct {
	*cli.Common
	Require string
	Node    string
	Local   bool
	Args    []string

	require corev1.PodQOSClass
}

// NewCommand builds the "kubectl qos-audit" command.
func NewCommand(streams genericiooptions.IOStreams) *cobra.Command {
	cmd, _ := newCommand(streams)
	return cmd
}

func newCommand(streams genericiooptions.IOStreams) (*cobra.Command, *Options) {
	o := &Options{Common: cli.NewCommon(streams)}
	cmd := cli.NewRoot("kubectl qos-audit", "Show QoS classes exactly as Kubernetes computes them, eviction order and OOM scores", long, examples)
	cmd.Use = "qos-audit [POD | TYPE/NAME ...] [-n NAMESPACE | -A] [-l SELECTOR] [-f FILE [-R]] [--require CLASS] [--node NODE]"
	cmd.RunE = o.RunE(o.Complete, o.Validate, o.Run)
	o.AddFlags(cmd, cli.Features{Namespaced: true, Selector: true, Files: true})
	o.CompletePods(cmd, 0)
	cmd.Flags().StringVar(&o.Require, "require", "", "Lowest QoS class every pod in scope must have: Guaranteed, Burstable or BestEffort (finding QA108)")
	cmd.Flags().StringVar(&o.Node, "node", "", "Audit the pods of this node and show its eviction order")
	cmd.Flags().BoolVar(&o.Local, "local", false, "With -f: do not contact the cluster; only LimitRanges in the manifests apply")
	_ = cmd.RegisterFlagCompletionFunc("require", cobra.FixedCompletions([]string{"Guaranteed", "Burstable", "BestEffort"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd, o
}

// Complete takes the arguments.
func (o *Options) Complete(_ *cobra.Command, args []string) error {
	o.Args = args
	return nil
}

// Validate checks flag combinations.
func (o *Options) Validate() error {
	if err := o.Common.Validate(); err != nil {
		return err
	}
	if o.Require != "" {
		c, err := qos.ParseClass(o.Require)
		if err != nil {
			return cli.UsageErrorf("--require: %v", err)
		}
		o.require = c
	}
	files := len(o.Filenames) > 0
	switch {
	case o.Local && !files:
		return cli.UsageErrorf("--local needs -f: it means the manifests are read without the cluster")
	case files && o.Node != "" && len(o.Args) == 0:
		return cli.UsageErrorf("--node works on the live cluster, not with -f")
	}
	if err := o.ValidateTargets(o.Args); err != nil {
		return err
	}
	if o.Node != "" && len(o.Args) > 0 {
		return cli.UsageErrorf("pass either --node or names, not both")
	}
	return nil
}

// Run loads the snapshot, analyses it and prints the report.
func (o *Options) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	load, analyze := o.loadLive, qosaudit.AnalyzeLive
	if len(o.Filenames) > 0 {
		load, analyze = o.loadFiles, qosaudit.AnalyzeFiles
	}
	snap, opts, meta, err := load(ctx)
	if err != nil {
		return err
	}
	rep := analyze(snap, opts, version.Get())
	rep.Metadata.Context, rep.Metadata.Namespace = meta.Context, meta.Namespace
	if meta.Input != "" {
		rep.Metadata.Input = meta.Input
	}
	if o.Node != "" && len(rep.Nodes) == 0 {
		if snap.Loaded[cluster.KindNode] {
			return &cli.ExitError{Code: cli.ExitFailure, Err: fmt.Errorf("node %q not found: check the name with kubectl get nodes", o.Node)}
		}
		rep.Warn("cannot show node " + o.Node + ": nodes could not be listed")
	}
	rep.CountClasses()
	return o.PrintReport(rep)
}

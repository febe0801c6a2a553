// Package whypending implements "kubectl why-pending": explain why pods are
// Pending, stage by stage, with the scheduler's own message and the fix. It
// wires flags → Snapshot → pkg/pending → printer: load.go reads the cluster
// (through the loads pending.ExplainLive plans) or the manifests; the
// analysis, the report and its tables are pkg/pending.
package whypending

import (
	"context"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/ktriage/ktriage/pkg/cli"
	"github.com/ktriage/ktriage/pkg/pending"
	"github.com/ktriage/ktriage/pkg/report"
	"github.com/ktriage/ktriage/pkg/version"
)

const long = `Explain why pods are Pending and what to change.

For each pod it names the stage it is stuck in, the evidence, and a concrete fix:
  Gated                spec.schedulingGates keep the scheduler away
  NoScheduler          no running scheduler serves spec.schedulerName
  WaitingForScheduler  the scheduler spec.schedulerName names runs but has not acted yet
  Unschedulable        kube-scheduler's filters reject every node (per node, per filter,
                       with the exact message kube-scheduler writes)
  VolumeBinding        a PersistentVolumeClaim is missing or cannot bind
  NotCreated           the controller cannot create the pods (quota, LimitRange, admission)
  ImagePull            the image cannot be pulled
  ContainerCreating    a ConfigMap/Secret/claim is missing, or the sandbox fails
  InitContainers       an init container fails or is still running
  NodeLost             the pod's node is gone or not ready

For a pod no node takes it also asks the node autoscaler (cluster-autoscaler or
Karpenter) whether a node will come, and if not, why: each reason with the node group
or NodePool it concerns and the fix, or that no autoscaler runs or watches the pod.

Each pod's nodes are grouped by reason, as kube-scheduler's message groups them: the
reason, the filter, the rule that explains it, how many nodes and the first 3 by name.
Every node's verdict is listed with -o wide when one pod is explained, and with
--per-node in any output (json and yaml then grow with pods times nodes).

With no argument it explains every Pending pod in the namespace (or all with -A).
Arguments are pods or TYPE/NAME of a deployment, replicaset, statefulset, daemonset,
job or cronjob (their Pending pods, or why they have none).

With -f it answers "would these manifests schedule?" against the live cluster's nodes
and load, the namespace's LimitRange defaults and ResourceQuota headroom; with
--cluster-state it uses a dump instead of a live cluster.

Exit codes: 0 nothing Pending, 1 a pod is (or would be) Pending, 2 could not run.`

const examples = `  # Every Pending pod in the current namespace
  kubectl why-pending

  # One pod, with the per-node breakdown and the fixes
  kubectl why-pending web-7d4b9c-x2x9q -o wide

  # A Deployment: its Pending pods, or why it has none (quota, LimitRange, admission)
  kubectl why-pending deploy/web -n shop

  # Every Pending pod of the cluster, as JSON
  kubectl why-pending -A -o json

  # One pod's verdict on every node, as JSON
  kubectl why-pending web-7d4b9c-x2x9q -o json --per-node

  # CI: would these manifests schedule on the current cluster?
  kubectl why-pending -f k8s/ -n shop

  # Offline, against a dump
  kubectl get nodes,pods,pvc,pv,storageclasses,resourcequotas,limitranges,poddisruptionbudgets -A -o yaml > state.yaml
  kubectl why-pending -f k8s/ --cluster-state state.yaml`

// Options are the command's flags and arguments.
type Options struct {
	*cli.Common
	Verbose      bool
	PerNode      bool // every node's verdict, not the nodes grouped by reason
	ClusterState string
	// SchedulerTimeout: how long a pod may go without any scheduler
	// reaction before NoScheduler is concluded.
	SchedulerTimeout time.Duration
	Args             []string

	now func() time.Time
}

// NewCommand builds the "kubectl why-pending" command.
func NewCommand(streams genericiooptions.IOStreams) *cobra.Command {
	o := &Options{Common: cli.NewCommon(streams), now: time.Now}
	cmd := cli.NewRoot("kubectl why-pending", "Explain why pods are Pending and what to change", long, examples)
	cmd.Use = "why-pending [POD | TYPE/NAME ...] [-n NAMESPACE | -A] [-l SELECTOR] [-f FILE]"
	cmd.RunE = o.RunE(o.Complete, o.Validate, o.Run)
	o.AddFlags(cmd, cli.Features{Namespaced: true, Selector: true, Files: true})
	o.CompletePods(cmd, 0)
	cmd.Flags().BoolVarP(&o.Verbose, "verbose", "v", false, "Show the per-node breakdown, scheduler messages and fixes (like -o wide)")
	cmd.Flags().BoolVar(&o.PerNode, "per-node", false, "List every node's verdict for each pod (.pods[].nodes[]), in every output; otherwise nodes are grouped by reason, and listed one by one only by -o wide for a single pod")
	cmd.Flags().DurationVar(&o.SchedulerTimeout, "scheduler-timeout", pending.DefaultSchedulerGrace, "How long a pod may wait without any reaction from its scheduler before no running scheduler is blamed")
	cmd.Flags().StringVar(&o.ClusterState, "cluster-state", "", "With -f: read nodes, pods, claims, quotas... from this dump (kubectl get ... -A -o yaml) instead of the live cluster")
	return cmd
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
	if o.ClusterState != "" && len(o.Filenames) == 0 {
		return cli.UsageErrorf("--cluster-state needs -f: it is the cluster the manifests are checked against")
	}
	return o.ValidateTargets(o.Args)
}

// Run loads what the analysis needs, explains, prints and sets the exit code.
func (o *Options) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	rep := pending.NewReport(version.Get())
	rep.Verbose = o.Verbose
	var err error
	if len(o.Filenames) > 0 {
		err = o.runManifests(ctx, rep)
	} else {
		err = o.runLive(ctx, rep)
	}
	if err != nil {
		return err
	}
	rep.CountStages()
	if !o.listsNodes(len(rep.Pods)) {
		rep.DropNodeLists()
	}
	if err := o.PrintReport(rep); err != nil {
		return err
	}
	// A Pending pod fails the run even when its findings were suppressed
	// with --ignore; --fail-on never turns that off too.
	if rep.PendingCount() > 0 && o.FailOnSeverity() != report.SeverityNone {
		return cli.Found()
	}
	return nil
}

// listsNodes says whether the output lists every node's verdict: only when
// asked, since it grows with pods times nodes (about 1 GB of JSON for 500
// Pending pods on 5,000 nodes). -o wide (or -v) asks for it for one pod.
func (o *Options) listsNodes(pods int) bool {
	wide := o.Output == "wide" || o.Verbose && o.Output == "table"
	return o.PerNode || wide && pods == 1
}

func (o *Options) analysisOptions() pending.Options {
	return pending.Options{Now: o.now(), SchedulerGrace: o.SchedulerTimeout}
}

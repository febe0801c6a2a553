// Package netcheck implements "kubectl netcheck": can SRC reach DST, and if
// not, why? A live probe from inside SRC's network namespace (an ephemeral
// container) joined with an explanation from the cluster's objects: Service →
// EndpointSlices, DNS search expansion, and NetworkPolicy egress and ingress.
package netcheck

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/ktriage/ktriage/pkg/cli"
	nc "github.com/ktriage/ktriage/pkg/netcheck"
	"github.com/ktriage/ktriage/pkg/printers"
	"github.com/ktriage/ktriage/pkg/probe"
)

const long = `Test and explain connectivity from a pod to a destination.

The live probe adds an ephemeral container (this project's static netcheck-probe,
Pod Security "restricted" compliant) to SRC, so the check runs in SRC's network
namespace with SRC's DNS settings. It needs only "get pods" and "patch
pods/ephemeralcontainers" - no exec or attach. An ephemeral container cannot be
removed: it stays, stopped, in the pod until the pod is deleted. --no-probe
changes nothing and only explains.

The explanation covers the source and destination pods, nodes and IPs; the
Service's EndpointSlices (no endpoints, selector matching nothing, endpoints not
ready, port/targetPort/named-port mismatches); NetworkPolicy egress of SRC and
ingress of DST with the deciding policy and rule; and how a DNS name expands with
SRC's search list and ndots, and how many queries that costs.

SRC is a pod: NAME, NS/NAME, or TYPE/NAME (deployment, replicaset, statefulset,
daemonset, job, cronjob, service) which picks one ready pod.
DST is a pod (NAME, NS/NAME, pod/NAME[:PORT]), one ready pod of a workload
(TYPE/NAME[:PORT], e.g. deploy/web:8080), a Service (svc/NAME[:PORT]), a DNS
name (HOST:PORT, or a name with a dot), or an address (IP, IP:PORT); a Service's
ClusterIP is judged as that Service, by its backends. A DST without a namespace
is looked up in SRC's namespace, as the pod's DNS search list resolves names;
-n, when given, wins.

Verdicts: reachable, blocked-by-policy, no-endpoints, port-mismatch, dns-failure,
refused, timeout; with --no-probe also unknown, when the objects cannot tell (an
ExternalName Service: its name is probed, never assumed reachable). Without a
probe, a Service whose numeric targetPort none of its backends declares, while
they declare other ports, is port-mismatch naming those ports (pods that declare
no port at all may listen anyway: that is a warning, NC202); a probe's result
decides when one runs.
Exit codes: 0 reachable, 1 not reachable or unknown, 2 could not run.

Manifests (CI): with -f FILE|DIR (-R) the Pods, the workloads (Deployments,
ReplicaSets, StatefulSets, DaemonSets, Jobs, CronJobs: one pod each from the pod
template, with its labels and namespace, named like the workload, so deploy/web
works as SRC and DST), Services, EndpointSlices, Namespaces (their labels feed
namespaceSelectors) and NetworkPolicies of the files are merged over the live
cluster's objects, the manifest winning, or over a dump given with
--cluster-state (` + nc.ClusterStateCommand + `),
and answered by the same analysis. A Service whose backends the manifests change
gets the EndpointSlices the controller would write, unless the files give them.
-f implies --no-probe: a probe needs a live pod. Without a kubeconfig and without
--cluster-state, -f works offline from the files alone and makes no API call (an
empty --cluster-state, e.g. /dev/null, keeps it offline anywhere).

--expect FILE answers a YAML list of expectations instead of SRC DST:
  - {from: deploy/frontend, to: svc/api, port: 80, expect: reachable}
  - {from: deploy/frontend, to: deploy/db, port: 5432, protocol: tcp, expect: blocked}
from and to take the SRC and DST forms, namespace (optional) is the namespace of
both, protocol defaults to tcp; expect is reachable, blocked (any verdict but
reachable and unknown) or a verdict. Each one not met is an NC108 finding at the
entry's FILE:LINE naming the policy and rule that decided (or the missing rule).
Exit 1 when one is not met; 2 on bad input, as one line FILE:LINE: what is wrong.

--matrix shows who reaches whom among the workloads of the files' namespaces,
on the ports they declare (containerPorts): a grid in table output, and in
-o json|yaml the section
  "matrix": {"diff": false,
    "workloads": [{"namespace", "kind", "name", "ports": [{"port", "name", "protocol"}]}],
    "cells": [{"from": "NS/KIND/NAME", "to": "NS/KIND/NAME", "port", "portName",
               "protocol", "verdict", "decidedBy"}]}
With --cluster-state OLD -f NEW it lists only what changed: "diff": true, and
each cell has "change" (added, removed, changed) and "before" (OLD's verdict);
both sides are taken as manifests. A workload's traffic to itself is not judged.
--expect and --matrix answer with "expectations": [{"from", "to", "namespace",
"port", "protocol", "expect", "source": {"file", "line"}, "verdict", "met",
"reason", "decidedBy"}] and "matrix" beside the findings; no single verdict.`

const examples = `  # Can the frontend pod reach the api Service on port 80?
  kubectl netcheck shop/frontend-7d4b9c-x2x9q svc/api:80 -n shop

  # From one ready pod of a Deployment to a pod, explaining only (changes nothing)
  kubectl netcheck deploy/frontend shop/db-0 --port 5432 --no-probe

  # HTTP status of a Service reached by its DNS name, as JSON
  kubectl netcheck frontend api.shop:8080 --protocol http -o json

  # Does the name resolve from this pod, and how many queries does it cost?
  kubectl netcheck frontend api.example.com --protocol dns

  # UDP (a DNS-style request and answer) to the cluster DNS
  kubectl netcheck frontend 10.96.0.10:53 --protocol udp

  # CI: would these manifests let the frontend reach the api? (offline without a kubeconfig)
  kubectl netcheck -f k8s/ -R deploy/frontend svc/api:80

  # CI: gate a pull request on expectations, as SARIF for code scanning
  kubectl netcheck -f k8s/ -R --expect netcheck-expect.yaml -o sarif

  # Who reaches whom, and what a change does to it
  kubectl netcheck -f k8s/ -R --matrix
  kubectl netcheck --cluster-state main.yaml -f k8s/ -R --matrix`

// Options are the command's flags and arguments.
type Options struct {
	*cli.Common
	Src, Dst      string
	Port          string
	Protocol      string
	Path          string
	Timeout       time.Duration
	StartTimeout  time.Duration
	Image         string
	PullPolicy    string
	NoProbe       bool
	ClusterDomain string
	// ClusterState is a dump the manifests are merged over, instead of
	// the live cluster.
	ClusterState string
	// Expect is an --expect file; Matrix asks for --matrix.
	Expect string
	Matrix bool
}

// NewCommand builds the "kubectl netcheck" command.
func NewCommand(streams genericiooptions.IOStreams) *cobra.Command {
	o := &Options{Common: cli.NewCommon(streams), Protocol: "tcp", Timeout: 5 * time.Second, StartTimeout: 60 * time.Second}
	cmd := cli.NewRoot("kubectl netcheck", "Test and explain connectivity between two pods", long, examples)
	cmd.Use = "netcheck SRC DST [--port PORT] [--protocol tcp|udp|http|https|dns] [--no-probe] [-f FILE|DIR [--cluster-state DUMP]] | -f FILE|DIR --expect FILE|--matrix"
	cmd.Args = func(cmd *cobra.Command, args []string) error {
		switch {
		case o.Expect != "" || o.Matrix:
			if len(args) != 0 {
				return cli.UsageErrorf("--expect and --matrix take no SRC and DST: the expectations (or the files' workloads) name them")
			}
		case len(args) != 2:
			return cli.UsageErrorf("requires SRC and DST arguments, got %d", len(args))
		}
		return nil
	}
	cmd.RunE = o.RunE(o.Complete, o.Validate, o.Run)
	o.AddFlags(cmd, cli.Features{Files: true})
	o.CompletePods(cmd, 2)
	f := cmd.Flags()
	f.StringVar(&o.Port, "port", "", "Destination port (number, or a name resolved on the destination pod or Service); overrides the one in DST")
	f.StringVar(&o.Protocol, "protocol", o.Protocol, "Check to run: "+strings.Join(nc.Protocols, "|"))
	f.StringVar(&o.Path, "path", "/", "HTTP path for --protocol http|https")
	f.DurationVar(&o.Timeout, "timeout", o.Timeout, "Time the probe allows the check itself")
	f.DurationVar(&o.StartTimeout, "start-timeout", o.StartTimeout, "Time allowed for the probe container to be pulled and started")
	f.StringVar(&o.Image, "image", "", "Probe image (default "+probe.DefaultImageRepository+":<version>)")
	f.StringVar(&o.PullPolicy, "image-pull-policy", "", "Probe image pull policy: Always|IfNotPresent|Never (default: the cluster's)")
	f.BoolVar(&o.NoProbe, "no-probe", false, "Explain from the cluster's objects only; change nothing (implied by -f and --cluster-state)")
	f.StringVar(&o.ClusterState, "cluster-state", "", "Merge -f over this dump ("+nc.ClusterStateCommand+") instead of the live cluster")
	f.StringVar(&o.Expect, "expect", "", "With -f: answer this YAML list of {from, to, port, protocol, expect} instead of SRC DST; exit 1 when one is not met")
	f.BoolVar(&o.Matrix, "matrix", false, "With -f: who reaches whom among the files' workloads on their declared ports; with --cluster-state OLD, only what changed")
	f.StringVar(&o.ClusterDomain, "cluster-domain", "", "Cluster DNS domain (default: read from the probe's resolv.conf, else "+nc.DefaultClusterDomain+")")
	_ = cmd.RegisterFlagCompletionFunc("protocol", cobra.FixedCompletions(nc.Protocols, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// Complete takes SRC and DST and makes the run's deadline cover the
// probe: it may wait --start-timeout + --timeout, plus the reads before
// and after it.
func (o *Options) Complete(_ *cobra.Command, args []string) error {
	if len(args) == 2 {
		o.Src, o.Dst = args[0], args[1]
	}
	o.NeedAtLeast(o.StartTimeout + o.Timeout + time.Minute)
	return nil
}

// Validate checks flags and arguments (usage errors exit 2).
func (o *Options) Validate() error {
	if err := o.Common.Validate(); err != nil {
		return err
	}
	if !slices.Contains(nc.Protocols, o.Protocol) {
		return cli.UsageErrorf("--protocol: unknown value %q: use %s", o.Protocol, strings.Join(nc.Protocols, ", "))
	}
	if o.Timeout <= 0 || o.StartTimeout <= 0 {
		return cli.UsageErrorf("--timeout and --start-timeout must be positive")
	}
	switch corev1.PullPolicy(o.PullPolicy) {
	case "", corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever:
	default:
		return cli.UsageErrorf("--image-pull-policy: unknown value %q: use Always, IfNotPresent or Never", o.PullPolicy)
	}
	if _, _, err := nc.ParsePort(o.Port); err != nil {
		return cli.UsageErrorf("%v", err)
	}
	if (o.Expect != "" || o.Matrix) && len(o.Filenames) == 0 {
		return cli.UsageErrorf("--expect and --matrix need -f: they are about the manifests")
	}
	if o.manifestMode() {
		// A probe needs a live pod: manifests are explained only.
		o.NoProbe = true
	}
	if o.Expect != "" || o.Matrix {
		return nil
	}
	return usage(o.check("", false).Validate())
}

// check is the question SRC DST asks, with the namespace of names
// without one (explicit: -n gave it).
func (o *Options) check(ns string, explicit bool) nc.Check {
	return nc.Check{Src: o.Src, Dst: o.Dst, Port: o.Port, Protocol: o.Protocol, ClusterDomain: o.ClusterDomain,
		Namespace: ns, NamespaceExplicit: explicit, NoProbe: o.NoProbe}
}

// usage gives a usage error of the analysis (SRC, DST, ports) the
// command's exit code and pointer to --help.
func usage(err error) error {
	var u *nc.UsageError
	if errors.As(err, &u) {
		return cli.UsageErrorf("%v", err)
	}
	return err
}

// failure is an error that keeps netcheck from answering: exit 2.
func failure(err error) error {
	return &cli.ExitError{Code: cli.ExitFailure, Err: usage(err)}
}

// manifestMode says the objects come from -f or --cluster-state.
func (o *Options) manifestMode() bool {
	return len(o.Filenames) > 0 || o.ClusterState != ""
}

// Run loads the objects, probes unless --no-probe, decides, prints and exits.
func (o *Options) Run(ctx context.Context) error {
	if o.manifestMode() {
		return o.runManifests(ctx)
	}
	return o.runLive(ctx)
}

// print prints a report: exit 1 when it failed (a check not reachable, an
// expectation not met) or a finding reaches --fail-on.
func (o *Options) print(rep printers.Printable, failed bool) error {
	perr := o.PrintReport(rep)
	if perr != nil && cli.ExitCode(perr) != cli.ExitFound {
		return perr
	}
	if failed || perr != nil {
		return cli.Found()
	}
	return nil
}

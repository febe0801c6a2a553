// Package certexpiry implements "kubectl cert-expiry": every certificate that
// can take a cluster down, found before it expires.
package certexpiry

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/ktriage/ktriage/pkg/certs"
	"github.com/ktriage/ktriage/pkg/certs/collect"
	"github.com/ktriage/ktriage/pkg/cli"
)

const long = `Find every certificate that can take a cluster down, before it expires.

Sources (all of them by default):
  kubeconfig  the client certificate and CA of every context of the kubeconfig
              (--context: only that one), embedded or referenced by path
  served      the chain each of those API servers presents in a TLS handshake, as
              openssl s_client shows it: verified against the context's CA and host
  pki         on-disk PKI when readable: --pki-dir (/etc/kubernetes/pki: apiserver,
              apiserver-kubelet-client, apiserver-etcd-client, front-proxy-*, etcd/*,
              the CAs), the kubeconfigs in --kubernetes-dir (admin.conf,
              super-admin.conf, controller-manager.conf, scheduler.conf, kubelet.conf)
              and --kubelet-pki-dir (/var/lib/kubelet/pki)
  cluster     Secrets (any key holding PEM), ConfigMaps (kube-root-ca.crt and
              others), caBundles of webhook configurations, APIServices and CRD
              conversion webhooks, CertificateSigningRequests; URL webhooks are
              handshaken and checked against their caBundle
  kubelets    with --probe-kubelets: each node's kubelet serving certificate
In-cluster objects are read in every namespace; -n NAMESPACE reads only that
namespace's Secrets and ConfigMaps and skips the cluster-scoped objects.
With -f, only the given files (PEM, DER, kubeconfigs, manifests with Secrets and
ConfigMaps) unless --sources names others. In a directory, keys, CSRs, dot-entries
(a mounted Secret's ..data) and files that are neither certificates, kubeconfigs
nor manifests are skipped, and an unreadable one is a CE113 warning; a file named
on its own is always read, and one that holds no certificate or is a broken
manifest ends the run with exit 2 and FILE:LINE: what is wrong.

Servers are handshaken --concurrency (default 16) at a time, each within
--dial-timeout (and --request-timeout when shorter); one that does not answer
is a CE115 warning. When --deadline passes before every handshake answered,
the report is printed without them: each is a CE115 warning and one warning
line names them.

A certificate expiring within --fail (default 7d) is an error, within --warn
(default 30d) a warning. Certificates are listed by time left, shortest first.

A cluster that cannot be read does not cost the default run its other sources:
their report is printed with an error finding (CE116). When the cause is a
certificate (the server's chain or the client certificate rejected) the
findings decide the exit code; when the API server does not answer, the run
then ends with that error and exit code 2. Without any kubeconfig (a
control-plane node checking its PKI) the cluster is only skipped. Named in
--sources, a cluster that cannot be read stops the run before any report.

Exit codes: 0 nothing reaches --fail-on, 1 a certificate does (by default: it
expires within --fail), 2 could not run.`

const examples = `  # Everything the current kubeconfig and cluster can show
  kubectl cert-expiry

  # On a control-plane node: the kubeadm PKI, its kubeconfigs and the kubelet's certificates
  sudo kubectl cert-expiry --sources pki

  # CI gate: fail when anything in these files expires within 14 days
  kubectl cert-expiry -f certs/ -f secrets.yaml --fail 14d

  # Certificates of one namespace's Secrets and ConfigMaps, as JSON
  kubectl cert-expiry --sources cluster -n ingress -o json

  # Also the kubelets' serving certificates
  kubectl cert-expiry --probe-kubelets

  # What expires in the next 90 days, days left only
  kubectl cert-expiry --warn 90d -o json | jq -r '.certificates[] | select(.daysLeft < 90) | "\(.daysLeft)\t\(.source)"'`

// Options are the command's flags.
type Options struct {
	*cli.Common
	Fail          string
	Warn          string
	Sources       []string
	PKIDir        string
	KubernetesDir string
	KubeletPKIDir string
	ProbeKubelets bool
	DialTimeout   time.Duration
	Concurrency   int
	// Now is the time certificates are judged at (hidden --now, for demos of
	// a future date and for tests).
	Now string

	failWindow, warnWindow time.Duration
	plan                   certs.Plan
	now                    time.Time
	pkiDirSet, kubeDirSet  bool
	kubeletDirSet          bool
}

// NewCommand builds the "kubectl cert-expiry" command.
func NewCommand(streams genericiooptions.IOStreams) *cobra.Command {
	cmd, _ := newCommand(streams)
	return cmd
}

func newCommand(streams genericiooptions.IOStreams) (*cobra.Command, *Options) {
	o := &Options{
		Common:        cli.NewCommon(streams),
		Fail:          "7d",
		Warn:          "30d",
		PKIDir:        "/etc/kubernetes/pki",
		KubernetesDir: "/etc/kubernetes",
		KubeletPKIDir: "/var/lib/kubelet/pki",
		DialTimeout:   collect.DefaultHandshakeTimeout,
		Concurrency:   collect.DefaultConcurrency,
	}
	cmd := cli.NewRoot("kubectl cert-expiry", "Find every certificate that can take a cluster down, before it expires", long, examples)
	cmd.Use = "cert-expiry [--sources kubeconfig,served,pki,cluster] [-f FILE] [--fail 7d] [--warn 30d]"
	cmd.Args = cobra.NoArgs
	cmd.RunE = o.RunE(o.Complete, o.Validate, o.Run)
	o.AddFlags(cmd, cli.Features{Namespaced: true, Files: true})
	flags := cmd.Flags()
	flags.StringVar(&o.Fail, "fail", o.Fail, "Report certificates expiring within this window as errors (Go duration like 72h, or days like 7d)")
	flags.StringVar(&o.Warn, "warn", o.Warn, "Report certificates expiring within this window as warnings")
	flags.StringSliceVar(&o.Sources, "sources", nil, "Where to look: "+strings.Join(certs.AllSources, ",")+" (default: all but kubelets; with -f: only the files)")
	flags.StringVar(&o.PKIDir, "pki-dir", o.PKIDir, "kubeadm PKI directory (skipped when missing or unreadable, unless set explicitly)")
	flags.StringVar(&o.KubernetesDir, "kubernetes-dir", o.KubernetesDir, "Directory of the control plane's kubeconfigs (admin.conf, kubelet.conf...)")
	flags.StringVar(&o.KubeletPKIDir, "kubelet-pki-dir", o.KubeletPKIDir, "The kubelet's certificate directory")
	flags.BoolVar(&o.ProbeKubelets, "probe-kubelets", false, "Handshake each node's kubelet port for its serving certificate")
	flags.DurationVar(&o.DialTimeout, "dial-timeout", o.DialTimeout, "Timeout of each TLS handshake (at most --request-timeout when that is set)")
	flags.IntVar(&o.Concurrency, "concurrency", o.Concurrency, "How many TLS handshakes (API servers, webhooks, kubelets) run at once")
	flags.StringVar(&o.Now, "now", "", "Judge certificates at this RFC 3339 time instead of now")
	_ = flags.MarkHidden("now")
	_ = cmd.RegisterFlagCompletionFunc("sources", cobra.FixedCompletions(certs.AllSources, cobra.ShellCompDirectiveNoFileComp))
	return cmd, o
}

// Complete notes which directories were set explicitly: only those make
// a missing or unreadable directory an error.
func (o *Options) Complete(cmd *cobra.Command, _ []string) error {
	flags := cmd.Flags()
	o.pkiDirSet, o.kubeDirSet, o.kubeletDirSet = flags.Changed("pki-dir"), flags.Changed("kubernetes-dir"), flags.Changed("kubelet-pki-dir")
	return nil
}

// Validate checks the flags.
func (o *Options) Validate() error {
	if err := o.Common.Validate(); err != nil {
		return err
	}
	var err error
	if o.failWindow, o.warnWindow, err = certs.ParseWindows(o.Fail, o.Warn); err != nil {
		return cli.UsageErrorf("%w", err)
	}
	if o.DialTimeout <= 0 {
		return cli.UsageErrorf("--dial-timeout must be positive")
	}
	if o.Concurrency < 1 {
		return cli.UsageErrorf("--concurrency must be at least 1")
	}
	o.now = time.Now()
	if o.Now != "" {
		if o.now, err = time.Parse(time.RFC3339, o.Now); err != nil {
			return cli.UsageErrorf("--now: %v", err)
		}
	}
	if o.plan, err = certs.PlanSources(o.Sources, len(o.Filenames) > 0, o.ProbeKubelets); err != nil {
		return cli.UsageErrorf("%w", err)
	}
	return nil
}

// Run collects the certificates, analyses, prints and sets the exit code.
func (o *Options) Run(ctx context.Context) error {
	got, err := collect.Collect(ctx, o.collectConfig())
	if err != nil {
		var usage *collect.UsageError
		if errors.As(err, &usage) {
			return cli.UsageErrorf("%w", usage.Err)
		}
		return err
	}
	err = o.PrintReport(got.Report(certs.Options{Now: o.now, Fail: o.failWindow, Warn: o.warnWindow}, o.Ignore, o.plan.InputKind()))
	var exit *cli.ExitError
	if got.ClusterErr != nil && (err == nil || errors.As(err, &exit) && exit.Code == cli.ExitFound) {
		return got.ClusterErr
	}
	return err
}

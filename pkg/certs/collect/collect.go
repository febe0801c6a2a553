package collect

import (
	"context"
	"errors"
	"io"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/ktriage/ktriage/pkg/certs"
	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/pkg/report"
)

// Config is what to collect and how to reach it.
type Config struct {
	Plan certs.Plan

	// Filenames and Recursive are -f and -R; "-" reads Stdin.
	Filenames []string
	Recursive bool
	Stdin     io.Reader

	// PKI directories. A default one that is missing is skipped quietly; one
	// set explicitly (the *Set fields) that cannot be read is reported.
	PKIDir, KubernetesDir, KubeletPKIDir          string
	PKIDirSet, KubernetesDirSet, KubeletPKIDirSet bool

	// Kubeconfig loads the kubeconfig the flags name; Context is --context
	// ("" for every context).
	Kubeconfig clientcmd.ClientConfig
	Context    string

	Cluster Cluster

	Handshakes HandshakeOptions

	// ReadFile reads a file whole (default: cluster.ReadFile without a size
	// limit of its own).
	ReadFile func(path string) ([]byte, error)
}

// Cluster is how the cluster is reached, asked only when the plan reads it.
type Cluster struct {
	// Connect builds the clients. Its Connection carries what was learnt
	// (the context) even when it fails.
	Connect func() (Connection, error)
	// Configured says whether a cluster was configured at all (a kubeconfig
	// with clusters, --server, in-cluster): without one, a control-plane
	// node's PKI check is not an unreachable cluster.
	Configured func() bool
	// Server names the API server in findings ("" when unknown).
	Server func() string
}

// Connection is a cluster's clients and where to look in it.
type Connection struct {
	Client  kubernetes.Interface
	Dynamic dynamic.Interface
	// Context is the kubeconfig context, for the report.
	Context string
	// Namespace limits Secrets and ConfigMaps to one namespace; "" reads
	// every namespace and the cluster-scoped objects.
	Namespace string
}

// HandshakeOptions bound the TLS handshakes.
type HandshakeOptions struct {
	// Concurrency is how many handshakes run at once (default 16).
	Concurrency int
	// Timeout bounds each handshake, from dial to the server's certificates
	// (default 5s). The context given to Collect bounds them all.
	Timeout time.Duration
}

// Defaults of HandshakeOptions.
const (
	DefaultConcurrency      = 16
	DefaultHandshakeTimeout = 5 * time.Second
)

// Collected is everything found, ready for certs.Analyze.
type Collected struct {
	Inputs []certs.Input
	// Findings about the sources themselves (unreachable servers, objects
	// that cannot be checked, a cluster that could not be read).
	Findings  []report.Finding
	Warnings  []string
	Context   string
	Namespace string
	// Sources are the sources that were searched, sorted.
	Sources []string
	// ClusterErr is a configured cluster that could not be read with the
	// default sources: the report of the other sources is printed, then the
	// run ends with this error (exit 2), as for any unreachable cluster.
	ClusterErr error
	// warm holds what was parsed and checked while the cluster was read.
	warm *certs.Warm
}

// UsageError is a problem with what the user asked for (a -f file that does
// not exist, an unknown --context): the command says how to use it.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }

func (e *UsageError) Unwrap() error { return e.Err }

// collector gathers into one Collected.
type collector struct {
	cfg      Config
	ctx      context.Context
	readFile func(string) ([]byte, error)
	out      Collected
	// What the plan's handshakes are chosen from, once every source is read.
	kubeconfigEndpoints, objectEndpoints []certs.Endpoint
	nodes                                []*corev1.Node
}

// Collect reads every source of the plan, then handshakes with the servers
// found. It stops at the first error only when the run cannot do what it was
// asked (a -f file that cannot be read, a cluster named in --sources that
// cannot be read); the context bounds the cluster's LISTs and the handshakes.
func Collect(ctx context.Context, cfg Config) (*Collected, error) {
	c := &collector{cfg: cfg, ctx: ctx, readFile: cfg.ReadFile}
	if c.readFile == nil {
		// Files are read whole: refuse one too large to hold in memory.
		c.readFile = func(path string) ([]byte, error) { return cluster.ReadFile(path, 0) }
	}
	if err := c.collect(); err != nil {
		return nil, err
	}
	sort.Strings(c.out.Sources)
	return &c.out, nil
}

func (c *collector) collect() error {
	p := c.cfg.Plan
	if p.Sources[certs.SourceFiles] {
		if err := c.files(); err != nil {
			return err
		}
		c.used(certs.SourceFiles)
	}
	if p.Sources[certs.SourcePKI] {
		c.pki()
	}
	if p.ReadsKubeconfig() {
		if err := c.kubeconfig(); err != nil {
			return err
		}
	}
	if p.ReadsCluster() {
		if err := c.cluster(); err != nil {
			// Only a cluster the user asked for by name is worth stopping
			// for: when it comes with the defaults, an API server that
			// rejects the credentials, is down or has no kubeconfig must not
			// throw away what the files and handshakes found.
			var usage *UsageError
			if p.ClusterNamed() || errors.As(err, &usage) || c.ctx.Err() != nil {
				return err
			}
			c.clusterUnread(err)
			// A certificate outage (the server's chain rejected, the
			// client certificate refused) is what this report explains:
			// its findings decide the exit code. A cluster that does not
			// answer ends the run as it does in every plugin, after the
			// report.
			if c.configured() && !tlsRejected(err) && !credentialsRejected(err) {
				c.out.ClusterErr = err
			}
		}
	}
	c.handshakes()
	return nil
}

func (c *collector) used(source string) { c.out.Sources = append(c.out.Sources, source) }

func (c *collector) input(in certs.Input) { c.out.Inputs = append(c.out.Inputs, in) }

func (c *collector) warn(w ...string) { c.out.Warnings = append(c.out.Warnings, w...) }

func (c *collector) configured() bool {
	return c.cfg.Cluster.Configured == nil || c.cfg.Cluster.Configured()
}

// handshakes dials what the plan asks for among the endpoints found.
func (c *collector) handshakes() {
	d := c.cfg.Plan.Dials(c.kubeconfigEndpoints, c.objectEndpoints, c.nodes)
	if w := d.Warning(); w != "" {
		c.warn(w)
	}
	inputs, findings, warning := certs.FromHandshakes(Handshakes(c.ctx, d.Endpoints, c.cfg.Handshakes))
	c.out.Inputs = append(c.out.Inputs, inputs...)
	c.out.Findings = append(c.out.Findings, findings...)
	if warning != "" {
		c.warn(warning)
	}
}

package collect

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/ktriage/ktriage/pkg/apierror"
	"github.com/ktriage/ktriage/pkg/certs"
	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/pkg/report"
)

// cluster lists the objects the plan reads (Secrets, ConfigMaps, webhook
// configurations, APIServices, CRDs, CSRs; the nodes for their kubelets).
func (c *collector) cluster() error {
	p := c.cfg.Plan
	if c.cfg.Cluster.Connect == nil {
		return errors.New("no cluster configured: set KUBECONFIG or pass --kubeconfig")
	}
	conn, err := c.cfg.Cluster.Connect()
	c.out.Context, c.out.Namespace = conn.Context, conn.Namespace
	if err != nil {
		return err
	}
	opts := cluster.LiveOptions{Dynamic: conn.Dynamic}
	if p.Sources[certs.SourceCluster] {
		// The Secrets' certificates are parsed and their signatures
		// checked page by page, while the rest is read.
		c.out.warm = certs.NewWarm()
		opts.OnPage = func(kind cluster.Kind, objs []runtime.Object) {
			if kind == cluster.KindSecret {
				c.out.warm.Page(objs)
			}
		}
	}
	snap, err := cluster.LoadLiveWith(c.ctx, conn.Client, opts, p.Queries(conn.Namespace)...)
	if err != nil {
		// An API server whose certificate clients reject (expired, wrong CA,
		// wrong host) is when this report matters most: even when the cluster
		// was asked for by name, report its served chain and the other
		// sources rather than stop. With the default sources, collect turns
		// any failure into a finding.
		served := p.Sources[certs.SourceServed] && len(c.kubeconfigEndpoints) > 0
		if tlsRejected(err) && served && p.ClusterNamed() {
			c.warn(apierror.OneLine(err) + "; in-cluster certificates are not in the report")
			return nil
		}
		return err
	}
	c.warn(snap.Warnings...)
	if p.Sources[certs.SourceCluster] {
		found := certs.FromSnapshot(snap)
		c.out.Inputs = append(c.out.Inputs, found.Inputs...)
		c.objectEndpoints = found.Endpoints
		c.out.Findings = append(c.out.Findings, found.Findings...)
		c.used(certs.SourceCluster)
	}
	if p.Sources[certs.SourceKubelets] {
		c.nodes = snap.Nodes
		c.used(certs.SourceKubelets)
	}
	return nil
}

// clusterUnread reports in-cluster sources that could not be read: a warning,
// and an error finding so that the exit code says the report is incomplete.
func (c *collector) clusterUnread(err error) {
	var missed []string
	if c.cfg.Plan.Sources[certs.SourceCluster] {
		missed = append(missed, "in-cluster certificates")
	}
	if c.cfg.Plan.Sources[certs.SourceKubelets] {
		missed = append(missed, "kubelet serving certificates")
	}
	what := strings.Join(missed, " and ")
	msg := apierror.OneLine(err)
	c.warn(msg + "; " + what + " are not in the report")
	server := "cluster"
	if c.cfg.Cluster.Server != nil {
		if host := c.cfg.Cluster.Server(); host != "" {
			server = host
		}
	}
	c.out.Findings = append(c.out.Findings, report.Finding{RuleID: certs.RuleClusterUnread, Severity: report.SeverityError,
		Object:  report.ObjectRef{Path: server},
		Message: fmt.Sprintf("the cluster could not be read, so %s are not in the report: %s", what, msg),
		Fix:     "Check the kubeconfig's credentials and that the API server answers (kubectl get --raw /readyz), or leave the cluster out with --sources kubeconfig,served,pki.",
		Details: map[string]any{"server": server, "error": msg}})
}

// credentialsRejected recognises a 401 (an expired or revoked client
// certificate or token) in the one-line message of a failed API call.
func credentialsRejected(err error) bool {
	return strings.Contains(err.Error(), "the cluster rejected the credentials")
}

// tlsRejected recognises an API call that failed because the client rejected
// the server's certificate (the one-line message keeps the x509 text, not the
// type).
func tlsRejected(err error) bool {
	var (
		unknown  x509.UnknownAuthorityError
		invalid  x509.CertificateInvalidError
		hostname x509.HostnameError
		verify   *tls.CertificateVerificationError
	)
	if errors.As(err, &unknown) || errors.As(err, &invalid) || errors.As(err, &hostname) || errors.As(err, &verify) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "x509: ") || strings.Contains(msg, "certificate is not trusted")
}

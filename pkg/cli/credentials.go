package cli

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"k8s.io/client-go/rest"

	"github.com/ktriage/ktriage/pkg/apierror"
	"github.com/ktriage/ktriage/pkg/inflight"
)

// fetchExecCredentials runs the kubeconfig's exec credential plugin once,
// through client-go's own authenticator (its policy, environment and cache:
// the clients built from cfg then reuse what it returned), within timeout.
// client-go runs the plugin with no time limit, so a plugin that never
// exits would hold every request: here it costs at most timeout and one
// line naming it, and is killed.
func fetchExecCredentials(ctx context.Context, cfg *rest.Config, timeout time.Duration) error {
	if cfg.ExecProvider == nil {
		return nil
	}
	tc, err := cfg.TransportConfig()
	if err != nil {
		return fmt.Errorf("the kubeconfig's exec credential plugin %s cannot be used: %w", cfg.ExecProvider.Command, err)
	}
	if tc.HasTokenAuth() || tc.HasBasicAuth() || tc.HasCertAuth() || tc.WrapTransport == nil {
		return nil // client-go uses those and never runs the plugin
	}
	rt := tc.WrapTransport(credentialSink{})
	what := "credentials from the exec plugin " + cfg.ExecProvider.Command
	end := inflight.Begin(ctx, what)
	defer end()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.Host, nil)
	if err != nil {
		return fmt.Errorf("the kubeconfig's server %q is not a URL: %w", cfg.Host, err)
	}
	done := make(chan error, 1)
	go func() {
		resp, err := rt.RoundTrip(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("the kubeconfig's exec credential plugin %s gave no credentials: %s; run it by hand to see why, log in again, or pick another context (kubectl config use-context)",
				cfg.ExecProvider.Command, strings.TrimPrefix(err.Error(), "getting credentials: "))
		}
		return nil
	case <-timer.C:
		killChildren()
		return fmt.Errorf("the kubeconfig's exec credential plugin %s did not answer within %s (--request-timeout); check that it can run without a prompt, or raise --request-timeout",
			cfg.ExecProvider.Command, timeout)
	case <-ctx.Done():
		killChildren()
		return ctx.Err()
	}
}

// credentialSink stands in for the network when only the credentials are
// wanted: it answers every request with an empty 200.
type credentialSink struct{}

func (credentialSink) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusOK, Body: io.NopCloser(strings.NewReader("")), Request: req, Header: http.Header{}}, nil
}

// expiredClientCert says, when the client certificate cfg presents has
// expired, which one and since when; "" otherwise. The API server rejects
// such a certificate with a bare 401: this names the cause.
func expiredClientCert(cfg *rest.Config, now time.Time) string {
	data := cfg.CertData
	source := "client-certificate-data"
	if len(data) == 0 && cfg.CertFile != "" {
		var err error
		if data, err = os.ReadFile(cfg.CertFile); err != nil {
			return ""
		}
		source = cfg.CertFile
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return ""
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil || !now.After(cert.NotAfter) {
		return ""
	}
	return fmt.Sprintf("the kubeconfig's client certificate (%s, CN=%s) expired on %s; renew it or get a new kubeconfig, or pick another context (kubectl config use-context)",
		source, cert.Subject.CommonName, cert.NotAfter.UTC().Format(time.RFC3339))
}

// explainRejection names an expired client certificate in an error that
// says the cluster rejected the credentials.
func (c *Common) explainRejection(err error) error {
	var rej *apierror.CredentialsRejected
	if c.expiredCert == "" || !errors.As(err, &rej) || rej.Why != "" {
		return err
	}
	return &ExitError{Code: ExitFailure, Err: &apierror.CredentialsRejected{What: rej.What, Why: c.expiredCert}}
}

package apierror

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"syscall"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// Explain turns an error from an API call into one line saying what failed and
// what to do. verb and resource describe the call ("list", "pods"); namespace
// may be empty for cluster-scoped or all-namespace calls.
func Explain(err error, verb, resource, namespace string) error {
	if err == nil {
		return nil
	}
	where := ""
	if namespace != "" {
		where = " in namespace " + namespace
	} else if verb == "list" || verb == "watch" {
		where = " at cluster scope"
	}
	switch {
	case apierrors.IsForbidden(err):
		return fmt.Errorf("cannot %s %s%s: forbidden; grant %s on %s (kubectl auth can-i %s %s%s)",
			verb, resource, where, grantVerbs(verb), resource, verb, resource, nsFlag(namespace))
	case apierrors.IsUnauthorized(err):
		return &CredentialsRejected{What: fmt.Sprintf("cannot %s %s%s", verb, resource, where)}
	case credentialPlugin(err) != "":
		return fmt.Errorf("cannot %s %s%s: the kubeconfig's credential plugin gave no credentials (%s); run it by hand to see why, log in again, or pick another context (kubectl config use-context)", verb, resource, where, credentialPlugin(err))
	case apierrors.IsNotFound(err):
		return notFound(err, verb, resource, namespace, where)
	case isTimeout(err):
		return fmt.Errorf("cannot %s %s%s: the API server did not answer in time; check the cluster is reachable or raise --request-timeout", verb, resource, where)
	case isUntrusted(err):
		return fmt.Errorf("cannot %s %s%s: the API server's certificate is not trusted (%s); check certificate-authority in the kubeconfig", verb, resource, where, rootCause(err))
	case isUnreachable(err):
		return fmt.Errorf("cannot reach the cluster%s to %s %s: %s; check the kubeconfig context and that the API server is running", serverOf(err), verb, resource, rootCause(err))
	}
	return fmt.Errorf("cannot %s %s%s: %w", verb, resource, where, err)
}

// CredentialsRejected is a request the API server refused with 401: the
// credentials are wrong or expired. What says which call it was.
type CredentialsRejected struct {
	What string
	// Why, when known, says what is wrong with the credentials (e.g. an
	// expired client certificate).
	Why string
}

func (e *CredentialsRejected) Error() string {
	if e.Why != "" {
		return e.What + ": the cluster rejected the credentials: " + e.Why
	}
	return e.What + ": the cluster rejected the credentials; refresh them or pick another context (kubectl config use-context)"
}

// credentialPlugin is client-go's account of an exec credential plugin that
// failed ("exec: executable X failed with exit code 1"), or "". client-go
// formats it with %v, so only its text is left to recognise.
func credentialPlugin(err error) string {
	msg := err.Error()
	i := strings.Index(msg, "getting credentials: ")
	if i < 0 {
		return ""
	}
	return strings.TrimSpace(msg[i+len("getting credentials: "):])
}

// grantVerbs is what an RBAC rule must allow for the call to succeed. Lists
// come with gets: every loader reads single objects too.
func grantVerbs(verb string) string {
	switch verb {
	case "list":
		return "get,list"
	case "watch":
		return "list,watch"
	}
	return verb
}

func nsFlag(ns string) string {
	if ns == "" {
		return " -A"
	}
	return " -n " + ns
}

// notFound distinguishes a missing object (a typo in a name) from a missing
// resource type (an API the cluster does not serve).
func notFound(err error, verb, resource, namespace, where string) error {
	var status apierrors.APIStatus
	name := ""
	if errors.As(err, &status) && status.Status().Details != nil {
		name = status.Status().Details.Name
	}
	if name == "" {
		if verb == "list" || verb == "watch" {
			return fmt.Errorf("cannot %s %s%s: the API server does not serve this resource; check the cluster version and installed CRDs (kubectl api-resources)", verb, resource, where)
		}
		return fmt.Errorf("cannot %s %s%s: %w", verb, resource, where, err)
	}
	list := "kubectl get " + resource
	if namespace != "" {
		list += " -n " + namespace
	}
	return fmt.Errorf("%s %q not found%s; check the name and namespace (%s)", resource, name, where, list)
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || apierrors.IsTimeout(err) || apierrors.IsServerTimeout(err) {
		return true
	}
	// client-go's rate limiter refuses a request whose deadline it cannot
	// meet with a plain error (golang.org/x/time/rate does not wrap
	// context.DeadlineExceeded).
	if strings.Contains(err.Error(), "would exceed context deadline") {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func isUntrusted(err error) bool {
	var unknownAuthority x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verification *tls.CertificateVerificationError
	return errors.As(err, &unknownAuthority) || errors.As(err, &hostname) || errors.As(err, &invalid) || errors.As(err, &verification)
}

func isUnreachable(err error) bool {
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, syscall.ECONNRESET) {
		return true
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return true
	}
	var oe *net.OpError
	return errors.As(err, &oe)
}

// serverOf names the API server a failed request went to (" at host:port").
func serverOf(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil && u.Host != "" {
			return " at " + u.Host
		}
	}
	return ""
}

// rootCause keeps the innermost, most telling part of a wrapped network error
// ("connection refused" rather than the whole dial chain).
func rootCause(err error) string {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return dnsErr.Error()
	}
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
}

package rbac

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ktriage/ktriage/pkg/certs/certtest"
	"github.com/ktriage/ktriage/test/e2e/framework"
)

func TestCertExpiry(t *testing.T) {
	c := framework.Get(t)
	s := loadShipped(t, c, "cert-expiry")
	ns := c.Namespace(t, "rbac-certs", nil)
	// Secrets and ConfigMaps with certificates expiring at known dates, and
	// a webhook whose caBundle expires in 3 days.
	manifests, _, err := certtest.Manifests(ns, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	c.Apply(t, "", manifests)
	t.Cleanup(func() {
		_ = c.Client.AdmissionregistrationV1().ValidatingWebhookConfigurations().Delete(context.Background(), ns+"-certs", metav1.DeleteOptions{})
	})
	const bin = "kubectl-cert_expiry"
	verdict := certVerdict(ns)

	t.Run("the shipped ClusterRole gives the administrator's verdict and is all the plugin uses", func(t *testing.T) {
		a := withClusterRole(t, c, s, ns, "certs-cluster")
		offset := c.AuditLogSize(t)
		for _, args := range [][]string{
			{"-o", "json"},
			{"--sources", "cluster,served", "--probe-kubelets", "--dial-timeout", "1s", "-o", "json"},
			{"-n", ns, "--sources", "cluster", "-o", "json"},
		} {
			res := sameVerdict(t, c, a, verdict, bin, args...)
			if res.Code != 1 {
				t.Errorf("want exit 1: certificates expire in 3 days\n%s", res)
			}
		}
		checkRequests(t, c, s.file, s.clusterRole.Rules, offset, a.user, []string{"list"}, nil)
	})

	t.Run("the shipped Role gives the administrator's verdict on its namespace", func(t *testing.T) {
		a := withRole(t, c, s, ns, "certs-role")
		offset := c.AuditLogSize(t)
		sameVerdict(t, c, a, verdict, bin, "-n", ns, "--sources", "cluster", "-o", "json")
		checkRequests(t, c, s.file, s.role.Rules, offset, a.user, []string{"list"}, nil)
		// Without -n every namespace is looked at: a partial report.
		res := c.RunWith(t, a.run(), bin, "--sources", "cluster", "-o", "json")
		if !checkConfined(t, res) || !strings.Contains(res.Stderr, "Warning: cannot list secrets at cluster scope: forbidden") {
			t.Errorf("want a partial report naming the list of Secrets\n%s", res)
		}
	})

	t.Run("read access to the namespace only gives a partial report", func(t *testing.T) {
		a := withNamespaceRead(t, c, ns, "certs-view")
		res := c.RunWith(t, a.run(), bin, "-n", ns, "--sources", "cluster", "-o", "json")
		if !checkConfined(t, res) || res.Code != 1 {
			t.Fatalf("want a partial report and exit 1\n%s", res)
		}
		if !strings.Contains(res.Stderr, "Warning: cannot list secrets in namespace "+ns+": forbidden") {
			t.Errorf("want a warning naming the list of Secrets\n%s", res)
		}
		if got := verdict(t, res); !strings.Contains(got, "configmap/"+ns+"/legacy-ca:ca.crt") || strings.Contains(got, "secret/") {
			t.Errorf("want the ConfigMaps' certificates and no Secret's\n%s", got)
		}
		res = c.RunWith(t, a.run(), bin, "-o", "json")
		checkConfined(t, res)
	})
}

// certVerdict is every certificate of namespace ns or of a cluster-scoped
// object or server (by source, fingerprint and severity), and every finding
// about them.
func certVerdict(ns string) func(*testing.T, framework.Result) string {
	return func(t *testing.T, res framework.Result) string {
		t.Helper()
		var r struct {
			Certificates []struct{ Source, SHA256, Severity string }
		}
		res.DecodeJSON(t, &r)
		var lines []string
		for _, cert := range r.Certificates {
			if strings.Contains(cert.Source, "/"+ns+"/") || strings.Contains(cert.Source, "/"+ns+"-") || strings.HasPrefix(cert.Source, "https://") {
				lines = append(lines, fmt.Sprintf("%s %s %s", cert.Source, cert.SHA256, cert.Severity))
			}
		}
		sort.Strings(lines)
		return strings.Join(lines, "\n") + "\n" + inNamespace(findingsVerdict(t, res), ns)
	}
}

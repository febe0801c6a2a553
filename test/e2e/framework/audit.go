package framework

import (
	"context"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// WaitForAuditLog waits until the audit log holds every request completed
// before the call: the API server writes an event after it has answered, so
// a client can see its answer before the log does. It sends one request of
// its own, marked by its user agent, and waits for that to be logged.
func (c *Cluster) WaitForAuditLog(t testing.TB) {
	t.Helper()
	offset := c.AuditLogSize(t)
	cfg := rest.CopyConfig(c.Config)
	cfg.UserAgent = fmt.Sprintf("ktriage-e2e-audit-marker/%d", time.Now().UnixNano())
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := cs.CoreV1().Namespaces().Get(ctx, "default", metav1.GetOptions{}); err != nil {
		t.Fatalf("marker request for the audit log: %v", err)
	}
	Eventually(t, 30*time.Second, func() (bool, error) {
		return len(c.AuditedRequests(t, offset, cfg.UserAgent)) > 0, nil
	}, "the audit log to catch up with the requests made so far")
}

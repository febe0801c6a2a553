package certexpiry

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ktriage/ktriage/pkg/certs/certtest"
	"github.com/ktriage/ktriage/test/e2e/framework"
)

// stalledNodes creates n nodes whose kubelet address is a server that
// accepts the connection and never answers the TLS handshake (a wedged
// kubelet), and returns their names. No kwok annotation: nothing else
// manages them.
func stalledNodes(t *testing.T, c *framework.Cluster, n int) ([]string, *certtest.Stallers) {
	t.Helper()
	s := certtest.StartStallers(t, n)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	prefix := fmt.Sprintf("stalled-%d", time.Now().UnixNano()%100000)
	var names []string
	for i, addr := range s.Addrs {
		_, portStr, _ := net.SplitHostPort(addr)
		port, _ := strconv.Atoi(portStr)
		node := &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", prefix, i)},
			Spec:       corev1.NodeSpec{Taints: []corev1.Taint{{Key: "ktriage.io/probe", Effect: corev1.TaintEffectNoSchedule}}},
			// The API server keeps the status given on create.
			Status: corev1.NodeStatus{
				Addresses:       []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "127.0.0.1"}},
				DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: int32(port)}},
			},
		}
		if _, err := c.Client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		names = append(names, node.Name)
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_ = c.Client.CoreV1().Nodes().Delete(ctx, node.Name, metav1.DeleteOptions{})
		})
	}
	return names, s
}

// unanswered returns the CE115 message about each node.
func (d doc) unanswered(nodes []string) map[string]string {
	out := map[string]string{}
	for _, f := range d.Findings {
		for _, n := range nodes {
			if f.RuleID == "CE115" && f.Object.Name == n {
				out[n] = f.Message
			}
		}
	}
	return out
}

// Kubelets that accept and never answer cannot hold the run: each costs
// one handshake timeout, --concurrency at a time, and each is a CE115
// warning naming it.
func TestStalledKubeletsCostOneTimeoutEach(t *testing.T) {
	c := cluster(t)
	nodes, s := stalledNodes(t, c, 6)
	start := time.Now()
	d, res := run(t, c, nil, "--sources", "kubelets", "--concurrency", "2", "--dial-timeout", "1m", "--request-timeout", "1s")
	took := time.Since(start)
	if res.Code != 0 {
		t.Errorf("exit %d, want 0 (unanswered kubelets are warnings)\n%s", res.Code, res)
	}
	got := d.unanswered(nodes)
	for _, n := range nodes {
		if !strings.HasSuffix(got[n], "failed: no answer within 1s") {
			t.Errorf("node %s: CE115 %q", n, got[n])
		}
	}
	// Six stalled kubelets two at a time: three rounds of --request-timeout
	// (fewer would mean more at once), the cluster's own kwok node beside
	// them.
	if took < 3*time.Second || took > 20*time.Second {
		t.Errorf("took %s: want about three rounds of 1s", took)
	}
	if s.Accepted() != len(nodes) {
		t.Errorf("%d of %d stalled kubelets dialed", s.Accepted(), len(nodes))
	}
}

// The run's --deadline ends the handshakes still waiting: the report comes
// on time, the kubelets not answered are CE115 warnings and one warning
// line names them.
func TestStalledKubeletsEndWithTheDeadline(t *testing.T) {
	c := cluster(t)
	nodes, s := stalledNodes(t, c, 8)
	start := time.Now()
	d, res := run(t, c, nil, "--sources", "kubelets", "--concurrency", "2", "--dial-timeout", "1m", "--deadline", "3s")
	took := time.Since(start)
	if took > 8*time.Second {
		t.Errorf("took %s with --deadline 3s", took)
	}
	if res.Code != 0 {
		t.Errorf("exit %d, want 0 (unanswered kubelets are warnings)\n%s", res.Code, res)
	}
	got := d.unanswered(nodes)
	for _, n := range nodes {
		if !strings.HasSuffix(got[n], "failed: no answer before the run's deadline") {
			t.Errorf("node %s: CE115 %q", n, got[n])
		}
	}
	lines := strings.Split(strings.TrimSpace(res.Stderr), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "Warning: ") || !strings.Contains(lines[0], " TLS handshake(s) did not answer before the run ended: kubelet/"+nodes[0]+" ") {
		t.Errorf("want one warning line naming the kubelets not answered\n%s", res.Stderr)
	}
	if len(d.Metadata.Warnings) != 1 {
		t.Errorf("metadata.warnings %q", d.Metadata.Warnings)
	}
	if s.Accepted() > 2 {
		t.Errorf("%d stalled kubelets dialed with --concurrency 2", s.Accepted())
	}
}

package whypending_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ktriage/ktriage/test/e2e/framework"
)

// The per-node detail of an inter-pod affinity rejection names the term
// that matched, with its own label selector and the namespaces its
// namespaceSelector resolved to, or that it resolved to none.
func TestInterPodAffinityDetailsNameTheirOwnTermAndNamespaces(t *testing.T) {
	c := framework.Get(t)
	team := fmt.Sprintf("t%d", time.Now().UnixNano()%1000000)

	t.Run("an anti-affinity term selecting namespaces by label", func(t *testing.T) {
		data := c.Namespace(t, "wp-aff-data", map[string]string{"e2e-wp-aff": team})
		c.Apply(t, data, runningOn("db-0", "kwok-node-0", "app: e2e-db", "")+runningOn("db-1", "kwok-node-1", "app: e2e-db", "")+
			runningOn("db-2", "kwok-node-2", "app: e2e-db", ""))
		waitRunning(t, c, data)
		ns := c.Namespace(t, "wp-aff", nil)
		c.Apply(t, ns, pendingWith(`  affinity:
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {matchLabels: {app: e2e-cache}}
        topologyKey: topology.kubernetes.io/zone
      - labelSelector: {matchLabels: {app: e2e-db}}
        namespaceSelector: {matchLabels: {e2e-wp-aff: `+team+`}}
        topologyKey: topology.kubernetes.io/zone
`))
		waitForSchedulerMessage(t, c, ns, "pending", "3 node(s) didn't match pod anti-affinity rules")
		r, res := explain(t, c, "-n", ns, "pending", "--per-node")
		p := r.pod(t, "pending")
		if p.SimulatedSchedulerMessage != p.SchedulerMessage {
			t.Errorf("simulated %q\n      real %q", p.SimulatedSchedulerMessage, p.SchedulerMessage)
		}
		want := "the pod's required anti-affinity (topologyKey topology.kubernetes.io/zone, selector app=e2e-db, namespaces " + data +
			" (namespaceSelector e2e-wp-aff=" + team + ")) matches pod " + data + "/db-0 on kwok-node-0 in topology.kubernetes.io/zone=zone-a"
		found := false
		for _, n := range p.Nodes {
			if n.Name != "kwok-node-0" {
				continue
			}
			found = true
			if len(n.Reasons) == 0 || n.Reasons[0].Detail != want {
				t.Errorf("kwok-node-0's detail\n got: %+v\nwant: %s\n%s", n.Reasons, want, res)
			}
		}
		if !found {
			t.Errorf("no verdict for kwok-node-0 with --per-node\n%s", res)
		}
		if strings.Contains(res.Stdout, "e2e-cache") || strings.Contains(res.Stdout, "<everything>") {
			t.Errorf("the other term's selector, or a namespaceSelector said to match everything, is printed\n%s", res)
		}
	})

	t.Run("an affinity term whose namespaceSelector matches no namespace", func(t *testing.T) {
		ns := c.Namespace(t, "wp-aff-none", nil)
		c.Apply(t, ns, pendingWith(`  affinity:
    podAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {matchLabels: {app: e2e-db}}
        namespaceSelector: {matchExpressions: [{key: e2e-wp-env, operator: In, values: [prod]}]}
        topologyKey: topology.kubernetes.io/zone
`))
		waitForSchedulerMessage(t, c, ns, "pending", "3 node(s) didn't match pod affinity rules")
		r, res := explain(t, c, "-n", ns, "pending")
		p := r.pod(t, "pending")
		if p.SimulatedSchedulerMessage != p.SchedulerMessage {
			t.Errorf("simulated %q\n      real %q", p.SimulatedSchedulerMessage, p.SchedulerMessage)
		}
		msg, _ := findingOf(r, "WP115")
		if !strings.Contains(msg, "(topologyKey topology.kubernetes.io/zone, selector app=e2e-db, no namespace matches e2e-wp-env in (prod))") {
			t.Errorf("WP115 does not say the namespaceSelector matches no namespace\n%s", res)
		}
	})
}

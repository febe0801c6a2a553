package qosaudit

import (
	"strings"
	"testing"
	"time"

	"github.com/ktriage/ktriage/test/e2e/framework"
)

// rc/NAME audits exactly the pods the ReplicationController controls.
func TestAReplicationControllerIsATarget(t *testing.T) {
	c := framework.Get(t)
	ns := c.Namespace(t, "qa-rc", nil)
	c.Apply(t, ns, `
apiVersion: v1
kind: ReplicationController
metadata: {name: legacy}
spec:
  replicas: 2
  selector: {app: legacy}
  template:
    metadata: {labels: {app: legacy}}
    spec:
      containers:
      - name: app
        image: registry.example.com/app:1
        resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {cpu: 100m, memory: 64Mi}}
---
apiVersion: v1
kind: Pod
metadata: {name: bystander, labels: {app: other}}
spec:
  containers: [{name: app, image: registry.example.com/app:1}]
`)
	framework.Eventually(t, 60*time.Second, func() (bool, error) {
		out := c.Kubectl(t, "get", "pods", "-n", ns, "-l", "app=legacy", "--field-selector", "status.phase=Running", "-o", "name")
		return strings.Count(out, "\n") == 2, nil
	}, "the ReplicationController's two pods running")

	for _, target := range []string{"rc/legacy", "replicationcontroller/legacy"} {
		res := c.Run(t, binary, target, "-n", ns, "-o", "json", "--fail-on", "never")
		var r auditReport
		res.DecodeJSON(t, &r)
		if res.Code != 0 || len(r.Pods) != 2 {
			t.Fatalf("%s: want exit 0 and the two pods\n%s", target, res)
		}
		for _, p := range r.Pods {
			if !strings.HasPrefix(p.Name, "legacy-") || p.QOSClass != "Guaranteed" || p.StoredQOSClass != "Guaranteed" {
				t.Errorf("%s: got %+v, want the ReplicationController's Guaranteed pods only", target, p)
			}
		}
	}
}

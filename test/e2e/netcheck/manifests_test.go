package netcheck_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ktriage/ktriage/test/e2e/framework"
)

// ciApp is a shop described by manifests: workloads (not pods), Services
// broken in the ways netcheck names, NetworkPolicies, and the namespaces
// with the labels a namespaceSelector reads.
func ciApp(shopNS, otherNS string) string {
	deploy := func(kind, ns, name, app, ports string) string {
		extra := ""
		if kind == "StatefulSet" {
			extra = "\n  serviceName: " + name
		}
		return fmt.Sprintf(`apiVersion: apps/v1
kind: %s
metadata: {name: %s, namespace: %s}
spec:%s
  selector: {matchLabels: {app: %s}}
  template:
    metadata: {labels: {app: %s}}
    spec:
      containers: [{name: c, image: registry.example/%s:1, ports: [%s]}]
---
`, kind, name, ns, extra, app, app, name, ports)
	}
	return fmt.Sprintf(`apiVersion: v1
kind: Namespace
metadata: {name: %[1]s, labels: {team: shop}}
---
apiVersion: v1
kind: Namespace
metadata: {name: %[2]s, labels: {team: other}}
---
`, shopNS, otherNS) +
		deploy("Deployment", shopNS, "frontend", "frontend", "{name: http, containerPort: 8080}") +
		deploy("Deployment", shopNS, "api", "api", "{name: http, containerPort: 8080}") +
		deploy("StatefulSet", shopNS, "db", "db", "{name: pg, containerPort: 5432}") +
		deploy("Deployment", otherNS, "intruder", "frontend", "") +
		fmt.Sprintf(`apiVersion: v1
kind: Service
metadata: {name: api, namespace: %[1]s}
spec: {selector: {app: api}, ports: [{name: http, port: 80, targetPort: http}]}
---
# targetPort 9090, which the api does not declare (it declares 8080).
apiVersion: v1
kind: Service
metadata: {name: api-metrics, namespace: %[1]s}
spec: {selector: {app: api}, ports: [{port: 9090, targetPort: 9090}]}
---
apiVersion: v1
kind: Service
metadata: {name: api-grpc, namespace: %[1]s}
spec: {selector: {app: api}, ports: [{port: 80, targetPort: grpc}]}
---
apiVersion: v1
kind: Service
metadata: {name: api-typo, namespace: %[1]s}
spec: {selector: {app: apii}, ports: [{port: 80, targetPort: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: %[1]s}
spec: {selector: {app: db}, ports: [{port: 5432, targetPort: pg}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api-from-frontends, namespace: %[1]s}
spec:
  podSelector: {matchLabels: {app: api}}
  ingress:
  - from: [{namespaceSelector: {matchLabels: {team: shop}}, podSelector: {matchLabels: {app: frontend}}}]
    ports: [{port: http}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-from-api, namespace: %[1]s}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Ingress]
  ingress:
  - from: [{podSelector: {matchLabels: {app: api}}}]
    ports: [{port: pg}]
`, shopNS)
}

// ciExpectations cover every verdict the objects can decide; the last one
// is not met.
func ciExpectations(shopNS, otherNS string) string {
	return fmt.Sprintf(`- {from: deploy/frontend, to: svc/api, port: 80, expect: reachable}
- {from: deploy/frontend, to: sts/db, port: 5432, expect: blocked}
- {from: deploy/api, to: svc/db, port: 5432, expect: reachable}
- {from: deploy/frontend, to: svc/api-metrics, port: 9090, expect: port-mismatch}
- {from: deploy/frontend, to: svc/api-grpc, port: 80, expect: port-mismatch}
- {from: deploy/frontend, to: svc/api-typo, port: 80, expect: no-endpoints}
- {from: deploy/frontend, to: "api.%[1]s:80", expect: reachable}
- {from: deploy/intruder, namespace: %[2]s, to: "api.%[1]s:80", expect: blocked-by-policy}
- {from: deploy/frontend, to: "nosuch.%[1]s.svc.cluster.local.:80", expect: dns-failure}
- {from: deploy/frontend, to: deploy/api, port: 8080, expect: reachable}
- {from: sts/db, to: deploy/frontend, port: 8080, expect: reachable}
- {from: deploy/frontend, to: svc/db, port: 5432, expect: reachable}
`, shopNS, otherNS)
}

// expectDoc is the part of the --expect document the tests read.
type expectDoc struct {
	Metadata struct {
		Input string `json:"input"`
	} `json:"metadata"`
	Expectations []struct {
		From, To, Namespace, Port, Protocol, Expect, Verdict string
		Met                                                  bool
		Source                                               struct {
			File string
			Line int
		}
	} `json:"expectations"`
	Findings []struct {
		RuleID string `json:"ruleID"`
		Object struct {
			Kind, Name string
			Source     struct {
				File string
				Line int
			}
		} `json:"object"`
	} `json:"findings"`
}

// writeManifests puts the app and its expectations in a fresh directory.
func writeManifests(t *testing.T, shopNS, otherNS string) (dir, expect string) {
	t.Helper()
	dir = t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.yaml"), []byte(ciApp(shopNS, otherNS)), 0o644); err != nil {
		t.Fatal(err)
	}
	expect = filepath.Join(t.TempDir(), "expect.yaml")
	if err := os.WriteFile(expect, []byte(ciExpectations(shopNS, otherNS)), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, expect
}

// offline runs netcheck with KUBECONFIG naming a file that does not exist:
// any API call would fail.
func offline(t *testing.T, c *framework.Cluster, args ...string) framework.Result {
	t.Helper()
	return c.RunWith(t, framework.RunOptions{Env: []string{"KUBECONFIG=" + filepath.Join(t.TempDir(), "no-kubeconfig")}}, bin, args...)
}

func TestManifestsAreAnsweredWithoutACluster(t *testing.T) {
	c := framework.Get(t)
	shopNS, otherNS := "nc-ci-offline", "nc-ci-offline-other" // never created: nothing of it exists anywhere
	dir, expect := writeManifests(t, shopNS, otherNS)
	time.Sleep(1100 * time.Millisecond) // keep earlier tests' requests out of the audit window
	since := time.Now()

	t.Run("SRC DST is answered from the files", func(t *testing.T) {
		res := offline(t, c, "-n", shopNS, "-f", dir, "deploy/frontend", "svc/api:80", "-o", "json")
		var r report
		res.DecodeJSON(t, &r)
		if res.Code != 0 || r.Verdict != "reachable" || r.Policy == nil || r.Policy.Ingress.AllowedBy[0].Policy != "api-from-frontends" {
			t.Fatalf("want reachable, allowed by api-from-frontends\n%s", res)
		}
		res = offline(t, c, "-n", shopNS, "-f", dir, "deploy/frontend", "svc/api-metrics:9090")
		if res.Code != 1 || !strings.Contains(res.Stdout, "port-mismatch") || !strings.Contains(res.Stdout, "declared: http=8080") {
			t.Errorf("want port-mismatch naming the declared port http=8080\n%s", res)
		}
	})
	t.Run("expectations are answered, and the one not met fails the run at its line", func(t *testing.T) {
		res := offline(t, c, "-n", shopNS, "-f", dir, "--expect", expect, "-o", "json")
		var d expectDoc
		res.DecodeJSON(t, &d)
		if res.Code != 1 || d.Metadata.Input != "files" || len(d.Expectations) != 12 {
			t.Fatalf("want exit 1 from the files alone, 12 expectations\n%s", res)
		}
		for i, e := range d.Expectations {
			if e.Met != (i != 11) {
				t.Errorf("expectation %d (%s -> %s, expect %s): verdict %s, met %v", i+1, e.From, e.To, e.Expect, e.Verdict, e.Met)
			}
		}
		if len(d.Findings) != 1 || d.Findings[0].RuleID != "NC108" || d.Findings[0].Object.Name != "db-from-api" ||
			d.Findings[0].Object.Source.File != expect || d.Findings[0].Object.Source.Line != 12 {
			t.Errorf("want one NC108 on db-from-api at %s:12\n%s", expect, res.Stdout)
		}
	})
	t.Run("SARIF carries the expectation's file and line", func(t *testing.T) {
		res := offline(t, c, "-n", shopNS, "-f", dir, "--expect", expect, "-o", "sarif")
		var doc struct {
			Runs []struct {
				Results []struct {
					RuleID    string `json:"ruleId"`
					Locations []struct {
						PhysicalLocation struct {
							ArtifactLocation struct{ URI string } `json:"artifactLocation"`
							Region           struct {
								StartLine int `json:"startLine"`
							} `json:"region"`
						} `json:"physicalLocation"`
					} `json:"locations"`
				} `json:"results"`
			} `json:"runs"`
		}
		res.DecodeJSON(t, &doc)
		if res.Code != 1 || len(doc.Runs) != 1 || len(doc.Runs[0].Results) != 1 {
			t.Fatalf("want one SARIF result\n%s", res)
		}
		loc := doc.Runs[0].Results[0].Locations[0].PhysicalLocation
		if !strings.HasSuffix(loc.ArtifactLocation.URI, "expect.yaml") || loc.Region.StartLine != 12 {
			t.Errorf("location %+v: want expect.yaml line 12", loc)
		}
	})
	t.Run("the matrix is drawn from the files", func(t *testing.T) {
		res := offline(t, c, "-f", dir, "--matrix")
		if res.Code != 0 || !strings.Contains(res.Stdout, "statefulset/db:5432") || !strings.Contains(res.Stdout, "blocked") {
			t.Errorf("want a grid with the db's port and a blocked cell\n%s", res)
		}
	})
	t.Run("a workload the files do not have is bad input at its line", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "bad.yaml")
		if err := os.WriteFile(bad, []byte("- {from: deploy/frontend, to: svc/api, port: 80, expect: reachable}\n- {from: deploy/nosuch, to: svc/api, port: 80, expect: reachable}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		res := offline(t, c, "-n", shopNS, "-f", dir, "--expect", bad)
		if res.Code != 2 || res.Stdout != "" || strings.Count(res.Stderr, "\n") != 1 || !strings.Contains(res.Stderr, bad+":2: ") || !strings.Contains(res.Stderr, `"nosuch"`) {
			t.Errorf("want exit 2 and one line %s:2: naming nosuch\n%s", bad, res)
		}
	})
	if reads, writes := auditedCalls(t, c, since); reads != 0 || len(writes) != 0 {
		t.Errorf("the runs from files made %d reads and %v writes: want no API call at all", reads, writes)
	}
}

// applyApp creates the app in the cluster and waits until its pods run and
// the Services' EndpointSlices list them.
func applyApp(t *testing.T, c *framework.Cluster, shopNS, otherNS string) {
	t.Helper()
	c.Apply(t, "", ciApp(shopNS, otherNS))
	want := map[string]int{shopNS: 3, otherNS: 1}
	for ns, n := range want {
		framework.Eventually(t, 2*time.Minute, func() (bool, error) {
			pods, err := c.Client.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{})
			if err != nil {
				return false, err
			}
			ready := 0
			for _, p := range pods.Items {
				for _, cond := range p.Status.Conditions {
					if cond.Type == corev1.PodReady && cond.Status == corev1.ConditionTrue && p.Status.PodIP != "" {
						ready++
					}
				}
			}
			return ready == n, nil
		}, fmt.Sprintf("%d ready pods in %s", n, ns))
	}
	for _, svc := range []string{"api", "api-metrics", "db"} {
		framework.Eventually(t, time.Minute, func() (bool, error) {
			sl, err := c.Client.DiscoveryV1().EndpointSlices(shopNS).List(context.Background(), metav1.ListOptions{LabelSelector: "kubernetes.io/service-name=" + svc})
			if err != nil {
				return false, err
			}
			for _, s := range sl.Items {
				for _, e := range s.Endpoints {
					if e.Conditions.Ready != nil && *e.Conditions.Ready && len(s.Ports) > 0 {
						return true, nil
					}
				}
			}
			return false, nil
		}, "a ready endpoint of Service "+svc)
	}
}

func TestExpectationsAgreeWithTheLivePath(t *testing.T) {
	c := framework.Get(t)
	shopNS := c.Namespace(t, "nc-ci", map[string]string{"team": "shop"})
	otherNS := c.Namespace(t, "nc-ci-other", map[string]string{"team": "other"})
	dir, expect := writeManifests(t, shopNS, otherNS)

	res := offline(t, c, "-n", shopNS, "-f", dir, "--expect", expect, "-o", "json")
	var fromFiles expectDoc
	res.DecodeJSON(t, &fromFiles)
	if res.Code != 1 || len(fromFiles.Expectations) != 12 {
		t.Fatalf("from the files: want exit 1 and 12 expectations\n%s", res)
	}

	applyApp(t, c, shopNS, otherNS)
	for _, e := range fromFiles.Expectations {
		ns := shopNS
		if e.Namespace != "" {
			ns = e.Namespace
		}
		args := []string{"--no-probe", "-n", ns, e.From, e.To, "--protocol", e.Protocol}
		if e.Port != "" {
			args = append(args, "--port", e.Port)
		}
		live, r := run(t, c, args...)
		if r.Verdict != e.Verdict {
			t.Errorf("%s:%d %s -> %s: the files say %s, the live cluster says %s (%s)\n%s", e.Source.File, e.Source.Line, e.From, e.To, e.Verdict, r.Verdict, r.Reason, live)
		}
	}

	// The same files over the live cluster: the manifest objects win, and
	// the answers do not change.
	res = c.Run(t, bin, "-n", shopNS, "-f", dir, "--expect", expect, "-o", "json")
	var overLive expectDoc
	res.DecodeJSON(t, &overLive)
	if res.Code != 1 || overLive.Metadata.Input != "files+cluster" || len(overLive.Expectations) != len(fromFiles.Expectations) {
		t.Fatalf("over the live cluster: want exit 1, input files+cluster\n%s", res)
	}
	for i, e := range overLive.Expectations {
		if e.Verdict != fromFiles.Expectations[i].Verdict {
			t.Errorf("%s -> %s: over the cluster %s, from the files alone %s", e.From, e.To, e.Verdict, fromFiles.Expectations[i].Verdict)
		}
	}
}

func TestAManifestPolicyOverTheLiveClusterChangesTheVerdict(t *testing.T) {
	c := framework.Get(t)
	shopNS := c.Namespace(t, "nc-overlay", map[string]string{"team": "shop"})
	otherNS := c.Namespace(t, "nc-overlay-other", map[string]string{"team": "other"})
	applyApp(t, c, shopNS, otherNS)

	_, live := run(t, c, "--no-probe", "-n", shopNS, "deploy/frontend", "svc/db:5432")
	if live.Verdict != "blocked-by-policy" {
		t.Fatalf("live: %s (%s), want blocked-by-policy by db-from-api", live.Verdict, live.Reason)
	}
	overlay := filepath.Join(t.TempDir(), "db-policy.yaml")
	if err := os.WriteFile(overlay, []byte(fmt.Sprintf(`# The change under review: the frontend may reach the database too.
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-from-api, namespace: %s}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Ingress]
  ingress:
  - from: [{podSelector: {matchLabels: {app: api}}}, {podSelector: {matchLabels: {app: frontend}}}]
    ports: [{port: pg}]
`, shopNS)), 0o644); err != nil {
		t.Fatal(err)
	}
	since := time.Now()
	res := c.Run(t, bin, "-n", shopNS, "-f", overlay, "deploy/frontend", "svc/db:5432", "-o", "json")
	var r report
	res.DecodeJSON(t, &r)
	var meta struct {
		Metadata struct{ Input, Context string } `json:"metadata"`
	}
	if err := json.Unmarshal([]byte(res.Stdout), &meta); err != nil {
		t.Fatal(err)
	}
	if res.Code != 0 || r.Verdict != "reachable" || meta.Metadata.Input != "files+cluster" || r.Policy == nil ||
		len(r.Policy.Ingress.AllowedBy) != 1 || r.Policy.Ingress.AllowedBy[0].Policy != "db-from-api" || r.Policy.Ingress.AllowedBy[0].Rule != 0 {
		t.Fatalf("with the manifest policy: want reachable, allowed by the manifest's db-from-api, from files+cluster\n%s", res)
	}
	// The live pods and the controller's EndpointSlice are what it judged.
	if r.Service == nil || r.Service.Ready != 1 || r.Service.Endpoints[0].Pod != "db-0" || r.Service.Endpoints[0].IP == "" {
		t.Errorf("want the live endpoint db-0 with its IP\n%s", res.Stdout)
	}
	reads, writes := auditedCalls(t, c, since)
	if reads == 0 || len(writes) != 0 {
		t.Errorf("-f over the cluster made %d reads and %v writes: want reads only", reads, writes)
	}
	// The live object is unchanged.
	_, live = run(t, c, "--no-probe", "-n", shopNS, "deploy/frontend", "svc/db:5432")
	if live.Verdict != "blocked-by-policy" {
		t.Errorf("live after the run: %s, want blocked-by-policy still", live.Verdict)
	}
}

func TestALiveDestinationWithoutNamespaceIsTheSourcesNamespaces(t *testing.T) {
	c := framework.Get(t)
	shopNS, otherNS := shop(t, c)
	// From nc-other/intruder without -n: "db" is nc-other/db, which does not
	// exist; with -n the shop's db is meant.
	res := c.Run(t, bin, "--no-probe", otherNS+"/intruder", "db", "--port", "5432")
	if res.Code != 2 || !strings.Contains(res.Stderr, `"db" not found in namespace `+otherNS) {
		t.Errorf("without -n: want the destination looked up in %s\n%s", otherNS, res)
	}
	res, r := run(t, c, "--no-probe", "-n", shopNS, otherNS+"/intruder", "db", "--port", "5432")
	if r.Verdict != "blocked-by-policy" {
		t.Errorf("with -n %s: want the shop's db, blocked by db-from-api\n%s", shopNS, res)
	}
}

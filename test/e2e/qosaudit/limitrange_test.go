package qosaudit

import (
	"context"
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

// workloadManifests have no namespace: they are applied into the test's.
// Every kind with a pod template is there; what they leave out is what a
// LimitRange fills in.
const workloadManifests = `apiVersion: apps/v1
kind: Deployment
metadata: {name: none}
spec:
  replicas: 1
  selector: {matchLabels: {app: none}}
  template:
    metadata: {labels: {app: none}}
    spec:
      containers:
      - {name: app, image: registry.k8s.io/pause:3.10}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: mem-limit-only}
spec:
  replicas: 1
  selector: {matchLabels: {app: mem-limit-only}}
  template:
    metadata: {labels: {app: mem-limit-only}}
    spec:
      containers:
      - name: app
        image: registry.k8s.io/pause:3.10
        resources: {limits: {memory: 256Mi}}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: equal-cpu}
spec:
  replicas: 1
  serviceName: equal-cpu
  selector: {matchLabels: {app: equal-cpu}}
  template:
    metadata: {labels: {app: equal-cpu}}
    spec:
      containers:
      - name: app
        image: registry.k8s.io/pause:3.10
        resources: {requests: {cpu: 500m}, limits: {cpu: 500m}}
---
apiVersion: batch/v1
kind: Job
metadata: {name: limits-only}
spec:
  template:
    metadata: {labels: {app: limits-only}}
    spec:
      restartPolicy: Never
      containers:
      - name: app
        image: registry.k8s.io/pause:3.10
        resources: {limits: {cpu: "1", memory: 512Mi}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: ds-limits}
spec:
  selector: {matchLabels: {app: ds-limits}}
  template:
    metadata: {labels: {app: ds-limits}}
    spec:
      containers:
      - name: app
        image: registry.k8s.io/pause:3.10
        resources: {limits: {cpu: 500m, memory: 256Mi}}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: rs-cpu-request}
spec:
  replicas: 1
  selector: {matchLabels: {app: rs-cpu-request}}
  template:
    metadata: {labels: {app: rs-cpu-request}}
    spec:
      containers:
      - name: app
        image: registry.k8s.io/pause:3.10
        resources: {requests: {cpu: 200m}}
---
apiVersion: v1
kind: Pod
metadata: {name: init-none, labels: {app: init-none}}
spec:
  initContainers:
  - {name: setup, image: registry.k8s.io/pause:3.10}
  containers:
  - name: app
    image: registry.k8s.io/pause:3.10
    resources: {limits: {cpu: 500m, memory: 256Mi}}
---
apiVersion: v1
kind: Pod
metadata: {name: sidecar, labels: {app: sidecar}}
spec:
  initContainers:
  - name: log
    image: registry.k8s.io/pause:3.10
    restartPolicy: Always
    resources: {limits: {cpu: 500m, memory: 256Mi}}
  containers:
  - {name: app, image: registry.k8s.io/pause:3.10}
---
apiVersion: v1
kind: Pod
metadata: {name: pod-level, labels: {app: pod-level}}
spec:
  resources:
    requests: {cpu: "8", memory: 8Gi}
    limits: {cpu: "8", memory: 8Gi}
  containers:
  - {name: app, image: registry.k8s.io/pause:3.10}
  - name: side
    image: registry.k8s.io/pause:3.10
    resources: {requests: {memory: 128Mi}}
---
apiVersion: v1
kind: Pod
metadata: {name: pod-level-limits, labels: {app: pod-level-limits}}
spec:
  resources:
    limits: {cpu: "2", memory: 2Gi}
  containers:
  - {name: app, image: registry.k8s.io/pause:3.10}
`

// defaultsLimitRange sets default limits and a lower cpu default request.
const defaultsLimitRange = `apiVersion: v1
kind: LimitRange
metadata: {name: defaults}
spec:
  limits:
  - type: Container
    default: {cpu: 500m, memory: 256Mi}
    defaultRequest: {cpu: 100m}
`

// maxMinLimitRange has no defaults: the apiserver derives them from max and
// min when the LimitRange is created; the plugin must do the same with the
// object as written in the manifest.
const maxMinLimitRange = `apiVersion: v1
kind: LimitRange
metadata: {name: bounds}
spec:
  limits:
  - type: Container
    max: {cpu: "2", memory: 2Gi}
    min: {cpu: 50m}
  - type: Pod
    max: {cpu: "16", memory: 16Gi}
`

// TestLimitRangePredictionFromCluster: the LimitRange lives in the cluster,
// the plugin reads it, predicts, then the manifests are applied.
func TestLimitRangePredictionFromCluster(t *testing.T) {
	c := framework.Get(t)
	ns := c.Namespace(t, "qos-lr-live", nil)
	c.Apply(t, ns, defaultsLimitRange)
	path := writeFile(t, workloadManifests)

	res := c.Run(t, binary, "-f", path, "-n", ns, "-o", "json", "--fail-on", "never")
	if res.Code != 0 {
		t.Fatalf("prediction failed:\n%s", res)
	}
	waitForLimitRanger(t, c, ns)
	c.Apply(t, ns, workloadManifests)
	comparePredictions(t, c, ns, res)
}

// TestLimitRangePredictionFromManifests: the LimitRange is part of the -f
// input and the plugin does not look at the cluster (--local).
func TestLimitRangePredictionFromManifests(t *testing.T) {
	c := framework.Get(t)
	ns := c.Namespace(t, "qos-lr-files", nil)
	path := writeFile(t, maxMinLimitRange+"---\n"+workloadManifests)

	res := c.Run(t, binary, "-f", path, "-n", ns, "--local", "-o", "json", "--fail-on", "never")
	if res.Code != 0 {
		t.Fatalf("prediction failed:\n%s", res)
	}
	c.Apply(t, ns, maxMinLimitRange)
	waitForLimitRanger(t, c, ns)
	c.Apply(t, ns, workloadManifests)
	comparePredictions(t, c, ns, res)
}

// comparePredictions requires each workload's predicted class to be the
// status.qosClass of the pods its controller created.
func comparePredictions(t *testing.T, c *framework.Cluster, ns string, res framework.Result) {
	t.Helper()
	var rep auditReport
	res.DecodeJSON(t, &rep)
	if len(rep.Workloads) != 10 {
		t.Fatalf("want 10 workloads in the prediction, got %d\n%s", len(rep.Workloads), res.Stdout)
	}
	changed := 0
	for _, w := range rep.Workloads {
		if w.Namespace != ns {
			t.Errorf("%s/%s predicted in namespace %q, want %q", w.Kind, w.Name, w.Namespace, ns)
		}
		if w.LimitRangeChangedClass {
			changed++
		}
		pods := waitForPods(t, c, ns, w.Name)
		for _, p := range pods {
			if string(p.Status.QOSClass) != w.QOSClass {
				t.Errorf("%s/%s: predicted %s (limitRangeApplied %v, without LimitRange %s), apiserver assigned %s to pod %s\n%s",
					w.Kind, w.Name, w.QOSClass, w.LimitRangeApplied, w.ClassWithoutLimitRange, p.Status.QOSClass, p.Name, resources(p))
			}
			// The LimitRanger annotates the pods it changed: the plugin must
			// say a LimitRange applied exactly when it did.
			_, annotated := p.Annotations["kubernetes.io/limit-ranger"]
			if annotated != w.LimitRangeApplied {
				t.Errorf("%s/%s: limitRangeApplied %v, but the pod's limit-ranger annotation is %q", w.Kind, w.Name, w.LimitRangeApplied, p.Annotations["kubernetes.io/limit-ranger"])
			}
		}
	}
	if changed == 0 {
		t.Error("no workload's class was changed by the LimitRange: the scenario lost its point")
	}
}

// waitForPods waits until the workload's controller has created its pods
// (the class is set on create) and returns them.
func waitForPods(t *testing.T, c *framework.Cluster, ns, app string) []corev1.Pod {
	t.Helper()
	var pods []corev1.Pod
	framework.Eventually(t, 60*time.Second, func() (bool, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		l, err := c.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=" + app})
		if err != nil {
			return false, err
		}
		pods = l.Items
		return len(pods) > 0, nil
	}, fmt.Sprintf("pods of %s in %s (kubectl get events -n %s shows FailedCreate when admission refuses them)", app, ns, ns))
	return pods
}

func resources(p corev1.Pod) string {
	var b strings.Builder
	if p.Spec.Resources != nil {
		fmt.Fprintf(&b, "  pod-level: requests=%v limits=%v\n", p.Spec.Resources.Requests, p.Spec.Resources.Limits)
	}
	for _, c := range append(append([]corev1.Container{}, p.Spec.InitContainers...), p.Spec.Containers...) {
		fmt.Fprintf(&b, "  %s: requests=%v limits=%v\n", c.Name, c.Resources.Requests, c.Resources.Limits)
	}
	return b.String()
}

func writeFile(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "manifests.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestLimitRangeRejectionMatchesAPIServer: a manifest that breaks the
// LimitRange's bounds is reported with the apiserver's own words.
func TestLimitRangeRejectionMatchesAPIServer(t *testing.T) {
	c := framework.Get(t)
	ns := c.Namespace(t, "qos-lr-reject", nil)
	c.Apply(t, ns, `apiVersion: v1
kind: LimitRange
metadata: {name: strict}
spec:
  limits:
  - type: Container
    max: {cpu: "2"}
    min: {memory: 64Mi}
    maxLimitRequestRatio: {memory: "2"}
`)
	manifest := `apiVersion: v1
kind: Pod
metadata: {name: greedy}
spec:
  containers:
  - name: app
    image: registry.k8s.io/pause:3.10
    resources: {requests: {cpu: 100m, memory: 100Mi}, limits: {cpu: "4", memory: 1Gi}}
`
	path := writeFile(t, manifest)
	res := c.Run(t, binary, "-f", path, "-n", ns, "-o", "json")
	var rep struct {
		Workloads []struct {
			LimitRangeViolations []string `json:"limitRangeViolations"`
		} `json:"workloads"`
		Findings []struct{ RuleID string } `json:"findings"`
	}
	res.DecodeJSON(t, &rep)
	if res.Code != 1 || len(rep.Workloads) != 1 || len(rep.Workloads[0].LimitRangeViolations) != 2 {
		t.Fatalf("want exit 1 and two violations\n%s", res)
	}
	waitForLimitRanger(t, c, ns)
	applied := c.KubectlResult(t, manifest, "apply", "-n", ns, "-f", "-")
	if applied.Code == 0 {
		t.Fatalf("the apiserver accepted the pod the plugin says it refuses\n%s", applied)
	}
	for _, v := range rep.Workloads[0].LimitRangeViolations {
		if !strings.Contains(applied.Stderr, v) {
			t.Errorf("violation %q is not in the apiserver's answer:\n%s", v, applied.Stderr)
		}
	}
}

// TestValidationAfterDefaultsMatchesAPIServer: a LimitRange default limit
// below the manifest's request, and pod-level requests below the
// containers', make the apiserver refuse the pod; -f says so in its words.
func TestValidationAfterDefaultsMatchesAPIServer(t *testing.T) {
	c := framework.Get(t)
	ns := c.Namespace(t, "qos-invalid", nil)
	c.Apply(t, ns, `apiVersion: v1
kind: LimitRange
metadata: {name: defaults}
spec:
  limits:
  - type: Container
    default: {memory: 512Mi}
`)
	manifests := map[string]string{
		"over-default": `apiVersion: v1
kind: Pod
metadata: {name: over-default}
spec:
  containers:
  - name: app
    image: registry.k8s.io/pause:3.10
    resources: {requests: {memory: 1Gi}}
`,
		"pod-level-below": `apiVersion: v1
kind: Pod
metadata: {name: pod-level-below}
spec:
  resources: {requests: {memory: 100Mi}, limits: {memory: 1Gi}}
  containers:
  - name: app
    image: registry.k8s.io/pause:3.10
    resources: {requests: {memory: 200Mi}, limits: {memory: 300Mi}}
`,
	}
	waitForLimitRanger(t, c, ns)
	for name, manifest := range manifests {
		t.Run(name, func(t *testing.T) {
			res := c.Run(t, binary, "-f", writeFile(t, manifest), "-n", ns, "-o", "json")
			var rep struct {
				Workloads []struct {
					ValidationErrors []string `json:"validationErrors"`
				} `json:"workloads"`
			}
			res.DecodeJSON(t, &rep)
			if res.Code != 1 || len(rep.Workloads) != 1 || len(rep.Workloads[0].ValidationErrors) == 0 {
				t.Fatalf("want exit 1 and validation errors\n%s", res)
			}
			applied := c.KubectlResult(t, manifest, "apply", "-n", ns, "-f", "-")
			if applied.Code == 0 {
				t.Fatalf("the apiserver accepted the pod the plugin says it refuses\n%s", applied)
			}
			for _, v := range rep.Workloads[0].ValidationErrors {
				if !strings.Contains(applied.Stderr, v) {
					t.Errorf("error %q is not in the apiserver's answer:\n%s", v, applied.Stderr)
				}
			}
		})
	}
}

package qosaudit

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/ktriage/ktriage/test/e2e/framework"
)

const binary = "kubectl-qos_audit"

// auditReport is the part of the JSON document the tests read; the field
// names are the plugin's contract.
type auditReport struct {
	Pods []struct {
		Namespace      string `json:"namespace"`
		Name           string `json:"name"`
		QOSClass       string `json:"qosClass"`
		StoredQOSClass string `json:"storedQosClass"`
	} `json:"pods"`
	Workloads []struct {
		Kind                   string `json:"kind"`
		Namespace              string `json:"namespace"`
		Name                   string `json:"name"`
		QOSClass               string `json:"qosClass"`
		LimitRangeApplied      bool   `json:"limitRangeApplied"`
		LimitRangeChangedClass bool   `json:"limitRangeChangedClass"`
		ClassWithoutLimitRange string `json:"classWithoutLimitRange"`
	} `json:"workloads"`
	Nodes []struct {
		Name          string `json:"name"`
		UsageSource   string `json:"usageSource"`
		Partial       string `json:"partial"`
		EvictionOrder []struct {
			Namespace  string `json:"namespace"`
			Name       string `json:"name"`
			QOSClass   string `json:"qosClass"`
			Containers []struct {
				Name        string `json:"name"`
				OOMScoreAdj int    `json:"oomScoreAdj"`
			} `json:"containers"`
		} `json:"evictionOrder"`
	} `json:"nodes"`
	Findings []struct {
		RuleID string `json:"ruleID"`
		Object struct {
			Kind string `json:"kind"`
			Name string `json:"name"`
		} `json:"object"`
	} `json:"findings"`
}

// writeManifests writes objects as one multi-document YAML file.
func writeManifests(t *testing.T, objs ...runtime.Object) (string, string) {
	t.Helper()
	var docs []string
	for _, o := range objs {
		b, err := yaml.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, string(b))
	}
	text := strings.Join(docs, "---\n")
	path := filepath.Join(t.TempDir(), "manifests.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, text
}

// waitForLimitRanger waits until the LimitRanger admission plugin applies
// the namespace's LimitRanges: its cache can lag a LimitRange just created.
// A pod without resources, created with a server-side dry run, is then
// either given defaults (the plugin annotates it) or refused by a bound.
func waitForLimitRanger(t *testing.T, c *framework.Cluster, ns string) {
	t.Helper()
	probe := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "limitranger-probe-"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.k8s.io/pause:3.10"}}},
	}
	framework.Eventually(t, 30*time.Second, func() (bool, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		got, err := c.Client.CoreV1().Pods(ns).Create(ctx, probe, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if apierrors.IsForbidden(err) {
			return true, nil
		}
		if err != nil {
			return false, err
		}
		_, annotated := got.Annotations["kubernetes.io/limit-ranger"]
		return annotated, nil
	}, "the LimitRanger admission plugin to apply the LimitRanges of namespace "+ns)
}

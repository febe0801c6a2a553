package qosaudit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
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

package netcheck

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ktriage/ktriage/internal/golden"
	"github.com/ktriage/ktriage/pkg/printers"
)

func TestGoldenOutput(t *testing.T) {
	cases := []struct {
		file string
		args []string
	}{
		{"service-reachable", []string{"frontend", "svc/api:80"}},
		{"pod-blocked", []string{"frontend", "db", "--port", "5432"}},
		{"dns-name", []string{"frontend", "api.shop:80"}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			rep, err := runCheck(t, c.args...)
			if err != nil {
				t.Fatal(err)
			}
			rep.Metadata.Version = "test"
			rep.Finalize(nil)
			for _, format := range []string{"table", "wide", "json", "yaml", "sarif", "junit"} {
				var buf bytes.Buffer
				if err := printers.Print(&buf, format, rep, printers.Options{}); err != nil {
					t.Fatal(err)
				}
				golden.Assert(t, filepath.Join("testdata", c.file+"."+format), buf.Bytes())
				if format == "sarif" {
					golden.SARIF(t, buf.Bytes())
				}
			}
		})
	}
}

// The JSON sections scripts read are a contract.
func TestJSONContract(t *testing.T) {
	rep, err := runCheck(t, "frontend", "db", "--port", "5432")
	if err != nil {
		t.Fatal(err)
	}
	rep.Finalize(nil)
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"apiVersion", "kind", "metadata", "findings", "summary", "verdict", "probe", "policy", "source", "destination"} {
		if _, ok := doc[key]; !ok {
			t.Errorf("the report lacks .%s", key)
		}
	}
	if doc["kind"] != "NetcheckReport" || doc["verdict"] != "blocked-by-policy" || doc["probe"] != nil {
		t.Errorf("kind %v verdict %v probe %v", doc["kind"], doc["verdict"], doc["probe"])
	}
	policy := doc["policy"].(map[string]any)
	for _, key := range []string{"egress", "ingress", "allowed", "targets"} {
		if _, ok := policy[key]; !ok {
			t.Errorf("the report lacks .policy.%s", key)
		}
	}
	ingress := policy["ingress"].(map[string]any)
	if ingress["reason"] != "no-rule-allows" || ingress["isolatedBy"].([]any)[0].(map[string]any)["policy"] != "db-from-api" {
		t.Errorf(".policy.ingress = %v", ingress)
	}
}

func TestAPodReachingItselfIsNotBlockedByItsOwnPolicies(t *testing.T) {
	// db is isolated for ingress by db-from-api, which admits only the api.
	rep, err := runCheck(t, "db", "db", "--port", "5432")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict != "reachable" || !rep.Policy.Allowed || rep.Policy.Ingress.Reason != "self" {
		t.Errorf("verdict %s, policy allowed %v, ingress reason %s: want reachable, allowed, self", rep.Verdict, rep.Policy.Allowed, rep.Policy.Ingress.Reason)
	}
	if got := DirectionDetail(rep.Policy.Ingress); !strings.Contains(got, "itself") {
		t.Errorf("ingress detail %q does not say the pod reaches itself", got)
	}
}

func TestProbeSectionShape(t *testing.T) {
	b, err := json.Marshal(ProbeInfo{Result: "reachable", LatencyMs: 1.5, Container: "netcheck-abcde"})
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"result":"reachable"`, `"latencyMs":1.5`, `"container":"netcheck-abcde"`} {
		if !strings.Contains(string(b), key) {
			t.Errorf(".probe lacks %s: %s", key, b)
		}
	}
}

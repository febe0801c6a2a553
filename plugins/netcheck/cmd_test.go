package netcheck

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/ktriage/ktriage/internal/golden"
	"github.com/ktriage/ktriage/pkg/cli"
	nc "github.com/ktriage/ktriage/pkg/netcheck"
	"github.com/ktriage/ktriage/pkg/netcheck/netchecktest"
	"github.com/ktriage/ktriage/pkg/printers"
)

// world is a namespace with a frontend, an api behind a Service, and a
// database only the api may reach.
func world() []runtime.Object { return netchecktest.Shop() }

func runCheck(t *testing.T, args ...string) (*nc.Result, error) {
	t.Helper()
	return runCheckWith(t, nil, args...)
}

// runCheckWith runs against world() plus extra objects, read as the live
// path reads them.
func runCheckWith(t *testing.T, extra []runtime.Object, args ...string) (*nc.Result, error) {
	t.Helper()
	streams, _, _, _ := genericiooptions.NewTestIOStreams()
	o := &Options{Common: cli.NewCommon(streams), Protocol: "tcp", NoProbe: true, Timeout: 1, StartTimeout: 1}
	o.Src, o.Dst = args[0], args[1]
	for i := 2; i+1 < len(args); i += 2 {
		switch args[i] {
		case "--port":
			o.Port = args[i+1]
		case "--protocol":
			o.Protocol = args[i+1]
		}
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	cl := netchecktest.NewCluster(append(world(), extra...)...)
	res, err := o.answerLive(context.Background(), o.check("shop", false), func(_ context.Context, r nc.Read) (nc.ReadResult, error) {
		s, a, err := cl.Read(r.Kind, r.Name, r.Query())
		return nc.ReadResult{Objects: s, IPAddress: a, Refused: err}, nil
	}, nil)
	if err != nil {
		return nil, err
	}
	return res, nil
}

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
	if got := nc.DirectionDetail(rep.Policy.Ingress); !strings.Contains(got, "itself") {
		t.Errorf("ingress detail %q does not say the pod reaches itself", got)
	}
}

func TestProbeSectionShape(t *testing.T) {
	b, err := json.Marshal(nc.ProbeInfo{Result: "reachable", LatencyMs: 1.5, Container: "netcheck-abcde"})
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"result":"reachable"`, `"latencyMs":1.5`, `"container":"netcheck-abcde"`} {
		if !strings.Contains(string(b), key) {
			t.Errorf(".probe lacks %s: %s", key, b)
		}
	}
}

func TestBadInputIsAUsageError(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"an unknown protocol", []string{"frontend", "db", "--protocol", "icmp"}, "--protocol"},
		{"a port out of range", []string{"frontend", "db", "--port", "70000"}, "--port"},
		{"a source with too many slashes", []string{"a/b/c", "db"}, "SRC"},
		{"a malformed destination", []string{"frontend", "svc/"}, "DST"},
		{"a pod with several ports and none given", []string{"frontend", "frontend"}, "give one with --port"},
		{"a DNS name without a port", []string{"frontend", "api.shop"}, "give a port"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := runCheck(t, c.args...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("want an error mentioning %q, got %v", c.want, err)
			}
		})
	}
	if _, err := runCheck(t, "nosuch", "db", "--port", "1"); err == nil || !strings.Contains(err.Error(), `pod "nosuch" not found in namespace shop`) {
		t.Errorf("unknown source: %v", err)
	}
}

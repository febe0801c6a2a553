package netcheck

import (
	"context"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/ktriage/ktriage/pkg/cli"
	nc "github.com/ktriage/ktriage/pkg/netcheck"
	"github.com/ktriage/ktriage/pkg/netcheck/netchecktest"
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
	res, err := nc.Answer(context.Background(), o.check("shop", false), func(_ context.Context, r nc.Read) (nc.ReadResult, error) {
		s, a, err := cl.Read(r.Kind, r.Name, r.Query())
		return nc.ReadResult{Objects: s, IPAddress: a, Refused: err}, nil
	}, nil)
	if err != nil {
		return nil, err
	}
	return res, nil
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

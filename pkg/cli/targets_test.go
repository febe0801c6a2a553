package cli

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/ktriage/ktriage/pkg/cluster"
)

func TestParseTarget(t *testing.T) {
	for _, tc := range []struct {
		name, arg, kind, obj string
		bad                  bool
	}{
		{"a bare name is a pod", "web-1", "Pod", "web-1", false},
		{"a short type is accepted", "deploy/web", "Deployment", "web", false},
		{"a type with its group is accepted", "deployments.apps/web", "Deployment", "web", false},
		{"the type is case-insensitive", "STS/db", "StatefulSet", "db", false},
		{"a cronjob by its short name", "cj/nightly", "CronJob", "nightly", false},
		{"a cronjob with its group", "cronjobs.batch/nightly", "CronJob", "nightly", false},
		{"a pod by its short type", "po/web-0", "Pod", "web-0", false},
		{"a replicaset by its short name", "rs/web-1", "ReplicaSet", "web-1", false},
		{"a statefulset by its short name", "sts/db", "StatefulSet", "db", false},
		{"a daemonset by its short name", "ds/agent", "DaemonSet", "agent", false},
		{"a job by its singular name", "job/migrate", "Job", "migrate", false},
		{"an unknown type is refused", "service/web", "", "", true},
		{"an empty name is refused", "deploy/", "", "", true},
		{"an empty argument is refused", "", "", "", true},
		{"a name with a slash is refused", "deploy/a/b", "", "", true},
		{"an unknown type with a slashed name is refused", "a/b/c", "", "", true},
		{"a type with its version and group is accepted", "deployments.v1.apps/web", "Deployment", "web", false},
		{"a type under another group is refused", "deployment.example.com/web", "", "", true},
		{"a core type with a group is refused", "pods.apps/web", "", "", true},
		{"a name with upper case is refused", "Web", "", "", true},
		{"a name with a space is refused", "deploy/my web", "", "", true},
		{"a name of dots is refused", "..", "", "", true},
		{"a name longer than 253 characters is refused", strings.Repeat("a", 254), "", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kind, name, err := ParseTarget(tc.arg)
			if tc.bad {
				var ee *ExitError
				if !errors.As(err, &ee) || ee.Code != ExitFailure {
					t.Fatalf("want a usage error, got %v", err)
				}
				return
			}
			if err != nil || kind != tc.kind || name != tc.obj {
				t.Errorf("got %q %q %v, want %q %q", kind, name, err, tc.kind, tc.obj)
			}
		})
	}
}

func TestValidateTargets(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(c *Common)
		args []string
		ok   bool
	}{
		{"no names are always fine", func(c *Common) { c.AllNamespaces = true }, nil, true},
		{"names in one namespace are fine", func(c *Common) {}, []string{"web", "deploy/api"}, true},
		{"names with -f are refused", func(c *Common) { c.Filenames = []string{"k8s/"} }, []string{"web"}, false},
		{"names with -l are refused", func(c *Common) { c.Selector = "app=web" }, []string{"web"}, false},
		{"names with -A are refused", func(c *Common) { c.AllNamespaces = true }, []string{"web"}, false},
		{"a bad name is refused", func(c *Common) {}, []string{"svc/web"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewCommon(genericiooptions.NewTestIOStreamsDiscard())
			tc.set(c)
			err := c.ValidateTargets(tc.args)
			var ee *ExitError
			switch {
			case tc.ok && err != nil:
				t.Errorf("want no error, got %v", err)
			case !tc.ok && (!errors.As(err, &ee) || ee.Code != ExitFailure):
				t.Errorf("want a usage error, got %v", err)
			}
		})
	}
}

func TestTargetsAreInTheNamespaceGiven(t *testing.T) {
	got := Targets([]string{"web", "deployments.apps/api", "CJ/nightly"}, "shop")
	want := []cluster.Target{
		{Kind: cluster.KindPod, Namespace: "shop", Name: "web"},
		{Kind: cluster.KindDeployment, Namespace: "shop", Name: "api"},
		{Kind: cluster.KindCronJob, Namespace: "shop", Name: "nightly"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

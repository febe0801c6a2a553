package netcheck

import (
	"strings"
	"testing"

	"github.com/ktriage/ktriage/pkg/cluster"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

func TestARefusedListIsTheAPIErrorBack(t *testing.T) {
	r := Read{Kind: cluster.KindService, Namespace: "shop"}
	cases := []struct {
		name     string
		snap     *cluster.Snapshot
		want     func(error) bool
		refused  bool
		contains string
	}{
		{"a list made holds the objects", &cluster.Snapshot{Loaded: map[cluster.Kind]bool{cluster.KindService: true}}, nil, false, ""},
		{"a forbidden list is Forbidden", &cluster.Snapshot{Warnings: []string{`cannot list services in namespace shop: forbidden; grant list on services`}}, apierrors.IsForbidden, true, "cannot list services"},
		{"an API not served is NotFound", &cluster.Snapshot{Warnings: []string{`the cluster does not serve services`}}, apierrors.IsNotFound, true, ""},
		{"another refusal keeps its words", &cluster.Snapshot{Warnings: []string{`something else`}}, func(err error) bool { return !apierrors.IsForbidden(err) && !apierrors.IsNotFound(err) }, true, "something else"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := ListResult(r, c.snap)
			if (got.Refused != nil) != c.refused || !c.refused && got.Objects != c.snap {
				t.Fatalf("ListResult = %+v, want refused %v", got, c.refused)
			}
			if c.refused && (!c.want(got.Refused) || !strings.Contains(got.Refused.Error(), c.contains)) {
				t.Errorf("refusal %v: wrong kind of error or words", got.Refused)
			}
		})
	}
}

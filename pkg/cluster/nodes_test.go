package cluster

import (
	"errors"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestResolveNodes(t *testing.T) {
	labelled := func(name, pool string) *corev1.Node {
		return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"pool": pool}}}
	}
	s := &Snapshot{Nodes: []*corev1.Node{labelled("n3", "blue"), labelled("n1", "blue"), labelled("n2", "green")}}
	cases := []struct {
		name     string
		names    []string
		selector string
		want     []string
		err      string
	}{
		{name: "names are kept in the order given", names: []string{"n2", "n1"}, want: []string{"n2", "n1"}},
		{name: "a name given twice counts once", names: []string{"n1", "n2", "n1"}, want: []string{"n1", "n2"}},
		{name: "an unknown name says so and how to find the right one", names: []string{"n1", "n9"},
			err: `node "n9" not found: list the nodes with kubectl get nodes`},
		{name: "the nodes a selector matches are sorted by name", selector: "pool=blue", want: []string{"n1", "n3"}},
		{name: "a selector that matches nothing is an error naming the command to check it", selector: "pool=red",
			err: `no node matches the selector "pool=red": check it with kubectl get nodes -l 'pool=red'`},
		{name: "an invalid selector is an error", selector: "pool in (blue", err: `invalid node selector "pool in (blue": `},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ResolveNodes(s, tc.names, tc.selector)
			if tc.err != "" {
				if err == nil || len(err.Error()) < len(tc.err) || err.Error()[:len(tc.err)] != tc.err {
					t.Fatalf("error %v, want one starting with %q", err, tc.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestAnUnknownNodeIsANotFoundError(t *testing.T) {
	_, err := ResolveNodes(&Snapshot{}, []string{"n9"}, "")
	var nf *NotFoundError
	if !errors.As(err, &nf) || nf.Kind != "node" || nf.Name != "n9" || nf.Namespace != "" {
		t.Errorf("error %#v, want a *NotFoundError for node n9", err)
	}
}

func TestNotFoundErrorText(t *testing.T) {
	cases := []struct {
		err  NotFoundError
		want string
	}{
		{NotFoundError{Kind: "node", Name: "n9"}, `node "n9" not found`},
		{NotFoundError{Kind: "pod", Namespace: "shop", Name: "web", Hint: "check the namespace"}, `pod "web" not found in namespace "shop": check the namespace`},
		{NotFoundError{Kind: "pod", Namespace: "shop", Name: "web", Hint: "check the name", BareNamespace: true}, `pod "web" not found in namespace shop: check the name`},
	}
	for _, tc := range cases {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("%q, want %q", got, tc.want)
		}
	}
}

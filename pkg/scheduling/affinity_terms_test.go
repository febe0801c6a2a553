package scheduling

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func namespaceObj(name string, kv ...string) *corev1.Namespace {
	l := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		l[kv[i]] = kv[i+1]
	}
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: l}}
}

func antiTerms(terms ...corev1.PodAffinityTerm) podOpt {
	return func(p *corev1.Pod) {
		p.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: terms}}
	}
}

func term(key string, sel map[string]string, nsSel *metav1.LabelSelector) corev1.PodAffinityTerm {
	return corev1.PodAffinityTerm{TopologyKey: key, LabelSelector: &metav1.LabelSelector{MatchLabels: sel}, NamespaceSelector: nsSel}
}

func TestAffinityDetailsNameEachTermsOwnSelectorAndNamespaces(t *testing.T) {
	nodes := []*corev1.Node{node("n1", withLabels("zone", "a"))}
	db := pod("db-0", onNode("n1"), podLabels("app", "db"), func(p *corev1.Pod) { p.Namespace = "data" })
	namespaces := []*corev1.Namespace{namespaceObj("default"), namespaceObj("data", "team", "storage"), namespaceObj("logs", "team", "storage")}
	storage := &metav1.LabelSelector{MatchLabels: map[string]string{"team": "storage"}}
	prod := &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "env", Operator: metav1.LabelSelectorOpIn, Values: []string{"prod"}}}}
	cases := []struct {
		name      string
		pod       *corev1.Pod
		want      string
		notWanted string
	}{
		{
			name: "the term that matches is named, not the first with the same topology key",
			pod: pod("p", antiTerms(term("zone", map[string]string{"app": "cache"}, nil),
				term("zone", map[string]string{"app": "db"}, storage))),
			want:      "the pod's required anti-affinity (topologyKey zone, selector app=db, namespaces data, logs (namespaceSelector team=storage)) matches pod data/db-0 on n1 in zone=a",
			notWanted: "app=cache",
		},
		{
			name: "a namespaceSelector that matches no namespace says so",
			pod: pod("p", func(p *corev1.Pod) {
				p.Spec.Affinity = &corev1.Affinity{PodAffinity: &corev1.PodAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{
					term("zone", map[string]string{"app": "db"}, prod)}}}
			}),
			want: "no pod anywhere matches the required pod affinity (topologyKey zone, selector app=db, no namespace matches env in (prod))",
		},
		{
			name: "an empty namespaceSelector is every namespace",
			pod:  pod("p", antiTerms(term("zone", map[string]string{"app": "db"}, &metav1.LabelSelector{}))),
			want: "(topologyKey zone, selector app=db, every namespace (namespaceSelector {})) matches pod data/db-0",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			snap := snapshot(nodes, db)
			snap.Namespaces = namespaces
			r := reasonsOf(t, Evaluate(tc.pod, snap, Options{}), "n1")
			if len(r) == 0 || !strings.Contains(r[0].Detail, tc.want) || tc.notWanted != "" && strings.Contains(r[0].Detail, tc.notWanted) {
				t.Errorf("detail\n got: %+v\nwant: %s", r, tc.want)
			}
		})
	}
}

func TestTwoAntiAffinityTermsMatchingInOneDomainAreBothNamed(t *testing.T) {
	nodes := []*corev1.Node{node("n1", withLabels("zone", "a")), node("n2", withLabels("zone", "a"))}
	pods := []*corev1.Pod{pod("db-0", onNode("n1"), podLabels("app", "db")), pod("cache-0", onNode("n2"), podLabels("app", "cache"))}
	p := pod("p", antiTerms(term("zone", map[string]string{"app": "cache"}, nil), term("zone", map[string]string{"app": "db"}, nil)))
	r := reasonsOf(t, Evaluate(p, snapshot(nodes, pods...), Options{}), "n1")
	want := "the pod's required anti-affinity (topologyKey zone, selector app=cache) matches pod default/cache-0 on n2; " +
		"the pod's required anti-affinity (topologyKey zone, selector app=db) matches pod default/db-0 on n1 in zone=a"
	if r[0].Detail != want || len(r[0].Pods) != 2 {
		t.Errorf("got  %s %v\nwant %s", r[0].Detail, r[0].Pods, want)
	}
}

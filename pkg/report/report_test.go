package report

import (
	"encoding/json"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func pod(ns, name string, annotations map[string]string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Annotations: annotations}}
}

func finding(id string, sev Severity, obj ObjectRef) Finding {
	return Finding{RuleID: id, Severity: sev, Object: obj, Message: id + " on " + obj.String()}
}

func ids(fs []Finding) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, f.RuleID+"@"+f.Object.String())
	}
	return out
}

func TestRefFor(t *testing.T) {
	t.Run("a live object gets kind, namespace and name but no apiVersion", func(t *testing.T) {
		ref := RefFor("Pod", pod("prod", "web-0", nil))
		if ref.Kind != "Pod" || ref.Namespace != "prod" || ref.Name != "web-0" || ref.APIVersion != "" {
			t.Errorf("got %+v", ref)
		}
		if got := ref.String(); got != "pod/prod/web-0" {
			t.Errorf("String() = %q", got)
		}
	})
	t.Run("an object read from a manifest keeps its apiVersion", func(t *testing.T) {
		p := pod("prod", "web-0", nil)
		p.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}
		if ref := RefFor("Pod", p); ref.APIVersion != "v1" {
			t.Errorf("got %+v", ref)
		}
	})
	t.Run("the ignore annotation is read, trimmed and case-insensitive", func(t *testing.T) {
		ref := RefFor("Pod", pod("prod", "web-0", map[string]string{IgnoreAnnotation: " wp101 , WP102,,"}))
		for id, want := range map[string]bool{"WP101": true, "WP102": true, "WP103": false} {
			if got := ref.Ignores(id); got != want {
				t.Errorf("Ignores(%s) = %v, want %v", id, got, want)
			}
		}
	})
	t.Run("a cluster-scoped object has no namespace in its name", func(t *testing.T) {
		n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-1"}}
		if got := RefFor("Node", n).String(); got != "node/node-1" {
			t.Errorf("String() = %q", got)
		}
	})
	t.Run("a non-API object is named by its path", func(t *testing.T) {
		if got := (ObjectRef{Path: "/etc/kubernetes/pki/ca.crt"}).String(); got != "/etc/kubernetes/pki/ca.crt" {
			t.Errorf("String() = %q", got)
		}
	})
	t.Run("WithSource keeps the annotation and adds the position", func(t *testing.T) {
		ref := RefFor("Pod", pod("a", "b", map[string]string{IgnoreAnnotation: "X1"})).WithSource(&Source{File: "a.yaml", Line: 3})
		if !ref.Ignores("X1") || ref.Source.File != "a.yaml" || ref.Source.Line != 3 {
			t.Errorf("got %+v", ref)
		}
	})
}

func TestFinalizeSuppression(t *testing.T) {
	plain := RefFor("Pod", pod("ns", "plain", nil))
	annotated := RefFor("Pod", pod("ns", "annotated", map[string]string{IgnoreAnnotation: "QA101"}))
	cases := []struct {
		name           string
		ignore         []string
		want           []string
		wantSuppressed int
	}{
		{"without --ignore only the annotation suppresses", nil,
			[]string{"QA102@pod/ns/annotated", "QA101@pod/ns/plain", "QA102@pod/ns/plain"}, 1},
		{"--ignore drops the rule on every object", []string{"QA102"},
			[]string{"QA101@pod/ns/plain"}, 3},
		{"--ignore accepts comma-separated, lower-case IDs", []string{"qa101, qa102"},
			[]string{}, 4},
		{"an unknown ID in --ignore suppresses nothing more", []string{"ZZ999"},
			[]string{"QA102@pod/ns/annotated", "QA101@pod/ns/plain", "QA102@pod/ns/plain"}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := New("QoSAuditReport", "qos-audit", "v0")
			r.Add(finding("QA101", SeverityWarning, plain))
			r.Add(finding("QA101", SeverityWarning, annotated))
			r.Add(finding("QA102", SeverityWarning, plain))
			r.Add(finding("QA102", SeverityWarning, annotated))
			r.Finalize(tc.ignore)
			if got := ids(r.Findings); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("kept %v, want %v", got, tc.want)
			}
			if r.Summary.Suppressed != tc.wantSuppressed || r.Summary.Total != len(tc.want) {
				t.Errorf("summary %+v, want %d suppressed and %d total", r.Summary, tc.wantSuppressed, len(tc.want))
			}
		})
	}
}

func TestFinalizeSortsMostSevereFirstThenObjectThenRule(t *testing.T) {
	r := New("K", "p", "v")
	a, b := ObjectRef{Kind: "Pod", Namespace: "ns", Name: "a"}, ObjectRef{Kind: "Pod", Namespace: "ns", Name: "b"}
	r.Add(finding("R3", SeverityInfo, a))
	r.Add(finding("R2", SeverityError, b))
	r.Add(finding("R9", SeverityWarning, a))
	r.Add(finding("R1", SeverityError, b))
	r.Add(finding("R5", SeverityError, a))
	r.Finalize(nil)
	want := []string{"R5@pod/ns/a", "R1@pod/ns/b", "R2@pod/ns/b", "R9@pod/ns/a", "R3@pod/ns/a"}
	if got := ids(r.Findings); !reflect.DeepEqual(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
}

func TestFinalizeCountsAndIsIdempotent(t *testing.T) {
	r := New("K", "p", "v")
	r.Summary.Counts = map[string]int{"pods": 7}
	o := ObjectRef{Kind: "Pod", Name: "x"}
	for _, s := range []Severity{SeverityError, SeverityError, SeverityWarning, SeverityInfo, SeverityInfo, SeverityInfo} {
		r.Add(finding("R1", s, o))
	}
	r.Add(finding("R2", SeverityError, o))
	r.Finalize([]string{"R2"})
	want := Summary{Total: 6, Errors: 2, Warnings: 1, Infos: 3, Suppressed: 1, Counts: map[string]int{"pods": 7}}
	if !reflect.DeepEqual(r.Summary, want) {
		t.Errorf("summary %+v, want %+v", r.Summary, want)
	}
	r.Finalize([]string{"R2"})
	if !reflect.DeepEqual(r.Summary, want) {
		t.Errorf("after a second Finalize: %+v, want %+v", r.Summary, want)
	}
}

func TestEmptyReportHasAnEmptyFindingsList(t *testing.T) {
	r := New("WhyPendingReport", "why-pending", "v1")
	r.Finalize(nil)
	b, err := json.Marshal(&r)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if fs, ok := doc["findings"].([]any); !ok || len(fs) != 0 {
		t.Errorf(`want "findings": [], got %s`, b)
	}
	if doc["apiVersion"] != APIVersion || doc["kind"] != "WhyPendingReport" {
		t.Errorf("got %s", b)
	}
}

func TestWarnIsRecordedInMetadata(t *testing.T) {
	r := New("K", "p", "v")
	r.Warn("cannot list events: forbidden")
	if !reflect.DeepEqual(r.Metadata.Warnings, []string{"cannot list events: forbidden"}) {
		t.Errorf("got %v", r.Metadata.Warnings)
	}
}

func TestFailsThresholds(t *testing.T) {
	cases := []struct {
		name      string
		findings  []Severity
		threshold Severity
		want      bool
	}{
		{"never never fails, even on errors", []Severity{SeverityError}, SeverityNone, false},
		{"error fails on an error", []Severity{SeverityInfo, SeverityError}, SeverityError, true},
		{"error does not fail on warnings", []Severity{SeverityWarning, SeverityInfo}, SeverityError, false},
		{"warning fails on a warning", []Severity{SeverityWarning}, SeverityWarning, true},
		{"warning fails on an error", []Severity{SeverityError}, SeverityWarning, true},
		{"warning does not fail on info", []Severity{SeverityInfo}, SeverityWarning, false},
		{"info fails on info", []Severity{SeverityInfo}, SeverityInfo, true},
		{"nothing found never fails", nil, SeverityInfo, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := New("K", "p", "v")
			for _, s := range tc.findings {
				r.Add(finding("R1", s, ObjectRef{Name: "x"}))
			}
			if got := r.Fails(tc.threshold); got != tc.want {
				t.Errorf("Fails(%s) = %v, want %v", tc.threshold, got, tc.want)
			}
		})
	}
}

package report

import (
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// IgnoreAnnotation lists rule IDs ("WP101,WP102") that must not be reported
// for the annotated object.
const IgnoreAnnotation = "ktriage.io/ignore"

// Source is where an object was read from when it came from a manifest.
type Source struct {
	File string `json:"file"`
	Line int    `json:"line,omitempty"`
}

// ObjectRef names what a finding is about: a Kubernetes object, or (Path) a
// file, endpoint or other non-API thing such as a certificate on disk.
type ObjectRef struct {
	APIVersion string  `json:"apiVersion,omitempty"`
	Kind       string  `json:"kind,omitempty"`
	Namespace  string  `json:"namespace,omitempty"`
	Name       string  `json:"name,omitempty"`
	Path       string  `json:"path,omitempty"`
	Source     *Source `json:"source,omitempty"`

	// ignored holds rule IDs from the object's ktriage.io/ignore annotation.
	ignored []string
}

// String renders the reference the way kubectl names objects: kind/ns/name.
func (o ObjectRef) String() string {
	var b strings.Builder
	if o.Kind != "" {
		b.WriteString(strings.ToLower(o.Kind))
		b.WriteString("/")
	}
	if o.Namespace != "" {
		b.WriteString(o.Namespace)
		b.WriteString("/")
	}
	b.WriteString(o.Name)
	if o.Name == "" && o.Path != "" {
		return o.Path
	}
	return b.String()
}

// RefFor builds an ObjectRef for an API object, reading its ignore annotation.
// kind is passed explicitly because typed objects from a clientset carry no
// TypeMeta.
func RefFor(kind string, obj metav1.Object) ObjectRef {
	ref := ObjectRef{Kind: kind, Namespace: obj.GetNamespace(), Name: obj.GetName()}
	if ro, ok := obj.(runtime.Object); ok {
		if gvk := ro.GetObjectKind().GroupVersionKind(); !gvk.Empty() {
			ref.APIVersion = gvk.GroupVersion().String()
		}
	}
	ref.ignored = ParseIgnore(obj.GetAnnotations()[IgnoreAnnotation])
	return ref
}

// WithSource returns a copy of the reference that points at a manifest line.
func (o ObjectRef) WithSource(s *Source) ObjectRef {
	o.Source = s
	return o
}

// Ignores reports whether the object's annotation suppresses the rule.
func (o ObjectRef) Ignores(ruleID string) bool {
	for _, id := range o.ignored {
		if id == ruleID {
			return true
		}
	}
	return false
}

// ParseIgnore splits a comma-separated list of rule IDs.
func ParseIgnore(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, strings.ToUpper(p))
		}
	}
	return out
}

// Finding is one problem found by an analysis.
type Finding struct {
	RuleID   string         `json:"ruleID"`
	Severity Severity       `json:"severity"`
	Object   ObjectRef      `json:"object"`
	Message  string         `json:"message"`
	Fix      string         `json:"fix,omitempty"`
	Details  map[string]any `json:"details,omitempty"`
}

package cluster

import (
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/ktriage/ktriage/pkg/report"
)

// builder collects objects in order, keeping one per identity: a later object
// with the same kind, namespace and name replaces the earlier one in place.
type builder struct {
	entries []entry
	pos     map[identity]int
}

type entry struct {
	kind   Kind // "" for objects kept in Other
	obj    runtime.Object
	source *report.Source
}

// identity tells objects apart; group keeps same-named kinds of different API
// groups (custom resources) apart.
type identity struct {
	group, kind, namespace, name string
}

func newBuilder() *builder {
	return &builder{pos: map[identity]int{}}
}

// put adds obj and returns the entry it replaced, if any. Objects without a
// name (generateName only) are never merged.
func (b *builder) put(kind Kind, obj runtime.Object, src *report.Source) (prev *entry) {
	e := entry{kind: kind, obj: obj, source: src}
	id, ok := identityOf(kind, obj)
	if ok {
		if i, dup := b.pos[id]; dup {
			old := b.entries[i]
			b.entries[i] = e
			return &old
		}
		b.pos[id] = len(b.entries)
	}
	b.entries = append(b.entries, e)
	return nil
}

func identityOf(kind Kind, obj runtime.Object) (identity, bool) {
	m, err := meta.Accessor(obj)
	if err != nil || m.GetName() == "" {
		return identity{}, false
	}
	id := identity{kind: string(kind), namespace: m.GetNamespace(), name: m.GetName()}
	if kind == "" {
		gvk := obj.GetObjectKind().GroupVersionKind()
		id.group, id.kind = gvk.Group, gvk.Kind
	}
	return id, true
}

// build appends the collected objects to s, records their sources and, when
// s held none before, that s holds each object once (markUnique).
func (b *builder) build(s *Snapshot) {
	empty := s.empty()
	for _, e := range b.entries {
		if e.kind == "" {
			if u, ok := e.obj.(*unstructured.Unstructured); ok {
				s.Other = append(s.Other, u)
			}
		} else {
			kinds[e.kind].add(s, e.obj)
		}
		if e.source != nil {
			m, err := meta.Accessor(e.obj)
			if err != nil {
				continue
			}
			s.SetSource(sourceKind(e.kind, e.obj), m.GetNamespace(), m.GetName(), e.source)
		}
	}
	if empty {
		s.markUnique()
	}
	s.resetIndexes()
}

// sourceKind is the kind name SourceOf is keyed by.
func sourceKind(kind Kind, obj runtime.Object) string {
	if kind != "" {
		return string(kind)
	}
	return obj.GetObjectKind().GroupVersionKind().Kind
}

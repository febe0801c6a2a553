package cluster

import (
	"slices"
	"sort"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/ktriage/ktriage/pkg/report"
)

// typedKinds lists the kinds with a Snapshot field, in a fixed order.
var typedKinds = func() []Kind {
	var out []Kind
	for k, spec := range kinds {
		if spec.add != nil {
			out = append(out, k)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}()

// each calls fn for every object of the snapshot with its Kind ("" for Other).
func (s *Snapshot) each(fn func(Kind, runtime.Object)) {
	for _, k := range typedKinds {
		for _, o := range kinds[k].slice(s) {
			fn(k, o.(runtime.Object))
		}
	}
	for _, u := range s.Other {
		fn("", u)
	}
}

// Merge returns a new Snapshot holding the objects of both a and b; when both
// hold the same object (kind, namespace, name) b's wins, keeping a's
// position. Loaded, Warnings and manifest sources are combined. Call it as
// Merge(live, files) to analyse manifests against the cluster they are
// meant for. Objects are shared, not copied; either argument may be nil.
//
// A live run merges each round into what it loaded so far, tens of
// thousands of pods: a kind only one side holds, and holds each object of
// once (markUnique), is copied as it is, and the objects of a kind both
// hold are told apart by the smaller side's identities.
func Merge(a, b *Snapshot) *Snapshot {
	if a.hasSources() || b.hasSources() {
		return mergeEach(a, b)
	}
	out := &Snapshot{Loaded: map[Kind]bool{}}
	for _, k := range typedKinds {
		kinds[k].merge(k, out, a, b)
	}
	// Objects without a typed kind are few: merged one by one.
	bl := newBuilder()
	for _, s := range []*Snapshot{a, b} {
		if s != nil {
			for _, u := range s.Other {
				bl.put("", u, nil)
			}
		}
	}
	for _, e := range bl.entries {
		out.Other = append(out.Other, e.obj.(*unstructured.Unstructured))
	}
	out.combine(a, b)
	out.markUnique()
	return out
}

// mergeEach is Merge object by object, with the objects' sources.
func mergeEach(a, b *Snapshot) *Snapshot {
	out := &Snapshot{Loaded: map[Kind]bool{}}
	bl := newBuilder()
	for _, s := range []*Snapshot{a, b} {
		if s == nil {
			continue
		}
		s.each(func(k Kind, obj runtime.Object) {
			bl.put(k, obj, s.sourceOfObject(k, obj))
		})
	}
	out.combine(a, b)
	bl.build(out)
	return out
}

// combine adds a's and b's Loaded kinds, warnings and queries to s.
func (s *Snapshot) combine(a, b *Snapshot) {
	for _, from := range []*Snapshot{a, b} {
		if from == nil {
			continue
		}
		for k, v := range from.Loaded {
			if v {
				s.Loaded[k] = true
			}
		}
		s.Warnings = append(s.Warnings, from.Warnings...)
		s.queried = append(s.queried, from.queried...)
	}
}

func (s *Snapshot) hasSources() bool { return s != nil && len(s.sources) > 0 }

// empty: s holds no object.
func (s *Snapshot) empty() bool {
	for _, k := range typedKinds {
		if kinds[k].length(s) > 0 {
			return false
		}
	}
	return len(s.Other) == 0
}

// markUnique records that s holds each object of a typed kind once, as a
// builder or Merge leaves it, by the number of objects of each kind: a
// kind's objects appended to since are checked again by the next Merge.
func (s *Snapshot) markUnique() {
	s.unique = make(map[Kind]int, len(typedKinds))
	for _, k := range typedKinds {
		if n := kinds[k].length(s); n > 0 {
			s.unique[k] = n
		}
	}
}

// uniqueKind: s (nil for none), holding n objects of kind k, holds each
// once, as far as Merge may rely on.
func (s *Snapshot) uniqueKind(k Kind, n int) bool {
	return s == nil || n == 0 || s.unique[k] == n
}

// objectID tells the objects of one kind apart.
type objectID struct{ namespace, name string }

// mergeKind is Merge for the objects of one kind k of a and b: b's win,
// keeping a's position; objects without a name are never merged.
func mergeKind[PT interface{ metav1.Object }](k Kind, as, bs []PT, aUnique, bUnique bool) []PT {
	switch {
	case len(bs) == 0 && aUnique:
		return slices.Clone(as)
	case len(as) == 0 && bUnique:
		return slices.Clone(bs)
	case !aUnique:
		bl := newBuilder()
		for _, o := range as {
			bl.put(k, any(o).(runtime.Object), nil)
		}
		for _, o := range bs {
			bl.put(k, any(o).(runtime.Object), nil)
		}
		out := make([]PT, len(bl.entries))
		for i, e := range bl.entries {
			out[i] = e.obj.(PT)
		}
		return out
	}
	// a holds each object once: only b's identities need a map. Of equal
	// ones in b the last wins, at the first one's position (a builder's
	// order).
	last := make(map[objectID]int, len(bs))
	for i, o := range bs {
		if o.GetName() != "" {
			last[objectID{o.GetNamespace(), o.GetName()}] = i
		}
	}
	out := make([]PT, 0, len(as)+len(bs))
	placed := make(map[objectID]bool, len(bs))
	for _, o := range as {
		if name := o.GetName(); name != "" {
			id := objectID{o.GetNamespace(), name}
			if i, ok := last[id]; ok {
				o = bs[i]
				placed[id] = true
			}
		}
		out = append(out, o)
	}
	for _, o := range bs {
		if o.GetName() == "" {
			out = append(out, o)
			continue
		}
		id := objectID{o.GetNamespace(), o.GetName()}
		if !placed[id] {
			placed[id] = true
			out = append(out, bs[last[id]])
		}
	}
	return out
}

// DefaultNamespace puts every namespaced object that has no namespace into
// ns, as the API server would on create; manifests usually leave it out.
// Objects of kinds whose scope is unknown (custom resources without their
// CustomResourceDefinition in the snapshot) are left as they are.
func (s *Snapshot) DefaultNamespace(ns string) {
	for _, k := range typedKinds {
		if !kinds[k].namespaced {
			continue
		}
		for _, o := range kinds[k].slice(s) {
			if o.GetNamespace() == "" {
				s.moveSource(string(k), o.GetName(), ns)
				o.SetNamespace(ns)
			}
		}
	}
	scopes := s.crdScopes()
	for _, u := range s.Other {
		if u.GetNamespace() == "" && namespacedOther(u, scopes) {
			s.moveSource(u.GetKind(), u.GetName(), ns)
			u.SetNamespace(ns)
		}
	}
	s.resetIndexes()
}

func (s *Snapshot) moveSource(kind, name, ns string) {
	if src := s.SourceOf(kind, "", name); src != nil {
		delete(s.sources, objectKey{kind, "", name})
		s.SetSource(kind, ns, name, src)
	}
}

func (s *Snapshot) sourceOfObject(k Kind, obj runtime.Object) *report.Source {
	id, ok := identityOf(k, obj)
	if !ok {
		return nil
	}
	return s.SourceOf(sourceKind(k, obj), id.namespace, id.name)
}

// crdScopes reads the scope of custom kinds from the CustomResourceDefinitions
// in the snapshot.
func (s *Snapshot) crdScopes() map[schema.GroupKind]bool {
	out := map[schema.GroupKind]bool{}
	for _, u := range s.Other {
		if u.GetKind() != "CustomResourceDefinition" || u.GroupVersionKind().Group != "apiextensions.k8s.io" {
			continue
		}
		group, _, _ := unstructured.NestedString(u.Object, "spec", "group")
		kind, _, _ := unstructured.NestedString(u.Object, "spec", "names", "kind")
		scope, _, _ := unstructured.NestedString(u.Object, "spec", "scope")
		out[schema.GroupKind{Group: group, Kind: kind}] = scope == "Namespaced"
	}
	return out
}

// namespacedOther says whether an object without a typed field lives in a
// namespace: from its CRD if known, else from the built-in API groups.
func namespacedOther(u *unstructured.Unstructured, crds map[schema.GroupKind]bool) bool {
	gk := u.GroupVersionKind().GroupKind()
	if namespaced, ok := crds[gk]; ok {
		return namespaced
	}
	if !scheme.Scheme.IsGroupRegistered(gk.Group) {
		return false
	}
	return !clusterScopedBuiltins[gk]
}

// clusterScopedBuiltins are the cluster-scoped kinds of the built-in API
// groups (every other built-in kind is namespaced).
var clusterScopedBuiltins = map[schema.GroupKind]bool{
	{Kind: "Namespace"}: true, {Kind: "Node"}: true, {Kind: "PersistentVolume"}: true, {Kind: "ComponentStatus"}: true,
	{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole"}:                         true,
	{Group: "rbac.authorization.k8s.io", Kind: "ClusterRoleBinding"}:                  true,
	{Group: "storage.k8s.io", Kind: "StorageClass"}:                                   true,
	{Group: "storage.k8s.io", Kind: "VolumeAttachment"}:                               true,
	{Group: "storage.k8s.io", Kind: "CSIDriver"}:                                      true,
	{Group: "storage.k8s.io", Kind: "CSINode"}:                                        true,
	{Group: "storage.k8s.io", Kind: "VolumeAttributesClass"}:                          true,
	{Group: "scheduling.k8s.io", Kind: "PriorityClass"}:                               true,
	{Group: "node.k8s.io", Kind: "RuntimeClass"}:                                      true,
	{Group: "networking.k8s.io", Kind: "IngressClass"}:                                true,
	{Group: "networking.k8s.io", Kind: "IPAddress"}:                                   true,
	{Group: "networking.k8s.io", Kind: "ServiceCIDR"}:                                 true,
	{Group: "admissionregistration.k8s.io", Kind: "ValidatingWebhookConfiguration"}:   true,
	{Group: "admissionregistration.k8s.io", Kind: "MutatingWebhookConfiguration"}:     true,
	{Group: "admissionregistration.k8s.io", Kind: "ValidatingAdmissionPolicy"}:        true,
	{Group: "admissionregistration.k8s.io", Kind: "ValidatingAdmissionPolicyBinding"}: true,
	{Group: "admissionregistration.k8s.io", Kind: "MutatingAdmissionPolicy"}:          true,
	{Group: "admissionregistration.k8s.io", Kind: "MutatingAdmissionPolicyBinding"}:   true,
	{Group: "certificates.k8s.io", Kind: "CertificateSigningRequest"}:                 true,
	{Group: "certificates.k8s.io", Kind: "ClusterTrustBundle"}:                        true,
	{Group: "flowcontrol.apiserver.k8s.io", Kind: "FlowSchema"}:                       true,
	{Group: "flowcontrol.apiserver.k8s.io", Kind: "PriorityLevelConfiguration"}:       true,
	{Group: "resource.k8s.io", Kind: "DeviceClass"}:                                   true,
	{Group: "resource.k8s.io", Kind: "ResourceSlice"}:                                 true,
	{Group: "resource.k8s.io", Kind: "DeviceTaintRule"}:                               true,
	{Group: "internal.apiserver.k8s.io", Kind: "StorageVersion"}:                      true,
	{Group: "storagemigration.k8s.io", Kind: "StorageVersionMigration"}:               true,
	{Group: "authentication.k8s.io", Kind: "TokenReview"}:                             true,
	{Group: "authentication.k8s.io", Kind: "SelfSubjectReview"}:                       true,
	{Group: "authorization.k8s.io", Kind: "SubjectAccessReview"}:                      true,
	{Group: "authorization.k8s.io", Kind: "SelfSubjectAccessReview"}:                  true,
	{Group: "authorization.k8s.io", Kind: "SelfSubjectRulesReview"}:                   true,
}

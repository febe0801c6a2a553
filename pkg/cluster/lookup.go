package cluster

import (
	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	resourcev1 "k8s.io/api/resource/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Lookups read the Snapshot's slices through indexes built on first use. They
// see objects appended later (an index is rebuilt when its slice's length
// changes); code that edits objects in place (names, namespaces, node names)
// must call ResetIndexes afterwards.

// indexes are the lazily built lookup tables of a Snapshot.
type indexes struct {
	byKey      map[Kind]keyIndex
	podsByNode podIndex
	podsByNS   podIndex
}

type keyIndex struct {
	n int // length of the slice the index was built from
	m map[string]metav1.Object
}

type podIndex struct {
	n int
	m map[string][]*corev1.Pod
}

// ResetIndexes drops the lookup indexes; the next lookup rebuilds them.
func (s *Snapshot) ResetIndexes() { s.resetIndexes() }

func (s *Snapshot) resetIndexes() {
	s.mu.Lock()
	s.idx = nil
	s.mu.Unlock()
}

func key(ns, name string) string { return ns + "/" + name }

// Object finds an object of a typed kind by namespace ("" if cluster-scoped)
// and name; nil when the snapshot does not hold it.
func (s *Snapshot) Object(k Kind, ns, name string) metav1.Object {
	if _, typed := kinds[k]; !typed || kinds[k].slice == nil {
		return nil
	}
	return s.object(k, ns, name)
}

// object finds an object of a typed kind by namespace ("" if cluster-scoped)
// and name.
func (s *Snapshot) object(k Kind, ns, name string) metav1.Object {
	if s == nil {
		return nil
	}
	spec := kinds[k]
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.idx == nil {
		s.idx = &indexes{byKey: map[Kind]keyIndex{}}
	}
	ix, ok := s.idx.byKey[k]
	if cur := spec.length(s); !ok || ix.n != cur {
		items := spec.slice(s)
		ix = keyIndex{n: len(items), m: make(map[string]metav1.Object, len(items))}
		for _, o := range items {
			ix.m[key(o.GetNamespace(), o.GetName())] = o
		}
		s.idx.byKey[k] = ix
	}
	return ix.m[key(ns, name)]
}

func get[T metav1.Object](s *Snapshot, k Kind, ns, name string) T {
	o, _ := s.object(k, ns, name).(T)
	return o
}

// Namespace returns the named Namespace, or nil.
func (s *Snapshot) Namespace(name string) *corev1.Namespace {
	return get[*corev1.Namespace](s, KindNamespace, "", name)
}

// Node returns the named Node, or nil.
func (s *Snapshot) Node(name string) *corev1.Node { return get[*corev1.Node](s, KindNode, "", name) }

// Pod returns the Pod, or nil.
func (s *Snapshot) Pod(ns, name string) *corev1.Pod { return get[*corev1.Pod](s, KindPod, ns, name) }

// Service returns the Service, or nil.
func (s *Snapshot) Service(ns, name string) *corev1.Service {
	return get[*corev1.Service](s, KindService, ns, name)
}

// Secret returns the Secret, or nil.
func (s *Snapshot) Secret(ns, name string) *corev1.Secret {
	return get[*corev1.Secret](s, KindSecret, ns, name)
}

// ConfigMap returns the ConfigMap, or nil.
func (s *Snapshot) ConfigMap(ns, name string) *corev1.ConfigMap {
	return get[*corev1.ConfigMap](s, KindConfigMap, ns, name)
}

// ServiceAccount returns the ServiceAccount, or nil.
func (s *Snapshot) ServiceAccount(ns, name string) *corev1.ServiceAccount {
	return get[*corev1.ServiceAccount](s, KindServiceAccount, ns, name)
}

// PVC returns the PersistentVolumeClaim, or nil.
func (s *Snapshot) PVC(ns, name string) *corev1.PersistentVolumeClaim {
	return get[*corev1.PersistentVolumeClaim](s, KindPVC, ns, name)
}

// PV returns the named PersistentVolume, or nil.
func (s *Snapshot) PV(name string) *corev1.PersistentVolume {
	return get[*corev1.PersistentVolume](s, KindPV, "", name)
}

// StorageClass returns the named StorageClass, or nil.
func (s *Snapshot) StorageClass(name string) *storagev1.StorageClass {
	return get[*storagev1.StorageClass](s, KindStorageClass, "", name)
}

// CSINode returns the named CSINode (named like its Node), or nil.
func (s *Snapshot) CSINode(name string) *storagev1.CSINode {
	return get[*storagev1.CSINode](s, KindCSINode, "", name)
}

// CSIDriver returns the named CSIDriver, or nil.
func (s *Snapshot) CSIDriver(name string) *storagev1.CSIDriver {
	return get[*storagev1.CSIDriver](s, KindCSIDriver, "", name)
}

// PriorityClass returns the named PriorityClass, or nil.
func (s *Snapshot) PriorityClass(name string) *schedulingv1.PriorityClass {
	return get[*schedulingv1.PriorityClass](s, KindPriorityClass, "", name)
}

// RuntimeClass returns the named RuntimeClass, or nil.
func (s *Snapshot) RuntimeClass(name string) *nodev1.RuntimeClass {
	return get[*nodev1.RuntimeClass](s, KindRuntimeClass, "", name)
}

// ResourceClaim returns the ResourceClaim, or nil.
func (s *Snapshot) ResourceClaim(ns, name string) *resourcev1.ResourceClaim {
	return get[*resourcev1.ResourceClaim](s, KindResourceClaim, ns, name)
}

// DeviceClass returns the named DeviceClass, or nil.
func (s *Snapshot) DeviceClass(name string) *resourcev1.DeviceClass {
	return get[*resourcev1.DeviceClass](s, KindDeviceClass, "", name)
}

// PodsOnNode returns the pods bound to the node (spec.nodeName), in snapshot
// order.
func (s *Snapshot) PodsOnNode(node string) []*corev1.Pod {
	return s.pods(func(ix *indexes) *podIndex { return &ix.podsByNode }, func(p *corev1.Pod) string { return p.Spec.NodeName }, node)
}

// PodsInNamespace returns the namespace's pods, in snapshot order.
func (s *Snapshot) PodsInNamespace(ns string) []*corev1.Pod {
	return s.pods(func(ix *indexes) *podIndex { return &ix.podsByNS }, func(p *corev1.Pod) string { return p.Namespace }, ns)
}

func (s *Snapshot) pods(which func(*indexes) *podIndex, keyOf func(*corev1.Pod) string, k string) []*corev1.Pod {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.idx == nil {
		s.idx = &indexes{byKey: map[Kind]keyIndex{}}
	}
	ix := which(s.idx)
	if ix.m == nil || ix.n != len(s.Pods) {
		ix.n = len(s.Pods)
		ix.m = map[string][]*corev1.Pod{}
		for _, p := range s.Pods {
			ix.m[keyOf(p)] = append(ix.m[keyOf(p)], p)
		}
	}
	return ix.m[k]
}

package cluster

import (
	"reflect"
	"slices"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// The protobuf decoder allocates every string, map and list of every object
// anew, although most pods repeat what other pods hold: the replicas of one
// workload carry the same labels, owner, image, requests and limits, and
// every pod the same namespace names, condition types and tolerations. A
// LIST's interner makes objects of the same list share one copy of each such
// value as their page is decoded, so the snapshot keeps it once.
//
// Shared maps are safe because nothing changes a loaded object in place:
// analyses that adjust a pod (defaulting, allocated resources, dry runs)
// work on a DeepCopy, as they must for objects shared between analyses.
// High-cardinality values (names, UIDs, IPs, timestamps) are left alone:
// interning them would only grow the interner.
//
// Shared slices (tolerations, owners, ports, container statuses) are clipped
// to their length, so that an append copies them.
type interner struct {
	strs     map[string]string
	lists    map[string]corev1.ResourceList
	labels   map[string]map[string]string
	tols     map[string][]corev1.Toleration
	owners   map[string][]metav1.OwnerReference
	ports    map[string][]corev1.ContainerPort
	statuses map[string][]corev1.ContainerStatus
	prios    map[int32]*int32
	policies map[corev1.PreemptionPolicy]*corev1.PreemptionPolicy
	// key is the lookup key being built: looking it up as string(key)
	// copies nothing, storing it copies it once.
	key []byte
}

func newInterner() *interner {
	return &interner{strs: map[string]string{}, lists: map[string]corev1.ResourceList{}, labels: map[string]map[string]string{}, tols: map[string][]corev1.Toleration{},
		owners: map[string][]metav1.OwnerReference{}, ports: map[string][]corev1.ContainerPort{}, statuses: map[string][]corev1.ContainerStatus{},
		prios: map[int32]*int32{}, policies: map[corev1.PreemptionPolicy]*corev1.PreemptionPolicy{}}
}

// str returns the interned copy of s.
func (in *interner) str(s string) string {
	if s == "" {
		return ""
	}
	if v, ok := in.strs[s]; ok {
		return v
	}
	in.strs[s] = s
	return s
}

// resources returns the list equal to l that the interner holds, keyed by
// each quantity's canonical string and format: quantities that agree on
// both have the same value and print the same (1024Mi is 1Gi either way).
func (in *interner) resources(l corev1.ResourceList) corev1.ResourceList {
	if len(l) == 0 {
		return l
	}
	names := make([]corev1.ResourceName, 0, len(l))
	for name := range l {
		names = append(names, name)
	}
	slices.Sort(names)
	in.key = in.key[:0]
	for _, name := range names {
		q := l[name]
		in.key = append(in.key, string(name)...)
		in.key = append(in.key, '=')
		in.key = append(in.key, q.String()...)
		in.key = append(in.key, '/')
		in.key = append(in.key, string(q.Format)...)
		in.key = append(in.key, 0)
	}
	if v, ok := in.lists[string(in.key)]; ok {
		return v
	}
	in.lists[string(in.key)] = l
	return l
}

// stringMap returns the map equal to m that the interner holds.
func (in *interner) stringMap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return m
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	in.key = in.key[:0]
	for _, k := range keys {
		in.key = append(in.key, k...)
		in.key = append(in.key, 0)
		in.key = append(in.key, m[k]...)
		in.key = append(in.key, 0)
	}
	if v, ok := in.labels[string(in.key)]; ok {
		return v
	}
	shared := make(map[string]string, len(m))
	for k, v := range m {
		shared[in.str(k)] = in.str(v)
	}
	in.labels[string(in.key)] = shared
	return shared
}

// meta interns what objects of one list share: the namespace, the labels
// and the owners' kinds and names (replicas share their owner).
func (in *interner) meta(m *metav1.ObjectMeta) {
	m.Namespace = in.str(m.Namespace)
	m.GenerateName = in.str(m.GenerateName)
	m.Labels = in.stringMap(m.Labels)
	m.OwnerReferences = in.ownerRefs(m.OwnerReferences)
}

// ownerRefs returns the owner list equal to refs that the interner holds:
// the replicas of a workload have the same.
func (in *interner) ownerRefs(refs []metav1.OwnerReference) []metav1.OwnerReference {
	if len(refs) == 0 {
		return refs
	}
	in.key = in.key[:0]
	for _, o := range refs {
		for _, s := range []string{o.APIVersion, o.Kind, o.Name, string(o.UID), optBool(o.Controller), optBool(o.BlockOwnerDeletion)} {
			in.key = append(in.key, s...)
			in.key = append(in.key, 0)
		}
	}
	if v, ok := in.owners[string(in.key)]; ok {
		return v
	}
	shared := slices.Clip(refs)
	for i := range shared {
		o := &shared[i]
		o.APIVersion, o.Kind, o.Name, o.UID = in.str(o.APIVersion), in.str(o.Kind), in.str(o.Name), in.uid(o.UID)
	}
	in.owners[string(in.key)] = shared
	return shared
}

func optBool(b *bool) string {
	switch {
	case b == nil:
		return "-"
	case *b:
		return "t"
	}
	return "f"
}

func (in *interner) uid(u types.UID) types.UID { return types.UID(in.str(string(u))) }

// pod interns a pod's repeated values.
func (in *interner) pod(p *corev1.Pod) {
	in.meta(&p.ObjectMeta)
	s := &p.Spec
	s.NodeName, s.SchedulerName, s.PriorityClassName = in.str(s.NodeName), in.str(s.SchedulerName), in.str(s.PriorityClassName)
	s.RestartPolicy, s.DNSPolicy = corev1.RestartPolicy(in.str(string(s.RestartPolicy))), corev1.DNSPolicy(in.str(string(s.DNSPolicy)))
	s.NodeSelector = in.stringMap(s.NodeSelector)
	s.Priority, s.PreemptionPolicy = in.priority(s.Priority), in.preemptionPolicy(s.PreemptionPolicy)
	s.Overhead = in.resources(s.Overhead)
	if s.Resources != nil {
		in.requirements(s.Resources)
	}
	for _, cs := range [][]corev1.Container{s.InitContainers, s.Containers} {
		for i := range cs {
			in.container(&cs[i])
		}
	}
	for i := range s.EphemeralContainers {
		c := &s.EphemeralContainers[i]
		c.Name, c.Image = in.str(c.Name), in.str(c.Image)
	}
	s.Tolerations = in.tolerations(s.Tolerations)
	for i := range s.Volumes {
		s.Volumes[i].Name = in.str(s.Volumes[i].Name)
	}

	st := &p.Status
	st.Phase, st.QOSClass = corev1.PodPhase(in.str(string(st.Phase))), corev1.PodQOSClass(in.str(string(st.QOSClass)))
	st.HostIP = in.str(st.HostIP) // one per node
	for i := range st.HostIPs {
		st.HostIPs[i].IP = in.str(st.HostIPs[i].IP)
	}
	// conditions: interned as trim keeps them (keptConditions)
	st.AllocatedResources = in.resources(st.AllocatedResources)
	if st.Resources != nil {
		in.requirements(st.Resources)
	}
	for _, ss := range [][]corev1.ContainerStatus{st.InitContainerStatuses, st.ContainerStatuses, st.EphemeralContainerStatuses} {
		for i := range ss {
			cs := &ss[i]
			cs.Name, cs.Image = in.str(cs.Name), in.str(cs.Image)
			cs.AllocatedResources = in.resources(cs.AllocatedResources)
			if cs.Resources != nil {
				in.requirements(cs.Resources)
			}
		}
	}
	st.InitContainerStatuses, st.ContainerStatuses = in.containerStatuses(st.InitContainerStatuses), in.containerStatuses(st.ContainerStatuses)
}

// containerStatuses returns the list equal to ss that the interner holds
// when each status holds only a name and resources (what trim keeps of a
// started pod's: its replicas then have the same); ss otherwise. Call it
// once the resources are interned: equal ones are then the same map.
func (in *interner) containerStatuses(ss []corev1.ContainerStatus) []corev1.ContainerStatus {
	if len(ss) == 0 {
		return ss
	}
	in.key = in.key[:0]
	for i := range ss {
		s := &ss[i]
		if !nameAndResourcesOnly(s) {
			return ss
		}
		in.key = append(in.key, s.Name...)
		in.key = append(in.key, 0)
		in.mapID(s.AllocatedResources)
		if r := s.Resources; r != nil {
			in.key = append(in.key, '/')
			in.mapID(r.Requests)
			in.key = append(in.key, '/')
			in.mapID(r.Limits)
		}
		in.key = append(in.key, 1)
	}
	if v, ok := in.statuses[string(in.key)]; ok {
		return v
	}
	shared := slices.Clip(ss)
	in.statuses[string(in.key)] = shared
	return shared
}

// statusResourceFields are the fields of a ContainerStatus that
// nameAndResourcesOnly allows.
var statusResourceFields = func() map[int]bool {
	t := reflect.TypeFor[corev1.ContainerStatus]()
	out := map[int]bool{}
	for _, name := range []string{"Name", "AllocatedResources", "Resources"} {
		f, _ := t.FieldByName(name)
		out[f.Index[0]] = true
	}
	return out
}()

// nameAndResourcesOnly: s has a name, resources (without claims) and
// nothing else.
func nameAndResourcesOnly(s *corev1.ContainerStatus) bool {
	if s.Resources != nil && len(s.Resources.Claims) > 0 {
		return false
	}
	v := reflect.ValueOf(s).Elem()
	for i := range v.NumField() {
		if !statusResourceFields[i] && !v.Field(i).IsZero() {
			return false
		}
	}
	return true
}

// mapID writes what tells interned resource lists apart (nothing for none).
func (in *interner) mapID(l corev1.ResourceList) {
	if l == nil {
		return
	}
	in.key = strconv.AppendUint(in.key, uint64(reflect.ValueOf(l).Pointer()), 16)
}

// containerPorts returns the list equal to ps that the interner holds.
func (in *interner) containerPorts(ps []corev1.ContainerPort) []corev1.ContainerPort {
	if len(ps) == 0 {
		return ps
	}
	in.key = in.key[:0]
	for _, p := range ps {
		in.key = append(in.key, p.Name...)
		in.key = append(in.key, 0)
		in.key = strconv.AppendInt(in.key, int64(p.HostPort), 10)
		in.key = append(in.key, 0)
		in.key = strconv.AppendInt(in.key, int64(p.ContainerPort), 10)
		in.key = append(in.key, 0)
		in.key = append(in.key, string(p.Protocol)...)
		in.key = append(in.key, 0)
		in.key = append(in.key, p.HostIP...)
		in.key = append(in.key, 1)
	}
	if v, ok := in.ports[string(in.key)]; ok {
		return v
	}
	shared := slices.Clip(ps)
	for i := range shared {
		p := &shared[i]
		p.Name, p.Protocol = in.str(p.Name), corev1.Protocol(in.str(string(p.Protocol)))
	}
	in.ports[string(in.key)] = shared
	return shared
}

func (in *interner) priority(p *int32) *int32 {
	if p == nil {
		return nil
	}
	if v, ok := in.prios[*p]; ok {
		return v
	}
	in.prios[*p] = p
	return p
}

func (in *interner) preemptionPolicy(p *corev1.PreemptionPolicy) *corev1.PreemptionPolicy {
	if p == nil {
		return nil
	}
	if v, ok := in.policies[*p]; ok {
		return v
	}
	in.policies[*p] = p
	return p
}

// tolerations returns the list equal to ts that the interner holds (most
// pods have the same: the defaults for not-ready and unreachable nodes). It
// is clipped to its length, so an append copies it.
func (in *interner) tolerations(ts []corev1.Toleration) []corev1.Toleration {
	if len(ts) == 0 {
		return ts
	}
	in.key = in.key[:0]
	for _, t := range ts {
		in.key = append(in.key, t.Key...)
		in.key = append(in.key, 0)
		in.key = append(in.key, string(t.Operator)...)
		in.key = append(in.key, 0)
		in.key = append(in.key, t.Value...)
		in.key = append(in.key, 0)
		in.key = append(in.key, string(t.Effect)...)
		in.key = append(in.key, 0)
		if t.TolerationSeconds != nil {
			in.key = strconv.AppendInt(in.key, *t.TolerationSeconds, 10)
		}
		in.key = append(in.key, 1)
	}
	if v, ok := in.tols[string(in.key)]; ok {
		return v
	}
	shared := slices.Clip(ts)
	for i := range shared {
		t := &shared[i]
		t.Key, t.Value = in.str(t.Key), in.str(t.Value)
		t.Operator, t.Effect = corev1.TolerationOperator(in.str(string(t.Operator))), corev1.TaintEffect(in.str(string(t.Effect)))
	}
	in.tols[string(in.key)] = shared
	return shared
}

func (in *interner) container(c *corev1.Container) {
	c.Name, c.Image = in.str(c.Name), in.str(c.Image)
	in.requirements(&c.Resources)
	c.Ports = in.containerPorts(c.Ports)
	for i := range c.Env {
		c.Env[i].Name = in.str(c.Env[i].Name)
	}
}

func (in *interner) requirements(r *corev1.ResourceRequirements) {
	r.Requests, r.Limits = in.resources(r.Requests), in.resources(r.Limits)
}

// node interns a node's labels (most nodes of a pool share all but their
// hostname) and its capacity and allocatable.
func (in *interner) node(n *corev1.Node) {
	for k, v := range n.Labels {
		n.Labels[k] = in.str(v)
	}
	n.Status.Capacity, n.Status.Allocatable = in.resources(n.Status.Capacity), in.resources(n.Status.Allocatable)
}

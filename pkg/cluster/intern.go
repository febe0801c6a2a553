package cluster

import (
	"slices"
	"strconv"
	"strings"

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
type interner struct {
	strs   map[string]string
	lists  map[string]corev1.ResourceList
	labels map[string]map[string]string
	tols   map[string][]corev1.Toleration
	key    strings.Builder
}

func newInterner() *interner {
	return &interner{strs: map[string]string{}, lists: map[string]corev1.ResourceList{}, labels: map[string]map[string]string{}, tols: map[string][]corev1.Toleration{}}
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
	in.key.Reset()
	for _, name := range names {
		q := l[name]
		in.key.WriteString(string(name))
		in.key.WriteByte('=')
		in.key.WriteString(q.String())
		in.key.WriteByte('/')
		in.key.WriteString(string(q.Format))
		in.key.WriteByte(0)
	}
	if v, ok := in.lists[in.key.String()]; ok {
		return v
	}
	in.lists[in.key.String()] = l
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
	in.key.Reset()
	for _, k := range keys {
		in.key.WriteString(k)
		in.key.WriteByte(0)
		in.key.WriteString(m[k])
		in.key.WriteByte(0)
	}
	if v, ok := in.labels[in.key.String()]; ok {
		return v
	}
	shared := make(map[string]string, len(m))
	for k, v := range m {
		shared[in.str(k)] = in.str(v)
	}
	in.labels[in.key.String()] = shared
	return shared
}

// meta interns what objects of one list share: the namespace, the labels
// and the owners' kinds and names (replicas share their owner).
func (in *interner) meta(m *metav1.ObjectMeta) {
	m.Namespace = in.str(m.Namespace)
	m.GenerateName = in.str(m.GenerateName)
	m.Labels = in.stringMap(m.Labels)
	for i := range m.OwnerReferences {
		o := &m.OwnerReferences[i]
		o.APIVersion, o.Kind, o.Name, o.UID = in.str(o.APIVersion), in.str(o.Kind), in.str(o.Name), in.uid(o.UID)
	}
}

func (in *interner) uid(u types.UID) types.UID { return types.UID(in.str(string(u))) }

// pod interns a pod's repeated values.
func (in *interner) pod(p *corev1.Pod) {
	in.meta(&p.ObjectMeta)
	s := &p.Spec
	s.NodeName, s.SchedulerName, s.PriorityClassName = in.str(s.NodeName), in.str(s.SchedulerName), in.str(s.PriorityClassName)
	s.RestartPolicy, s.DNSPolicy = corev1.RestartPolicy(in.str(string(s.RestartPolicy))), corev1.DNSPolicy(in.str(string(s.DNSPolicy)))
	s.NodeSelector = in.stringMap(s.NodeSelector)
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
}

// tolerations returns the list equal to ts that the interner holds (most
// pods have the same: the defaults for not-ready and unreachable nodes). It
// is clipped to its length, so an append copies it.
func (in *interner) tolerations(ts []corev1.Toleration) []corev1.Toleration {
	if len(ts) == 0 {
		return ts
	}
	in.key.Reset()
	for _, t := range ts {
		in.key.WriteString(t.Key)
		in.key.WriteByte(0)
		in.key.WriteString(string(t.Operator))
		in.key.WriteByte(0)
		in.key.WriteString(t.Value)
		in.key.WriteByte(0)
		in.key.WriteString(string(t.Effect))
		in.key.WriteByte(0)
		if t.TolerationSeconds != nil {
			in.key.WriteString(strconv.FormatInt(*t.TolerationSeconds, 10))
		}
		in.key.WriteByte(1)
	}
	if v, ok := in.tols[in.key.String()]; ok {
		return v
	}
	shared := slices.Clip(ts)
	for i := range shared {
		t := &shared[i]
		t.Key, t.Value = in.str(t.Key), in.str(t.Value)
		t.Operator, t.Effect = corev1.TolerationOperator(in.str(string(t.Operator))), corev1.TaintEffect(in.str(string(t.Effect)))
	}
	in.tols[in.key.String()] = shared
	return shared
}

func (in *interner) container(c *corev1.Container) {
	c.Name, c.Image = in.str(c.Name), in.str(c.Image)
	in.requirements(&c.Resources)
	for i := range c.Ports {
		p := &c.Ports[i]
		p.Name, p.Protocol = in.str(p.Name), corev1.Protocol(in.str(string(p.Protocol)))
	}
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

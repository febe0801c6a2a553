package netchecktest

import (
	"fmt"
	"sync/atomic"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/ktriage/ktriage/pkg/cluster"
)

// Cluster is an API server holding Objects. It refuses every read of a
// kind in a namespace listed in Forbidden ("" for a cluster-wide read).
type Cluster struct {
	Objects   []runtime.Object
	Forbidden []Refusal
	// reads counts the reads made.
	reads atomic.Int64
}

// Reads says how many reads were made.
func (c *Cluster) Reads() int { return int(c.reads.Load()) }

// Read answers one read of a check: a get of a Namespace or an IPAddress
// (by name), else the list q.
func (c *Cluster) Read(kind cluster.Kind, name string, q cluster.Query) (*cluster.Snapshot, *networkingv1.IPAddress, error) {
	switch kind {
	case cluster.KindNamespace:
		n, err := c.Namespace(name)
		if err != nil {
			return nil, nil, err
		}
		return Snapshot(n), nil, nil
	case "IPAddress":
		a, err := c.IPAddress(name)
		return nil, a, err
	}
	s, err := c.List(q)
	return s, nil, err
}

// Refusal is a kind the API refuses in a namespace.
type Refusal struct {
	Kind      cluster.Kind
	Namespace string
}

// NewCluster holds the objects.
func NewCluster(objs ...runtime.Object) *Cluster { return &Cluster{Objects: objs} }

// Forbid refuses every read of kind in namespace ns.
func (c *Cluster) Forbid(kind cluster.Kind, ns string) {
	c.Forbidden = append(c.Forbidden, Refusal{Kind: kind, Namespace: ns})
}

func (c *Cluster) refused(kind cluster.Kind, ns string) error {
	for _, r := range c.Forbidden {
		if r.Kind == kind && r.Namespace == ns {
			return apierrors.NewForbidden(schema.GroupResource{Resource: string(kind)}, "", fmt.Errorf("no RBAC"))
		}
	}
	return nil
}

// List answers a LIST: the objects of the query's kind in its namespace
// that its label and field selectors match (the fields are metadata.name,
// metadata.namespace, and a pod's status.podIP and a Service's
// spec.clusterIP, as the API server selects them).
func (c *Cluster) List(q cluster.Query) (*cluster.Snapshot, error) {
	c.reads.Add(1)
	if err := c.refused(q.Kind, q.Namespace); err != nil {
		return nil, err
	}
	lsel, err := labels.Parse(q.LabelSelector)
	if err != nil {
		return nil, err
	}
	fsel, err := fields.ParseSelector(q.FieldSelector)
	if err != nil {
		return nil, err
	}
	var out []runtime.Object
	for _, o := range c.Objects {
		m, ok := o.(metav1.Object)
		if !ok || kindOf(o) != q.Kind || q.Namespace != "" && m.GetNamespace() != q.Namespace {
			continue
		}
		f := fields.Set{"metadata.name": m.GetName(), "metadata.namespace": m.GetNamespace()}
		switch v := o.(type) {
		case *corev1.Pod:
			f["status.podIP"] = v.Status.PodIP
		case *corev1.Service:
			f["spec.clusterIP"] = v.Spec.ClusterIP
		}
		if lsel.Matches(labels.Set(m.GetLabels())) && fsel.Matches(f) {
			out = append(out, o)
		}
	}
	return Snapshot(out...), nil
}

// Namespace answers a GET of a Namespace.
func (c *Cluster) Namespace(name string) (*corev1.Namespace, error) {
	c.reads.Add(1)
	if err := c.refused(cluster.KindNamespace, name); err != nil {
		return nil, err
	}
	for _, o := range c.Objects {
		if n, ok := o.(*corev1.Namespace); ok && n.Name == name {
			return n, nil
		}
	}
	return nil, apierrors.NewNotFound(corev1.Resource("namespaces"), name)
}

// IPAddress answers a GET of an IPAddress.
func (c *Cluster) IPAddress(name string) (*networkingv1.IPAddress, error) {
	c.reads.Add(1)
	for _, o := range c.Objects {
		if a, ok := o.(*networkingv1.IPAddress); ok && a.Name == name {
			return a, nil
		}
	}
	return nil, apierrors.NewNotFound(networkingv1.Resource("ipaddresses"), name)
}

func kindOf(o runtime.Object) cluster.Kind { return file(&cluster.Snapshot{}, o) }

// Snapshot files typed objects in their Snapshot slices.
func Snapshot(objs ...runtime.Object) *cluster.Snapshot {
	s := &cluster.Snapshot{Loaded: map[cluster.Kind]bool{}}
	for _, o := range objs {
		file(s, o)
	}
	return s
}

// file appends o to its Snapshot slice and returns its kind; "" (and
// nothing appended) for a type a Snapshot has no slice for.
func file(s *cluster.Snapshot, o runtime.Object) cluster.Kind {
	switch v := o.(type) {
	case *corev1.Namespace:
		s.Namespaces = append(s.Namespaces, v)
		return cluster.KindNamespace
	case *corev1.Pod:
		s.Pods = append(s.Pods, v)
		return cluster.KindPod
	case *corev1.Service:
		s.Services = append(s.Services, v)
		return cluster.KindService
	case *discoveryv1.EndpointSlice:
		s.EndpointSlices = append(s.EndpointSlices, v)
		return cluster.KindEndpointSlice
	case *networkingv1.NetworkPolicy:
		s.NetworkPolicies = append(s.NetworkPolicies, v)
		return cluster.KindNetworkPolicy
	case *appsv1.Deployment:
		s.Deployments = append(s.Deployments, v)
		return cluster.KindDeployment
	case *appsv1.ReplicaSet:
		s.ReplicaSets = append(s.ReplicaSets, v)
		return cluster.KindReplicaSet
	case *appsv1.StatefulSet:
		s.StatefulSets = append(s.StatefulSets, v)
		return cluster.KindStatefulSet
	case *appsv1.DaemonSet:
		s.DaemonSets = append(s.DaemonSets, v)
		return cluster.KindDaemonSet
	case *batchv1.Job:
		s.Jobs = append(s.Jobs, v)
		return cluster.KindJob
	case *batchv1.CronJob:
		s.CronJobs = append(s.CronJobs, v)
		return cluster.KindCronJob
	}
	return ""
}

// SnapshotOf is Snapshot for objects that must all have a Snapshot slice.
func SnapshotOf(t *testing.T, objs []runtime.Object) *cluster.Snapshot {
	t.Helper()
	for _, o := range objs {
		if kindOf(o) == "" {
			t.Fatalf("no Snapshot slice for %T", o)
		}
	}
	return Snapshot(objs...)
}

// Pod is a ready pod of namespace shop labelled app=NAME on node-1.
func Pod(name, ip string, ports ...corev1.ContainerPort) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name, Labels: map[string]string{"app": name}},
		Spec: corev1.PodSpec{NodeName: "node-1", Containers: []corev1.Container{{Name: "c", Ports: ports}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip, HostIP: "192.168.0.1",
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}}
}

// Shop is a namespace with a frontend, an api behind a Service, and a
// database only the api may reach.
func Shop() []runtime.Object {
	ready := true
	port := int32(8080)
	name := "http"
	tcp := corev1.ProtocolTCP
	pgPort := intstr.FromString("pg")
	return []runtime.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop", Labels: map[string]string{"kubernetes.io/metadata.name": "shop"}}},
		Pod("frontend", "10.0.0.1"),
		Pod("api", "10.0.0.2", corev1.ContainerPort{Name: "http", ContainerPort: 8080}),
		Pod("db", "10.0.0.3", corev1.ContainerPort{Name: "pg", ContainerPort: 5432}),
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "api"},
			Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "api"}, ClusterIP: "10.96.0.20",
				Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http"), Protocol: tcp}}}},
		&discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "api-x", Labels: map[string]string{discoveryv1.LabelServiceName: "api"}},
			Ports:     []discoveryv1.EndpointPort{{Name: &name, Port: &port, Protocol: &tcp}},
			Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.2"}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}, TargetRef: &corev1.ObjectReference{Kind: "Pod", Name: "api"}}}},
		&networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "db-from-api"},
			Spec: networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}},
				Ingress: []networkingv1.NetworkPolicyIngressRule{{
					From:  []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "api"}}}},
					Ports: []networkingv1.NetworkPolicyPort{{Port: &pgPort}},
				}}}},
	}
}

package cluster

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// workloadKinds are the built-in controllers a pod's owner references can
// name and a Snapshot can hold.
var workloadKinds = map[string]Kind{
	"Deployment":  KindDeployment,
	"ReplicaSet":  KindReplicaSet,
	"StatefulSet": KindStatefulSet,
	"DaemonSet":   KindDaemonSet,
	"Job":         KindJob,
	"CronJob":     KindCronJob,

	"ReplicationController": KindReplicationController,
}

// TopOwner names the pod's top-most controller: the Deployment above its
// ReplicaSet and the CronJob above its Job when the snapshot holds that
// ReplicaSet or Job, else the controller its owner reference names. obj is
// that controller when the snapshot holds it (built-in workloads only). A pod
// without a controller gives "", "", nil.
func (s *Snapshot) TopOwner(p *corev1.Pod) (kind, name string, obj metav1.Object) {
	ref := metav1.GetControllerOf(p)
	if ref == nil {
		return "", "", nil
	}
	kind, name = ref.Kind, ref.Name
	if kind == "ReplicaSet" || kind == "Job" {
		if mid := s.Workload(kind, p.Namespace, name); mid != nil {
			if up := metav1.GetControllerOf(mid); up != nil {
				kind, name = up.Kind, up.Name
			}
		}
	}
	return kind, name, s.Workload(kind, p.Namespace, name)
}

// Workload finds a built-in workload by kind (as owner references spell it),
// namespace and name; nil for other kinds or when not loaded.
func (s *Snapshot) Workload(kind, ns, name string) metav1.Object {
	k, ok := workloadKinds[kind]
	if !ok {
		return nil
	}
	return s.object(k, ns, name)
}

// Controllers are the snapshot's built-in workload controllers: its
// Deployments, ReplicaSets, StatefulSets, DaemonSets, Jobs, CronJobs and
// ReplicationControllers, in that order.
func (s *Snapshot) Controllers() []metav1.Object {
	out := make([]metav1.Object, 0, len(s.Deployments)+len(s.ReplicaSets)+len(s.StatefulSets)+len(s.DaemonSets)+len(s.Jobs)+len(s.CronJobs)+len(s.ReplicationControllers))
	out = appendObjects(out, s.Deployments)
	out = appendObjects(out, s.ReplicaSets)
	out = appendObjects(out, s.StatefulSets)
	out = appendObjects(out, s.DaemonSets)
	out = appendObjects(out, s.Jobs)
	out = appendObjects(out, s.CronJobs)
	return appendObjects(out, s.ReplicationControllers)
}

func appendObjects[T metav1.Object](out []metav1.Object, items []T) []metav1.Object {
	for _, o := range items {
		out = append(out, o)
	}
	return out
}

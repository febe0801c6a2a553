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
		if mid := s.workload(kind, p.Namespace, name); mid != nil {
			if up := metav1.GetControllerOf(mid); up != nil {
				kind, name = up.Kind, up.Name
			}
		}
	}
	return kind, name, s.workload(kind, p.Namespace, name)
}

// workload finds a built-in workload by kind (as owner references spell it),
// namespace and name; nil for other kinds or when not loaded.
func (s *Snapshot) workload(kind, ns, name string) metav1.Object {
	k, ok := workloadKinds[kind]
	if !ok {
		return nil
	}
	return s.object(k, ns, name)
}

package bigcluster

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/ktriage/ktriage/pkg/cluster"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// pendingPod builds the i-th Pending pod, stuck for cause. Pods the scheduler
// has tried carry an Unschedulable condition and a FailedScheduling event;
// pods on a node carry the kubelet's statuses and events.
func (c *Cluster) pendingPod(r *rand.Rand, i int, ns string, cause Cause) *corev1.Pod {
	name := fmt.Sprintf("pending-%s-%04d", cause, i)
	created := Now.Add(-time.Duration(2+r.IntN(120)) * time.Minute)
	p := basePod(ns, name, created)
	p.Labels = map[string]string{"app.kubernetes.io/name": "pending-" + string(cause)}
	p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: quantity("500m"), corev1.ResourceMemory: quantity("512Mi")}
	if len(c.ReplicaSets) > 0 {
		// Owned by a ReplicaSet of the namespace, so the workload is resolved.
		rs := c.ReplicaSets[r.IntN(len(c.ReplicaSets))]
		p.Namespace = rs.Namespace
		p.UID = uid("pod", p.Namespace+"/"+name)
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID, Controller: ptr(true)}}
	}
	tried := true
	switch cause {
	case InsufficientCPU:
		p.Spec.Containers[0].Resources.Requests[corev1.ResourceCPU] = quantity(fmt.Sprint(24 + r.IntN(8)))
	case UntoleratedTaint:
		p.Spec.NodeSelector = map[string]string{"nvidia.com/gpu.present": "true"}
	case NodeSelector:
		p.Spec.NodeSelector = map[string]string{"disktype": "nvme"}
	case NodeAffinity:
		p.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
			NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{
				{Key: "topology.kubernetes.io/zone", Operator: corev1.NodeSelectorOpIn, Values: []string{"eu-west-1d"}},
				{Key: "node.kubernetes.io/instance-type", Operator: corev1.NodeSelectorOpNotIn, Values: []string{"m6i.xlarge"}},
			}}},
		}}}
	case PodAntiAffinity:
		// Anti-affinity to a label every node's pods carry, per zone: no
		// zone is free of them.
		p.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
			LabelSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "pod-template-hash", Operator: metav1.LabelSelectorOpExists}}},
			TopologyKey:   "topology.kubernetes.io/zone", NamespaceSelector: &metav1.LabelSelector{},
		}}}}
	case TopologySpread:
		// Spread by a label no node has: every node lacks the topology key.
		p.Spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{
			MaxSkew: 1, TopologyKey: "example.com/rack", WhenUnsatisfiable: corev1.DoNotSchedule,
			LabelSelector: &metav1.LabelSelector{MatchLabels: p.Labels},
		}}
		p.Spec.NodeSelector = map[string]string{"topology.kubernetes.io/zone": Zones[i%len(Zones)]}
	case Mixed:
		p.Spec.Containers[0].Resources.Requests[corev1.ResourceCPU] = quantity("20")
		p.Spec.Containers[0].Resources.Requests["nvidia.com/gpu"] = quantity("1")
		p.Spec.Containers[0].Resources.Limits = corev1.ResourceList{"nvidia.com/gpu": quantity("1")}
		p.Spec.Tolerations = append(p.Spec.Tolerations, corev1.Toleration{Key: "nvidia.com/gpu", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule})
	case Gated:
		p.Spec.SchedulingGates = []corev1.PodSchedulingGate{{Name: "example.com/quota-check"}}
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonSchedulingGated, Message: "Scheduling is blocked due to non-empty scheduling gates"}}
		tried = false
	case NoScheduler:
		p.Spec.SchedulerName = "batch-scheduler"
		tried = false
	case MissingClaim:
		p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: "data", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data-" + name}}})
	case ImagePull, MissingConfigMap, InitCrashLoop, NodeNotReady:
		c.boundPendingPod(r, p, cause)
		return p
	}
	if tried {
		msg := fmt.Sprintf("0/%d nodes are available: %d node(s) didn't match Pod's node affinity/selector. preemption: 0/%d nodes are available: %d Preemption is not helpful for scheduling.", len(c.Nodes), len(c.Nodes), len(c.Nodes), len(c.Nodes))
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable, Message: msg, LastTransitionTime: metav1.NewTime(created.Add(time.Second))}}
		c.Events = append(c.Events, event(p, "FailedScheduling", corev1.EventTypeWarning, "default-scheduler", msg))
	}
	return p
}

func (c *Cluster) boundPendingPod(r *rand.Rand, p *corev1.Pod, cause Cause) {
	var n *corev1.Node
	for n == nil || cluster.NodeReady(n) != (cause != NodeNotReady) || (cause != NodeNotReady && !schedulable(n)) {
		n = c.Nodes[r.IntN(len(c.Nodes))]
	}
	bind(p, n, p.CreationTimestamp.Time)
	p.Status.PodIP, p.Status.PodIPs = "", nil
	p.Status.Conditions = []corev1.PodCondition{
		{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: p.CreationTimestamp},
		{Type: corev1.PodInitialized, Status: corev1.ConditionTrue, LastTransitionTime: p.CreationTimestamp},
		{Type: corev1.PodReady, Status: corev1.ConditionFalse, Reason: "ContainersNotReady", Message: "containers with unready status: [app]"},
	}
	waiting := func(reason, msg string) []corev1.ContainerStatus {
		return []corev1.ContainerStatus{{Name: "app", Image: p.Spec.Containers[0].Image, Started: ptr(false),
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: msg}}}}
	}
	c.Events = append(c.Events, event(p, "Scheduled", corev1.EventTypeNormal, "default-scheduler", fmt.Sprintf("Successfully assigned %s/%s to %s", p.Namespace, p.Name, n.Name)))
	switch cause {
	case ImagePull:
		img := "registry.example.com/" + p.Namespace + "/app:does-not-exist"
		p.Spec.Containers[0].Image = img
		msg := fmt.Sprintf("Back-off pulling image %q: ErrImagePull: rpc error: code = NotFound desc = failed to pull and unpack image %q: not found", img, img)
		p.Status.ContainerStatuses = waiting("ImagePullBackOff", msg)
		c.Events = append(c.Events,
			event(p, "Failed", corev1.EventTypeWarning, "kubelet", fmt.Sprintf("Failed to pull image %q: rpc error: code = NotFound desc = failed to pull and unpack image %q: not found", img, img)),
			event(p, "BackOff", corev1.EventTypeNormal, "kubelet", fmt.Sprintf("Back-off pulling image %q", img)))
	case MissingConfigMap:
		cm := "config-" + p.Name
		p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: cm}}}})
		p.Status.ContainerStatuses = waiting("ContainerCreating", "")
		c.Events = append(c.Events, event(p, "FailedMount", corev1.EventTypeWarning, "kubelet", fmt.Sprintf(`MountVolume.SetUp failed for volume "config" : configmap %q not found`, cm)))
	case InitCrashLoop:
		p.Spec.InitContainers = []corev1.Container{{Name: "migrate", Image: "registry.example.com/" + p.Namespace + "/migrate:1.0"}}
		p.Status.Conditions[1] = corev1.PodCondition{Type: corev1.PodInitialized, Status: corev1.ConditionFalse, Reason: "ContainersNotInitialized", Message: "containers with incomplete status: [migrate]"}
		p.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: "migrate", Image: p.Spec.InitContainers[0].Image, RestartCount: int32(3 + r.IntN(20)),
			State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 5m0s restarting failed container=migrate"}},
			LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error", Message: "connection refused"}}}}
		p.Status.ContainerStatuses = waiting("PodInitializing", "")
		c.Events = append(c.Events, event(p, "BackOff", corev1.EventTypeWarning, "kubelet", "Back-off restarting failed container migrate in pod "+p.Name))
	case NodeNotReady:
		p.Status.ContainerStatuses = waiting("ContainerCreating", "")
	}
}

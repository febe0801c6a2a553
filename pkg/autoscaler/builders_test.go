package autoscaler

import (
	"encoding/json"
	"regexp"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/ktriage/ktriage/pkg/cluster"
)

var now = time.Date(2026, 11, 23, 12, 10, 0, 0, time.UTC)

func node(name string, labels map[string]string, cpu string, taints ...corev1.Taint) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{corev1.LabelHostname: name}}}
	for k, v := range labels {
		n.Labels[k] = v
	}
	n.Spec.Taints = taints
	alloc := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse("16Gi"), corev1.ResourcePods: resource.MustParse("110")}
	n.Status.Capacity = alloc
	n.Status.Allocatable = alloc
	n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}
	return n
}

// unschedulable is a pod the scheduler marked unschedulable `ago` before now.
func unschedulable(name string, ago time.Duration, mods ...func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name, UID: types.UID("uid-" + name), CreationTimestamp: metav1.NewTime(now.Add(-ago - time.Second))},
		Spec: corev1.PodSpec{SchedulerName: corev1.DefaultSchedulerName, Containers: []corev1.Container{{Name: "app", Image: "app:1",
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")}}}}},
		Status: corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse,
			Reason: corev1.PodReasonUnschedulable, LastTransitionTime: metav1.NewTime(now.Add(-ago))}}},
	}
	for _, m := range mods {
		m(p)
	}
	return p
}

func requests(cpu string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Spec.Containers[0].Resources.Requests[corev1.ResourceCPU] = resource.MustParse(cpu)
	}
}

func selector(k, v string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		if p.Spec.NodeSelector == nil {
			p.Spec.NodeSelector = map[string]string{}
		}
		p.Spec.NodeSelector[k] = v
	}
}

func tolerate(key string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Spec.Tolerations = append(p.Spec.Tolerations, corev1.Toleration{Key: key, Operator: corev1.TolerationOpExists})
	}
}

// event is an event as client-go's recorder writes it for a component.
func event(pod *corev1.Pod, component, reason, msg string, ago time.Duration) *corev1.Event {
	t := metav1.NewTime(now.Add(-ago))
	return &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Namespace: pod.Namespace, Name: pod.Name + "." + reason},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID, APIVersion: "v1"},
		Reason:         reason, Message: msg, Type: corev1.EventTypeNormal,
		Source: corev1.EventSource{Component: component}, ReportingController: component,
		FirstTimestamp: t, LastTimestamp: t, Count: 1,
	}
}

func statusEvent(reason, msg string, ago time.Duration) *corev1.Event {
	t := metav1.NewTime(now.Add(-ago))
	return &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Namespace: StatusNamespace, Name: StatusName + "." + reason},
		InvolvedObject: corev1.ObjectReference{Kind: "ConfigMap", Namespace: StatusNamespace, Name: StatusName, APIVersion: "v1"},
		Reason:         reason, Message: msg, Type: corev1.EventTypeWarning,
		Source:         corev1.EventSource{Component: "cluster-autoscaler"},
		FirstTimestamp: t, LastTimestamp: t, Count: 1,
	}
}

// statusConfigMap is cluster-autoscaler's status written `ago` before now
// (its time and the annotation both say so).
func statusConfigMap(status string, ago time.Duration) *corev1.ConfigMap {
	written := now.Add(-ago).Format(statusTimeLayout)
	status = yamlTimeRe.ReplaceAllString(status, "time: "+written)
	status = textTimeRe.ReplaceAllString(status, "Cluster-autoscaler status at "+written+":")
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: StatusNamespace, Name: StatusName, Annotations: map[string]string{StatusUpdatedAnnotation: written}},
		Data:       map[string]string{"status": status},
	}
}

var (
	yamlTimeRe = regexp.MustCompile(`(?m)^time: .*$`)
	textTimeRe = regexp.MustCompile(`(?m)^Cluster-autoscaler status at .*:$`)
)

// caStatus is a YAML status with a "workers" group at its max (3 of 3)
// and a "gpu" group in backoff since 12:03 after a quota error.
const caStatus = `autoscalerStatus: Running
clusterWide:
  health: {status: Healthy}
  scaleUp: {status: NoActivity}
nodeGroups:
- name: eks-workers-6ac6e2d4
  health: {status: Healthy, cloudProviderTarget: 3, minSize: 1, maxSize: 3, nodeCounts: {registered: {total: 3, ready: 3}}}
  scaleUp: {status: NoActivity, lastTransitionTime: "2026-11-23T08:00:00Z"}
- name: eks-gpu-91bd0c7e
  health: {status: Healthy, cloudProviderTarget: 1, minSize: 0, maxSize: 4, nodeCounts: {registered: {total: 1, ready: 1}}}
  scaleUp:
    status: Backoff
    lastTransitionTime: "2026-11-23T12:03:00Z"
    backoffInfo: {errorCode: QUOTA_EXCEEDED, errorMessage: "Quota 'GPUS' exceeded. Limit: 4.0 in region us-central1."}
time: 2026-11-23 12:09:55.5 +0000 UTC
`

// caNodes are a node of each group of caStatus: workers with 4 CPUs, gpu
// with 8 CPUs and a dedicated=gpu:NoSchedule taint.
func caNodes() []*corev1.Node {
	return []*corev1.Node{
		node("ip-10-0-1-1", map[string]string{"eks.amazonaws.com/nodegroup": "workers"}, "4"),
		node("ip-10-0-2-1", map[string]string{"eks.amazonaws.com/nodegroup": "gpu", "accelerator": "nvidia"}, "8",
			corev1.Taint{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule}),
	}
}

// unstructuredOf converts an object written as JSON into the unstructured
// form the dynamic client returns.
func unstructuredOf(t *testing.T, js string) *unstructured.Unstructured {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(js), &m); err != nil {
		t.Fatal(err)
	}
	return &unstructured.Unstructured{Object: m}
}

func snapshot(objs ...any) *cluster.Snapshot {
	s := &cluster.Snapshot{Loaded: map[cluster.Kind]bool{cluster.KindNode: true, cluster.KindPod: true}}
	for _, o := range objs {
		switch o := o.(type) {
		case *corev1.Node:
			s.Nodes = append(s.Nodes, o)
		case []*corev1.Node:
			s.Nodes = append(s.Nodes, o...)
		case *corev1.Pod:
			s.Pods = append(s.Pods, o)
		case *corev1.Event:
			s.Events = append(s.Events, o)
		case *corev1.ConfigMap:
			s.ConfigMaps = append(s.ConfigMaps, o)
		case *unstructured.Unstructured:
			s.Other = append(s.Other, o)
		case cluster.Kind:
			s.Loaded[o] = true
		}
	}
	return s
}

func codes(rs []Reason) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.Code)
	}
	return out
}

func rules(ex *Explanation) map[string]bool {
	out := map[string]bool{}
	for _, f := range ex.Findings(refOf()) {
		out[f.RuleID] = true
	}
	return out
}

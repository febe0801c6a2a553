package scheduling_test

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/pkg/scheduling"
)

func ExampleEvaluate() {
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "worker-1"},
		Spec:       corev1.NodeSpec{Taints: []corev1.Taint{{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule}}},
		Status: corev1.NodeStatus{Allocatable: corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourcePods: resource.MustParse("110"),
		}},
	}
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("3")},
		}}}},
	}
	res := scheduling.Evaluate(p, &cluster.Snapshot{Nodes: []*corev1.Node{n}}, scheduling.Options{})
	fmt.Println(res.Message)
	for _, r := range res.Nodes[0].Reasons {
		fmt.Printf("%s reported=%v: %s\n", r.Plugin, r.Reported, r.Detail)
	}
	// Output:
	// 0/1 nodes are available: 1 node(s) had untolerated taint(s). preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.
	// TaintToleration reported=true: taint dedicated=gpu:NoSchedule is not tolerated
	// NodeResourcesFit reported=false: cpu: requests 3, node allocatable 2, already requested 0, free 2
}

// Package autoscaler_test runs kubectl why-pending against a real control
// plane where a node autoscaler has left its traces: cluster-autoscaler's
// status ConfigMap (both layouts), its events on pods and on the ConfigMap,
// written as cluster-autoscaler writes them; Karpenter's real CRDs (from
// sigs.k8s.io/karpenter v1.15.0, pkg/apis/crds) with NodePools, NodeClaims
// and its events. No autoscaler runs: each test writes what one would have
// written and checks the verdict why-pending draws from it.
package autoscaler_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/ktriage/ktriage/test/e2e/framework"
)

const bin = "kubectl-why_pending"

func TestMain(m *testing.M) {
	framework.Main(m, framework.Options{Name: "e2e-autoscaler", Nodes: 1, Zones: 1})
}

// report is the part of the why-pending document the tests read: the
// autoscaler section and the findings are the contract.
type report struct {
	Metadata struct {
		Warnings []string `json:"warnings"`
	} `json:"metadata"`
	Findings []struct {
		RuleID  string `json:"ruleID"`
		Message string `json:"message"`
		Fix     string `json:"fix"`
		Object  struct{ Namespace, Name string }
	} `json:"findings"`
	Pods []struct {
		Namespace  string      `json:"namespace"`
		Name       string      `json:"name"`
		Stage      string      `json:"stage"`
		Autoscaler *autoscaler `json:"autoscaler"`
	} `json:"pods"`
}

type autoscaler struct {
	Kind    string `json:"kind"`
	Verdict string `json:"verdict"`
	Summary string `json:"summary"`
	Running *bool  `json:"running"`
	Reasons []struct {
		Code      string `json:"code"`
		Message   string `json:"message"`
		NodeGroup string `json:"nodeGroup"`
		Fix       string `json:"fix"`
		Source    string `json:"source"`
	} `json:"reasons"`
	NodeGroups []struct {
		Name       string `json:"name"`
		MaxSize    *int   `json:"maxSize"`
		TargetSize *int   `json:"targetSize"`
		Triggered  *struct {
			From, To, Max int
		} `json:"triggered"`
		Limits     map[string]string `json:"limits"`
		InUse      map[string]string `json:"inUse"`
		Fits       *bool             `json:"fits"`
		CanScaleUp *bool             `json:"canScaleUp"`
		Blockers   []string          `json:"blockers"`
	} `json:"nodeGroups"`
}

// explain runs why-pending on one pod and returns its autoscaler section.
func explain(t *testing.T, c *framework.Cluster, ns, pod string) (*autoscaler, report, framework.Result) {
	t.Helper()
	res := c.Run(t, bin, "-n", ns, pod, "-o", "json")
	var r report
	res.DecodeJSON(t, &r)
	for _, p := range r.Pods {
		if p.Name == pod {
			if p.Autoscaler == nil {
				t.Fatalf("pod %s has no autoscaler section\n%s", pod, res)
			}
			return p.Autoscaler, r, res
		}
	}
	t.Fatalf("pod %s not explained\n%s", pod, res)
	return nil, r, res
}

func (r report) has(rule string) bool {
	for _, f := range r.Findings {
		if f.RuleID == rule {
			return true
		}
	}
	return false
}

// reason returns the first reason with code (and node group, when given).
func (a *autoscaler) reason(code, group string) (message, fix string, ok bool) {
	for _, r := range a.Reasons {
		if r.Code == code && (group == "" || r.NodeGroup == group) {
			return r.Message, r.Fix, true
		}
	}
	return "", "", false
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// addNode creates a kwok-managed node with cpu CPUs (and extra resources)
// and removes it when the test ends.
func addNode(t *testing.T, c *framework.Cluster, name string, labels map[string]string, cpu string, extra corev1.ResourceList, taints ...corev1.Taint) {
	t.Helper()
	l := map[string]string{"type": "kwok", corev1.LabelHostname: name, corev1.LabelOSStable: "linux", corev1.LabelArchStable: "amd64"}
	for k, v := range labels {
		l[k] = v
	}
	capacity := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse("16Gi"), corev1.ResourcePods: resource.MustParse("110")}
	for k, v := range extra {
		capacity[k] = v
	}
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: l, Annotations: map[string]string{"kwok.x-k8s.io/node": "fake"}},
		Spec:       corev1.NodeSpec{Taints: taints},
		Status:     corev1.NodeStatus{Capacity: capacity, Allocatable: capacity},
	}
	if _, err := c.Client.CoreV1().Nodes().Create(ctx(t), n, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Client.CoreV1().Nodes().Delete(context.Background(), name, metav1.DeleteOptions{}) })
	framework.Eventually(t, time.Minute, func() (bool, error) {
		n, err := c.Client.CoreV1().Nodes().Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, cond := range n.Status.Conditions {
			if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
				for _, taint := range n.Spec.Taints {
					if taint.Key == corev1.TaintNodeNotReady {
						return false, nil
					}
				}
				return true, nil
			}
		}
		return false, nil
	}, "node "+name+" Ready")
}

// unschedulable applies a pod and waits for the scheduler to give up on it.
func unschedulable(t *testing.T, c *framework.Cluster, ns, manifest string) *corev1.Pod {
	t.Helper()
	c.Apply(t, ns, manifest)
	var name struct {
		Metadata struct{ Name string } `json:"metadata"`
	}
	if err := yaml.Unmarshal([]byte(manifest), &name); err != nil {
		t.Fatal(err)
	}
	c.WaitForPodScheduledCondition(t, ns, name.Metadata.Name, time.Minute)
	pod, err := c.Client.CoreV1().Pods(ns).Get(ctx(t), name.Metadata.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return pod
}

// backdate moves the pod's PodScheduled=False condition `ago` into the
// past, as if the scheduler had given up on it then.
func backdate(t *testing.T, c *framework.Cluster, pod *corev1.Pod, ago time.Duration) {
	t.Helper()
	p, err := c.Client.CoreV1().Pods(pod.Namespace).Get(ctx(t), pod.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == corev1.PodScheduled {
			p.Status.Conditions[i].LastTransitionTime = metav1.NewTime(time.Now().Add(-ago))
		}
	}
	if _, err := c.Client.CoreV1().Pods(p.Namespace).UpdateStatus(ctx(t), p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// recordEvent writes an event about obj the way client-go's recorder does
// for component (cluster-autoscaler and Karpenter both use it): name
// OBJECT.<hex nanoseconds>, the object reference, source and reporting
// controller, first/last timestamps and a count of 1.
func recordEvent(t *testing.T, c *framework.Cluster, ref corev1.ObjectReference, component, eventType, reason, message string, at time.Time) {
	t.Helper()
	ts := metav1.NewTime(at)
	ev := &corev1.Event{
		ObjectMeta:          metav1.ObjectMeta{Namespace: ref.Namespace, Name: fmt.Sprintf("%s.%x", ref.Name, at.UnixNano())},
		InvolvedObject:      ref,
		Reason:              reason,
		Message:             message,
		Source:              corev1.EventSource{Component: component},
		FirstTimestamp:      ts,
		LastTimestamp:       ts,
		Count:               1,
		Type:                eventType,
		ReportingController: component,
	}
	if _, err := c.Client.CoreV1().Events(ref.Namespace).Create(ctx(t), ev, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.Client.CoreV1().Events(ev.Namespace).Delete(context.Background(), ev.Name, metav1.DeleteOptions{})
	})
}

func podRef(p *corev1.Pod) corev1.ObjectReference {
	return corev1.ObjectReference{Kind: "Pod", Namespace: p.Namespace, Name: p.Name, UID: p.UID, APIVersion: "v1", ResourceVersion: p.ResourceVersion}
}

func dynamicClient(t *testing.T, c *framework.Cluster) dynamic.Interface {
	t.Helper()
	dc, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	return dc
}

// createWithStatus creates a custom resource, then writes its status
// through the status subresource, as its controller would.
func createWithStatus(t *testing.T, dc dynamic.Interface, gvr schema.GroupVersionResource, manifest string, status map[string]any) {
	t.Helper()
	var obj map[string]any
	if err := yaml.Unmarshal([]byte(manifest), &obj); err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: obj}
	var ri dynamic.ResourceInterface = dc.Resource(gvr)
	if ns := u.GetNamespace(); ns != "" {
		ri = dc.Resource(gvr).Namespace(ns)
	}
	created, err := ri.Create(ctx(t), u, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating %s %s: %v", gvr.Resource, u.GetName(), err)
	}
	t.Cleanup(func() { _ = ri.Delete(context.Background(), u.GetName(), metav1.DeleteOptions{}) })
	if status == nil {
		return
	}
	created.Object["status"] = status
	if _, err := ri.UpdateStatus(ctx(t), created, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("writing the status of %s %s: %v", gvr.Resource, u.GetName(), err)
	}
}

// condition is a metav1.Condition as controllers write it into a custom
// resource's status.
func condition(typ, status, reason, message string, at time.Time) map[string]any {
	return map[string]any{"type": typ, "status": status, "reason": reason, "message": message,
		"lastTransitionTime": at.UTC().Format(time.RFC3339), "observedGeneration": int64(1)}
}

func contains(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// deleteConfigMap deletes a ConfigMap if it exists.
func deleteConfigMap(t *testing.T, c *framework.Cluster, ns, name string) {
	err := c.Client.CoreV1().ConfigMaps(ns).Delete(context.Background(), name, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		t.Errorf("deleting configmap %s/%s: %v", ns, name, err)
	}
}

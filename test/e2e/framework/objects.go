package framework

import (
	"context"
	"fmt"
	"math/rand"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Namespace creates a namespace with a unique name starting with prefix and
// deletes it when the test ends.
func (c *Cluster) Namespace(t testing.TB, prefix string, labels map[string]string) string {
	t.Helper()
	name := fmt.Sprintf("%s-%05d", sanitize(prefix), rand.Intn(100000))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := c.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating namespace %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := c.Client.CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			t.Logf("deleting namespace %s: %v", name, err)
		}
	})
	// The ServiceAccount admission plugin refuses pods until "default" exists.
	Eventually(t, 30*time.Second, func() (bool, error) {
		_, err := c.Client.CoreV1().ServiceAccounts(name).Get(context.Background(), "default", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return err == nil, err
	}, "default ServiceAccount in namespace "+name)
	return name
}

// Eventually polls cond every 200ms until it returns true, an error, or the
// timeout passes; then the test fails naming what it waited for.
func Eventually(t testing.TB, timeout time.Duration, cond func() (bool, error), what string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var lastErr error
	for {
		ok, err := cond()
		if ok {
			return
		}
		if err != nil {
			lastErr = err
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s (last error: %v)", timeout, what, lastErr)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// WaitForPodScheduledCondition waits until the scheduler has written a
// PodScheduled condition with status False and returns its message.
func (c *Cluster) WaitForPodScheduledCondition(t testing.TB, namespace, name string, timeout time.Duration) corev1.PodCondition {
	t.Helper()
	var cond corev1.PodCondition
	Eventually(t, timeout, func() (bool, error) {
		pod, err := c.Client.CoreV1().Pods(namespace).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, pc := range pod.Status.Conditions {
			if pc.Type == corev1.PodScheduled && pc.Status == corev1.ConditionFalse && pc.Message != "" {
				cond = pc
				return true, nil
			}
		}
		return false, nil
	}, fmt.Sprintf("PodScheduled=False on pod %s/%s", namespace, name))
	return cond
}

// WaitForPodRunning waits until the pod is Running (kwok marks scheduled pods
// Running and Ready).
func (c *Cluster) WaitForPodRunning(t testing.TB, namespace, name string, timeout time.Duration) *corev1.Pod {
	t.Helper()
	var pod *corev1.Pod
	Eventually(t, timeout, func() (bool, error) {
		p, err := c.Client.CoreV1().Pods(namespace).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		pod = p
		return p.Status.Phase == corev1.PodRunning, nil
	}, fmt.Sprintf("pod %s/%s Running", namespace, name))
	return pod
}

package cluster_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/test/bench/bigcluster"
)

// A page of pods decoded the live loader's way, which leaves out before
// decoding what trim drops of every pod (managedFields, annotations and
// conditions no analysis reads, probes...), is the page decoded whole and
// then trimmed: on the benchmark's generated pods
// (managedFields as the controller manager and the kubelet write them,
// every Pending cause) and on pods with annotations of every kind.
func TestPodPagesDecodeAsTrimmed(t *testing.T) {
	c := bigcluster.Generate(bigcluster.Config{Seed: 3, Nodes: 40, Running: 400, Pending: 3 * len(bigcluster.Causes), Namespaces: 4})
	annotations := []map[string]string{
		nil,
		{corev1.LastAppliedConfigAnnotation: `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x"}}`},
		{corev1.LastAppliedConfigAnnotation: "{}", "ktriage.io/ignore": "QA101", "prometheus.io/scrape": "true"},
		{"kubernetes.io/config.mirror": "abc", "kubernetes.io/config.source": "file"},
		{"": "", "kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z"},
		{"ktriage.io/qos-required": "Guaranteed"},
	}
	var items []corev1.Pod
	for i, p := range c.Pods {
		p := p.DeepCopy()
		p.Annotations = annotations[i%len(annotations)]
		if i%7 == 3 {
			p.ManagedFields = nil
		}
		items = append(items, *p)
	}
	// A pod with every kind of container and status trim slims, one with
	// nothing but metadata, one with nothing at all.
	running := everything()
	running.Status.Phase = corev1.PodRunning
	items = append(items, everything(), running, corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "bare", Annotations: map[string]string{"a": "b"},
		ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "m"}}}}, corev1.Pod{})

	for start := 0; start < len(items); start += 100 {
		l := &corev1.PodList{ListMeta: metav1.ListMeta{ResourceVersion: "42", Continue: fmt.Sprint(start)}, Items: items[start:min(start+100, len(items))]}
		raw, err := l.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		want := &corev1.PodList{}
		if err := want.Unmarshal(raw); err != nil {
			t.Fatal(err)
		}
		for i := range want.Items {
			cluster.Trim(&want.Items[i])
		}
		got, err := cluster.DecodePodPage(raw)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.ListMeta, want.ListMeta) || len(got.Items) != len(want.Items) {
			t.Fatalf("list %+v of %d pods, want %+v of %d", got.ListMeta, len(got.Items), want.ListMeta, len(want.Items))
		}
		for i := range got.Items {
			cluster.Trim(&got.Items[i])
			if !reflect.DeepEqual(got.Items[i], want.Items[i]) {
				t.Errorf("pod %s/%s decoded:\n%+v\nwant (decoded whole, trimmed):\n%+v", want.Items[i].Namespace, want.Items[i].Name, got.Items[i], want.Items[i])
			}
		}
	}
}

func everything() corev1.Pod {
	grace, yes, user := int64(30), true, int64(1000)
	c := corev1.Container{Name: "c", Image: "i", Command: []string{"sh"}, Args: []string{"-c", "x"}, WorkingDir: "/w",
		Ports: []corev1.ContainerPort{{ContainerPort: 80}},
		Env: []corev1.EnvVar{{Name: "A", Value: "1"}, {Name: "B", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "cm"}, Key: "k"}}}},
		Resources:      corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m")}},
		VolumeMounts:   []corev1.VolumeMount{{Name: "v", MountPath: "/v"}},
		LivenessProbe:  &corev1.Probe{PeriodSeconds: 1},
		ReadinessProbe: &corev1.Probe{PeriodSeconds: 2}, StartupProbe: &corev1.Probe{PeriodSeconds: 3},
		Lifecycle:              &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Sleep: &corev1.SleepAction{Seconds: 1}}},
		TerminationMessagePath: "/dev/termination-log", TerminationMessagePolicy: corev1.TerminationMessageReadFile,
		ImagePullPolicy: corev1.PullAlways, SecurityContext: &corev1.SecurityContext{RunAsUser: &user}}
	st := corev1.ContainerStatus{Name: "c", Image: "i", ImageID: "sha256:1", ContainerID: "containerd://1", RestartCount: 2,
		State:                    corev1.ContainerState{Running: &corev1.ContainerStateRunning{}},
		VolumeMounts:             []corev1.VolumeMountStatus{{Name: "v", MountPath: "/v"}},
		User:                     &corev1.ContainerUser{Linux: &corev1.LinuxContainerUser{UID: 1000}},
		AllocatedResourcesStatus: []corev1.ResourceStatus{{Name: "r"}}}
	var conds []corev1.PodCondition
	for _, t := range []corev1.PodConditionType{corev1.PodReadyToStartContainers, corev1.PodInitialized, corev1.ContainersReady,
		corev1.PodReady, corev1.PodScheduled, corev1.DisruptionTarget, corev1.PodResizePending, "example.com/Gate"} {
		conds = append(conds, corev1.PodCondition{Type: t, Status: corev1.ConditionTrue, Reason: "R", LastTransitionTime: metav1.Unix(1, 0)})
	}
	return corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "everything", Labels: map[string]string{"a": "b"},
			Annotations:   map[string]string{corev1.LastAppliedConfigAnnotation: "{}", "kubernetes.io/config.mirror": "m"},
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubelet", FieldsType: "FieldsV1", FieldsV1: metav1.NewFieldsV1(`{"f:status":{}}`)}}},
		Spec: corev1.PodSpec{InitContainers: []corev1.Container{c}, Containers: []corev1.Container{c, c},
			EphemeralContainers:           []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon(c), TargetContainerName: "c"}},
			TerminationGracePeriodSeconds: &grace, ServiceAccountName: "sa", DeprecatedServiceAccount: "sa",
			SecurityContext: &corev1.PodSecurityContext{RunAsUser: &user}, EnableServiceLinks: &yes, NodeName: "n"},
		Status: corev1.PodStatus{Phase: corev1.PodPending, Conditions: conds,
			InitContainerStatuses: []corev1.ContainerStatus{st}, ContainerStatuses: []corev1.ContainerStatus{st, st},
			EphemeralContainerStatuses: []corev1.ContainerStatus{st}},
	}
}

// Bytes that are not a well-formed list of pods fail to decode as the
// generated Unmarshal fails, or decode as it decodes.
func TestPodPagesDecodeMalformed(t *testing.T) {
	p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Annotations: map[string]string{corev1.LastAppliedConfigAnnotation: "{}"}}}
	raw, err := (&corev1.PodList{Items: []corev1.Pod{p}}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for cut := range raw {
		want := &corev1.PodList{}
		wantErr := want.Unmarshal(raw[:cut])
		got, err := cluster.DecodePodPage(raw[:cut])
		if (err == nil) != (wantErr == nil) {
			t.Errorf("cut at %d: error %v, want %v", cut, err, wantErr)
			continue
		}
		if err == nil {
			for i := range want.Items {
				cluster.Trim(&want.Items[i])
				cluster.Trim(&got.Items[i])
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("cut at %d: %+v, want %+v", cut, got, want)
			}
		}
	}
	if _, err := cluster.DecodePodPage([]byte{0x10, 0x01}); err == nil || !strings.Contains(err.Error(), "wire type") {
		t.Errorf("items as a varint: error %v", err)
	}
}

package cluster_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/test/bench/bigcluster"
)

// A page of pods decoded the live loader's way, which leaves managedFields
// and the annotations no analysis reads out before decoding, is the page
// decoded whole and then trimmed: on the benchmark's generated pods
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
	// A pod with nothing but metadata, one with no metadata at all.
	items = append(items, corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "bare", Annotations: map[string]string{"a": "b"},
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

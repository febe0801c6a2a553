package cluster

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/client-go/kubernetes/scheme"
)

// The API server's protobuf pages, decoded where they lie in the two reused
// buffers: every pod of every page arrives whole, and no pod points into a
// buffer a later page overwrites.
func TestPodPagesDecodeProtobufFromReusedBuffers(t *testing.T) {
	enc := scheme.Codecs.EncoderForVersion(protobuf.NewSerializer(scheme.Scheme, scheme.Scheme), corev1.SchemeGroupVersion)
	var pages [][]byte
	for page := range 3 {
		l := &corev1.PodList{}
		for i := range 2 {
			p := pod("ns-"+strconv.Itoa(page), "p"+strconv.Itoa(page*2+i), "node-"+strconv.Itoa(i))
			p.Spec.Containers = []corev1.Container{{Name: "app", Image: "img:" + strconv.Itoa(page),
				Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(strconv.Itoa(page+1) + "Gi")}}}}
			l.Items = append(l.Items, *p)
		}
		if page < 2 {
			l.Continue = strconv.Itoa(page + 1)
		}
		var buf bytes.Buffer
		if err := enc.Encode(l, &buf); err != nil {
			t.Fatal(err)
		}
		pages = append(pages, buf.Bytes())
	}
	cs := faultClient(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/pods" {
			http.NotFound(w, r)
			return
		}
		i, _ := strconv.Atoi(r.URL.Query().Get("continue"))
		w.Header().Set("Content-Type", "application/vnd.kubernetes.protobuf")
		_, _ = w.Write(pages[i])
	})
	snap, err := LoadLive(context.Background(), cs, Query{Kind: KindPod})
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Pods) != 6 {
		t.Fatalf("loaded %d pods, want 6", len(snap.Pods))
	}
	for i, p := range snap.Pods {
		page := i / 2
		if p.Name != "p"+strconv.Itoa(i) || p.Namespace != "ns-"+strconv.Itoa(page) || p.Spec.NodeName != "node-"+strconv.Itoa(i%2) ||
			p.Spec.Containers[0].Image != "img:"+strconv.Itoa(page) || p.Spec.Containers[0].Resources.Requests.Memory().String() != strconv.Itoa(page+1)+"Gi" {
			t.Errorf("pod %d: %s/%s on %s, image %s, memory %s", i, p.Namespace, p.Name, p.Spec.NodeName,
				p.Spec.Containers[0].Image, p.Spec.Containers[0].Resources.Requests.Memory())
		}
	}
}

func TestProtobufPayload(t *testing.T) {
	for _, tc := range []struct {
		name string
		body []byte
		ok   bool
	}{
		{"JSON is not protobuf", []byte(`{"kind":"PodList"}`), false},
		{"no payload", append(append([]byte{}, protobufMagic...), 0x0a, 0x00), false},
		{"a truncated field", append(append([]byte{}, protobufMagic...), 0x12, 0x05, 'a'), false},
		{"a content encoding", append(append([]byte{}, protobufMagic...), 0x12, 0x01, 'a', 0x1a, 0x04, 'g', 'z', 'i', 'p'), false},
		{"a payload", append(append([]byte{}, protobufMagic...), 0x0a, 0x00, 0x12, 0x01, 'a', 0x22, 0x00), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw, ok := protobufPayload(tc.body)
			if ok != tc.ok || (ok && string(raw) != "a") {
				t.Errorf("protobufPayload = %q, %v; want ok %v", raw, ok, tc.ok)
			}
		})
	}
}

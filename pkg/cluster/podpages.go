package cluster

import (
	"bytes"
	"context"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
)

// Pods are most of what a large cluster's snapshot loads. client-go's typed
// List reads each page's whole body into a new slice (grown by doubling) and
// copies the protobuf payload out of its envelope before decoding it: three
// times the body in garbage per page, a third of everything qos-audit -A
// allocates. podLister reads each page into one buffer reused for every
// page of the list and decodes the payload where it lies; the decoder copies
// every string and byte field it keeps, so nothing decoded points into the
// buffer.

// protobufMagic starts every protobuf body of the API server
// (k8s.io/apimachinery/pkg/runtime/serializer/protobuf).
var protobufMagic = []byte{0x6b, 0x38, 0x73, 0x00}

// podLister lists pods in ns ("" for all). A clientset without a REST
// client of its own (a fake) lists through the typed client.
func podLister(cs kubernetes.Interface, ns string) lister {
	rc, ok := cs.CoreV1().RESTClient().(*rest.RESTClient)
	if !ok || rc == nil || rc.Client == nil {
		return listFn(cs.CoreV1().Pods(ns).List)
	}
	var buf bytes.Buffer // paginate asks for one page at a time
	return func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
		body, err := rc.Get().NamespaceIfScoped(ns, ns != "").Resource("pods").
			VersionedParams(&opts, scheme.ParameterCodec).Stream(ctx)
		if err != nil {
			return nil, err
		}
		defer body.Close()
		buf.Reset()
		if _, err := buf.ReadFrom(body); err != nil {
			return nil, err
		}
		list := &corev1.PodList{}
		if raw, ok := protobufPayload(buf.Bytes()); ok {
			err = list.Unmarshal(raw)
		} else {
			// Not protobuf (a server or proxy that answers JSON).
			err = runtime.DecodeInto(scheme.Codecs.UniversalDecoder(corev1.SchemeGroupVersion), buf.Bytes(), list)
		}
		if err != nil {
			return nil, fmt.Errorf("decoding a page of pods: %w", err)
		}
		return list, nil
	}
}

// protobufPayload returns the raw object of a protobuf body: the magic
// number, then a runtime.Unknown whose field 2 is the encoded object.
func protobufPayload(body []byte) ([]byte, bool) {
	b, ok := bytes.CutPrefix(body, protobufMagic)
	if !ok {
		return nil, false
	}
	var raw []byte
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, false
		}
		b = b[n:]
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			return nil, false
		}
		switch {
		case num == 2 && typ == protowire.BytesType:
			v, k := protowire.ConsumeBytes(b)
			if k < 0 {
				return nil, false
			}
			raw = v
		case num == 3 && typ == protowire.BytesType:
			// contentEncoding: the API server sets none; anything else
			// is for the generic decoder to refuse.
			if v, _ := protowire.ConsumeBytes(b); len(v) > 0 {
				return nil, false
			}
		}
		b = b[m:]
	}
	return raw, raw != nil
}

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
// allocates. podPages reads each page into one of two buffers reused for
// every page of the list and decodes the payload where it lies; the decoder
// copies every string and byte field it keeps, so nothing decoded points
// into a buffer. It reads a page's continue token before decoding the page,
// so that paginate asks for the next page while this one is decoded.

// protobufMagic starts every protobuf body of the API server
// (k8s.io/apimachinery/pkg/runtime/serializer/protobuf).
var protobufMagic = []byte{0x6b, 0x38, 0x73, 0x00}

// podPages lists pods in ns ("" for all). A clientset without a REST
// client of its own (a fake) lists through the typed client.
func podPages(cs kubernetes.Interface, ns string) fetcher {
	rc, ok := cs.CoreV1().RESTClient().(*rest.RESTClient)
	if !ok || rc == nil || rc.Client == nil {
		return fetchOf(listFn(cs.CoreV1().Pods(ns).List))
	}
	// paginate decodes a page before it fetches the page after next: two
	// buffers, one being decoded and one being filled, are enough.
	var bufs [2]bytes.Buffer
	next := 0
	return func(ctx context.Context, opts metav1.ListOptions) (page, error) {
		buf := &bufs[next]
		next ^= 1
		body, err := rc.Get().NamespaceIfScoped(ns, ns != "").Resource("pods").
			VersionedParams(&opts, scheme.ParameterCodec).Stream(ctx)
		if err != nil {
			return page{}, err
		}
		defer body.Close()
		buf.Reset()
		if _, err := buf.ReadFrom(body); err != nil {
			return page{}, err
		}
		if raw, ok := protobufPayload(buf.Bytes()); ok {
			cont, err := listContinue(raw)
			if err != nil {
				return page{}, fmt.Errorf("decoding a page of pods: %w", err)
			}
			return page{cont: cont, decode: func() (runtime.Object, error) {
				list := &corev1.PodList{}
				if err := list.Unmarshal(raw); err != nil {
					return nil, fmt.Errorf("decoding a page of pods: %w", err)
				}
				return list, nil
			}}, nil
		}
		// Not protobuf (a server or proxy that answers JSON): the continue
		// token is known only once the page is decoded.
		list := &corev1.PodList{}
		if err := runtime.DecodeInto(scheme.Codecs.UniversalDecoder(corev1.SchemeGroupVersion), buf.Bytes(), list); err != nil {
			return page{}, fmt.Errorf("decoding a page of pods: %w", err)
		}
		return decodedPage(list, list.Continue), nil
	}
}

// listContinue reads the continue token of an encoded list (any *List
// message): field 1 is its ListMeta, whose field 3 is the token.
func listContinue(raw []byte) (string, error) {
	cont := ""
	err := eachField(raw, func(num protowire.Number, typ protowire.Type, v []byte) error {
		if num != 1 || typ != protowire.BytesType {
			return nil
		}
		return eachField(v, func(num protowire.Number, typ protowire.Type, v []byte) error {
			if num == 3 && typ == protowire.BytesType {
				cont = string(v)
			}
			return nil
		})
	})
	return cont, err
}

// eachField calls f with every field of an encoded message, in order; v is
// the contents of a length-delimited field and the encoded value of any
// other.
func eachField(b []byte, f func(num protowire.Number, typ protowire.Type, v []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			return protowire.ParseError(m)
		}
		v := b[:m]
		if typ == protowire.BytesType {
			v, _ = protowire.ConsumeBytes(b)
		}
		if err := f(num, typ, v); err != nil {
			return err
		}
		b = b[m:]
	}
	return nil
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

package cluster

import (
	"bytes"
	"context"
	"errors"
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
	var dec podDecoder // decodes are one after another
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
				list, err := dec.list(raw)
				if err != nil {
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

// podDecoder decodes protobuf pages of pods. What trim drops from every pod
// anyway, managedFields (a third of a pod's bytes) and the annotations no
// analysis reads, it leaves out of each encoded pod before the generated
// Unmarshal decodes it, so that they are never allocated. The pod is copied
// without them into a buffer reused for every pod; the decoder copies what
// it keeps, so nothing decoded points into the buffer.
type podDecoder struct{ pod, meta []byte }

// Field numbers (k8s.io/api/core/v1 and k8s.io/apimachinery generated.proto).
const (
	listMetadata        = 1 // every *List: its ListMeta
	listItems           = 2 // every *List: its items
	listMetaContinue    = 3 // ListMeta.continue
	podMetadata         = 1 // Pod.metadata
	objectAnnotations   = 12
	objectManagedFields = 17
)

// list decodes a PodList. Anything it does not expect, it leaves to the
// generated Unmarshal, which reads the whole list or pod as it came.
func (d *podDecoder) list(raw []byte) (*corev1.PodList, error) {
	n := 0
	err := eachField(raw, func(num protowire.Number, typ protowire.Type, _, _ []byte) error {
		if num == listItems {
			n++
		}
		return nil
	})
	list := &corev1.PodList{}
	if err != nil {
		return list, list.Unmarshal(raw)
	}
	if n > 0 {
		list.Items = make([]corev1.Pod, 0, n)
	}
	err = eachField(raw, func(num protowire.Number, typ protowire.Type, v, _ []byte) error {
		switch {
		case num == listMetadata && typ == protowire.BytesType:
			return list.ListMeta.Unmarshal(v)
		case num == listItems && typ == protowire.BytesType:
			list.Items = append(list.Items, corev1.Pod{})
			return list.Items[len(list.Items)-1].Unmarshal(d.slim(v))
		case num == listMetadata || num == listItems:
			return fmt.Errorf("wrong wire type %d for field %d of a list", typ, num)
		}
		return nil
	})
	return list, err
}

// slim returns pod without its managedFields and unkept annotations, or
// pod itself when it has none or is not as expected.
func (d *podDecoder) slim(pod []byte) []byte {
	d.pod = d.pod[:0]
	slimmed := false
	err := eachField(pod, func(num protowire.Number, typ protowire.Type, v, field []byte) error {
		if num == podMetadata && typ == protowire.BytesType {
			if meta, ok := d.slimMeta(v); ok {
				d.pod = protowire.AppendTag(d.pod, podMetadata, protowire.BytesType)
				d.pod = protowire.AppendBytes(d.pod, meta)
				slimmed = true
				return nil
			}
		}
		d.pod = append(d.pod, field...)
		return nil
	})
	if err != nil || !slimmed {
		return pod
	}
	return d.pod
}

// slimMeta returns an ObjectMeta without managedFields and unkept
// annotations; false when there are none, or an annotation is not a
// well-formed map entry.
func (d *podDecoder) slimMeta(meta []byte) ([]byte, bool) {
	d.meta = d.meta[:0]
	slimmed := false
	err := eachField(meta, func(num protowire.Number, typ protowire.Type, v, field []byte) error {
		if typ == protowire.BytesType {
			switch num {
			case objectManagedFields:
				slimmed = true
				return nil
			case objectAnnotations:
				key, ok := mapKey(v)
				if !ok {
					return errNotAsExpected
				}
				if !keptAnnotations[key] {
					slimmed = true
					return nil
				}
			}
		}
		d.meta = append(d.meta, field...)
		return nil
	})
	return d.meta, err == nil && slimmed
}

var errNotAsExpected = errors.New("not as expected")

// mapKey is the key of an encoded map<string, string> entry; false unless
// the entry is only its key and value, both strings.
func mapKey(entry []byte) (string, bool) {
	key := ""
	err := eachField(entry, func(num protowire.Number, typ protowire.Type, v, _ []byte) error {
		if typ != protowire.BytesType || (num != 1 && num != 2) {
			return errNotAsExpected
		}
		if num == 1 {
			key = string(v)
		}
		return nil
	})
	return key, err == nil
}

// listContinue reads the continue token of an encoded list (any *List
// message): field 1 is its ListMeta, whose field 3 is the token.
func listContinue(raw []byte) (string, error) {
	cont := ""
	err := eachField(raw, func(num protowire.Number, typ protowire.Type, v, _ []byte) error {
		if num != listMetadata || typ != protowire.BytesType {
			return nil
		}
		return eachField(v, func(num protowire.Number, typ protowire.Type, v, _ []byte) error {
			if num == listMetaContinue && typ == protowire.BytesType {
				cont = string(v)
			}
			return nil
		})
	})
	return cont, err
}

// eachField calls f with every field of an encoded message, in order: v is
// the contents of a length-delimited field and the encoded value of any
// other, field the whole field, its tag included.
func eachField(b []byte, f func(num protowire.Number, typ protowire.Type, v, field []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			return protowire.ParseError(m)
		}
		v := b[n : n+m]
		if typ == protowire.BytesType {
			v, _ = protowire.ConsumeBytes(v)
		}
		if err := f(num, typ, v, b[:n+m]); err != nil {
			return err
		}
		b = b[n+m:]
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

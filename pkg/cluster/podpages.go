package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"

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
// whatever its contents (managedFields, a third of a pod's bytes, the
// annotations and conditions no analysis reads, container probes, security
// contexts, runtime identifiers...: podFields) it leaves out of each encoded
// pod before the generated Unmarshal decodes it, so that it is never
// allocated. The pod is copied without those fields into buffers reused for
// every pod; the decoder copies what it keeps, so nothing decoded points
// into them.
type podDecoder struct {
	scratch [][]byte // one buffer per depth of nested messages
}

// Field numbers of every *List message (k8s.io/apimachinery and
// k8s.io/api generated.proto).
const (
	listMetadata     = 1 // its ListMeta
	listItems        = 2
	listMetaContinue = 3 // ListMeta.continue
)

// fields says which fields of a message to leave out: those in drop, the
// entries of a repeated or map field that keep refuses, and in the messages
// of the fields in into, what they say in turn.
type fields struct {
	drop []protowire.Number
	keep map[protowire.Number]func(v []byte) (bool, error)
	into map[protowire.Number]*fields
}

// What trim drops of every pod (see trim.go; podpages_slim_test.go checks
// that decoding without these fields equals decoding whole, then trimming).
var (
	containerFields = &fields{drop: []protowire.Number{
		3, 4, 5, // command, args, workingDir
		10, 11, 22, 12, // livenessProbe, readinessProbe, startupProbe, lifecycle
		13, 20, 14, 15, // terminationMessagePath, terminationMessagePolicy, imagePullPolicy, securityContext
	}}
	containerStatusFields = &fields{drop: []protowire.Number{
		7, 8, // imageID, containerID
		12, 13, 14, // volumeMounts, user, allocatedResourcesStatus
	}}
	podFields = &fields{into: map[protowire.Number]*fields{
		1: {
			drop: []protowire.Number{17}, // managedFields
			keep: map[protowire.Number]func([]byte) (bool, error){12: keptAnnotation},
		},
		2: { // spec
			drop: []protowire.Number{
				4,    // terminationGracePeriodSeconds
				8, 9, // serviceAccountName, serviceAccount
				14, // securityContext
				30, // enableServiceLinks
			},
			into: map[protowire.Number]*fields{
				2:  containerFields,                                          // containers
				20: containerFields,                                          // initContainers
				34: {into: map[protowire.Number]*fields{1: containerFields}}, // ephemeralContainers' EphemeralContainerCommon
			},
		},
		3: { // status
			keep: map[protowire.Number]func([]byte) (bool, error){2: keptCondition},
			into: map[protowire.Number]*fields{
				8:  containerStatusFields, // containerStatuses
				10: containerStatusFields, // initContainerStatuses
				13: containerStatusFields, // ephemeralContainerStatuses
			},
		},
	}}
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

// slim returns pod without what podFields leaves out, or pod itself when
// there is nothing to leave out or it is not as expected.
func (d *podDecoder) slim(pod []byte) []byte {
	out, slimmed, err := d.strip(podFields, pod, 0)
	if err != nil || !slimmed {
		return pod
	}
	return out
}

// strip copies msg without what f leaves out into the buffer of depth;
// slimmed says whether it left anything out.
func (d *podDecoder) strip(f *fields, msg []byte, depth int) (out []byte, slimmed bool, err error) {
	if depth == len(d.scratch) {
		d.scratch = append(d.scratch, nil)
	}
	out = d.scratch[depth][:0]
	err = eachField(msg, func(num protowire.Number, typ protowire.Type, v, field []byte) error {
		if slices.Contains(f.drop, num) {
			slimmed = true
			return nil
		}
		if typ == protowire.BytesType {
			if keep := f.keep[num]; keep != nil {
				ok, err := keep(v)
				if err != nil {
					return err
				}
				if !ok {
					slimmed = true
					return nil
				}
			}
			if in := f.into[num]; in != nil {
				sub, changed, err := d.strip(in, v, depth+1)
				if err != nil {
					return err
				}
				if changed {
					out = protowire.AppendTag(out, num, protowire.BytesType)
					out = protowire.AppendBytes(out, sub)
					slimmed = true
					return nil
				}
			}
		}
		out = append(out, field...)
		return nil
	})
	d.scratch[depth] = out
	return out, slimmed, err
}

var errNotAsExpected = errors.New("not as expected")

// keptAnnotation says whether trim keeps an encoded annotation (a
// map<string, string> entry).
func keptAnnotation(entry []byte) (bool, error) {
	key, err := stringField(entry, 1, true)
	return keptAnnotations[string(key)], err
}

// keptCondition says whether trim keeps an encoded PodCondition.
func keptCondition(cond []byte) (bool, error) {
	t, err := stringField(cond, 1, false)
	for kept := range keptPodConditions {
		if string(kept) == string(t) {
			return true, err
		}
	}
	return false, err
}

// stringField is the last value of the string field num of msg; with only,
// msg may hold nothing but strings numbered 1 and 2 (a map<string, string>
// entry, which the generated Unmarshal reads without checking).
func stringField(msg []byte, num protowire.Number, only bool) ([]byte, error) {
	var s []byte
	err := eachField(msg, func(n protowire.Number, typ protowire.Type, v, _ []byte) error {
		switch {
		case only && (typ != protowire.BytesType || (n != 1 && n != 2)):
			return errNotAsExpected
		case n != num:
			return nil
		case typ != protowire.BytesType:
			return errNotAsExpected
		}
		s = v
		return nil
	})
	return s, err
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

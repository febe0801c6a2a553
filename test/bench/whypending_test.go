package bench

import (
	"bytes"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/ktriage/ktriage/pkg/pending"
	"github.com/ktriage/ktriage/test/bench/bigcluster"
)

// pageSize is the Limit of each LIST page, as pkg/cluster's live loader uses.
const pageSize = 500

// encodePages encodes objects as the API server answers a paginated
// protobuf LIST: one list document per page.
func encodePages[T any](b *testing.B, items []*T, newList func([]*T) runtime.Object) [][]byte {
	b.Helper()
	enc := scheme.Codecs.EncoderForVersion(protobuf.NewSerializer(scheme.Scheme, scheme.Scheme), corev1.SchemeGroupVersion)
	var pages [][]byte
	for i := 0; i < len(items); i += pageSize {
		var buf bytes.Buffer
		if err := enc.Encode(newList(items[i:min(i+pageSize, len(items))]), &buf); err != nil {
			b.Fatal(err)
		}
		pages = append(pages, buf.Bytes())
	}
	return pages
}

func podList(ps []*corev1.Pod) runtime.Object {
	l := &corev1.PodList{Items: make([]corev1.Pod, len(ps))}
	for i, p := range ps {
		l.Items[i] = *p
	}
	return l
}

func nodeList(ns []*corev1.Node) runtime.Object {
	l := &corev1.NodeList{Items: make([]corev1.Node, len(ns))}
	for i, n := range ns {
		l.Items[i] = *n
	}
	return l
}

// decoder is what a typed client-go clientset decodes protobuf responses
// with (rest.Config from pkg/cli: protobuf content type, no conversion).
func decoder() runtime.Decoder {
	return scheme.Codecs.WithoutConversion().DecoderToVersion(protobuf.NewSerializer(scheme.Scheme, scheme.Scheme), corev1.SchemeGroupVersion)
}

// listNsPerOp is the baseline's ns/op, kept for the analysis' ratio.
var listNsPerOp float64

// BenchmarkWhyPendingAll measures `kubectl why-pending -A` against its
// contract on bigcluster.Large (5,000 nodes, 50,000 running and 500 Pending
// pods):
// the analysis must cost about as much as the one paginated protobuf LIST
// of pods and nodes it needs. "list" decodes that LIST (the client-side cost
// of loading the snapshot); "analysis" explains every Pending pod from the
// decoded snapshot and reports its cost as a multiple of "list" (x-list)
// when both run.
func BenchmarkWhyPendingAll(b *testing.B) {
	c := bigcluster.Generate(bigcluster.Large)

	b.Run("list", func(b *testing.B) {
		podPages := encodePages(b, c.Pods, podList)
		nodePages := encodePages(b, c.Nodes, nodeList)
		var size int
		for _, p := range append(append([][]byte{}, podPages...), nodePages...) {
			size += len(p)
		}
		dec := decoder()
		b.SetBytes(int64(size))
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			pods, nodes := 0, 0
			for _, page := range podPages {
				var l corev1.PodList
				if _, _, err := dec.Decode(page, nil, &l); err != nil {
					b.Fatal(err)
				}
				pods += len(l.Items)
			}
			for _, page := range nodePages {
				var l corev1.NodeList
				if _, _, err := dec.Decode(page, nil, &l); err != nil {
					b.Fatal(err)
				}
				nodes += len(l.Items)
			}
			if pods != len(c.Pods) || nodes != len(c.Nodes) {
				b.Fatalf("decoded %d pods and %d nodes", pods, nodes)
			}
		}
		listNsPerOp = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		b.ReportMetric(float64(size)/float64(len(c.Pods)+len(c.Nodes)), "wire-B/object")
	})

	b.Run("analysis", func(b *testing.B) {
		subjects := make([]pending.Subject, len(c.PendingPods))
		for i, p := range c.PendingPods {
			subjects[i] = pending.Subject{Pod: p}
		}
		opts := pending.Options{Now: bigcluster.Now}
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			res := pending.Explain(c.Snapshot, subjects, nil, opts)
			if len(res.Pods) != len(subjects) {
				b.Fatalf("%d explanations for %d pods", len(res.Pods), len(subjects))
			}
		}
		perOp := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		b.ReportMetric(perOp/float64(len(subjects)), "ns/pending-pod")
		if listNsPerOp > 0 {
			b.ReportMetric(perOp/listNsPerOp, "x-list")
		}
	})
}

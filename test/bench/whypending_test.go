package bench

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/ktriage/ktriage/pkg/pending"
	"github.com/ktriage/ktriage/pkg/printers"
	"github.com/ktriage/ktriage/pkg/report"
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

// document is why-pending's JSON/YAML document: the common report and
// .pods[], as plugins/whypending prints it.
type document struct {
	report.Report
	Pods []pending.Explanation `json:"pods"`
}

func (d *document) Tables(bool) []printers.Table { return nil }

// BenchmarkWhyPendingOutput measures what `why-pending -A -o json` and
// `-o yaml` print for 500 Pending pods on 500 and on 5,000 nodes: each pod's
// nodes are grouped by reason, so the bytes per Pending pod must not grow
// with the nodes (it fails if they grow by more than 10%). "json-per-node"
// is the same report with every node listed (--per-node), on 500 nodes only:
// on 5,000 it is about 1 GB.
func BenchmarkWhyPendingOutput(b *testing.B) {
	perPod := map[string]float64{}
	for _, nodes := range []int{500, 5000} {
		cfg := bigcluster.Large
		cfg.Nodes, cfg.Running = nodes, nodes*10
		c := bigcluster.Generate(cfg)
		subjects := make([]pending.Subject, len(c.PendingPods))
		for i, p := range c.PendingPods {
			subjects[i] = pending.Subject{Pod: p}
		}
		res := pending.Explain(c.Snapshot, subjects, nil, pending.Options{Now: bigcluster.Now})
		full := &document{Report: report.New("WhyPendingReport", pending.Plugin, "bench"), Pods: res.Pods}
		for _, f := range res.Findings {
			full.Add(f)
		}
		full.Finalize(nil)
		grouped := *full
		grouped.Pods = slices.Clone(full.Pods)
		for i := range grouped.Pods {
			grouped.Pods[i].DropNodeLists()
		}
		formats := []string{"json", "yaml"}
		if nodes <= 500 {
			formats = append(formats, "json-per-node")
		}
		for _, format := range formats {
			b.Run(fmt.Sprintf("nodes=%d/%s", nodes, format), func(b *testing.B) {
				doc, f := &grouped, format
				if format == "json-per-node" {
					doc, f = full, "json"
				}
				var w countingWriter
				b.ReportAllocs()
				for b.Loop() {
					w = 0
					if err := printers.Print(&w, f, doc, printers.Options{}); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(w), "output-B")
				b.ReportMetric(float64(w)/float64(len(subjects)), "B/pending-pod")
				if format == "json-per-node" {
					return
				}
				if prev, ok := perPod[format]; ok && float64(w)/float64(len(subjects)) > 1.1*prev {
					b.Errorf("%s: %.0f bytes per Pending pod on %d nodes, %.0f on fewer: the output grows with the nodes", format, float64(w)/float64(len(subjects)), nodes, prev)
				}
				perPod[format] = float64(w) / float64(len(subjects))
			})
		}
	}
}

// countingWriter counts what is printed.
type countingWriter int64

func (w *countingWriter) Write(p []byte) (int, error) {
	*w += countingWriter(len(p))
	return len(p), nil
}

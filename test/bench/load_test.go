package bench

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/metrics"
	"strconv"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	runtimeapi "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"

	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/test/bench/bigcluster"
)

// BenchmarkLoadLive measures pkg/cluster's live loader on bigcluster.Large
// (5,000 nodes, 50,000 pods) through a real clientset: paginated protobuf
// LISTs of pods and nodes served from memory, decoded and kept in a
// Snapshot. Besides B/op and allocs/op it reports the heap the snapshot
// keeps (live-MB, after a collection, live-B/object, and live-B/pod of the
// pods loaded alone). A whole process's peak follows from
// it (about twice the live heap with the default GOGC); in this process the
// generated cluster and the encoded pages share the heap, so the high-water
// mark here would measure them too.
func BenchmarkLoadLive(b *testing.B) {
	c := bigcluster.Generate(bigcluster.Large)
	podPages := paginated(b, c.Pods, podList)
	nodePages := paginated(b, c.Nodes, nodeList)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pages := map[string][][]byte{"/api/v1/pods": podPages, "/api/v1/nodes": nodePages}[r.URL.Path]
		if pages == nil {
			http.NotFound(w, r)
			return
		}
		i, _ := strconv.Atoi(r.URL.Query().Get("continue"))
		if i >= len(pages) || r.URL.Query().Get("limit") != strconv.Itoa(pageSize) {
			http.Error(w, "bad page", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/vnd.kubernetes.protobuf")
		_, _ = w.Write(pages[i])
	}))
	defer srv.Close()
	cs, err := kubernetes.NewForConfig(&rest.Config{Host: srv.URL, ContentConfig: rest.ContentConfig{
		ContentType: "application/vnd.kubernetes.protobuf", AcceptContentTypes: "application/vnd.kubernetes.protobuf"}, QPS: -1})
	if err != nil {
		b.Fatal(err)
	}
	queries := []cluster.Query{{Kind: cluster.KindPod}, {Kind: cluster.KindNode}}

	var live float64
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		runtime.GC()
		base := heapObjects()
		b.StartTimer()
		snap, err := cluster.LoadLiveWith(context.Background(), cs, cluster.LiveOptions{PageSize: pageSize}, queries...)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		if len(snap.Pods) != len(c.Pods) || len(snap.Nodes) != len(c.Nodes) {
			b.Fatalf("loaded %d pods and %d nodes", len(snap.Pods), len(snap.Nodes))
		}
		runtime.GC()
		live = float64(heapObjects()-base) / 1e6
		runtime.KeepAlive(snap)
		b.StartTimer()
	}
	b.ReportMetric(live, "live-MB")
	// What the analyses must hold per object: the lower bound of a
	// process's peak beyond the runtime's own.
	b.ReportMetric(live*1e6/float64(len(c.Pods)+len(c.Nodes)), "live-B/object")

	// What each retained pod costs: the pods alone, loaded once more
	// outside the timer.
	b.StopTimer()
	runtime.GC()
	base := heapObjects()
	snap, err := cluster.LoadLiveWith(context.Background(), cs, cluster.LiveOptions{PageSize: pageSize}, cluster.Query{Kind: cluster.KindPod})
	if err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	b.ReportMetric(float64(heapObjects()-base)/float64(len(snap.Pods)), "live-B/pod")
	runtime.KeepAlive(snap)
}

// paginated encodes objects as the API server answers a paginated
// protobuf LIST, each page's continue token the index of the next.
func paginated[T any](b *testing.B, items []*T, newList func([]*T) runtimeapi.Object) [][]byte {
	b.Helper()
	enc := scheme.Codecs.EncoderForVersion(protobuf.NewSerializer(scheme.Scheme, scheme.Scheme), corev1.SchemeGroupVersion)
	var pages [][]byte
	for i := 0; i < len(items); i += pageSize {
		l := newList(items[i:min(i+pageSize, len(items))])
		if next := i + pageSize; next < len(items) {
			lm, err := meta.ListAccessor(l)
			if err != nil {
				b.Fatal(err)
			}
			lm.SetContinue(strconv.Itoa(len(pages) + 1))
		}
		var buf bytes.Buffer
		if err := enc.Encode(l, &buf); err != nil {
			b.Fatal(err)
		}
		pages = append(pages, buf.Bytes())
	}
	return pages
}

// heapObjects is the heap occupied by objects (after runtime.GC, the live
// ones).
func heapObjects() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

package cluster

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/client-go/kubernetes/scheme"
)

// protobufPages encodes n pages of two pods each as the API server answers
// a paginated protobuf LIST; each page's continue token is the index of the
// next.
func protobufPages(t *testing.T, n int) [][]byte {
	t.Helper()
	enc := scheme.Codecs.EncoderForVersion(protobuf.NewSerializer(scheme.Scheme, scheme.Scheme), corev1.SchemeGroupVersion)
	var pages [][]byte
	for page := range n {
		l := &corev1.PodList{}
		for i := range 2 {
			l.Items = append(l.Items, *pod("shop", "p"+strconv.Itoa(page*2+i), "node-1"))
		}
		if page < n-1 {
			l.Continue = strconv.Itoa(page + 1)
		}
		var buf bytes.Buffer
		if err := enc.Encode(l, &buf); err != nil {
			t.Fatal(err)
		}
		pages = append(pages, buf.Bytes())
	}
	return pages
}

func writeProtobuf(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "application/vnd.kubernetes.protobuf")
	_, _ = w.Write(body)
}

func loadedNames(s *Snapshot) string {
	var names []string
	for _, p := range s.Pods {
		names = append(names, p.Name)
	}
	return strings.Join(names, ",")
}

func TestListContinue(t *testing.T) {
	pages := protobufPages(t, 2)
	for i, want := range []string{"1", ""} {
		raw, ok := protobufPayload(pages[i])
		if !ok {
			t.Fatalf("page %d is not protobuf", i)
		}
		if cont, err := listContinue(raw); err != nil || cont != want {
			t.Errorf("page %d: continue %q, %v; want %q", i, cont, err, want)
		}
	}
	raw, _ := protobufPayload(pages[0])
	if _, err := listContinue(raw[:len(raw)/2]); err == nil {
		t.Error("a truncated list: no error")
	}
}

// The next page is asked for while the page before it is decoded, and never
// more than one page ahead: the fetch of page N+2 waits until page N is
// decoded.
func TestPaginateFetchesOnePageAhead(t *testing.T) {
	const n = 5
	var decodedUpTo atomic.Int32 // pages 0..decodedUpTo-1 decoded
	fetchStarted := make([]chan struct{}, n)
	for i := range fetchStarted {
		fetchStarted[i] = make(chan struct{})
	}
	fetch := func(ctx context.Context, opts metav1.ListOptions) (page, error) {
		i := 0
		if opts.Continue != "" {
			i, _ = strconv.Atoi(opts.Continue)
		}
		if d := int(decodedUpTo.Load()); i >= 2 && d < i-1 {
			t.Errorf("page %d fetched while page %d is not decoded yet", i, i-2)
		}
		close(fetchStarted[i])
		cont := ""
		if i < n-1 {
			cont = strconv.Itoa(i + 1)
		}
		return page{cont: cont, decode: func() (runtime.Object, error) {
			if i < n-1 {
				// Page i is decoded only once page i+1 is being fetched.
				select {
				case <-fetchStarted[i+1]:
				case <-time.After(10 * time.Second):
					t.Errorf("page %d decoded without page %d being fetched", i, i+1)
				}
			}
			decodedUpTo.Store(int32(i + 1))
			return &corev1.PodList{Items: []corev1.Pod{*pod("shop", "p"+strconv.Itoa(i), "")}}, nil
		}}, nil
	}
	objs, err := paginate(context.Background(), fetch, metav1.ListOptions{}, time.Second, nil)
	if err != nil || len(objs) != n {
		t.Fatalf("got %d objects, %v; want %d", len(objs), err, n)
	}
}

// When decoding a page fails while the next one is fetched, the fetch is
// cancelled and over by the time paginate returns.
func TestPaginateLeavesNoFetchBehind(t *testing.T) {
	var running atomic.Int32
	secondStarted := make(chan struct{})
	fetch := func(ctx context.Context, opts metav1.ListOptions) (page, error) {
		running.Add(1)
		defer running.Add(-1)
		if opts.Continue == "" {
			return page{cont: "1", decode: func() (runtime.Object, error) {
				<-secondStarted
				return nil, errors.New("a bad page")
			}}, nil
		}
		close(secondStarted)
		<-ctx.Done() // a server that does not answer
		return page{}, ctx.Err()
	}
	_, err := paginate(context.Background(), fetch, metav1.ListOptions{}, time.Minute, nil)
	if err == nil || err.Error() != "a bad page" {
		t.Fatalf("error %v, want the decoding error", err)
	}
	if n := running.Load(); n != 0 {
		t.Errorf("%d fetches still running after paginate returned", n)
	}
}

// A page that fails to arrive while the page before it is decoded: the
// page before is decoded whole, then the list ends with the fetch's error.
func TestPaginateFailsOnThePageAfter(t *testing.T) {
	fetchFailed := make(chan struct{})
	decodedFirst := false
	fetch := func(ctx context.Context, opts metav1.ListOptions) (page, error) {
		if opts.Continue == "" {
			return page{cont: "1", decode: func() (runtime.Object, error) {
				<-fetchFailed
				decodedFirst = true
				return &corev1.PodList{Items: []corev1.Pod{*pod("shop", "p0", "")}}, nil
			}}, nil
		}
		close(fetchFailed)
		return page{}, errors.New("connection reset")
	}
	_, err := paginate(context.Background(), fetch, metav1.ListOptions{}, time.Minute, nil)
	if err == nil || err.Error() != "connection reset" || !decodedFirst {
		t.Fatalf("error %v (first page decoded: %v), want the fetch's error after the first page", err, decodedFirst)
	}
}

// Protobuf pages from a real client-go: a continue token that expires
// while the page before it is decoded restarts the list once, which ends
// complete and without duplicates.
func TestProtobufPagesWhoseContinueTokenExpires(t *testing.T) {
	pages := protobufPages(t, 3)
	var lists atomic.Int32
	cs := faultClient(t, func(w http.ResponseWriter, r *http.Request) {
		cont := r.URL.Query().Get("continue")
		if cont == "" {
			lists.Add(1)
		}
		if cont == "2" && lists.Load() == 1 {
			status(w, http.StatusGone, metav1.StatusReasonExpired, "The provided continue parameter is too old to display a consistent list result.")
			return
		}
		i, _ := strconv.Atoi(cont)
		writeProtobuf(w, pages[i])
	})
	s, err := LoadLiveWith(context.Background(), cs, LiveOptions{PageSize: 2}, Query{Kind: KindPod})
	if err != nil {
		t.Fatal(err)
	}
	if got := loadedNames(s); got != "p0,p1,p2,p3,p4,p5" || lists.Load() != 2 {
		t.Errorf("pods %s after %d lists, want p0..p5 once each after 2 lists", got, lists.Load())
	}
}

// A page after the first that fails (here: the server refuses it, then one
// that never answers) ends the list with one line, within the request
// timeout.
func TestProtobufPagesFailingMidway(t *testing.T) {
	pages := protobufPages(t, 3)
	t.Run("refused", func(t *testing.T) {
		cs := faultClient(t, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("continue") == "1" {
				status(w, http.StatusForbidden, metav1.StatusReasonForbidden, `pods is forbidden: User "u" cannot list resource "pods"`)
				return
			}
			writeProtobuf(w, pages[0])
		})
		_, err := LoadLiveWith(context.Background(), cs, LiveOptions{PageSize: 2}, Query{Kind: KindPod})
		oneLine(t, err, "cannot list pods at cluster scope: ")
	})
	t.Run("never answered", func(t *testing.T) {
		cs := faultClient(t, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("continue") == "1" {
				<-r.Context().Done()
				return
			}
			writeProtobuf(w, pages[0])
		})
		start := time.Now()
		_, err := LoadLiveWith(context.Background(), cs, LiveOptions{PageSize: 2, RequestTimeout: 500 * time.Millisecond}, Query{Kind: KindPod})
		if err == nil || time.Since(start) > 5*time.Second {
			t.Fatalf("got %v after %s, want an error within the request timeout", err, time.Since(start))
		}
		oneLine(t, err, "cannot list pods at cluster scope: ")
	})
}

// Cancelling the load while a page is being fetched ends it at once, and
// the server sees the request go away.
func TestProtobufPagesCancelled(t *testing.T) {
	pages := protobufPages(t, 3)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	gone := make(chan struct{})
	cs := faultClient(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("continue") == "1" {
			cancel()
			<-r.Context().Done()
			close(gone)
			return
		}
		writeProtobuf(w, pages[0])
	})
	_, err := LoadLiveWith(ctx, cs, LiveOptions{PageSize: 2}, Query{Kind: KindPod})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
	select {
	case <-gone:
	case <-time.After(5 * time.Second):
		t.Error("the request of the page being fetched is still open")
	}
}

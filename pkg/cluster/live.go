package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/ktriage/ktriage/pkg/apierror"
	"github.com/ktriage/ktriage/pkg/inflight"
)

// Query asks for one kind of object from the live cluster.
type Query struct {
	Kind Kind
	// Namespace limits the list; "" lists all namespaces (or a cluster-scoped kind).
	// It is ignored for cluster-scoped kinds.
	Namespace string
	// Name, when set, gets that one object (verb get: RBAC may grant it
	// where it grants no list); a missing object is no error, the snapshot
	// just does not hold it. Only the kinds of targets (see ParseType) can
	// be got.
	Name          string
	LabelSelector string
	FieldSelector string
	// Optional turns a forbidden or unavailable API into a snapshot warning
	// instead of an error (partial results).
	Optional bool
	// Resource, when set, lists any resource (e.g. a custom resource) with the
	// dynamic client into Snapshot.Other; Kind then only names it in Loaded.
	Resource schema.GroupVersionResource
}

// Defaults for LiveOptions.
const (
	DefaultConcurrency = 8
	DefaultPageSize    = 500
)

// LiveOptions tunes LoadLiveWith.
type LiveOptions struct {
	// Dynamic lists what has no typed client: the APIService and
	// CustomResourceDefinition kinds and queries with a Resource. Build it
	// with dynamic.NewForConfig from the same rest.Config (it switches to
	// JSON by itself). Without it such queries fail.
	Dynamic dynamic.Interface
	// Concurrency bounds how many lists run at once (default 8).
	Concurrency int
	// PageSize is the Limit of each LIST page (default 500).
	PageSize int64
	// RequestTimeout bounds each LIST page, the retries client-go makes on
	// 429 and Retry-After included (it gives a LIST no deadline of its own).
	// 0 means the timeout the clientset was built with (rest.Config.Timeout,
	// --request-timeout).
	RequestTimeout time.Duration
	// OnPage, when set, is handed the objects of each page of a list of a
	// Kind as soon as they are decoded, so that work on them can start
	// while the rest is read. It runs on the list's goroutine: it must
	// return quickly and must not modify the objects, which the Snapshot
	// then holds. A list that restarts hands its pages again.
	OnPage func(kind Kind, objects []runtime.Object)
}

// LoadLive lists every query in parallel (paginated, protobuf) into a Snapshot.
// It uses only the typed clientset; see LoadLiveWith for kinds that need the
// dynamic client.
func LoadLive(ctx context.Context, cs kubernetes.Interface, queries ...Query) (*Snapshot, error) {
	return LoadLiveWith(ctx, cs, LiveOptions{}, queries...)
}

// LoadLiveWith is LoadLive with options. Queries run in parallel (bounded by
// Concurrency), each a paginated LIST; objects two queries both return are
// kept once. A forbidden, unserved or unsupported API on an Optional query
// becomes a Snapshot warning; any other failure, or on a required query, is
// an error naming the verb and resource. Results keep the order of the
// queries, whatever order the lists finish in.
func LoadLiveWith(ctx context.Context, cs kubernetes.Interface, opts LiveOptions, queries ...Query) (*Snapshot, error) {
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	if opts.PageSize <= 0 {
		opts.PageSize = DefaultPageSize
	}
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = requestTimeout(cs)
	}
	plans := make([]queryPlan, len(queries))
	for i, q := range queries {
		p, err := planQuery(cs, opts, q)
		if err != nil {
			return nil, err
		}
		plans[i] = p
	}
	results := make([]queryResult, len(queries))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(opts.Concurrency)
	for i, q := range queries {
		plan := plans[i]
		g.Go(func() error {
			end := inflight.Begin(gctx, plan.describe())
			var onPage func([]runtime.Object)
			if opts.OnPage != nil && plan.kind != "" {
				onPage = func(objs []runtime.Object) { opts.OnPage(plan.kind, objs) }
			}
			r, err := plan.run(gctx, q, opts.PageSize, opts.RequestTimeout, onPage)
			end()
			if err != nil {
				switch {
				case errors.Is(ctx.Err(), context.DeadlineExceeded):
					// The caller's deadline, not this list, is what failed.
					return plan.apiError(fmt.Errorf("loading cluster state: %w", context.DeadlineExceeded))
				case ctx.Err() != nil:
					return fmt.Errorf("loading cluster state: %w", ctx.Err())
				}
				return err
			}
			results[i] = r
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}

	snap := &Snapshot{Loaded: map[Kind]bool{}}
	b := newBuilder()
	for i, r := range results {
		if r.warning != "" {
			if !slices.Contains(snap.Warnings, r.warning) {
				snap.Warnings = append(snap.Warnings, r.warning)
			}
			snap.queried = append(snap.queried, queries[i])
			continue
		}
		if queries[i].Kind != "" {
			snap.Loaded[queries[i].Kind] = true
		}
		snap.queried = append(snap.queried, queries[i])
		for _, o := range r.objects {
			b.put(r.kind, o, nil)
		}
	}
	b.build(snap)
	return snap, nil
}

// LoadEach runs every query as a LoadLive of its own, in parallel, and
// returns one snapshot per query, in order: where LoadLive merges the
// warnings of all Optional queries, the caller can tell which query left one
// instead of objects (e.g. which node's pods could not be listed).
func LoadEach(ctx context.Context, cs kubernetes.Interface, queries ...Query) ([]*Snapshot, error) {
	snaps := make([]*Snapshot, len(queries))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(DefaultConcurrency)
	for i, q := range queries {
		g.Go(func() error {
			s, err := LoadLive(gctx, cs, q)
			snaps[i] = s
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return snaps, nil
}

// queryResult is what one query produced: objects, or a warning instead.
type queryResult struct {
	kind    Kind // "" for objects kept in Other
	objects []runtime.Object
	warning string
}

// queryPlan is a query resolved against the kind table.
type queryPlan struct {
	kind       Kind // "" when the objects go to Other
	resource   string
	namespaced bool
	list       fetcher
	get        getter // set for a query by Name
	namespace  string
}

func planQuery(cs kubernetes.Interface, opts LiveOptions, q Query) (queryPlan, error) {
	if !q.Resource.Empty() {
		if opts.Dynamic == nil {
			return queryPlan{}, fmt.Errorf("cluster: listing %s needs LiveOptions.Dynamic", q.Resource)
		}
		name := q.Resource.Resource
		if q.Resource.Group != "" {
			name += "." + q.Resource.Group
		}
		return queryPlan{
			resource: name, namespaced: q.Namespace != "",
			list: fetchOf(dynamicLister(opts.Dynamic, q.Resource, q.Namespace)), namespace: q.Namespace,
		}, nil
	}
	spec, ok := kinds[q.Kind]
	if !ok {
		return queryPlan{}, fmt.Errorf("cluster: no way to list kind %q; set Query.Resource", q.Kind)
	}
	ns := q.Namespace
	if !spec.namespaced {
		ns = ""
	}
	p := queryPlan{resource: spec.resourceName(), namespaced: spec.namespaced, namespace: ns}
	if spec.list == nil {
		if opts.Dynamic == nil {
			return queryPlan{}, fmt.Errorf("cluster: listing %s needs LiveOptions.Dynamic", q.Kind)
		}
		p.list = fetchOf(dynamicLister(opts.Dynamic, spec.gvr(), ""))
		return p, nil
	}
	p.kind = q.Kind
	if q.Name != "" {
		get, ok := getters[q.Kind]
		if !ok {
			return queryPlan{}, fmt.Errorf("cluster: no way to get a %s by name", q.Kind)
		}
		p.get = get(cs, ns)
		return p, nil
	}
	if spec.pages != nil {
		p.list = spec.pages(cs, ns)
	} else {
		p.list = fetchOf(spec.list(cs, ns))
	}
	return p, nil
}

func dynamicLister(dc dynamic.Interface, gvr schema.GroupVersionResource, ns string) lister {
	return func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
		var (
			l   *unstructured.UnstructuredList
			err error
		)
		if ns != "" {
			l, err = dc.Resource(gvr).Namespace(ns).List(ctx, opts)
		} else {
			l, err = dc.Resource(gvr).List(ctx, opts)
		}
		if err != nil {
			return nil, err
		}
		return l, nil
	}
}

// run lists every page of the query. A failure on an Optional query that
// only says "you may not" or "not here" becomes a warning.
func (p queryPlan) run(ctx context.Context, q Query, pageSize int64, timeout time.Duration, onPage func([]runtime.Object)) (queryResult, error) {
	if p.get != nil {
		return p.runGet(ctx, q, timeout)
	}
	objs, err := paginate(ctx, p.list, metav1.ListOptions{
		LabelSelector: q.LabelSelector,
		FieldSelector: q.FieldSelector,
		Limit:         pageSize,
	}, timeout, onPage)
	if err == nil {
		return queryResult{kind: p.kind, objects: objs}, nil
	}
	if q.Optional && optionalFailure(err) {
		return queryResult{warning: p.apiError(err).Error()}, nil
	}
	return queryResult{}, p.apiError(err)
}

// runGet gets the one object the query names; a missing one is an empty
// result.
func (p queryPlan) runGet(ctx context.Context, q Query, timeout time.Duration) (queryResult, error) {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	obj, err := p.get(ctx, q.Name)
	switch {
	case err == nil:
		trim(obj, nil) // as paginate does for every listed object
		return queryResult{kind: p.kind, objects: []runtime.Object{obj}}, nil
	case apierrors.IsNotFound(err) && isObjectNotFound(err):
		return queryResult{kind: p.kind}, nil
	case q.Optional && optionalFailure(err):
		return queryResult{warning: p.explain(err, "get").Error()}, nil
	}
	return queryResult{}, p.explain(err, "get")
}

// isObjectNotFound tells a missing object (its name in the status) from an
// API the server does not serve.
func isObjectNotFound(err error) bool {
	var status apierrors.APIStatus
	return errors.As(err, &status) && status.Status().Details != nil && status.Status().Details.Name != ""
}

// optionalFailure says whether err means the data is unavailable to us
// (RBAC, API group not served, method not allowed) rather than that the
// cluster is broken.
func optionalFailure(err error) bool {
	return apierrors.IsForbidden(err) || apierrors.IsNotFound(err) || apierrors.IsMethodNotSupported(err)
}

// describe names the list as inflight.Describe names its requests, so that
// a pending list and its pending page are named once.
func (p queryPlan) describe() string {
	verb := "list "
	if p.get != nil {
		verb = "get "
	}
	if p.namespaced && p.namespace != "" {
		return verb + p.resource + " in namespace " + p.namespace
	}
	return verb + p.resource
}

func (p queryPlan) apiError(err error) error { return p.explain(err, "list") }

func (p queryPlan) explain(err error, verb string) error {
	ns := ""
	if p.namespaced {
		ns = p.namespace
	}
	return apierror.Explain(err, verb, p.resource, ns)
}

// requestTimeout is the timeout cs was built with (rest.Config.Timeout):
// client-go bounds each HTTP attempt with it, and a GET as a whole, but not
// a LIST, whose retries on 429 and Retry-After it leaves unbounded.
func requestTimeout(cs kubernetes.Interface) time.Duration {
	if cs == nil {
		return 0
	}
	rc, ok := cs.CoreV1().RESTClient().(*rest.RESTClient)
	if !ok || rc == nil || rc.Client == nil {
		return 0
	}
	return rc.Client.Timeout
}

// RequestContext bounds ctx by the request timeout cs was built with, for a
// LIST made outside LoadLive: client-go leaves the retries of a LIST on 429
// and Retry-After unbounded.
func RequestContext(ctx context.Context, cs kubernetes.Interface) (context.Context, context.CancelFunc) {
	if d := requestTimeout(cs); d > 0 {
		return context.WithTimeout(ctx, d)
	}
	return context.WithCancel(ctx)
}

// page is one LIST page as fetched: its continue token, read before the
// items are decoded, and the decoding, which paginate runs while the next
// page is fetched.
type page struct {
	cont   string
	decode func() (runtime.Object, error)
}

// fetcher fetches one page of a list. A page's decode may read memory the
// fetcher reuses two calls later: paginate decodes every page before it
// fetches the page after next.
type fetcher func(ctx context.Context, opts metav1.ListOptions) (page, error)

// fetchOf fetches with list, which decodes as it fetches.
func fetchOf(list lister) fetcher {
	return func(ctx context.Context, opts metav1.ListOptions) (page, error) {
		obj, err := list(ctx, opts)
		if err != nil {
			return page{}, err
		}
		lm, err := meta.ListAccessor(obj)
		if err != nil {
			return page{}, err
		}
		return decodedPage(obj, lm.GetContinue()), nil
	}
}

// decodedPage is a page already decoded into list.
func decodedPage(list runtime.Object, cont string) page {
	return page{cont: cont, decode: func() (runtime.Object, error) { return list, nil }}
}

// listPage fetches one page within timeout.
func listPage(ctx context.Context, fetch fetcher, opts metav1.ListOptions, timeout time.Duration) (page, error) {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	return fetch(ctx, opts)
}

// paginate follows Continue tokens until the list is complete, each page
// fetched within timeout (when positive) while the page before it is
// decoded, and handed to onPage (when set) once decoded. An expired token
// (410 Gone, when the list outlives the apiserver's compaction window)
// restarts the list once from the beginning.
func paginate(ctx context.Context, fetch fetcher, opts metav1.ListOptions, timeout time.Duration, onPage func([]runtime.Object)) ([]runtime.Object, error) {
	var out []runtime.Object
	in := newInterner()
	keep := func(list runtime.Object) error {
		items, err := meta.ExtractList(list)
		if err != nil {
			return err
		}
		// Drop what no analysis reads while only this page is decoded,
		// so the snapshot never holds it (see trim.go).
		for _, o := range items {
			trim(o, in)
		}
		out = append(out, items...)
		if onPage != nil {
			onPage(items)
		}
		return nil
	}
	midway, err := eachPage(ctx, fetch, opts, timeout, keep)
	if err != nil && midway && (apierrors.IsResourceExpired(err) || apierrors.IsGone(err)) {
		out = out[:0]
		_, err = eachPage(ctx, fetch, opts, timeout, keep)
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// fetched is what the fetching goroutine of eachPage hands over: a page, or
// the error of fetching it; midway says whether the page had a continue
// token, i.e. was not the first.
type fetched struct {
	page   page
	err    error
	midway bool
}

// eachPage decodes every page of the list from opts on and hands it to use,
// in order. One goroutine fetches the pages one after another, at most one
// page ahead of use; it has ended by the time eachPage returns. midway says
// that err is the failure to fetch a page after the first.
func eachPage(ctx context.Context, fetch fetcher, opts metav1.ListOptions, timeout time.Duration, use func(runtime.Object) error) (midway bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	pages := make(chan fetched) // unbuffered: a fetched page waits for use to take it
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			p, err := listPage(ctx, fetch, opts, timeout)
			select {
			case pages <- fetched{page: p, err: err, midway: opts.Continue != ""}:
			case <-ctx.Done():
				return
			}
			if err != nil || p.cont == "" {
				return
			}
			opts.Continue = p.cont
		}
	}()
	defer func() {
		cancel()
		<-done
	}()
	for {
		var f fetched
		select {
		case f = <-pages:
		case <-ctx.Done():
			return false, ctx.Err()
		}
		if f.err != nil {
			return f.midway, f.err
		}
		list, err := f.page.decode()
		if err != nil {
			return false, err
		}
		if err := use(list); err != nil {
			return false, err
		}
		if f.page.cont == "" {
			return false, nil
		}
	}
}

// getter fetches one object by name.
type getter func(ctx context.Context, name string) (runtime.Object, error)

func getFn[T runtime.Object](f func(context.Context, string, metav1.GetOptions) (T, error)) getter {
	return func(ctx context.Context, name string) (runtime.Object, error) {
		o, err := f(ctx, name, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		return o, nil
	}
}

// getters are the kinds a Query can get by Name: those a target can name,
// and Namespaces (a Role may grant get on its own namespace, never a list).
var getters = map[Kind]func(cs kubernetes.Interface, ns string) getter{
	KindNamespace:   func(cs kubernetes.Interface, _ string) getter { return getFn(cs.CoreV1().Namespaces().Get) },
	KindPod:         func(cs kubernetes.Interface, ns string) getter { return getFn(cs.CoreV1().Pods(ns).Get) },
	KindService:     func(cs kubernetes.Interface, ns string) getter { return getFn(cs.CoreV1().Services(ns).Get) },
	KindDeployment:  func(cs kubernetes.Interface, ns string) getter { return getFn(cs.AppsV1().Deployments(ns).Get) },
	KindReplicaSet:  func(cs kubernetes.Interface, ns string) getter { return getFn(cs.AppsV1().ReplicaSets(ns).Get) },
	KindStatefulSet: func(cs kubernetes.Interface, ns string) getter { return getFn(cs.AppsV1().StatefulSets(ns).Get) },
	KindDaemonSet:   func(cs kubernetes.Interface, ns string) getter { return getFn(cs.AppsV1().DaemonSets(ns).Get) },
	KindJob:         func(cs kubernetes.Interface, ns string) getter { return getFn(cs.BatchV1().Jobs(ns).Get) },
	KindCronJob:     func(cs kubernetes.Interface, ns string) getter { return getFn(cs.BatchV1().CronJobs(ns).Get) },
	KindReplicationController: func(cs kubernetes.Interface, ns string) getter {
		return getFn(cs.CoreV1().ReplicationControllers(ns).Get)
	},
}

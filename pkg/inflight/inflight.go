package inflight

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
)

// Tracker holds the operations under way in one run.
type Tracker struct {
	// run is the run's context: once it ends, what is under way stays
	// recorded (it was cut short, not finished) and nothing new is.
	run   context.Context
	mu    sync.Mutex
	next  int
	items map[int]string
}

type key struct{}

// NewContext returns ctx carrying a new Tracker, and the Tracker. What is
// under way when ctx ends stays in Pending.
func NewContext(ctx context.Context) (context.Context, *Tracker) {
	t := &Tracker{items: map[int]string{}}
	t.run = context.WithValue(ctx, key{}, t)
	return t.run, t
}

// FromContext returns the Tracker ctx carries, or nil.
func FromContext(ctx context.Context) *Tracker {
	t, _ := ctx.Value(key{}).(*Tracker)
	return t
}

// Begin records that the run waits on what (e.g. "list pods in namespace
// x") until the returned func is called. Without a Tracker in ctx it does
// nothing.
func Begin(ctx context.Context, what string) (end func()) {
	t := FromContext(ctx)
	if t == nil || t.run.Err() != nil {
		return func() {}
	}
	t.mu.Lock()
	id := t.next
	t.next++
	t.items[id] = what
	t.mu.Unlock()
	return func() {
		if t.run.Err() != nil {
			return // cut short by the end of the run: still pending then
		}
		t.mu.Lock()
		delete(t.items, id)
		t.mu.Unlock()
	}
}

// Pending lists what is under way, oldest first, each once; once the run's
// context has ended, what was under way then.
func (t *Tracker) Pending() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	ids := make([]int, 0, len(t.items))
	for id := range t.items {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var out []string
	for _, id := range ids {
		if !slices.Contains(out, t.items[id]) {
			out = append(out, t.items[id])
		}
	}
	return out
}

// WrapTransport records every request made through rt with the Tracker of
// its context, described as Describe does.
func WrapTransport(rt http.RoundTripper) http.RoundTripper {
	return roundTripper{rt}
}

type roundTripper struct{ base http.RoundTripper }

func (r roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	end := Begin(req.Context(), Describe(req.Method, req.URL.Path, req.URL.Query().Get("watch") == "true"))
	defer end()
	return r.base.RoundTrip(req)
}

// WrappedRoundTripper lets client-go see through the wrapper.
func (r roundTripper) WrappedRoundTripper() http.RoundTripper { return r.base }

// Describe names an API request the way the errors of a failed one do:
// "list pods in namespace x", "get nodes n1", "patch pods/ephemeralcontainers
// p in namespace x". A path that is not a resource path is given as is.
func Describe(method, path string, watch bool) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	var rest []string
	group := ""
	switch {
	case len(parts) >= 2 && parts[0] == "api":
		rest = parts[2:]
	case len(parts) >= 3 && parts[0] == "apis":
		group, rest = parts[1], parts[3:]
	default:
		return method + " " + path
	}
	ns := ""
	if len(rest) >= 2 && rest[0] == "namespaces" && len(rest) != 2 {
		ns, rest = rest[1], rest[2:]
	}
	if len(rest) == 0 {
		return method + " " + path
	}
	resource := rest[0]
	if group != "" {
		resource += "." + group
	}
	name := ""
	if len(rest) >= 2 {
		name = rest[1]
	}
	if len(rest) >= 3 {
		resource += "/" + strings.Join(rest[2:], "/")
	}
	verb := strings.ToLower(method)
	switch {
	case method == http.MethodGet && name == "" && watch:
		verb = "watch"
	case method == http.MethodGet && name == "":
		verb = "list"
	case method == http.MethodPost:
		verb = "create"
	}
	s := verb + " " + resource
	if name != "" {
		s += " " + name
	}
	if ns != "" {
		s += " in namespace " + ns
	}
	return s
}

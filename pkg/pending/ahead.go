package pending

import (
	"slices"

	"github.com/ktriage/ktriage/pkg/cluster"
)

// ahead is a load started before the round that needs it, so that it runs
// while an earlier round is still loading: the every-pod LIST of -A takes
// seconds on a large cluster, and the reads that do not depend on its
// answer need not wait for it.
type ahead struct {
	qs   []cluster.Query
	done chan struct{}
	snap *cluster.Snapshot
	err  error
}

// startAhead begins loading qs (one Load, in the background) for a later
// round: fetch hands that round the result instead of loading the queries
// again. A query already started is not started twice. What no round takes
// is dropped, its warnings and errors with it (see drainAhead).
func (r *liveRun) startAhead(qs ...cluster.Query) {
	var todo []cluster.Query
	for _, q := range qs {
		if r.ahead[q] == nil && !slices.Contains(todo, q) {
			todo = append(todo, q)
		}
	}
	if len(todo) == 0 {
		return
	}
	a := &ahead{qs: todo, done: make(chan struct{})}
	if r.ahead == nil {
		r.ahead = map[cluster.Query]*ahead{}
	}
	for _, q := range todo {
		r.ahead[q] = a
	}
	r.started = append(r.started, a)
	go func() {
		defer close(a.done)
		a.snap, a.err = r.ld.Load(todo...)
	}()
}

// peekAhead waits for the load started ahead for q and returns what it
// loaded, leaving it for the round that takes it; nil when q was not
// started or its load failed (that round reports the failure).
func (r *liveRun) peekAhead(q cluster.Query) *cluster.Snapshot {
	a := r.ahead[q]
	if a == nil {
		return nil
	}
	<-a.done
	if a.err != nil {
		return nil
	}
	return a.snap
}

// fetch loads the queries of one round: it takes the loads started ahead
// whose queries all belong to the round and loads the rest at once, and
// returns what one Load of qs returns: objects and warnings (each once) in
// the order of the queries, an error of the first part that failed.
func (r *liveRun) fetch(qs ...cluster.Query) (*cluster.Snapshot, error) {
	var (
		parts []*ahead // in the order of their first query; nil is the rest
		rest  []cluster.Query
		taken = map[*ahead]bool{}
	)
	for _, q := range qs {
		a := r.ahead[q]
		if a != nil && !taken[a] && !coversAll(qs, a.qs) {
			a = nil // it loads more than this round asks for
		}
		switch {
		case a == nil:
			if len(rest) == 0 {
				parts = append(parts, nil)
			}
			rest = append(rest, q)
		case !taken[a]:
			taken[a] = true
			parts = append(parts, a)
		}
	}
	if len(taken) == 0 {
		return r.ld.Load(qs...)
	}
	for a := range taken {
		for _, q := range a.qs {
			delete(r.ahead, q)
		}
	}
	var restSnap *cluster.Snapshot
	var restErr error
	if len(rest) > 0 {
		restSnap, restErr = r.ld.Load(rest...)
	}
	var out *cluster.Snapshot
	for _, a := range parts {
		s, err := restSnap, restErr
		if a != nil {
			<-a.done
			s, err = a.snap, a.err
		}
		if err != nil {
			return nil, err
		}
		if out == nil {
			out = s
			continue
		}
		out = cluster.Merge(out, s)
	}
	out.Warnings = dedupe(out.Warnings)
	return out, nil
}

// drainAhead waits for the loads started ahead that no round took, and
// drops them: the run ends with no call under way.
func (r *liveRun) drainAhead() {
	for _, a := range r.started {
		<-a.done
	}
	r.ahead, r.started = nil, nil
}

// coversAll: every query of sub is in qs.
func coversAll(qs, sub []cluster.Query) bool {
	for _, q := range sub {
		if !slices.Contains(qs, q) {
			return false
		}
	}
	return true
}

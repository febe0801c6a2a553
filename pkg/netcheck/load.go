package netcheck

import (
	"context"
	"errors"
	"strings"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/ktriage/ktriage/pkg/cluster"
	netprobe "github.com/ktriage/ktriage/pkg/probe"
)

// ReadFunc makes one read. It returns what the read returned, or an error
// that ends the check (the cluster cannot be read at all); a read the API
// refused is a ReadResult with Refused set.
type ReadFunc func(ctx context.Context, r Read) (ReadResult, error)

// ReadResult is what one read returned: its objects (an IPAddress apart: a
// Snapshot has no field for it), or the error the API refused it with.
type ReadResult struct {
	Objects   *cluster.Snapshot
	IPAddress *networkingv1.IPAddress
	Refused   error
}

// Load makes the reads with read, in parallel, and records what they
// returned.
func (o *Objects) Load(ctx context.Context, reads []Read, read ReadFunc) error {
	results := make([]ReadResult, len(reads))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(cluster.DefaultConcurrency)
	for i, r := range reads {
		g.Go(func() error {
			var err error
			results[i], err = read(gctx, r)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for i, r := range reads {
		o.done[r] = results[i].Refused
		switch {
		case results[i].Refused != nil:
		case r.Kind == KindIPAddress && results[i].IPAddress != nil:
			o.parents[r.Name] = results[i].IPAddress.Spec.ParentRef
		case results[i].Objects != nil:
			o.snap = cluster.Merge(o.snap, results[i].Objects)
		}
	}
	return nil
}

// Complete runs step until it no longer fails with *Missing, making the
// reads it misses with read between runs. Run first with FirstReads, a
// check's PlanCheck needs two or three rounds.
func (o *Objects) Complete(ctx context.Context, read ReadFunc, step func() error) error {
	for {
		err := step()
		var missing *Missing
		if !errors.As(err, &missing) {
			return err
		}
		if err := o.Load(ctx, missing.Reads, read); err != nil {
			return err
		}
	}
}

// ProbeFunc runs the probe in src's network namespace against host:port:
// netcheck's one impure step, which the plugin makes.
type ProbeFunc func(ctx context.Context, src *corev1.Pod, host string, port int32) (*netprobe.Outcome, error)

// Answer answers chk from the live cluster: it makes the reads the check
// needs with read, round by round (FirstReads, then those PlanCheck and
// Conclude miss), runs the probe between them unless chk.NoProbe (or probe
// is nil, or there is nothing to connect to), and concludes.
func Answer(ctx context.Context, chk Check, read ReadFunc, probe ProbeFunc) (*Result, error) {
	objs := NewLiveObjects()
	if err := objs.Load(ctx, FirstReads(chk), read); err != nil {
		return nil, err
	}
	var plan *Plan
	if err := objs.Complete(ctx, read, func() (err error) { plan, err = PlanCheck(objs, chk); return err }); err != nil {
		return nil, err
	}
	var out *netprobe.Outcome
	if host, port, ok := plan.ProbeTarget(); ok && !chk.NoProbe && probe != nil {
		var err error
		if out, err = probe(ctx, plan.Source, host, port); err != nil {
			return nil, err
		}
	}
	var res *Result
	err := objs.Complete(ctx, read, func() (err error) { res, err = plan.Conclude(out); return err })
	return res, err
}

// ListResult is what a list read returned, given the snapshot a
// cluster.LoadLive of r.Query() gave: its objects, or, when the list was
// refused (the warning LoadLive gives for an Optional query: forbidden, or
// an API the cluster does not serve), the API's error back, which the
// check explains in its own words.
func ListResult(r Read, s *cluster.Snapshot) ReadResult {
	if s.Loaded[r.Kind] {
		return ReadResult{Objects: s}
	}
	msg := strings.Join(s.Warnings, "; ")
	gr := schema.GroupResource{Resource: strings.ToLower(string(r.Kind))}
	switch {
	case strings.Contains(msg, ": forbidden;"):
		return ReadResult{Refused: apierrors.NewForbidden(gr, "", errors.New(msg))}
	case strings.Contains(msg, "does not serve"):
		return ReadResult{Refused: apierrors.NewNotFound(gr, "")}
	}
	return ReadResult{Refused: errors.New(msg)}
}

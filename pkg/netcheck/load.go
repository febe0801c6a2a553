package netcheck

import (
	"context"
	"errors"

	"golang.org/x/sync/errgroup"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/ktriage/ktriage/pkg/cluster"
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

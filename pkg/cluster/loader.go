package cluster

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
)

// Loader runs the loads of an analysis that decides round by round what to
// load next from what the rounds before returned (pkg/pending's live run):
// the analysis plans and makes no call itself; a plugin hands it the Loader
// of the cluster (NewLoader), a test one of a fake clientset.
type Loader interface {
	// Load runs one round: every query at once (LoadLiveWith). Rounds that
	// do not depend on each other may run at once: Load must be safe for
	// concurrent use.
	Load(qs ...Query) (*Snapshot, error)
	// Serves says whether the API server serves the group version
	// (discovery), so that the lists of an API that is not installed can
	// be left out without a failing list and its warning.
	Serves(gv schema.GroupVersion) (bool, error)
}

// NewLoader is the Loader of a live cluster: LoadLiveWith with opts and
// discovery through cs, within ctx.
func NewLoader(ctx context.Context, cs kubernetes.Interface, opts LiveOptions) Loader {
	return &liveLoader{ctx: ctx, cs: cs, opts: opts}
}

type liveLoader struct {
	ctx  context.Context
	cs   kubernetes.Interface
	opts LiveOptions
}

func (l *liveLoader) Load(qs ...Query) (*Snapshot, error) {
	return LoadLiveWith(l.ctx, l.cs, l.opts, qs...)
}

func (l *liveLoader) Serves(gv schema.GroupVersion) (bool, error) {
	_, err := l.cs.Discovery().ServerResourcesForGroupVersion(gv.String())
	switch {
	case err == nil:
		return true, nil
	case apierrors.IsNotFound(err):
		return false, nil
	}
	return false, err
}

// maxTargetRounds bounds LoadTargets: a CronJob needs three rounds (the
// CronJob, its Jobs, their pods) and a fourth for its FailedCreate events.
const maxTargetRounds = 4

// LoadTargets loads into a copy of snap (nil for an empty one) what Resolve
// reads for the targets, round by round (TargetQueries), all targets' queries
// of a round at once. Resolve them on the snapshot it returns; one that
// does not exist resolves to a *NotFoundError.
func LoadTargets(ctx context.Context, cs kubernetes.Interface, opts LiveOptions, snap *Snapshot, targets ...Target) (*Snapshot, error) {
	return LoadTargetsWith(NewLoader(ctx, cs, opts), snap, targets...)
}

// LoadTargetsWith is LoadTargets through a Loader.
func LoadTargetsWith(ld Loader, snap *Snapshot, targets ...Target) (*Snapshot, error) {
	snap = Merge(snap, nil)
	for range maxTargetRounds {
		var qs []Query
		for _, t := range targets {
			qs = append(qs, TargetQueries(snap, t)...)
		}
		if len(qs) == 0 {
			break
		}
		more, err := ld.Load(qs...)
		if err != nil {
			return nil, err
		}
		snap = Merge(snap, more)
	}
	return snap, nil
}

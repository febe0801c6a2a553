package whypending

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/dynamic"

	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/pkg/pending"
)

// loadSchedulers loads what shows whether the other schedulers the pods
// name exist (pending.SchedulerQueries).
func (o *Options) loadSchedulers(ctx context.Context, l *live, pods []*corev1.Pod) error {
	qs := pending.SchedulerQueries(l.snap, pods)
	if len(qs) == 0 {
		return nil
	}
	cfg, err := o.RESTConfig()
	if err != nil {
		return err
	}
	dc, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("creating the API client: %w", err)
	}
	s, err := cluster.LoadLiveWith(ctx, l.cs, cluster.LiveOptions{Dynamic: dc}, qs...)
	if err != nil {
		return err
	}
	l.add(s)
	return nil
}

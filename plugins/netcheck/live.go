package netcheck

import (
	"context"
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"

	"github.com/ktriage/ktriage/pkg/cluster"
	nc "github.com/ktriage/ktriage/pkg/netcheck"
	"github.com/ktriage/ktriage/pkg/probe"
)

// runLive answers SRC DST from the live cluster: it reads what the check
// needs, round by round, probes unless --no-probe, and prints.
func (o *Options) runLive(ctx context.Context) error {
	ns, explicit, err := o.Namespace()
	if err != nil {
		return failure(err)
	}
	cs, _, err := o.Clientset()
	if err != nil {
		return failure(err)
	}
	res, err := o.answerLive(ctx, o.check(ns, explicit), apiReads(cs), cs)
	if err != nil {
		return failure(err)
	}
	res.Metadata.Context = o.CurrentContext()
	res.Metadata.Namespace = ns
	return o.printCheck(res)
}

// answerLive makes the reads the check needs with read, round by round,
// runs the probe through cs unless --no-probe, and concludes.
func (o *Options) answerLive(ctx context.Context, chk nc.Check, read nc.ReadFunc, cs kubernetes.Interface) (*nc.Result, error) {
	objs := nc.NewLiveObjects()
	if err := objs.Load(ctx, nc.FirstReads(chk), read); err != nil {
		return nil, err
	}
	var plan *nc.Plan
	if err := objs.Complete(ctx, read, func() (err error) { plan, err = nc.PlanCheck(objs, chk); return err }); err != nil {
		return nil, err
	}
	var out *probe.Outcome
	if host, port, ok := plan.ProbeTarget(); ok && !o.NoProbe {
		var err error
		if out, err = o.runProbe(ctx, cs, plan.Source, host, port); err != nil {
			return nil, err
		}
	}
	var res *nc.Result
	err := objs.Complete(ctx, read, func() (err error) { res, err = plan.Conclude(out); return err })
	return res, err
}

// runProbe adds the probe container to the source pod and waits for its
// result.
func (o *Options) runProbe(ctx context.Context, cs kubernetes.Interface, src *corev1.Pod, host string, port int32) (*probe.Outcome, error) {
	check := probe.Check{Protocol: o.Protocol, Host: host, Port: port, Path: o.Path, Timeout: o.Timeout}
	ec := probe.Container(check, probe.Options{Image: o.Image, PullPolicy: corev1.PullPolicy(o.PullPolicy)})
	added := func(name string) {
		o.notify("Added ephemeral container %s to pod %s/%s to run the probe. Ephemeral containers cannot be removed: it stays in the pod (stopped) until the pod is deleted. Use --no-probe to change nothing.", name, src.Namespace, src.Name)
	}
	out, err := probe.Run(ctx, cs, src, ec, o.StartTimeout+o.Timeout, added)
	if err != nil {
		if errors.Is(err, probe.ErrForbidden) || errors.Is(err, probe.ErrDisabled) {
			return nil, fmt.Errorf("%w (run with --no-probe for the explanation alone)", err)
		}
		return nil, err
	}
	return out, nil
}

// apiReads makes a check's reads from the API: each list through a
// cluster.LoadLive of its own (so that a refused one is told apart from the
// others), Namespaces and IPAddresses by name.
func apiReads(cs kubernetes.Interface) nc.ReadFunc {
	return func(ctx context.Context, r nc.Read) (nc.ReadResult, error) {
		switch r.Kind {
		case cluster.KindNamespace:
			n, err := cs.CoreV1().Namespaces().Get(ctx, r.Name, metav1.GetOptions{})
			if err != nil {
				return nc.ReadResult{Refused: err}, nil
			}
			return nc.ReadResult{Objects: &cluster.Snapshot{Namespaces: []*corev1.Namespace{n}}}, nil
		case nc.KindIPAddress:
			a, err := cs.NetworkingV1().IPAddresses().Get(ctx, r.Name, metav1.GetOptions{})
			return nc.ReadResult{IPAddress: a, Refused: err}, nil
		}
		s, err := cluster.LoadLive(ctx, cs, r.Query())
		if err != nil {
			return nc.ReadResult{}, err
		}
		if !s.Loaded[r.Kind] {
			return nc.ReadResult{Refused: refusal(r, s.Warnings)}, nil
		}
		return nc.ReadResult{Objects: s}, nil
	}
}

// refusal turns the warning cluster.LoadLive gives for an Optional list it
// was refused (forbidden, or an API the cluster does not serve) back into
// the API's error, which the check explains in its own words.
func refusal(r nc.Read, warnings []string) error {
	msg := strings.Join(warnings, "; ")
	gr := schema.GroupResource{Resource: strings.ToLower(string(r.Kind))}
	switch {
	case strings.Contains(msg, ": forbidden;"):
		return apierrors.NewForbidden(gr, "", errors.New(msg))
	case strings.Contains(msg, "does not serve"):
		return apierrors.NewNotFound(gr, "")
	}
	return errors.New(msg)
}

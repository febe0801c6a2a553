package netcheck

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"

	nc "github.com/ktriage/ktriage/pkg/netcheck"
)

// worldObjects reads a World built from manifests: the same reads the live
// path makes, answered from the merged objects.
type worldObjects struct {
	world *nc.World
	// loaded are the namespaces whose objects the live state holds; with
	// a complete world (files, dumps) every namespace is known.
	loaded map[string]bool
}

// errNotLoaded is the answer for a namespace the live state was not read in.
type errNotLoaded struct{ ns string }

func (e errNotLoaded) Error() string {
	return fmt.Sprintf("namespace %s was not read from the cluster; name it in SRC, DST or with -n", e.ns)
}

func (w *worldObjects) check(ns string) error {
	if w.world.Complete || w.loaded[ns] {
		return nil
	}
	return errNotLoaded{ns}
}

func notFound(group, resource, name string) error {
	return apierrors.NewNotFound(schema.GroupResource{Group: group, Resource: resource}, name)
}

func (w *worldObjects) getPod(_ context.Context, ns, name string) (*corev1.Pod, error) {
	if err := w.check(ns); err != nil {
		return nil, err
	}
	if p := w.world.Snapshot.Pod(ns, name); p != nil {
		return p, nil
	}
	return nil, notFound("", "pods", name)
}

func (w *worldObjects) listPods(_ context.Context, ns string, sel labels.Selector) ([]*corev1.Pod, error) {
	if err := w.check(ns); err != nil {
		return nil, err
	}
	var out []*corev1.Pod
	for _, p := range w.world.Snapshot.PodsInNamespace(ns) {
		if sel.Matches(labels.Set(p.Labels)) {
			out = append(out, p)
		}
	}
	return out, nil
}

func (w *worldObjects) workloadPods(ctx context.Context, ns, kind, name string) ([]*corev1.Pod, string, error) {
	if err := w.check(ns); err != nil {
		return nil, "", err
	}
	if kind == "service" {
		svc := w.world.Snapshot.Service(ns, name)
		switch {
		case svc == nil:
			return nil, "", getError(notFound("", "services", name), "services", ns, name)
		case len(svc.Spec.Selector) == 0:
			return nil, "", fmt.Errorf("service %s/%s has no selector, so it names no pod: pick a pod explicitly", ns, name)
		}
		sel := labels.SelectorFromSet(svc.Spec.Selector)
		pods, err := w.listPods(ctx, ns, sel)
		return pods, "match " + sel.String(), err
	}
	wl := w.world.Workload(kind, ns, name)
	if wl == nil {
		group := "apps"
		if kind == nc.WorkloadJob || kind == nc.WorkloadCronJob {
			group = "batch"
		}
		return nil, "", getError(notFound(group, kind+"s", name), kind+"s", ns, name)
	}
	return wl.Pods, "of it", nil
}

func (w *worldObjects) getNamespace(_ context.Context, name string) (*corev1.Namespace, error) {
	if n := w.world.Snapshot.Namespace(name); n != nil {
		return n, nil
	}
	return nil, notFound("", "namespaces", name)
}

func (w *worldObjects) listPolicies(_ context.Context, ns string) ([]*networkingv1.NetworkPolicy, error) {
	if err := w.check(ns); err != nil {
		return nil, err
	}
	var out []*networkingv1.NetworkPolicy
	for _, np := range w.world.Snapshot.NetworkPolicies {
		if np.Namespace == ns {
			out = append(out, np)
		}
	}
	return out, nil
}

func (w *worldObjects) getService(_ context.Context, ns, name string) (*corev1.Service, error) {
	if err := w.check(ns); err != nil {
		return nil, err
	}
	if s := w.world.Snapshot.Service(ns, name); s != nil {
		return s, nil
	}
	return nil, notFound("", "services", name)
}

func (w *worldObjects) listSlices(_ context.Context, ns, service string) ([]*discoveryv1.EndpointSlice, error) {
	if err := w.check(ns); err != nil {
		return nil, err
	}
	var out []*discoveryv1.EndpointSlice
	for _, s := range w.world.Snapshot.EndpointSlices {
		if s.Namespace == ns && s.Labels[discoveryv1.LabelServiceName] == service {
			out = append(out, s)
		}
	}
	return out, nil
}

// podsWithIP and servicesWithClusterIP search what was read: in a world
// from live state, the namespaces loaded.
func (w *worldObjects) podsWithIP(_ context.Context, ip string) ([]*corev1.Pod, error) {
	var out []*corev1.Pod
	for _, p := range w.world.Snapshot.Pods {
		if hasPodIP(p, ip) {
			out = append(out, p)
		}
	}
	return out, nil
}

func (w *worldObjects) servicesWithClusterIP(_ context.Context, ip string) ([]*corev1.Service, error) {
	var out []*corev1.Service
	for _, s := range w.world.Snapshot.Services {
		if hasClusterIP(s, ip) {
			out = append(out, s)
		}
	}
	return out, nil
}

func (w *worldObjects) ipAddressParent(context.Context, string) (*networkingv1.ParentReference, error) {
	return nil, notFound("networking.k8s.io", "ipaddresses", "")
}

package podmetrics

import (
	"context"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	metricsv1beta1 "k8s.io/metrics/pkg/apis/metrics/v1beta1"
	metricsclient "k8s.io/metrics/pkg/client/clientset/versioned/typed/metrics/v1beta1"

	"github.com/ktriage/ktriage/pkg/apierror"
	"github.com/ktriage/ktriage/pkg/cluster"
)

// MemoryUsage reads the pods' memory working sets (by "namespace/name") from metrics.k8s.io; nil when
// the API is not served or not allowed (the eviction order then says it used
// requests).
func MemoryUsage(ctx context.Context, cfg *rest.Config, snap *cluster.Snapshot) map[string]int64 {
	if len(snap.Pods) == 0 {
		return nil
	}
	mcfg := rest.CopyConfig(cfg)
	mcfg.ContentType = "application/json"
	mcfg.AcceptContentTypes = "application/json"
	mc, err := metricsclient.NewForConfig(mcfg)
	if err != nil {
		return nil
	}
	usage := map[string]int64{}
	add := func(list *metricsv1beta1.PodMetricsList) {
		for _, pm := range list.Items {
			var sum int64
			for _, c := range pm.Containers {
				sum += c.Usage.Memory().Value()
			}
			usage[pm.Namespace+"/"+pm.Name] = sum
		}
	}
	// client-go gives a LIST no deadline of its own: a server that keeps
	// answering 429 would hold it past --request-timeout.
	listIn := func(ns string) (*metricsv1beta1.PodMetricsList, error) {
		lctx := ctx
		if mcfg.Timeout > 0 {
			var cancel context.CancelFunc
			lctx, cancel = context.WithTimeout(ctx, mcfg.Timeout)
			defer cancel()
		}
		return mc.PodMetricses(ns).List(lctx, metav1.ListOptions{})
	}
	list, err := listIn(metav1.NamespaceAll)
	if err == nil {
		add(list)
		return usage
	}
	if apierrors.IsNotFound(err) || apierrors.IsServiceUnavailable(err) {
		return nil
	}
	if !apierrors.IsForbidden(err) {
		snap.Warnings = append(snap.Warnings, apierror.Explain(err, "list", "pods.metrics.k8s.io", "").Error()+"; the eviction order uses memory requests instead of usage")
		return nil
	}
	// Namespace-scoped RBAC: list the namespaces of the pods ranked instead.
	var namespaces []string
	for _, p := range snap.Pods {
		namespaces = append(namespaces, p.Namespace)
	}
	slices.Sort(namespaces)
	namespaces = slices.Compact(namespaces)
	var denied []string
	var firstErr error
	for i, ns := range namespaces {
		list, err := listIn(ns)
		if err != nil {
			if firstErr == nil {
				firstErr = apierror.Explain(err, "list", "pods.metrics.k8s.io", ns)
			}
			if !apierrors.IsForbidden(err) {
				// Not a matter of RBAC: the others would fail (or time out) too.
				denied = append(denied, namespaces[i:]...)
				break
			}
			denied = append(denied, ns)
			continue
		}
		add(list)
	}
	if len(denied) > 0 {
		msg := firstErr.Error()
		if len(denied) > 1 {
			msg += " (and in namespaces " + strings.Join(denied[1:], ", ") + ")"
		}
		snap.Warnings = append(snap.Warnings, msg+"; the eviction order uses memory requests instead of usage for their pods")
	}
	if len(denied) == len(namespaces) {
		return nil
	}
	return usage
}

package netcheck

import (
	"context"
	"fmt"
	"net/netip"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"

	"github.com/ktriage/ktriage/pkg/cli"
)

// loader makes the few GET and LIST calls netcheck needs; the analysis itself
// is pure (pkg/netcheck, pkg/netpolicy).
type loader struct {
	cs       kubernetes.Interface
	ns       string
	warnings []string
	nsLabels map[string]map[string]string
	services map[string]*corev1.Service
}

func (l *loader) warn(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	for _, w := range l.warnings {
		if w == msg {
			return // the DNS analysis may run twice over the same names
		}
	}
	l.warnings = append(l.warnings, msg)
}

// sourceKinds are the TYPE names SRC accepts.
var sourceKinds = map[string]string{
	"pod": "pod", "pods": "pod", "po": "pod",
	"deployment": "deployment", "deployments": "deployment", "deploy": "deployment",
	"replicaset": "replicaset", "replicasets": "replicaset", "rs": "replicaset",
	"statefulset": "statefulset", "statefulsets": "statefulset", "sts": "statefulset",
	"daemonset": "daemonset", "daemonsets": "daemonset", "ds": "daemonset",
	"job": "job", "jobs": "job",
	"service": "service", "services": "service", "svc": "service",
}

// parseSource reads SRC: NAME, NS/NAME or TYPE/NAME.
func parseSource(arg string) (ns, kind, name string, err error) {
	first, rest, ok := strings.Cut(arg, "/")
	switch {
	case arg == "" || strings.Count(arg, "/") > 1 || (ok && (first == "" || rest == "")):
		return "", "", "", cli.UsageErrorf("SRC %q: use POD, NS/POD or TYPE/NAME", arg)
	case !ok:
		return "", "pod", arg, nil
	}
	typ := strings.ToLower(first)
	if i := strings.Index(typ, "."); i >= 0 {
		typ = typ[:i]
	}
	if k, known := sourceKinds[typ]; known {
		return "", k, rest, nil
	}
	return first, "pod", rest, nil
}

// sourcePod finds SRC's pod; for a workload, one ready pod of it.
func (l *loader) sourcePod(ctx context.Context, arg string) (*corev1.Pod, error) {
	ns, kind, name, err := parseSource(arg)
	if err != nil {
		return nil, err
	}
	if ns == "" {
		ns = l.ns
	}
	if kind == "pod" {
		return l.pod(ctx, ns, name)
	}
	sel, err := l.workloadSelector(ctx, ns, kind, name)
	if err != nil {
		return nil, err
	}
	pods, err := l.cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return nil, cli.APIError(err, "list", "pods", ns)
	}
	var ready []*corev1.Pod
	for i := range pods.Items {
		p := &pods.Items[i]
		if p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil && podReady(p) {
			ready = append(ready, p)
		}
	}
	if len(ready) == 0 {
		return nil, fmt.Errorf("%s/%s in namespace %s has no ready pod (%d pod(s) match %s): pick a pod explicitly", kind, name, ns, len(pods.Items), sel)
	}
	sort.Slice(ready, func(i, j int) bool { return ready[i].Name < ready[j].Name })
	return ready[0], nil
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func (l *loader) workloadSelector(ctx context.Context, ns, kind, name string) (labels.Selector, error) {
	var ls *metav1.LabelSelector
	var err error
	apps := l.cs.AppsV1()
	switch kind {
	case "deployment":
		d, e := apps.Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		err = e
		if e == nil {
			ls = d.Spec.Selector
		}
	case "replicaset":
		r, e := apps.ReplicaSets(ns).Get(ctx, name, metav1.GetOptions{})
		err = e
		if e == nil {
			ls = r.Spec.Selector
		}
	case "statefulset":
		s, e := apps.StatefulSets(ns).Get(ctx, name, metav1.GetOptions{})
		err = e
		if e == nil {
			ls = s.Spec.Selector
		}
	case "daemonset":
		d, e := apps.DaemonSets(ns).Get(ctx, name, metav1.GetOptions{})
		err = e
		if e == nil {
			ls = d.Spec.Selector
		}
	case "job":
		j, e := l.cs.BatchV1().Jobs(ns).Get(ctx, name, metav1.GetOptions{})
		err = e
		if e == nil {
			ls = j.Spec.Selector
		}
	case "service":
		s, e := l.cs.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
		err = e
		if e == nil {
			if len(s.Spec.Selector) == 0 {
				return nil, fmt.Errorf("service %s/%s has no selector, so it names no pod: pick a pod explicitly", ns, name)
			}
			ls = &metav1.LabelSelector{MatchLabels: s.Spec.Selector}
		}
	}
	if err != nil {
		return nil, getError(err, kind+"s", ns, name)
	}
	if ls == nil {
		return nil, fmt.Errorf("%s %s/%s has no selector", kind, ns, name)
	}
	sel, err := metav1.LabelSelectorAsSelector(ls)
	if err != nil {
		return nil, fmt.Errorf("%s %s/%s has an invalid selector: %w", kind, ns, name, err)
	}
	return sel, nil
}

func getError(err error, resource, ns, name string) error {
	if apierrors.IsNotFound(err) {
		singular := strings.TrimSuffix(resource, "s")
		return fmt.Errorf("%s %q not found in namespace %s: check the name and -n (kubectl get %s -n %s)", singular, name, ns, resource, ns)
	}
	return cli.APIError(err, "get", resource, ns)
}

func (l *loader) pod(ctx context.Context, ns, name string) (*corev1.Pod, error) {
	p, err := l.cs.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, getError(err, "pods", ns, name)
	}
	return p, nil
}

// namespaceLabels reads a namespace's labels for namespaceSelectors; without
// permission only kubernetes.io/metadata.name is assumed.
func (l *loader) namespaceLabels(ctx context.Context, ns string) map[string]string {
	if v, ok := l.nsLabels[ns]; ok {
		return v
	}
	if l.nsLabels == nil {
		l.nsLabels = map[string]map[string]string{}
	}
	n, err := l.cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if err != nil {
		l.warn("cannot read namespace %s (%s): namespaceSelectors are matched on its name only", ns, shortErr(err))
		l.nsLabels[ns] = nil
		return nil
	}
	l.nsLabels[ns] = n.Labels
	return n.Labels
}

func shortErr(err error) string {
	switch {
	case apierrors.IsForbidden(err):
		return "forbidden"
	case apierrors.IsNotFound(err):
		return "not found"
	}
	return err.Error()
}

// policies lists the NetworkPolicies of the namespaces, and names those whose
// list failed, with why ("shop (forbidden)").
func (l *loader) policies(ctx context.Context, namespaces []string) ([]*networkingv1.NetworkPolicy, []string) {
	var out []*networkingv1.NetworkPolicy
	var unlisted []string
	seen := map[string]bool{}
	for _, ns := range namespaces {
		if seen[ns] {
			continue
		}
		seen[ns] = true
		list, err := l.cs.NetworkingV1().NetworkPolicies(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			l.warn("%s: the policy analysis leaves namespace %s out", cli.APIError(err, "list", "networkpolicies", ns), ns)
			unlisted = append(unlisted, fmt.Sprintf("%s (%s)", ns, shortErr(err)))
			continue
		}
		for i := range list.Items {
			out = append(out, &list.Items[i])
		}
	}
	return out, unlisted
}

// service loads a Service, its EndpointSlices and the pods its selector matches.
func (l *loader) service(ctx context.Context, ns, name string) (*corev1.Service, []*discoveryv1.EndpointSlice, []*corev1.Pod, error) {
	svc, err := l.getService(ctx, ns, name)
	if err != nil {
		return nil, nil, nil, getError(err, "services", ns, name)
	}
	sl, err := l.cs.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + name})
	if err != nil {
		return nil, nil, nil, cli.APIError(err, "list", "endpointslices", ns)
	}
	var slices []*discoveryv1.EndpointSlice
	for i := range sl.Items {
		slices = append(slices, &sl.Items[i])
	}
	var pods []*corev1.Pod
	if len(svc.Spec.Selector) > 0 {
		pl, err := l.cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: labels.SelectorFromSet(svc.Spec.Selector).String()})
		if err != nil {
			return nil, nil, nil, cli.APIError(err, "list", "pods", ns)
		}
		for i := range pl.Items {
			pods = append(pods, &pl.Items[i])
		}
	}
	return svc, slices, pods, nil
}

// getService caches Services (DNS analysis asks for the same ones again).
func (l *loader) getService(ctx context.Context, ns, name string) (*corev1.Service, error) {
	key := ns + "/" + name
	if s, ok := l.services[key]; ok {
		if s == nil {
			return nil, apierrors.NewNotFound(corev1.Resource("services"), name)
		}
		return s, nil
	}
	if l.services == nil {
		l.services = map[string]*corev1.Service{}
	}
	s, err := l.cs.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		l.services[key] = nil
		return nil, err
	case err != nil:
		return nil, err
	}
	l.services[key] = s
	return s, nil
}

// podByIP finds the pod using an IP, if the caller may list pods cluster-wide.
func (l *loader) podByIP(ctx context.Context, ip string) *corev1.Pod {
	list, err := l.cs.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: "status.podIP=" + ip})
	if err != nil {
		l.warn("cannot look up which pod has IP %s (%s): it is treated as an address outside the pod network", ip, shortErr(err))
		return nil
	}
	for i := range list.Items {
		p := &list.Items[i]
		if !p.Spec.HostNetwork && p.Status.Phase == corev1.PodRunning && hasPodIP(p, ip) {
			return p
		}
	}
	return nil
}

func hasPodIP(p *corev1.Pod, ip string) bool {
	if sameIP(p.Status.PodIP, ip) {
		return true
	}
	for _, pi := range p.Status.PodIPs {
		if sameIP(pi.IP, ip) {
			return true
		}
	}
	return false
}

// sameIP compares addresses, not spellings (2001:db8::1 and 2001:DB8:0::1).
func sameIP(a, b string) bool {
	x, errA := netip.ParseAddr(a)
	y, errB := netip.ParseAddr(b)
	return errA == nil && errB == nil && x.Unmap() == y.Unmap()
}

// serviceByClusterIP finds the Service whose spec.clusterIPs hold ip. The
// field selector matches the primary ClusterIP only; the IPAddress object
// (networking.k8s.io/v1, named by the address) also finds the second family's
// address of a dual-stack Service where the API serves it.
func (l *loader) serviceByClusterIP(ctx context.Context, ip string) *corev1.Service {
	list, err := l.cs.CoreV1().Services("").List(ctx, metav1.ListOptions{FieldSelector: "spec.clusterIP=" + ip})
	if err != nil {
		l.warn("cannot look up whether %s is a Service's ClusterIP (%s): it is judged as a plain address", ip, shortErr(err))
		return nil
	}
	for i := range list.Items {
		if s := &list.Items[i]; hasClusterIP(s, ip) {
			return s
		}
	}
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return nil
	}
	ipa, err := l.cs.NetworkingV1().IPAddresses().Get(ctx, addr.Unmap().String(), metav1.GetOptions{})
	if err != nil || ipa.Spec.ParentRef == nil || ipa.Spec.ParentRef.Group != "" || ipa.Spec.ParentRef.Resource != "services" {
		return nil
	}
	s, err := l.getService(ctx, ipa.Spec.ParentRef.Namespace, ipa.Spec.ParentRef.Name)
	if err != nil || !hasClusterIP(s, ip) {
		return nil
	}
	return s
}

func hasClusterIP(s *corev1.Service, ip string) bool {
	if s.Spec.ClusterIP == corev1.ClusterIPNone {
		return false
	}
	for _, c := range append([]string{s.Spec.ClusterIP}, s.Spec.ClusterIPs...) {
		if sameIP(c, ip) {
			return true
		}
	}
	return false
}

// clusterDNS returns the kube-dns Service's addresses, the usual kubelet
// clusterDNS, or nil.
func (l *loader) clusterDNS(ctx context.Context) []string {
	s, err := l.getService(ctx, "kube-system", "kube-dns")
	if err != nil || s.Spec.ClusterIP == "" || s.Spec.ClusterIP == corev1.ClusterIPNone {
		return nil
	}
	if len(s.Spec.ClusterIPs) > 0 {
		return s.Spec.ClusterIPs
	}
	return []string{s.Spec.ClusterIP}
}

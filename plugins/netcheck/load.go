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
	nc "github.com/ktriage/ktriage/pkg/netcheck"
	"github.com/ktriage/ktriage/pkg/report"
)

// loader makes the few reads netcheck needs, from the API or from a World
// built from manifests, and explains what it could not read; the analysis
// itself is pure (pkg/netcheck, pkg/netpolicy).
type loader struct {
	// cs is the API: objects are read from it unless objs is set, and the
	// probe patches the source pod through it.
	cs kubernetes.Interface
	// objs, when set, is where objects are read instead (a World).
	objs objects
	// ns is the namespace of names without one; nsExplicit says -n gave it,
	// so it wins over the source pod's namespace for the destination.
	ns         string
	nsExplicit bool
	warnings   []string
	nsLabels   map[string]map[string]string
	services   map[string]*corev1.Service
}

// objects reads the objects netcheck needs. A missing object is an API
// NotFound error, so the loader explains every source alike.
type objects interface {
	getPod(ctx context.Context, ns, name string) (*corev1.Pod, error)
	listPods(ctx context.Context, ns string, sel labels.Selector) ([]*corev1.Pod, error)
	// workloadPods returns the pods of a workload (kind: deployment,
	// replicaset, statefulset, daemonset, job, cronjob, or service for
	// the pods its selector matches) and says how they were found.
	workloadPods(ctx context.Context, ns, kind, name string) ([]*corev1.Pod, string, error)
	getNamespace(ctx context.Context, name string) (*corev1.Namespace, error)
	listPolicies(ctx context.Context, ns string) ([]*networkingv1.NetworkPolicy, error)
	getService(ctx context.Context, ns, name string) (*corev1.Service, error)
	listSlices(ctx context.Context, ns, service string) ([]*discoveryv1.EndpointSlice, error)
	podsWithIP(ctx context.Context, ip string) ([]*corev1.Pod, error)
	servicesWithClusterIP(ctx context.Context, ip string) ([]*corev1.Service, error)
	// ipAddressParent is the owner of an IPAddress object (the second
	// family's ClusterIP of a dual-stack Service).
	ipAddressParent(ctx context.Context, ip string) (*networkingv1.ParentReference, error)
}

func (l *loader) read() objects {
	if l.objs != nil {
		return l.objs
	}
	return apiObjects{l.cs}
}

// dstNamespace is the namespace of a destination named without one: -n when
// given, else the source pod's, as its DNS search list would resolve it.
func (l *loader) dstNamespace(src *corev1.Pod) string {
	if l.nsExplicit || src == nil {
		return l.ns
	}
	return src.Namespace
}

// podRef names a pod in a finding: the workload a built pod stands for,
// with its manifest line, or the pod.
func (l *loader) podRef(p *corev1.Pod) report.ObjectRef {
	if w, ok := l.objs.(*worldObjects); ok {
		if wl := w.world.WorkloadOf(p); wl != nil {
			return report.RefFor(wl.APIKind(), wl.Object).WithSource(wl.Source)
		}
	}
	return l.withSource(report.RefFor("Pod", p))
}

// serviceRef names a Service in a finding.
func (l *loader) serviceRef(a *nc.ServiceAnalysis) report.ObjectRef {
	return l.withSource(report.ObjectRef{Kind: "Service", Namespace: a.Namespace, Name: a.Name})
}

// withSource adds the manifest file and line an object was read from.
func (l *loader) withSource(ref report.ObjectRef) report.ObjectRef {
	if w, ok := l.objs.(*worldObjects); ok {
		if src := w.world.Snapshot.SourceOf(ref.Kind, ref.Namespace, ref.Name); src != nil {
			return ref.WithSource(src)
		}
	}
	return ref
}

// predicted says the pod was built from a manifest: it has no IP and no
// status of its own.
func (l *loader) predicted(p *corev1.Pod) bool {
	w, ok := l.objs.(*worldObjects)
	return ok && w.world.Predicted(p)
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
	"cronjob": "cronjob", "cronjobs": "cronjob", "cj": "cronjob",
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
	return l.workloadPod(ctx, ns, kind, name)
}

// workloadPod picks one ready pod of a workload (by name, the first).
func (l *loader) workloadPod(ctx context.Context, ns, kind, name string) (*corev1.Pod, error) {
	pods, how, err := l.read().workloadPods(ctx, ns, kind, name)
	if err != nil {
		return nil, err
	}
	var ready []*corev1.Pod
	for _, p := range pods {
		if p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil && podReady(p) {
			ready = append(ready, p)
		}
	}
	if len(ready) == 0 {
		return nil, fmt.Errorf("%s/%s in namespace %s has no ready pod (%d pod(s) %s): pick a pod explicitly", kind, name, ns, len(pods), how)
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

// apiObjects reads from the API.
type apiObjects struct{ cs kubernetes.Interface }

func (a apiObjects) workloadPods(ctx context.Context, ns, kind, name string) ([]*corev1.Pod, string, error) {
	sel, err := a.workloadSelector(ctx, ns, kind, name)
	if err != nil {
		return nil, "", err
	}
	pods, err := a.listPods(ctx, ns, sel)
	if err != nil {
		return nil, "", err
	}
	return pods, "match " + sel.String(), nil
}

func (a apiObjects) workloadSelector(ctx context.Context, ns, kind, name string) (labels.Selector, error) {
	var ls *metav1.LabelSelector
	var err error
	apps := a.cs.AppsV1()
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
		j, e := a.cs.BatchV1().Jobs(ns).Get(ctx, name, metav1.GetOptions{})
		err = e
		if e == nil {
			ls = j.Spec.Selector
		}
	case "cronjob":
		return nil, fmt.Errorf("cronjob/%s: the pods of a CronJob belong to the Jobs it creates: name one with job/NAME, or a pod", name)
	case "service":
		s, e := a.cs.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
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

func (a apiObjects) getPod(ctx context.Context, ns, name string) (*corev1.Pod, error) {
	return a.cs.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
}

func (a apiObjects) listPods(ctx context.Context, ns string, sel labels.Selector) ([]*corev1.Pod, error) {
	list, err := a.cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return nil, cli.APIError(err, "list", "pods", ns)
	}
	return ptrs(list.Items), nil
}

func (a apiObjects) getNamespace(ctx context.Context, name string) (*corev1.Namespace, error) {
	return a.cs.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
}

func (a apiObjects) listPolicies(ctx context.Context, ns string) ([]*networkingv1.NetworkPolicy, error) {
	list, err := a.cs.NetworkingV1().NetworkPolicies(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	return ptrs(list.Items), nil
}

func (a apiObjects) getService(ctx context.Context, ns, name string) (*corev1.Service, error) {
	return a.cs.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
}

func (a apiObjects) listSlices(ctx context.Context, ns, service string) ([]*discoveryv1.EndpointSlice, error) {
	list, err := a.cs.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + service})
	if err != nil {
		return nil, err
	}
	return ptrs(list.Items), nil
}

func (a apiObjects) podsWithIP(ctx context.Context, ip string) ([]*corev1.Pod, error) {
	list, err := a.cs.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: "status.podIP=" + ip})
	if err != nil {
		return nil, err
	}
	return ptrs(list.Items), nil
}

func (a apiObjects) servicesWithClusterIP(ctx context.Context, ip string) ([]*corev1.Service, error) {
	list, err := a.cs.CoreV1().Services("").List(ctx, metav1.ListOptions{FieldSelector: "spec.clusterIP=" + ip})
	if err != nil {
		return nil, err
	}
	return ptrs(list.Items), nil
}

func (a apiObjects) ipAddressParent(ctx context.Context, ip string) (*networkingv1.ParentReference, error) {
	ipa, err := a.cs.NetworkingV1().IPAddresses().Get(ctx, ip, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	return ipa.Spec.ParentRef, nil
}

func ptrs[T any](items []T) []*T {
	out := make([]*T, len(items))
	for i := range items {
		out[i] = &items[i]
	}
	return out
}

func getError(err error, resource, ns, name string) error {
	if apierrors.IsNotFound(err) {
		singular := strings.TrimSuffix(resource, "s")
		return fmt.Errorf("%s %q not found in namespace %s: check the name and -n (kubectl get %s -n %s)", singular, name, ns, resource, ns)
	}
	return cli.APIError(err, "get", resource, ns)
}

func (l *loader) pod(ctx context.Context, ns, name string) (*corev1.Pod, error) {
	p, err := l.read().getPod(ctx, ns, name)
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
	n, err := l.read().getNamespace(ctx, ns)
	if err != nil {
		if _, world := l.objs.(*worldObjects); world && apierrors.IsNotFound(err) {
			l.warn("namespace %s is not in the manifests: namespaceSelectors match it by its name only (add the Namespace with its labels)", ns)
		} else {
			l.warn("%s: namespaceSelectors are matched on namespace %s by its name only", cli.APIError(err, "get", "namespaces", ns), ns)
		}
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
		list, err := l.read().listPolicies(ctx, ns)
		if err != nil {
			l.warn("%s: the policy analysis leaves namespace %s out", cli.APIError(err, "list", "networkpolicies", ns), ns)
			unlisted = append(unlisted, fmt.Sprintf("%s (%s)", ns, shortErr(err)))
			continue
		}
		out = append(out, list...)
	}
	return out, unlisted
}

// service loads a Service, its EndpointSlices and the pods its selector matches.
func (l *loader) service(ctx context.Context, ns, name string) (*corev1.Service, []*discoveryv1.EndpointSlice, []*corev1.Pod, error) {
	svc, err := l.getService(ctx, ns, name)
	if err != nil {
		return nil, nil, nil, getError(err, "services", ns, name)
	}
	slices, err := l.read().listSlices(ctx, ns, name)
	if err != nil {
		return nil, nil, nil, cli.APIError(err, "list", "endpointslices", ns)
	}
	var pods []*corev1.Pod
	if len(svc.Spec.Selector) > 0 {
		pods, err = l.read().listPods(ctx, ns, labels.SelectorFromSet(svc.Spec.Selector))
		if err != nil {
			return nil, nil, nil, err
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
	s, err := l.read().getService(ctx, ns, name)
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
	pods, err := l.read().podsWithIP(ctx, ip)
	if err != nil {
		l.warn("%s: which pod has IP %s is unknown, so it is treated as an address outside the pod network", cli.APIError(err, "list", "pods", ""), ip)
		return nil
	}
	for _, p := range pods {
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
	services, err := l.read().servicesWithClusterIP(ctx, ip)
	if err != nil {
		l.warn("%s: whether %s is a Service's ClusterIP is unknown, so it is judged as a plain address", cli.APIError(err, "list", "services", ""), ip)
		return nil
	}
	for _, s := range services {
		if hasClusterIP(s, ip) {
			return s
		}
	}
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return nil
	}
	ref, err := l.read().ipAddressParent(ctx, addr.Unmap().String())
	if err != nil || ref == nil || ref.Group != "" || ref.Resource != "services" {
		return nil
	}
	s, err := l.getService(ctx, ref.Namespace, ref.Name)
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
// clusterDNS, or nil. A Service that may not be read is worth a warning; one
// that does not exist is not (clusters name their DNS differently).
func (l *loader) clusterDNS(ctx context.Context) []string {
	s, err := l.getService(ctx, "kube-system", "kube-dns")
	if err != nil && !apierrors.IsNotFound(err) {
		l.warn("%s: the cluster DNS address is unknown", cli.APIError(err, "get", "services", "kube-system"))
	}
	if err != nil || s.Spec.ClusterIP == "" || s.Spec.ClusterIP == corev1.ClusterIPNone {
		return nil
	}
	if len(s.Spec.ClusterIPs) > 0 {
		return s.Spec.ClusterIPs
	}
	return []string{s.Spec.ClusterIP}
}

package netcheck

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/ktriage/ktriage/pkg/apierror"
	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/pkg/report"
)

// KindIPAddress is networking.k8s.io/v1 IPAddress, which a Snapshot has no
// field for: the object named by an address, whose parent is the Service
// holding it as a ClusterIP.
const KindIPAddress cluster.Kind = "IPAddress"

// Read is one read a check makes from the cluster: the objects of a kind in
// a namespace ("" for all, or a cluster-scoped kind), one of them by Name,
// those a label Selector matches, or those a Field selector matches.
type Read struct {
	Kind      cluster.Kind
	Namespace string
	Name      string
	Selector  string
	Field     string
}

// ByName says the read is a get of one object rather than a list: a
// Namespace (a Role may grant get on its own namespace, never a list of
// namespaces) or an IPAddress.
func (r Read) ByName() bool { return r.Kind == cluster.KindNamespace || r.Kind == KindIPAddress }

// Query is the read as a LIST for cluster.LoadLive; Optional, so that a
// refused read leaves the objects out instead of failing the others.
func (r Read) Query() cluster.Query {
	q := cluster.Query{Kind: r.Kind, Namespace: r.Namespace, LabelSelector: r.Selector, FieldSelector: r.Field, Optional: true}
	if r.Name != "" {
		q.FieldSelector = "metadata.name=" + r.Name
	}
	return q
}

// Missing is the error of a step that needs objects not read yet: load the
// Reads into the Objects and run the step again.
type Missing struct{ Reads []Read }

func (m *Missing) Error() string {
	return fmt.Sprintf("%d read(s) of the cluster are still to be made", len(m.Reads))
}

// Objects are what a check reads: a Snapshot and what is known of what it
// does not hold.
//
// Live, the snapshot grows read by read: a lookup of something not read yet
// fails with *Missing, and Complete makes the reads it names (each a
// field-selected, labelled or namespaced list, see Read) and records them.
// A read the API refused is recorded with its error, which the check turns
// into a warning or, for SRC and DST themselves, into its error.
//
// From manifests (a World) everything the check may read is there: the
// snapshot is complete (files, dumps), or holds every object of the
// namespaces the manifests were merged over the live cluster for.
type Objects struct {
	snap  *cluster.Snapshot
	world *World
	// done are the reads made (live), each with the error it failed with.
	done map[Read]error
	// parents are the parents of the IPAddresses read (live).
	parents map[string]*networkingv1.ParentReference
	// loaded are the namespaces a World's live state holds; with a
	// complete World every namespace is known.
	loaded map[string]bool
}

// NewLiveObjects starts the objects of a live check: nothing read yet.
func NewLiveObjects() *Objects {
	return &Objects{snap: &cluster.Snapshot{Loaded: map[cluster.Kind]bool{}}, done: map[Read]error{}, parents: map[string]*networkingv1.ParentReference{}}
}

// NewWorldObjects reads a World; loaded are the namespaces its live state was
// read for (nil when the World is complete).
func NewWorldObjects(w *World, loaded map[string]bool) *Objects {
	return &Objects{snap: w.Snapshot, world: w, loaded: loaded}
}

// Snapshot is what was read.
func (o *Objects) Snapshot() *cluster.Snapshot { return o.snap }

// Manifests says the objects are manifests (merged over the cluster or a
// dump), not the cluster as it runs.
func (o *Objects) Manifests() bool { return o.world != nil }

// errNotLoaded is the answer for a namespace a World's live state was not
// read for.
type errNotLoaded struct{ ns string }

func (e errNotLoaded) Error() string {
	return fmt.Sprintf("namespace %s was not read from the cluster; name it in SRC, DST or with -n", e.ns)
}

// read makes sure r was made: *Missing when it is still to be made (live),
// errNotLoaded when a World does not hold its namespace, else the error r
// failed with, if any.
func (o *Objects) read(r Read) error {
	if o.world != nil {
		if r.Namespace != "" && !o.world.Complete && !o.loaded[r.Namespace] {
			return errNotLoaded{r.Namespace}
		}
		return nil
	}
	err, made := o.done[r]
	if !made {
		return &Missing{Reads: []Read{r}}
	}
	return err
}

// need fails with *Missing naming every read still to be made (live), so
// that the loader makes them at once.
func (o *Objects) need(reads ...Read) error {
	if o.world != nil {
		return nil
	}
	var missing []Read
	for _, r := range unique(reads) {
		if _, made := o.done[r]; !made {
			missing = append(missing, r)
		}
	}
	if len(missing) > 0 {
		return &Missing{Reads: missing}
	}
	return nil
}

// verb is how an error names a read: live every read but a Namespace's or an
// IPAddress's is a list; from a World, a lookup by name is a get.
func (o *Objects) verb(r Read) string {
	if r.ByName() || o.world != nil && r.Name != "" {
		return "get"
	}
	return "list"
}

func notFound(group, resource, name string) error {
	return apierrors.NewNotFound(schema.GroupResource{Group: group, Resource: resource}, name)
}

func podRead(ns, name string) Read { return Read{Kind: cluster.KindPod, Namespace: ns, Name: name} }

func serviceRead(ns, name string) Read {
	return Read{Kind: cluster.KindService, Namespace: ns, Name: name}
}

func namespaceRead(name string) Read { return Read{Kind: cluster.KindNamespace, Name: name} }

func policiesRead(ns string) Read { return Read{Kind: cluster.KindNetworkPolicy, Namespace: ns} }

func slicesRead(ns, service string) Read {
	return Read{Kind: cluster.KindEndpointSlice, Namespace: ns, Selector: discoveryv1.LabelServiceName + "=" + service}
}

func selectedPodsRead(ns string, sel labels.Selector) Read {
	return Read{Kind: cluster.KindPod, Namespace: ns, Selector: sel.String()}
}

// getPod reads a pod by name; NotFound when there is none.
func (o *Objects) getPod(ns, name string) (*corev1.Pod, error) {
	return readNamed(o, podRead(ns, name), "pods", o.snap.Pod)
}

// listPods returns the namespace's pods sel matches.
func (o *Objects) listPods(ns string, sel labels.Selector) ([]*corev1.Pod, error) {
	r := selectedPodsRead(ns, sel)
	if err := o.read(r); err != nil {
		return nil, explain(err, o.verb(r), "pods", ns)
	}
	return filter(o.snap.PodsInNamespace(ns), func(p *corev1.Pod) bool { return sel.Matches(labels.Set(p.Labels)) }), nil
}

// getNamespace reads a Namespace; NotFound when there is none.
func (o *Objects) getNamespace(name string) (*corev1.Namespace, error) {
	return readNamed(o, namespaceRead(name), "namespaces", func(_, name string) *corev1.Namespace { return o.snap.Namespace(name) })
}

// listPolicies returns the namespace's NetworkPolicies.
func (o *Objects) listPolicies(ns string) ([]*networkingv1.NetworkPolicy, error) {
	if err := o.read(policiesRead(ns)); err != nil {
		return nil, err
	}
	return filter(o.snap.NetworkPolicies, func(np *networkingv1.NetworkPolicy) bool { return np.Namespace == ns }), nil
}

// getService reads a Service by name; NotFound when there is none.
func (o *Objects) getService(ns, name string) (*corev1.Service, error) {
	return readNamed(o, serviceRead(ns, name), "services", o.snap.Service)
}

// readNamed makes sure r, a read by name, was made and looks its object up.
func readNamed[T comparable](o *Objects, r Read, resource string, lookup func(ns, name string) T) (T, error) {
	var none T
	if err := o.read(r); err != nil {
		return none, err
	}
	if v := lookup(r.Namespace, r.Name); v != none {
		return v, nil
	}
	return none, notFound("", resource, r.Name)
}

// listSlices returns the EndpointSlices of a Service.
func (o *Objects) listSlices(ns, service string) ([]*discoveryv1.EndpointSlice, error) {
	r := slicesRead(ns, service)
	if err := o.read(r); err != nil {
		return nil, err
	}
	return filter(o.snap.EndpointSlices, func(s *discoveryv1.EndpointSlice) bool {
		return s.Namespace == ns && s.Labels[discoveryv1.LabelServiceName] == service
	}), nil
}

// podsWithIP returns the pods holding ip; from a World, among those it holds.
func (o *Objects) podsWithIP(ip string) ([]*corev1.Pod, error) {
	if err := o.read(Read{Kind: cluster.KindPod, Field: "status.podIP=" + ip}); err != nil {
		return nil, err
	}
	return filter(o.snap.Pods, func(p *corev1.Pod) bool { return hasPodIP(p, ip) }), nil
}

// servicesWithClusterIP returns the Services holding ip as a ClusterIP; from
// a World, among those it holds. The field selector a live read uses
// matches the primary ClusterIP only.
func (o *Objects) servicesWithClusterIP(ip string) ([]*corev1.Service, error) {
	if err := o.read(Read{Kind: cluster.KindService, Field: "spec.clusterIP=" + ip}); err != nil {
		return nil, err
	}
	return filter(o.snap.Services, func(s *corev1.Service) bool { return hasClusterIP(s, ip) }), nil
}

// ipAddressParent is the owner of the IPAddress object named by ip (the
// second family's ClusterIP of a dual-stack Service). Manifests hold none.
func (o *Objects) ipAddressParent(ip string) (*networkingv1.ParentReference, error) {
	if o.world != nil {
		return nil, notFound("networking.k8s.io", "ipaddresses", "")
	}
	if err := o.read(Read{Kind: KindIPAddress, Name: ip}); err != nil {
		return nil, err
	}
	return o.parents[ip], nil
}

// workloadReads maps a workload kind to the Snapshot kind its object is read as.
var workloadReads = map[string]cluster.Kind{
	WorkloadDeployment: cluster.KindDeployment, WorkloadReplicaSet: cluster.KindReplicaSet, WorkloadStatefulSet: cluster.KindStatefulSet,
	WorkloadDaemonSet: cluster.KindDaemonSet, WorkloadJob: cluster.KindJob, "service": cluster.KindService,
}

// workloadPods returns the pods of a workload (kind: deployment, replicaset,
// statefulset, daemonset, job, cronjob, or service for the pods its
// selector matches) and says how they were found.
func (o *Objects) workloadPods(ns, kind, name string) ([]*corev1.Pod, string, error) {
	if o.world != nil {
		return o.worldWorkloadPods(ns, kind, name)
	}
	sel, err := o.workloadSelector(ns, kind, name)
	if err != nil {
		return nil, "", err
	}
	pods, err := o.listPods(ns, sel)
	if err != nil {
		return nil, "", err
	}
	return pods, "match " + sel.String(), nil
}

// workloadSelector reads a live workload's pod selector.
func (o *Objects) workloadSelector(ns, kind, name string) (labels.Selector, error) {
	if kind == WorkloadCronJob {
		return nil, fmt.Errorf("cronjob/%s: the pods of a CronJob belong to the Jobs it creates: name one with job/NAME, or a pod", name)
	}
	r := Read{Kind: workloadReads[kind], Namespace: ns, Name: name}
	if err := o.read(r); err != nil {
		return nil, getError(err, o.verb(r), kind+"s", ns, name)
	}
	res, err := o.snap.Resolve(cluster.Target{Kind: r.Kind, Namespace: ns, Name: name})
	var missing *cluster.NotFoundError
	switch {
	case errors.As(err, &missing):
		return nil, notFoundError(kind+"s", ns, name)
	case err != nil:
		return nil, err
	case res.Selector == nil:
		return nil, fmt.Errorf("service %s/%s has no selector, so it names no pod: pick a pod explicitly", ns, name)
	}
	return res.Selector, nil
}

// worldWorkloadPods finds a workload's pods in a World: a workload of the
// files stands for the pod built from its template.
func (o *Objects) worldWorkloadPods(ns, kind, name string) ([]*corev1.Pod, string, error) {
	if err := o.read(Read{Kind: workloadReads[kind], Namespace: ns, Name: name}); err != nil {
		return nil, "", err
	}
	if kind == "service" {
		svc := o.snap.Service(ns, name)
		switch {
		case svc == nil:
			return nil, "", getError(notFound("", "services", name), "get", "services", ns, name)
		case len(svc.Spec.Selector) == 0:
			return nil, "", fmt.Errorf("service %s/%s has no selector, so it names no pod: pick a pod explicitly", ns, name)
		}
		sel := labels.SelectorFromSet(svc.Spec.Selector)
		pods, err := o.listPods(ns, sel)
		return pods, "match " + sel.String(), err
	}
	wl := o.world.Workload(kind, ns, name)
	if wl == nil {
		group := "apps"
		if kind == WorkloadJob || kind == WorkloadCronJob {
			group = "batch"
		}
		return nil, "", getError(notFound(group, kind+"s", name), "get", kind+"s", ns, name)
	}
	return wl.Pods, "of it", nil
}

// filter keeps the items keep says yes to.
func filter[T any](items []T, keep func(T) bool) []T {
	var out []T
	for _, it := range items {
		if keep(it) {
			out = append(out, it)
		}
	}
	return out
}

// getError explains a failed read of a named object in one line: a
// missing one names the namespace looked in.
func getError(err error, verb, resource, ns, name string) error {
	if apierrors.IsNotFound(err) {
		return notFoundError(resource, ns, name)
	}
	return explain(err, verb, resource, ns)
}

// notFoundError is a SRC or DST that does not exist, in netcheck's words:
// the namespace unquoted, and the kubectl command that lists the names.
func notFoundError(resource, ns, name string) error {
	return &cluster.NotFoundError{Kind: strings.TrimSuffix(resource, "s"), Namespace: ns, Name: name, BareNamespace: true,
		Hint: fmt.Sprintf("check the name and -n (kubectl get %s -n %s)", resource, ns)}
}

// explain turns an API error into one line naming the verb and resource; a
// *Missing read passes through untouched.
func explain(err error, verb, resource, ns string) error {
	if isMissing(err) {
		return err
	}
	return apierror.Explain(err, verb, resource, ns)
}

// isMissing says err is a *Missing read, which a step must return as it is
// rather than explain or turn into a warning.
func isMissing(err error) bool {
	var m *Missing
	return errors.As(err, &m)
}

// predicted says the pod was built from a manifest: it has no IP and no
// status of its own.
func (o *Objects) predicted(p *corev1.Pod) bool {
	return o.world != nil && o.world.Predicted(p)
}

// podRef names a pod in a finding: the workload a built pod stands for,
// with its manifest line, or the pod.
func (o *Objects) podRef(p *corev1.Pod) report.ObjectRef {
	if o.world != nil {
		if wl := o.world.WorkloadOf(p); wl != nil {
			return report.RefFor(wl.APIKind(), wl.Object).WithSource(wl.Source)
		}
	}
	return o.withSource(report.RefFor("Pod", p))
}

// serviceRef names a Service in a finding.
func (o *Objects) serviceRef(a *ServiceAnalysis) report.ObjectRef {
	return o.withSource(report.ObjectRef{Kind: "Service", Namespace: a.Namespace, Name: a.Name})
}

// withSource adds the manifest file and line an object was read from.
func (o *Objects) withSource(ref report.ObjectRef) report.ObjectRef {
	if o.world != nil {
		if src := o.snap.SourceOf(ref.Kind, ref.Namespace, ref.Name); src != nil {
			return ref.WithSource(src)
		}
	}
	return ref
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

// sameIP compares addresses, not spellings (2001:db8::1 and 2001:DB8:0::1).
func sameIP(a, b string) bool {
	x, errA := netip.ParseAddr(a)
	y, errB := netip.ParseAddr(b)
	return errA == nil && errB == nil && x.Unmap() == y.Unmap()
}

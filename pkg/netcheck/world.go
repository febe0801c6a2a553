package netcheck

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/pkg/netpolicy"
	"github.com/ktriage/ktriage/pkg/report"
)

// Workload kinds as Workload.Kind and Destination.Workload spell them.
const (
	WorkloadPod         = "pod"
	WorkloadDeployment  = "deployment"
	WorkloadReplicaSet  = "replicaset"
	WorkloadStatefulSet = "statefulset"
	WorkloadDaemonSet   = "daemonset"
	WorkloadJob         = "job"
	WorkloadCronJob     = "cronjob"
)

// Workload is a pod-creating object (a bare pod, a Deployment, ...) and the
// pod that stands for it in the analysis.
type Workload struct {
	Kind      string
	Namespace string
	Name      string
	// Object is the workload's object (the pod itself for a bare pod).
	Object metav1.Object
	// Pod stands for the workload's pods: for one from the manifests, a pod
	// built from its template (named like the workload, Running and Ready,
	// without an IP); for one of the cluster, its first ready pod by name.
	// Nil when the workload has no ready pod.
	Pod *corev1.Pod
	// Pods are the workload's pods the state holds (Pod alone when built).
	Pods []*corev1.Pod
	// Predicted says Pod was built from the template, not read.
	Predicted bool
	// FromFiles says the workload's object came from the manifests.
	FromFiles bool
	// Source is the manifest file and line of the object, if any.
	Source *report.Source
}

// Ref names the workload the way kubectl does: deployment/web.
func (w *Workload) Ref() string { return w.Kind + "/" + w.Name }

// ID names it across namespaces: shop/deployment/web.
func (w *Workload) ID() string { return w.Namespace + "/" + w.Ref() }

// APIKind is the workload's kind as the API spells it (Deployment).
func (w *Workload) APIKind() string { return apiKinds[w.Kind] }

var apiKinds = map[string]string{
	WorkloadPod: "Pod", WorkloadDeployment: "Deployment", WorkloadReplicaSet: "ReplicaSet", WorkloadStatefulSet: "StatefulSet",
	WorkloadDaemonSet: "DaemonSet", WorkloadJob: "Job", WorkloadCronJob: "CronJob",
}

// World is what netcheck reads when it answers from manifests: the manifests
// merged over the cluster's objects (or a dump of them), the manifest object
// winning; one pod per manifest workload in place of the pods its cluster
// version runs; and, for each Service whose backends changed, the
// EndpointSlices the EndpointSlice controller would write. The analysis that
// reads it is the live path's own.
type World struct {
	Snapshot  *cluster.Snapshot
	Workloads []*Workload
	// Complete says the snapshot is all there is (manifests and dumps):
	// what it does not hold does not exist. Live state is loaded for some
	// namespaces only.
	Complete bool

	predicted map[*corev1.Pod]*Workload
}

// NewWorld merges files over state (either may be nil; cluster.Merge) and
// completes it as the controllers would:
//
//   - every Deployment, ReplicaSet, StatefulSet, DaemonSet, Job and CronJob of
//     the files gets one pod from its template, named like it, Running and
//     Ready, without an IP; the state's pods of the same workload (matching
//     its selector, old or new) are dropped: they are what the manifest
//     replaces;
//   - a bare Pod of the files without a status is taken as Running and Ready;
//   - with complete (a dump), a state workload without pods gets a pod from
//     its template too, unless it is scaled to zero;
//   - a Service of the files, or one selecting a built pod, or one whose
//     slices point at dropped pods, gets predicted EndpointSlices (one
//     endpoint per selected pod on the ports its targetPorts resolve to),
//     unless the files give its EndpointSlices. With complete, so does a
//     Service without any slice.
//
// Namespaces should be defaulted (Snapshot.DefaultNamespace) before.
func NewWorld(state, files *cluster.Snapshot, complete bool) *World {
	merged := cluster.Merge(state, files)
	w := &World{Snapshot: merged, Complete: complete, predicted: map[*corev1.Pod]*Workload{}}
	fromFiles := map[any]bool{}
	if files != nil {
		for _, o := range filesObjects(files) {
			fromFiles[o] = true
		}
	}
	stateSelectors := map[string]*metav1.LabelSelector{}
	if state != nil {
		for _, c := range controllers(state) {
			stateSelectors[c.kind+"/"+c.obj.GetNamespace()+"/"+c.obj.GetName()] = c.selector
		}
	}

	// Which pods the manifests' workloads replace.
	dropped := map[*corev1.Pod]bool{}
	ctrls := controllers(merged)
	for _, c := range ctrls {
		if !fromFiles[c.obj] {
			continue
		}
		sels := []*metav1.LabelSelector{c.selector, stateSelectors[c.kind+"/"+c.obj.GetNamespace()+"/"+c.obj.GetName()]}
		for _, p := range merged.PodsInNamespace(c.obj.GetNamespace()) {
			managed := !fromFiles[p] || metav1.GetControllerOf(p) != nil
			if managed && matchesAny(sels, p.Labels) {
				dropped[p] = true
			}
		}
	}

	var built, kept []*corev1.Pod
	for _, p := range merged.Pods {
		switch {
		case dropped[p]:
		case fromFiles[p] && p.Status.Phase == "" && metav1.GetControllerOf(p) == nil:
			// A manifest pod: it runs once created.
			q := p.DeepCopy()
			markRunning(q)
			wl := &Workload{Kind: WorkloadPod, Namespace: q.Namespace, Name: q.Name, Object: p, Pod: q, Pods: []*corev1.Pod{q},
				Predicted: true, FromFiles: true, Source: files.SourceOf(string(cluster.KindPod), q.Namespace, q.Name)}
			w.predicted[q] = wl
			w.Workloads = append(w.Workloads, wl)
			kept = append(kept, q)
		default:
			kept = append(kept, p)
			if metav1.GetControllerOf(p) == nil && fromFiles[p] {
				w.Workloads = append(w.Workloads, &Workload{Kind: WorkloadPod, Namespace: p.Namespace, Name: p.Name, Object: p, Pod: p, Pods: []*corev1.Pod{p},
					FromFiles: true, Source: files.SourceOf(string(cluster.KindPod), p.Namespace, p.Name)})
			}
		}
	}
	for _, c := range ctrls {
		ns, name := c.obj.GetNamespace(), c.obj.GetName()
		wl := &Workload{Kind: c.kind, Namespace: ns, Name: name, Object: c.obj, FromFiles: fromFiles[c.obj]}
		if wl.FromFiles {
			wl.Source = files.SourceOf(apiKinds[c.kind], ns, name)
		} else if state != nil {
			wl.Source = state.SourceOf(apiKinds[c.kind], ns, name)
		}
		if !wl.FromFiles {
			for _, p := range kept {
				if p.Namespace == ns && c.kind != WorkloadCronJob && matchesAny([]*metav1.LabelSelector{c.selector}, p.Labels) && !w.Predicted(p) {
					wl.Pods = append(wl.Pods, p)
				}
			}
			sort.Slice(wl.Pods, func(i, j int) bool { return wl.Pods[i].Name < wl.Pods[j].Name })
			for _, p := range wl.Pods {
				if isRunningReady(p) {
					wl.Pod = p
					break
				}
			}
		}
		if wl.FromFiles || complete && len(wl.Pods) == 0 && (c.replicas == nil || *c.replicas > 0) {
			p := podFromTemplate(c)
			wl.Pod, wl.Pods, wl.Predicted = p, []*corev1.Pod{p}, true
			w.predicted[p] = wl
			built = append(built, p)
		}
		w.Workloads = append(w.Workloads, wl)
	}
	// Built pods first: a lookup by name finds a real pod of the same name.
	merged.Pods = append(built, kept...)
	merged.ResetIndexes()
	sort.SliceStable(w.Workloads, func(i, j int) bool { return w.Workloads[i].ID() < w.Workloads[j].ID() })
	w.predictSlices(fromFiles, dropped)
	return w
}

// Predicted says the pod was built from a manifest (it has no IP, its
// status is assumed).
func (w *World) Predicted(p *corev1.Pod) bool {
	_, ok := w.predicted[p]
	return ok
}

// WorkloadOf returns the workload a built pod stands for, or nil.
func (w *World) WorkloadOf(p *corev1.Pod) *Workload { return w.predicted[p] }

// Workload finds a workload by kind (Workload* constants), namespace and name.
func (w *World) Workload(kind, ns, name string) *Workload {
	for _, wl := range w.Workloads {
		if wl.Kind == kind && wl.Namespace == ns && wl.Name == name {
			return wl
		}
	}
	return nil
}

// predictSlices replaces the EndpointSlices of Services whose backends the
// manifests changed with the ones the controller would write.
func (w *World) predictSlices(fromFiles map[any]bool, dropped map[*corev1.Pod]bool) {
	s := w.Snapshot
	bySvc := map[string][]*discoveryv1.EndpointSlice{}
	for _, sl := range s.EndpointSlices {
		k := sl.Namespace + "/" + sl.Labels[discoveryv1.LabelServiceName]
		bySvc[k] = append(bySvc[k], sl)
	}
	replace := map[string][]*discoveryv1.EndpointSlice{}
	for _, svc := range s.Services {
		key := svc.Namespace + "/" + svc.Name
		var given, stateSlices []*discoveryv1.EndpointSlice
		for _, sl := range bySvc[key] {
			if fromFiles[sl] {
				given = append(given, sl)
			} else {
				stateSlices = append(stateSlices, sl)
			}
		}
		if len(given) > 0 {
			replace[key] = given
			continue
		}
		if len(svc.Spec.Selector) == 0 || svc.Spec.Type == corev1.ServiceTypeExternalName {
			continue
		}
		selected := selectedPods(svc, s.PodsInNamespace(svc.Namespace))
		predict := fromFiles[svc] || w.Complete && len(stateSlices) == 0 || refersTo(stateSlices, dropped)
		for _, p := range selected {
			predict = predict || w.Predicted(p)
		}
		if predict {
			replace[key] = PredictEndpointSlices(svc, selected, w.Predicted)
		}
	}
	var out []*discoveryv1.EndpointSlice
	for _, sl := range s.EndpointSlices {
		if _, replaced := replace[sl.Namespace+"/"+sl.Labels[discoveryv1.LabelServiceName]]; !replaced {
			out = append(out, sl)
		}
	}
	keys := make([]string, 0, len(replace))
	for k := range replace {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, replace[k]...)
	}
	s.EndpointSlices = out
}

// refersTo says a slice has an endpoint for one of the pods.
func refersTo(slices []*discoveryv1.EndpointSlice, pods map[*corev1.Pod]bool) bool {
	names := map[string]bool{}
	for p := range pods {
		names[p.Namespace+"/"+p.Name] = true
	}
	for _, sl := range slices {
		for _, e := range sl.Endpoints {
			if e.TargetRef != nil && e.TargetRef.Kind == "Pod" && names[sl.Namespace+"/"+e.TargetRef.Name] {
				return true
			}
		}
	}
	return false
}

func selectedPods(svc *corev1.Service, pods []*corev1.Pod) []*corev1.Pod {
	sel := labels.SelectorFromSet(svc.Spec.Selector)
	var out []*corev1.Pod
	for _, p := range pods {
		if sel.Matches(labels.Set(p.Labels)) {
			out = append(out, p)
		}
	}
	return out
}

// PredictEndpointSlices builds the EndpointSlices the EndpointSlice
// controller writes for svc: every selected pod that runs (and has an IP, or
// is predicted, when it gets an endpoint without an address) is an
// endpoint on each Service port whose targetPort resolves on it; pods with
// the same resolved ports share a slice. Pods are those of svc's namespace.
func PredictEndpointSlices(svc *corev1.Service, pods []*corev1.Pod, predicted func(*corev1.Pod) bool) []*discoveryv1.EndpointSlice {
	type group struct {
		ports     []discoveryv1.EndpointPort
		endpoints []discoveryv1.Endpoint
	}
	groups := map[string]*group{}
	var order []string
	sorted := append([]*corev1.Pod(nil), selectedPods(svc, pods)...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	for _, p := range sorted {
		if p.Namespace != svc.Namespace || p.DeletionTimestamp != nil || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		if p.Status.PodIP == "" && !predicted(p) {
			continue
		}
		ports, key := endpointPorts(svc, p)
		g, ok := groups[key]
		if !ok {
			g = &group{ports: ports}
			groups[key] = g
			order = append(order, key)
		}
		ready := isRunningReady(p) || svc.Spec.PublishNotReadyAddresses
		serving, terminating := ready, false
		e := discoveryv1.Endpoint{Addresses: []string{p.Status.PodIP},
			Conditions: discoveryv1.EndpointConditions{Ready: &ready, Serving: &serving, Terminating: &terminating},
			TargetRef:  &corev1.ObjectReference{Kind: "Pod", Namespace: p.Namespace, Name: p.Name, UID: p.UID}}
		if p.Spec.NodeName != "" {
			node := p.Spec.NodeName
			e.NodeName = &node
		}
		g.endpoints = append(g.endpoints, e)
	}
	var out []*discoveryv1.EndpointSlice
	for i, key := range order {
		g := groups[key]
		out = append(out, &discoveryv1.EndpointSlice{
			ObjectMeta: metav1.ObjectMeta{Namespace: svc.Namespace, Name: fmt.Sprintf("%s-predicted-%d", svc.Name, i),
				Labels: map[string]string{discoveryv1.LabelServiceName: svc.Name}},
			AddressType: discoveryv1.AddressTypeIPv4, Ports: g.ports, Endpoints: g.endpoints})
	}
	if len(out) == 0 {
		out = append(out, &discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Namespace: svc.Namespace, Name: svc.Name + "-predicted-0", Labels: map[string]string{discoveryv1.LabelServiceName: svc.Name}},
			AddressType: discoveryv1.AddressTypeIPv4, Endpoints: []discoveryv1.Endpoint{}})
	}
	return out
}

// endpointPorts resolves each Service port's targetPort on the pod, as the
// controller does (a named port the pod lacks leaves that port out).
func endpointPorts(svc *corev1.Service, p *corev1.Pod) ([]discoveryv1.EndpointPort, string) {
	var ports []discoveryv1.EndpointPort
	var key []string
	for _, sp := range svc.Spec.Ports {
		proto := protocolOf(sp)
		var n int32
		switch t := sp.TargetPort; {
		case t.Type == intstr.String:
			v, ok := netpolicy.NamedPort(p, t.StrVal, proto)
			if !ok {
				continue
			}
			n = v
		case t.IntVal == 0:
			n = sp.Port
		default:
			n = t.IntVal
		}
		name := sp.Name
		ports = append(ports, discoveryv1.EndpointPort{Name: &name, Protocol: &proto, Port: &n})
		key = append(key, name+"/"+string(proto)+"="+strconv.Itoa(int(n)))
	}
	return ports, strings.Join(key, ",")
}

func isRunningReady(p *corev1.Pod) bool {
	if p.Status.Phase != corev1.PodRunning || p.DeletionTimestamp != nil {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func markRunning(p *corev1.Pod) {
	p.Status.Phase = corev1.PodRunning
	p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionTrue})
}

func matchesAny(sels []*metav1.LabelSelector, lbls map[string]string) bool {
	for _, ls := range sels {
		if ls == nil {
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(ls)
		if err != nil || sel.Empty() {
			continue
		}
		if sel.Matches(labels.Set(lbls)) {
			return true
		}
	}
	return false
}

// controller is a pod-creating object of a snapshot with what netcheck
// needs of it.
type controller struct {
	kind     string
	obj      metav1.Object
	template corev1.PodTemplateSpec
	selector *metav1.LabelSelector
	replicas *int32
}

// controllers lists the snapshot's top-level pod-creating objects (those no
// other object controls), in snapshot order per kind.
func controllers(s *cluster.Snapshot) []controller {
	var out []controller
	add := func(kind string, obj metav1.Object, t corev1.PodTemplateSpec, sel *metav1.LabelSelector, replicas *int32) {
		if metav1.GetControllerOf(obj) != nil {
			return
		}
		if sel == nil || len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0 {
			// Jobs and CronJobs usually leave the selector to the API.
			sel = &metav1.LabelSelector{MatchLabels: t.Labels}
		}
		out = append(out, controller{kind: kind, obj: obj, template: t, selector: sel, replicas: replicas})
	}
	for _, d := range s.Deployments {
		add(WorkloadDeployment, d, d.Spec.Template, d.Spec.Selector, d.Spec.Replicas)
	}
	for _, r := range s.ReplicaSets {
		add(WorkloadReplicaSet, r, r.Spec.Template, r.Spec.Selector, r.Spec.Replicas)
	}
	for _, st := range s.StatefulSets {
		add(WorkloadStatefulSet, st, st.Spec.Template, st.Spec.Selector, st.Spec.Replicas)
	}
	for _, d := range s.DaemonSets {
		add(WorkloadDaemonSet, d, d.Spec.Template, d.Spec.Selector, nil)
	}
	for _, j := range s.Jobs {
		add(WorkloadJob, j, j.Spec.Template, j.Spec.Selector, j.Spec.Parallelism)
	}
	for _, c := range s.CronJobs {
		add(WorkloadCronJob, c, c.Spec.JobTemplate.Spec.Template, c.Spec.JobTemplate.Spec.Selector, nil)
	}
	return out
}

// podFromTemplate builds the pod that stands for a workload: its template
// with the labels the controller adds, named like the workload, Running and
// Ready.
func podFromTemplate(c controller) *corev1.Pod {
	meta := *c.template.ObjectMeta.DeepCopy()
	meta.Namespace, meta.Name, meta.UID = c.obj.GetNamespace(), c.obj.GetName(), ""
	lbls := map[string]string{}
	for k, v := range meta.Labels {
		lbls[k] = v
	}
	switch c.kind {
	case WorkloadJob:
		lbls[batchv1.JobNameLabel] = c.obj.GetName()
		lbls["job-name"] = c.obj.GetName() // the legacy label, still set
	case WorkloadStatefulSet:
		lbls[appsv1.StatefulSetPodNameLabel] = c.obj.GetName() + "-0"
		lbls[appsv1.PodIndexLabel] = "0"
	}
	meta.Labels = lbls
	p := &corev1.Pod{ObjectMeta: meta, Spec: *c.template.Spec.DeepCopy()}
	markRunning(p)
	return p
}

// filesObjects are the objects of the files the world tells apart.
func filesObjects(s *cluster.Snapshot) []any {
	var out []any
	for _, o := range s.Pods {
		out = append(out, o)
	}
	for _, o := range s.Services {
		out = append(out, o)
	}
	for _, o := range s.EndpointSlices {
		out = append(out, o)
	}
	for _, c := range controllers(s) {
		out = append(out, c.obj)
	}
	return out
}

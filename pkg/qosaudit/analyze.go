package qosaudit

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/pkg/qos"
	"github.com/ktriage/ktriage/pkg/report"
)

// AnalysisOptions tune the analysis.
type AnalysisOptions struct {
	// Require is the lowest class every pod in scope must have (--require).
	Require corev1.PodQOSClass
	// RequireScope describes where --require applies, for messages.
	RequireScope string
	// InScope picks the live pods the user asked about among the snapshot's
	// pods (which also hold the other pods of their nodes); nil takes all.
	InScope func(*corev1.Pod) bool
	// Usage is the memory working set of pods by "namespace/name" from
	// metrics.k8s.io; nil when metrics are unavailable.
	Usage map[string]int64
	// LimitRangesKnown says the snapshot holds every LimitRange of the
	// namespaces concerned, so a namespace without one can be reported.
	LimitRangesKnown bool
	// Node limits the nodes section to one node.
	Node string
	// PartialNodes are the nodes whose other pods could not be listed, with
	// why: their eviction order ranks only the pods known.
	PartialNodes map[string]string
	// Selector (-l) keeps the manifests whose pods carry matching labels
	// (a workload's pod template, a bare Pod's own); nil keeps all.
	Selector labels.Selector
}

// RequireScope describes where --require applies, for messages:
// "--require (namespace shop, -l tier=db)"; namespace is "" for manifests.
func RequireScope(allNamespaces bool, namespace, selector string) string {
	var parts []string
	switch {
	case allNamespaces:
		parts = append(parts, "all namespaces")
	case namespace != "":
		parts = append(parts, "namespace "+namespace)
	}
	if selector != "" {
		parts = append(parts, "-l "+selector)
	}
	if len(parts) == 0 {
		return "--require"
	}
	return "--require (" + strings.Join(parts, ", ") + ")"
}

// unit is what findings are about: a live workload (its pods) or one manifest.
type unit struct {
	ref       report.ObjectRef
	namespace string
	kind      string
	name      string
	pods      []*corev1.Pod // live pods, or the admitted pod of a manifest
	meta      metav1.Object // the workload's own metadata when known
	reported  map[string]bool
}

// AnalyzeLive audits live pods: the class computed from each pod's spec
// against the stored one, findings per workload, and per node the eviction
// order and OOM score adjustments.
func AnalyzeLive(snap *cluster.Snapshot, opts AnalysisOptions, version string) *Result {
	r := newResult(version)
	r.Metadata.Input = "cluster"
	for _, w := range snap.Warnings {
		r.Warn(w)
	}
	inScope := opts.InScope
	if inScope == nil {
		inScope = func(*corev1.Pod) bool { return true }
	}
	scope := podsInScope(snap.Pods, inScope)

	units := map[string]*unit{}
	var order []string
	podIndex := make(map[podName]int, len(scope)) // into r.Pods
	r.Pods = make([]PodResult, 0, len(scope))
	lists := resourceStrings{}
	for _, p := range scope {
		class := qos.Class(p)
		res := PodResult{Namespace: p.Namespace, Name: p.Name, QOSClass: string(class), StoredQOSClass: string(p.Status.QOSClass),
			Node: p.Spec.NodeName, Reason: qos.Explain(p), Containers: containerResults(p, lists)}
		kind, name, meta := snap.TopOwner(p)
		if kind != "" {
			res.Workload = &WorkloadRef{Kind: kind, Name: name}
		}
		r.Pods = append(r.Pods, res)
		podIndex[nameOf(p)] = len(r.Pods) - 1

		key := p.Namespace + "/" + kind + "/" + name
		if kind == "" {
			key = p.Namespace + "/Pod/" + p.Name
		}
		u, ok := units[key]
		if !ok {
			u = liveUnit(p, kind, name, meta)
			units[key] = u
			order = append(order, key)
		}
		u.pods = append(u.pods, p)

		if p.Status.QOSClass != "" && p.Status.QOSClass != class {
			r.Add(report.Finding{RuleID: RuleStoredMismatch, Severity: report.SeverityError, Object: report.RefFor("Pod", p),
				Message: fmt.Sprintf("status.qosClass is %s but the spec gives %s (%s)", p.Status.QOSClass, class, qos.Explain(p)),
				Fix:     "Recreate the pod (e.g. kubectl rollout restart) so its class matches its spec; compare the apiserver's feature gates (PodLevelResources) with v1.37 defaults.",
				Details: map[string]any{"storedQosClass": string(p.Status.QOSClass), "computedQosClass": string(class)}})
		}
	}
	for _, key := range order {
		unitFindings(r, units[key], opts, snap)
	}

	r.Rollups = rollups(r.Pods)
	namespaceFindings(r, snap, opts, namespacesOf(scope))
	r.Nodes = nodeResults(r, snap, scope, opts, podIndex)
	return r
}

// liveUnit starts the unit of a live pod: its top owner (kind and name, meta
// when loaded), or the pod itself when it has none.
func liveUnit(p *corev1.Pod, kind, name string, meta metav1.Object) *unit {
	if kind == "" {
		return &unit{namespace: p.Namespace, meta: meta, kind: "Pod", name: p.Name, ref: report.RefFor("Pod", p)}
	}
	return &unit{namespace: p.Namespace, meta: meta, kind: kind, name: name, ref: refWithAnnotations(kind, p.Namespace, name, meta, p)}
}

// unitFindings reports a live workload whose pods differ in class (QA107)
// and what its pods' resources say.
func unitFindings(r *Result, u *unit, opts AnalysisOptions, snap *cluster.Snapshot) {
	classes := map[corev1.PodQOSClass][]string{}
	for _, p := range u.pods {
		c := qos.PodClass(p)
		classes[c] = append(classes[c], p.Name)
	}
	if len(classes) > 1 {
		var parts []string
		details := map[string]any{}
		for _, c := range []corev1.PodQOSClass{corev1.PodQOSGuaranteed, corev1.PodQOSBurstable, corev1.PodQOSBestEffort} {
			if names := classes[c]; len(names) > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", len(names), c))
				details[string(c)] = names
			}
		}
		r.Add(report.Finding{RuleID: RuleMixedClasses, Severity: report.SeverityWarning, Object: u.ref,
			Message: "pods differ in QoS class: " + strings.Join(parts, ", "),
			Fix:     fmt.Sprintf("kubectl rollout restart %s/%s -n %s once the template is right, so every pod gets the same class", strings.ToLower(u.kind), u.name, u.namespace),
			Details: details})
	}
	// Spec findings are judged on one pod per class: pods of a workload
	// share a template, except mid-rollout (QA107), when each template
	// speaks for its pods.
	for _, c := range []corev1.PodQOSClass{corev1.PodQOSBestEffort, corev1.PodQOSBurstable, corev1.PodQOSGuaranteed} {
		for _, p := range u.pods {
			if qos.PodClass(p) == c {
				specFindings(r, u, p, c, opts, snap, nil, len(classes) > 1)
				break
			}
		}
	}
}

// AnalyzeFiles predicts the class of every manifest's pods: API defaulting,
// the namespace's LimitRanges (from the manifests or the cluster) and
// pod-level defaulting, as the apiserver applies them on create. It warns
// about the mutating webhooks of the snapshot that may change those pods.
func AnalyzeFiles(snap *cluster.Snapshot, opts AnalysisOptions, version string) *Result {
	r := newResult(version)
	r.Metadata.Input = "files"
	for _, w := range snap.Warnings {
		r.Warn(w)
	}
	lrs := map[string][]*corev1.LimitRange{}
	for _, lr := range snap.LimitRanges {
		lrs[lr.Namespace] = append(lrs[lr.Namespace], lr)
	}
	var namespaces []string
	for _, m := range selectManifests(snap, opts.Selector) {
		adm := qos.Admit(m.pod, lrs[m.namespace])
		w := WorkloadResult{Kind: m.kind, Namespace: m.namespace, Name: m.name, QOSClass: string(adm.Class),
			LimitRangeApplied: adm.LimitRangeApplied(), LimitRangeChangedClass: adm.LimitRangeChangedClass(),
			ClassWithoutLimitRange: string(adm.ClassWithoutLimitRanges), LimitRanges: adm.LimitRanges, LimitRangeChanges: adm.LimitRangeChanges,
			LimitRangeViolations: adm.Violations, ValidationErrors: invalidMessages(adm.Invalid),
			Reason: qos.Explain(adm.Pod), Containers: containerResults(adm.Pod, nil), Source: snap.SourceOf(m.kind, m.namespace, m.name)}
		if len(adm.DefaultConflicts) > 0 {
			r.Warn(limitRangeConflicts(m, &adm, &w))
		}
		r.Workloads = append(r.Workloads, w)
		if m.kind == "Pod" {
			r.Pods = append(r.Pods, PodResult{Namespace: m.namespace, Name: m.name, QOSClass: w.QOSClass, Reason: w.Reason, Containers: w.Containers})
		}
		ref := report.RefFor(m.kind, m.meta).WithSource(w.Source)
		ref.Namespace = m.namespace
		u := &unit{ref: ref, namespace: m.namespace, kind: m.kind, name: m.name, pods: []*corev1.Pod{adm.Pod}, meta: m.meta}
		specFindings(r, u, adm.Pod, adm.Class, opts, snap, &adm, false)
		namespaces = append(namespaces, m.namespace)
	}
	r.Rollups = workloadRollups(r.Workloads)
	if opts.LimitRangesKnown {
		namespaceFindings(r, snap, opts, uniqueSorted(namespaces))
	}
	for _, w := range mutatorWarnings(snap, opts.Selector) {
		r.Warn(w)
	}
	return r
}

// limitRangeConflicts records on w the values several LimitRanges default
// differently, and the classes the pods may get for that, and returns the
// warning that says so.
func limitRangeConflicts(m manifest, adm *qos.Admission, w *WorkloadResult) string {
	w.LimitRangeConflicts = adm.DefaultConflicts
	what := fmt.Sprintf("%s %s/%s", m.kind, m.namespace, m.name)
	msg := fmt.Sprintf("%s: LimitRanges default the same value differently (%s) and the LimitRanger applies them in no fixed order", what, strings.Join(adm.DefaultConflicts, "; "))
	if len(adm.PossibleClasses) > 1 {
		var cs []string
		for _, c := range adm.PossibleClasses {
			cs = append(cs, string(c))
			w.PossibleQOSClasses = append(w.PossibleQOSClasses, string(c))
		}
		msg += fmt.Sprintf(": its class may be %s, not only %s", strings.Join(cs, " or "), adm.Class)
	} else {
		msg += ": the values may differ, the class does not"
	}
	return msg + "; keep one LimitRange with defaults per namespace"
}

// namespaceFindings reports namespaces without a LimitRange (QA106).
func namespaceFindings(r *Result, snap *cluster.Snapshot, opts AnalysisOptions, namespaces []string) {
	if !opts.LimitRangesKnown {
		return
	}
	has := map[string]bool{}
	for _, lr := range snap.LimitRanges {
		has[lr.Namespace] = true
	}
	for _, ns := range namespaces {
		if has[ns] {
			continue
		}
		ref := report.ObjectRef{Kind: "Namespace", Name: ns}
		if n := findNamespace(snap, ns); n != nil {
			ref = report.RefFor("Namespace", n)
		}
		r.Add(report.Finding{RuleID: RuleNoLimitRange, Severity: report.SeverityInfo, Object: ref,
			Message: "no LimitRange: containers without requests or limits get none",
			Fix:     fmt.Sprintf("Create a LimitRange in namespace %s with default and defaultRequest for cpu and memory.", ns)})
	}
}

func findNamespace(snap *cluster.Snapshot, name string) *corev1.Namespace {
	for _, ns := range snap.Namespaces {
		if ns.Name == name {
			return ns
		}
	}
	return nil
}

// refWithAnnotations names a workload; its ignore annotation comes from the
// workload when loaded, else from its pod (templates pass annotations on).
func refWithAnnotations(kind, ns, name string, meta metav1.Object, pod *corev1.Pod) report.ObjectRef {
	if meta != nil {
		return report.RefFor(kind, meta)
	}
	return report.RefFor(kind, &metav1.ObjectMeta{Namespace: ns, Name: name, Annotations: pod.Annotations})
}

// containerResults lists a pod's containers (init and sidecar first, as the
// kubelet starts them) with their resources; lists (nil for none) holds the
// strings of the resource lists seen before.
func containerResults(p *corev1.Pod, lists resourceStrings) []ContainerResult {
	out := make([]ContainerResult, 0, len(p.Spec.InitContainers)+len(p.Spec.Containers))
	visit(p, func(c *corev1.Container, typ string) {
		out = append(out, ContainerResult{Name: c.Name, Type: typ, Requests: lists.of(c.Resources.Requests), Limits: lists.of(c.Resources.Limits)})
	})
	return out
}

// visit calls fn for init containers (type "init" or "sidecar"), then containers.
func visit(p *corev1.Pod, fn func(c *corev1.Container, typ string)) {
	for i := range p.Spec.InitContainers {
		c := &p.Spec.InitContainers[i]
		typ := "init"
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			typ = "sidecar"
		}
		fn(c, typ)
	}
	for i := range p.Spec.Containers {
		fn(&p.Spec.Containers[i], "container")
	}
}

func podKey(p *corev1.Pod) string { return p.Namespace + "/" + p.Name }

// podName identifies a pod as podKey does, as a map key that costs no
// string to build.
type podName struct{ namespace, name string }

func nameOf(p *corev1.Pod) podName { return podName{p.Namespace, p.Name} }

// podsInScope are the pods inScope keeps, sorted by podKey. Each key is
// built once, not once per comparison; sort.Slice on the same keys puts
// the pods in the order it always has.
func podsInScope(pods []*corev1.Pod, inScope func(*corev1.Pod) bool) []*corev1.Pod {
	type keyed struct {
		key string
		pod *corev1.Pod
	}
	var ks []keyed
	for _, p := range pods {
		if inScope(p) {
			ks = append(ks, keyed{podKey(p), p})
		}
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i].key < ks[j].key })
	out := make([]*corev1.Pod, len(ks))
	for i := range ks {
		out[i] = ks[i].pod
	}
	return out
}

func namespacesOf(pods []*corev1.Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Namespace)
	}
	return uniqueSorted(out)
}

func uniqueSorted(s []string) []string {
	sort.Strings(s)
	var out []string
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// resourceStrings are the printed forms of resource lists, by the list's
// map. Pods of one workload share their lists (the live loader interns
// them), so most pods' lists are printed once; the report shares the
// printed maps, which nothing changes once built.
type resourceStrings map[uintptr]map[string]string

func (r resourceStrings) of(l corev1.ResourceList) map[string]string {
	if len(l) == 0 {
		return nil
	}
	if r == nil {
		return strList(l)
	}
	id := reflect.ValueOf(l).Pointer()
	if s, ok := r[id]; ok {
		return s
	}
	s := strList(l)
	r[id] = s
	return s
}

func strList(l corev1.ResourceList) map[string]string {
	if len(l) == 0 {
		return nil
	}
	out := make(map[string]string, len(l))
	for k, v := range l {
		out[string(k)] = v.String()
	}
	return out
}

package qosaudit

import (
	"fmt"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	resourcehelper "k8s.io/component-helpers/resource"

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
func AnalyzeLive(snap *cluster.Snapshot, opts AnalysisOptions, version string) *Report {
	r := newReport(version)
	r.Metadata.Input = "cluster"
	for _, w := range snap.Warnings {
		r.Warn(w)
	}
	inScope := opts.InScope
	if inScope == nil {
		inScope = func(*corev1.Pod) bool { return true }
	}
	var scope []*corev1.Pod
	for _, p := range snap.Pods {
		if inScope(p) {
			scope = append(scope, p)
		}
	}
	sort.Slice(scope, func(i, j int) bool { return podKey(scope[i]) < podKey(scope[j]) })

	owners := newOwnerIndex(snap)
	units := map[string]*unit{}
	var order []string
	podIndex := map[string]int{} // into r.Pods
	for _, p := range scope {
		class := qos.Class(p)
		res := PodResult{Namespace: p.Namespace, Name: p.Name, QOSClass: string(class), StoredQOSClass: string(p.Status.QOSClass),
			Node: p.Spec.NodeName, Reason: qos.Explain(p), Containers: containerResults(p)}
		kind, name, meta := owners.top(p)
		if kind != "" {
			res.Workload = &WorkloadRef{Kind: kind, Name: name}
		}
		r.Pods = append(r.Pods, res)
		podIndex[podKey(p)] = len(r.Pods) - 1

		key := p.Namespace + "/" + kind + "/" + name
		if kind == "" {
			key = p.Namespace + "/Pod/" + p.Name
		}
		u, ok := units[key]
		if !ok {
			u = &unit{namespace: p.Namespace, meta: meta}
			if kind == "" {
				u.kind, u.name, u.ref = "Pod", p.Name, report.RefFor("Pod", p)
			} else {
				u.kind, u.name = kind, name
				u.ref = refWithAnnotations(kind, p.Namespace, name, meta, p)
			}
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
		u := units[key]
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

	r.Rollups = rollups(r.Pods)
	namespaceFindings(r, snap, opts, namespacesOf(scope))
	r.Nodes = nodeResults(r, snap, scope, opts, podIndex)
	return r
}

// AnalyzeFiles predicts the class of every manifest's pods: API defaulting,
// the namespace's LimitRanges (from the manifests or the cluster) and
// pod-level defaulting, as the apiserver applies them on create.
func AnalyzeFiles(snap *cluster.Snapshot, opts AnalysisOptions, version string) *Report {
	r := newReport(version)
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
			Reason: qos.Explain(adm.Pod), Containers: containerResults(adm.Pod), Source: snap.SourceOf(m.kind, m.namespace, m.name)}
		if len(adm.DefaultConflicts) > 0 {
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
			r.Warn(msg + "; keep one LimitRange with defaults per namespace")
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
	counts := map[string]*ClassCount{}
	for _, w := range r.Workloads {
		c := counts[w.Namespace]
		if c == nil {
			c = &ClassCount{Namespace: w.Namespace}
			counts[w.Namespace] = c
		}
		c.add(w.QOSClass)
		r.Rollups.ByWorkload = append(r.Rollups.ByWorkload, ClassCount{Namespace: w.Namespace, Kind: w.Kind, Name: w.Name})
		r.Rollups.ByWorkload[len(r.Rollups.ByWorkload)-1].add(w.QOSClass)
	}
	r.Rollups.ByNamespace = sortedCounts(counts)
	if opts.LimitRangesKnown {
		namespaceFindings(r, snap, opts, uniqueSorted(namespaces))
	}
	return r
}

// specFindings reports what a pod's resources say (QA101–QA105, QA108, QA110).
func specFindings(r *Report, u *unit, pod *corev1.Pod, class corev1.PodQOSClass, opts AnalysisOptions, snap *cluster.Snapshot, adm *qos.Admission, mixed bool) {
	what := "the pod"
	switch {
	case mixed:
		what = "its " + string(class) + " pods"
	case u.kind != "Pod":
		what = "its pods"
	}
	details := map[string]any{"qosClass": string(class)}
	if u.kind != "Pod" && adm == nil {
		n := 0
		for _, p := range u.pods {
			if qos.PodClass(p) == class {
				n++
			}
		}
		details["pods"] = n
	}
	add := func(id string, sev report.Severity, msg, fix string, extra map[string]any) {
		// Pods of one class in a workload say the same thing once.
		key := id + "\x00" + u.ref.String() + "\x00" + msg
		if u.reported[key] {
			return
		}
		if u.reported == nil {
			u.reported = map[string]bool{}
		}
		u.reported[key] = true
		d := map[string]any{}
		for k, v := range details {
			d[k] = v
		}
		for k, v := range extra {
			d[k] = v
		}
		r.Add(report.Finding{RuleID: id, Severity: sev, Object: u.ref, Message: msg, Fix: fix, Details: d})
	}

	if class == corev1.PodQOSBestEffort {
		add(RuleBestEffort, report.SeverityWarning,
			fmt.Sprintf("%s BestEffort: evicted first under memory pressure, oom_score_adj 1000", capitalize(what)+" "+isAre(what)),
			"Set cpu and memory requests and a memory limit on every container (requests = limits for Guaranteed).", nil)
	}

	podMemLimit := pod.Spec.Resources != nil && !pod.Spec.Resources.Limits.Memory().IsZero()
	// Pod-level requests reserve for every container.
	podRequests := pod.Spec.Resources != nil && (!pod.Spec.Resources.Requests.Cpu().IsZero() || !pod.Spec.Resources.Requests.Memory().IsZero())
	required, requiredBy := requiredClass(u, pod, opts, snap, adm != nil)
	var noMemLimit, noRequests, cpuLimited, memDiffers []string
	guaranteedLike := false
	visit(pod, func(c *corev1.Container, typ string) {
		r := &c.Resources
		if typ != "init" && !podMemLimit && r.Limits.Memory().IsZero() {
			noMemLimit = append(noMemLimit, c.Name)
		}
		if class != corev1.PodQOSBestEffort && !podRequests && typ != "init" && r.Requests.Cpu().IsZero() && r.Requests.Memory().IsZero() {
			noRequests = append(noRequests, c.Name)
		}
		if !r.Limits.Cpu().IsZero() {
			cpuLimited = append(cpuLimited, c.Name)
		}
		if !r.Limits.Memory().IsZero() && !r.Requests.Memory().Equal(r.Limits[corev1.ResourceMemory]) {
			memDiffers = append(memDiffers, fmt.Sprintf("%s (request %s, limit %s)", c.Name, qstr(r.Requests[corev1.ResourceMemory]), qstr(r.Limits[corev1.ResourceMemory])))
		}
		cpuReq, cpuLim := r.Requests[corev1.ResourceCPU], r.Limits[corev1.ResourceCPU]
		if !cpuLim.IsZero() && cpuReq.Equal(cpuLim) {
			guaranteedLike = true
		}
	})
	// With pod-level cpu or memory set, the class reads only the pod-level
	// resources: the containers' memory and cpu no longer decide it.
	if resourcehelper.IsPodLevelResourcesSet(pod) {
		memDiffers, guaranteedLike = nil, false
		r := pod.Spec.Resources
		if !r.Limits.Memory().IsZero() && !r.Requests.Memory().Equal(r.Limits[corev1.ResourceMemory]) {
			memDiffers = append(memDiffers, fmt.Sprintf("the pod-level resources (request %s, limit %s)", qstr(r.Requests[corev1.ResourceMemory]), qstr(r.Limits[corev1.ResourceMemory])))
		}
		cpuReq, cpuLim := r.Requests[corev1.ResourceCPU], r.Limits[corev1.ResourceCPU]
		if !cpuLim.IsZero() && cpuReq.Equal(cpuLim) {
			guaranteedLike = true
		}
	}
	if len(noMemLimit) > 0 && class != corev1.PodQOSBestEffort {
		add(RuleNoMemoryLimit, report.SeverityWarning,
			fmt.Sprintf("no memory limit on %s: it can use the node's memory until the kernel OOM-kills", list("container", noMemLimit)),
			fmt.Sprintf("Set resources.limits.memory on %s.", strings.Join(noMemLimit, ", ")), map[string]any{"containers": noMemLimit})
	}
	shouldBeGuaranteed := required == corev1.PodQOSGuaranteed || guaranteedLike
	if class == corev1.PodQOSBurstable && shouldBeGuaranteed && len(memDiffers) > 0 && onlyMemoryKeepsBurstable(pod) {
		why := "cpu requests equal limits"
		if required == corev1.PodQOSGuaranteed {
			why = "Guaranteed is required by " + requiredBy
		}
		add(RuleMemoryNotEqual, report.SeverityWarning,
			fmt.Sprintf("Burstable only because memory request ≠ limit on %s, while %s", strings.Join(memDiffers, "; "), why),
			"Set the memory request equal to the memory limit; the pod becomes Guaranteed.", nil)
	}
	if len(noRequests) > 0 {
		add(RuleNoRequests, report.SeverityWarning,
			fmt.Sprintf("%s no cpu or memory request: the scheduler reserves nothing for %s", list("container", noRequests)+" "+hasHave(noRequests), itThem(noRequests)),
			fmt.Sprintf("Set cpu and memory requests on %s.", strings.Join(noRequests, ", ")), map[string]any{"containers": noRequests})
	}
	// A Guaranteed pod needs its CPU limits (equal to requests).
	if len(cpuLimited) > 0 && class != corev1.PodQOSGuaranteed && required != corev1.PodQOSGuaranteed {
		add(RuleCPULimit, report.SeverityInfo,
			fmt.Sprintf("CPU limit on %s: the kernel throttles %s even when the node's CPU is idle", list("container", cpuLimited), itThem(cpuLimited)),
			"Remove the CPU limit unless the pod must be Guaranteed (then keep limit = request).", map[string]any{"containers": cpuLimited})
	}
	if required != "" && qos.Rank(class) < qos.Rank(required) {
		add(RuleRequiredClass, report.SeverityError,
			fmt.Sprintf("%s %s, below the %s class required by %s", capitalize(what), isAre(what)+" "+string(class), required, requiredBy),
			fixFor(required), map[string]any{"requiredQosClass": string(required), "requiredBy": requiredBy})
	}
	if adm != nil && len(adm.Violations) > 0 {
		add(RuleLimitRangeRejects, report.SeverityError,
			fmt.Sprintf("the namespace's LimitRange refuses %s: %s", strings.TrimPrefix(what, "its "), strings.Join(adm.Violations, "; ")),
			"Bring requests and limits inside the LimitRange (kubectl describe limitrange -n "+u.namespace+"), or change it.",
			map[string]any{"violations": adm.Violations})
	}
	if adm != nil && len(adm.Invalid) > 0 {
		var reasons []string
		var defaulted []string
		for _, e := range adm.Invalid {
			reasons = append(reasons, e.String())
			defaulted = append(defaulted, e.Defaulted...)
		}
		fix := "Set requests at or below limits (pod-level requests at least the containers' requests)."
		if len(defaulted) > 0 {
			fix = "Set the limits in the manifest instead of relying on the LimitRange default (kubectl describe limitrange -n " + u.namespace + "), or lower the requests."
		}
		add(RuleLimitRangeRejects, report.SeverityError,
			fmt.Sprintf("the apiserver refuses %s after defaulting: %s", strings.TrimPrefix(what, "its "), strings.Join(reasons, "; ")),
			fix, map[string]any{"validationErrors": invalidMessages(adm.Invalid), "limitRangeDefaults": defaulted})
	}
	if adm != nil && adm.LimitRangeChangedClass() {
		add(RuleLimitRangeChanged, report.SeverityInfo,
			fmt.Sprintf("LimitRange %s turns the class from %s into %s (%s)", strings.Join(adm.LimitRanges, ", "), adm.ClassWithoutLimitRanges, adm.Class, strings.Join(adm.LimitRangeChanges, "; ")),
			"Set the requests and limits in the manifest so the class does not depend on the namespace's LimitRange.",
			map[string]any{"limitRanges": adm.LimitRanges, "classWithoutLimitRange": string(adm.ClassWithoutLimitRanges)})
	}
}

func invalidMessages(errs []qos.ResourceError) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Message)
	}
	return out
}

// onlyMemoryKeepsBurstable says the pod would be Guaranteed if every
// memory request (the containers' and the pod-level one) equalled its limit.
func onlyMemoryKeepsBurstable(pod *corev1.Pod) bool {
	p := pod.DeepCopy()
	equalize := func(r *corev1.ResourceRequirements) {
		if l, ok := r.Limits[corev1.ResourceMemory]; ok && !l.IsZero() {
			if r.Requests == nil {
				r.Requests = corev1.ResourceList{}
			}
			r.Requests[corev1.ResourceMemory] = l.DeepCopy()
		}
	}
	for _, list := range [][]corev1.Container{p.Spec.InitContainers, p.Spec.Containers} {
		for i := range list {
			equalize(&list[i].Resources)
		}
	}
	if p.Spec.Resources != nil {
		equalize(p.Spec.Resources)
	}
	return qos.Class(p) == corev1.PodQOSGuaranteed
}

func fixFor(c corev1.PodQOSClass) string {
	if c == corev1.PodQOSGuaranteed {
		return "Set cpu and memory requests equal to limits in every container (init and sidecar containers included), or set equal pod-level requests and limits."
	}
	return "Set a cpu or memory request on at least one container."
}

// requiredClass finds the strictest required class: --require, then the
// annotation on the pod, its workload and its namespace.
func requiredClass(u *unit, pod *corev1.Pod, opts AnalysisOptions, snap *cluster.Snapshot, manifest bool) (corev1.PodQOSClass, string) {
	var best corev1.PodQOSClass
	by := ""
	consider := func(c corev1.PodQOSClass, source string) {
		if c != "" && (best == "" || qos.Rank(c) > qos.Rank(best)) {
			best, by = c, source
		}
	}
	if opts.Require != "" {
		scope := opts.RequireScope
		if scope == "" {
			scope = "--require " + string(opts.Require)
		}
		consider(opts.Require, scope)
	}
	fromAnnotation := func(m metav1.Object, what string) {
		if m == nil {
			return
		}
		if v, ok := m.GetAnnotations()[RequiredAnnotation]; ok {
			if c, err := qos.ParseClass(strings.TrimSpace(v)); err == nil {
				consider(c, fmt.Sprintf("the %s annotation on %s", RequiredAnnotation, what))
			}
		}
	}
	if u.kind != "Pod" {
		fromAnnotation(u.meta, strings.ToLower(u.kind)+"/"+u.name)
		if manifest {
			fromAnnotation(pod, "the pod template")
		}
	}
	if u.kind == "Pod" || !manifest {
		fromAnnotation(pod, "the pod")
	}
	if ns := findNamespace(snap, u.namespace); ns != nil {
		fromAnnotation(ns, "namespace "+ns.Name)
	}
	return best, by
}

func findNamespace(snap *cluster.Snapshot, name string) *corev1.Namespace {
	for _, ns := range snap.Namespaces {
		if ns.Name == name {
			return ns
		}
	}
	return nil
}

// namespaceFindings reports namespaces without a LimitRange (QA106).
func namespaceFindings(r *Report, snap *cluster.Snapshot, opts AnalysisOptions, namespaces []string) {
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

// nodeResults builds the per-node eviction order, OOM score adjustments and
// overcommit, for the nodes running pods in scope (or --node).
func nodeResults(r *Report, snap *cluster.Snapshot, scope []*corev1.Pod, opts AnalysisOptions, podIndex map[string]int) []NodeResult {
	want := map[string]bool{}
	if opts.Node != "" {
		want[opts.Node] = true
	} else {
		for _, p := range scope {
			if p.Spec.NodeName != "" {
				want[p.Spec.NodeName] = true
			}
		}
	}
	// A pod metrics-server has no figure for (just started, or its node not
	// scraped) still has kubelet stats: its memory request stands in for its
	// usage, not the kubelet's "no stats" rank.
	fromMetrics := func(p *corev1.Pod) bool {
		_, ok := opts.Usage[podKey(p)]
		return ok
	}
	usage := func(p *corev1.Pod) (int64, bool) {
		if v, ok := opts.Usage[podKey(p)]; ok {
			return v, true
		}
		return qos.RequestsAsUsage(p)
	}
	byNode := map[string][]*corev1.Pod{}
	for _, p := range snap.Pods {
		if want[p.Spec.NodeName] && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
			byNode[p.Spec.NodeName] = append(byNode[p.Spec.NodeName], p)
		}
	}
	out := []NodeResult{}
	partial := map[string][]string{} // node names by why their pods are unknown
	defer func() {
		whys := make([]string, 0, len(partial))
		for why := range partial {
			whys = append(whys, why)
		}
		sort.Strings(whys)
		for _, why := range whys {
			msg := fmt.Sprintf("eviction order partial on %s: %s", list("node", partial[why]), partialNodeReason)
			if why != "" {
				msg += " (" + why + ")"
			}
			r.Warn(msg)
		}
	}()
	for _, node := range snap.Nodes {
		if !want[node.Name] {
			continue
		}
		pods := byNode[node.Name]
		capacity := node.Status.Capacity.Memory().Value()
		// Only a node without metrics for any of its pods falls back entirely.
		source := "requests"
		for _, p := range pods {
			if fromMetrics(p) {
				source = "metrics"
				break
			}
		}
		n := NodeResult{Name: node.Name, MemoryCapacity: qstr(node.Status.Capacity[corev1.ResourceMemory]), UsageSource: source, EvictionOrder: []EvictionEntry{}}
		setsOOM := qos.SetsOOMScoreAdj(node)
		if !setsOOM {
			n.NoOOMScoreAdj = noOOMScoreAdjReason
		}
		if why, ok := opts.PartialNodes[node.Name]; ok {
			n.Partial = partialNodeReason
			partial[why] = append(partial[why], node.Name)
		}
		for i, c := range qos.RankMemoryPressure(pods, usage) {
			e := EvictionEntry{Rank: i + 1, Namespace: c.Pod.Namespace, Name: c.Pod.Name, QOSClass: string(qos.PodClass(c.Pod)), Priority: c.Priority,
				MemoryRequest: byteString(c.MemoryRequest), UsageSource: "requests", ExceedsRequests: c.ExceedsRequests, Evictable: !c.Critical, Containers: []ContainerOOM{}}
			if fromMetrics(c.Pod) {
				e.UsageSource = "metrics"
				e.MemoryUsage = byteString(c.Usage)
			}
			var pr *PodResult
			if i, ok := podIndex[podKey(c.Pod)]; ok {
				pr = &r.Pods[i]
			}
			allocated := qos.AllocatedPod(c.Pod)
			visit(allocated, func(ctr *corev1.Container, _ string) {
				if !setsOOM {
					e.Containers = append(e.Containers, ContainerOOM{Name: ctr.Name})
					return
				}
				adj := qos.ContainerOOMScoreAdj(allocated, ctr, capacity)
				e.Containers = append(e.Containers, ContainerOOM{Name: ctr.Name, OOMScoreAdj: &adj})
				if pr != nil {
					for k := range pr.Containers {
						if pr.Containers[k].Name == ctr.Name {
							v := adj
							pr.Containers[k].OOMScoreAdj = &v
						}
					}
				}
			})
			n.EvictionOrder = append(n.EvictionOrder, e)
		}
		for _, c := range qos.NodeCommitment(node, pods) {
			o := Overcommit{Resource: string(c.Resource), Allocatable: amount(c.Resource, c.Allocatable), Requests: amount(c.Resource, c.Requests),
				Limits: amount(c.Resource, c.Limits), RequestsPercent: percent(c.Requests, c.Allocatable), LimitsPercent: percent(c.Limits, c.Allocatable),
				PodsWithoutLimit: c.Unbounded}
			n.Overcommit = append(n.Overcommit, o)
			ref := report.RefFor("Node", node)
			if c.RequestsOvercommitted() {
				r.Add(report.Finding{RuleID: RuleRequestOvercommit, Severity: report.SeverityError, Object: ref,
					Message: fmt.Sprintf("%s requests %s exceed allocatable %s (%d%%)", c.Resource, o.Requests, o.Allocatable, o.RequestsPercent),
					Fix:     "Move pods off the node or raise its allocatable.", Details: map[string]any{"resource": o.Resource, "requestsPercent": o.RequestsPercent}})
			}
			if c.Resource == corev1.ResourceMemory && c.LimitsOvercommitted() {
				msg := fmt.Sprintf("memory limits %s exceed allocatable %s (%d%%)", o.Limits, o.Allocatable, o.LimitsPercent)
				if c.Unbounded > 0 {
					msg += fmt.Sprintf(", and %d pod(s) have no memory limit", c.Unbounded)
				}
				r.Add(report.Finding{RuleID: RuleMemoryOvercommit, Severity: report.SeverityWarning, Object: ref, Message: msg,
					Fix:     "Lower memory limits towards requests, or move pods off the node.",
					Details: map[string]any{"limitsPercent": o.LimitsPercent, "podsWithoutLimit": c.Unbounded}})
			}
		}
		out = append(out, n)
	}
	return out
}

// containerResults lists a pod's containers (init and sidecar first, as the
// kubelet starts them) with their resources.
func containerResults(p *corev1.Pod) []ContainerResult {
	out := []ContainerResult{}
	visit(p, func(c *corev1.Container, typ string) {
		out = append(out, ContainerResult{Name: c.Name, Type: typ, Requests: strList(c.Resources.Requests), Limits: strList(c.Resources.Limits)})
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

func rollups(pods []PodResult) Rollups {
	byNS := map[string]*ClassCount{}
	byWL := map[string]*ClassCount{}
	for _, p := range pods {
		c := byNS[p.Namespace]
		if c == nil {
			c = &ClassCount{Namespace: p.Namespace}
			byNS[p.Namespace] = c
		}
		c.add(p.QOSClass)
		kind, name := "Pod", p.Name
		if p.Workload != nil {
			kind, name = p.Workload.Kind, p.Workload.Name
		}
		k := p.Namespace + "/" + kind + "/" + name
		w := byWL[k]
		if w == nil {
			w = &ClassCount{Namespace: p.Namespace, Kind: kind, Name: name}
			byWL[k] = w
		}
		w.add(p.QOSClass)
	}
	return Rollups{ByNamespace: sortedCounts(byNS), ByWorkload: sortedCounts(byWL)}
}

func sortedCounts(m map[string]*ClassCount) []ClassCount {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]ClassCount, 0, len(keys))
	for _, k := range keys {
		out = append(out, *m[k])
	}
	return out
}

// ownerIndex finds a pod's top-most controller: ReplicaSet → Deployment,
// Job → CronJob when those objects are in the snapshot.
type ownerIndex struct {
	replicaSets map[string]*appsv1.ReplicaSet
	jobs        map[string]*batchv1.Job
	workloads   map[string]metav1.Object
}

func newOwnerIndex(snap *cluster.Snapshot) *ownerIndex {
	ix := &ownerIndex{replicaSets: map[string]*appsv1.ReplicaSet{}, jobs: map[string]*batchv1.Job{}, workloads: map[string]metav1.Object{}}
	for _, rs := range snap.ReplicaSets {
		ix.replicaSets[rs.Namespace+"/"+rs.Name] = rs
		ix.workloads["ReplicaSet/"+rs.Namespace+"/"+rs.Name] = rs
	}
	for _, j := range snap.Jobs {
		ix.jobs[j.Namespace+"/"+j.Name] = j
		ix.workloads["Job/"+j.Namespace+"/"+j.Name] = j
	}
	for _, d := range snap.Deployments {
		ix.workloads["Deployment/"+d.Namespace+"/"+d.Name] = d
	}
	for _, s := range snap.StatefulSets {
		ix.workloads["StatefulSet/"+s.Namespace+"/"+s.Name] = s
	}
	for _, d := range snap.DaemonSets {
		ix.workloads["DaemonSet/"+d.Namespace+"/"+d.Name] = d
	}
	for _, c := range snap.CronJobs {
		ix.workloads["CronJob/"+c.Namespace+"/"+c.Name] = c
	}
	return ix
}

// top returns the kind and name of the pod's top-most owner ("" for a bare
// pod) and its object when loaded.
func (ix *ownerIndex) top(p *corev1.Pod) (string, string, metav1.Object) {
	ctrl := metav1.GetControllerOf(p)
	if ctrl == nil {
		return "", "", nil
	}
	kind, name := ctrl.Kind, ctrl.Name
	var owner metav1.Object
	switch kind {
	case "ReplicaSet":
		if rs := ix.replicaSets[p.Namespace+"/"+name]; rs != nil {
			if c := metav1.GetControllerOf(rs); c != nil {
				kind, name = c.Kind, c.Name
			}
		}
	case "Job":
		if j := ix.jobs[p.Namespace+"/"+name]; j != nil {
			if c := metav1.GetControllerOf(j); c != nil {
				kind, name = c.Kind, c.Name
			}
		}
	}
	owner = ix.workloads[kind+"/"+p.Namespace+"/"+name]
	return kind, name, owner
}

// refWithAnnotations names a workload; its ignore annotation comes from the
// workload when loaded, else from its pod (templates pass annotations on).
func refWithAnnotations(kind, ns, name string, meta metav1.Object, pod *corev1.Pod) report.ObjectRef {
	if meta != nil {
		return report.RefFor(kind, meta)
	}
	return report.RefFor(kind, &metav1.ObjectMeta{Namespace: ns, Name: name, Annotations: pod.Annotations})
}

// manifest is one object of -f with a pod (template).
type manifest struct {
	kind, namespace, name string
	meta                  metav1.Object
	pod                   *corev1.Pod
}

// manifests turns every object with pod template of the snapshot into the pod
// its controller would create.
func manifests(snap *cluster.Snapshot) []manifest {
	var out []manifest
	fromTemplate := func(kind string, m metav1.Object, t *corev1.PodTemplateSpec) {
		pod := &corev1.Pod{ObjectMeta: *t.ObjectMeta.DeepCopy(), Spec: *t.Spec.DeepCopy()}
		pod.Namespace, pod.Name = m.GetNamespace(), m.GetName()
		out = append(out, manifest{kind: kind, namespace: m.GetNamespace(), name: m.GetName(), meta: m, pod: pod})
	}
	for _, p := range snap.Pods {
		out = append(out, manifest{kind: "Pod", namespace: p.Namespace, name: p.Name, meta: p, pod: p})
	}
	for _, d := range snap.Deployments {
		fromTemplate("Deployment", d, &d.Spec.Template)
	}
	for _, rs := range snap.ReplicaSets {
		fromTemplate("ReplicaSet", rs, &rs.Spec.Template)
	}
	for _, s := range snap.StatefulSets {
		fromTemplate("StatefulSet", s, &s.Spec.Template)
	}
	for _, d := range snap.DaemonSets {
		fromTemplate("DaemonSet", d, &d.Spec.Template)
	}
	for _, j := range snap.Jobs {
		fromTemplate("Job", j, &j.Spec.Template)
	}
	for _, c := range snap.CronJobs {
		fromTemplate("CronJob", c, &c.Spec.JobTemplate.Spec.Template)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.namespace != b.namespace {
			return a.namespace < b.namespace
		}
		if a.kind != b.kind {
			return a.kind < b.kind
		}
		return a.name < b.name
	})
	return out
}

// selectManifests keeps the manifests whose pods match the selector: the
// labels the pods are created with, as -l matches them on the live cluster.
func selectManifests(snap *cluster.Snapshot, sel labels.Selector) []manifest {
	all := manifests(snap)
	if sel == nil || sel.Empty() {
		return all
	}
	out := all[:0]
	for _, m := range all {
		if sel.Matches(labels.Set(m.pod.Labels)) {
			out = append(out, m)
		}
	}
	return out
}

func podKey(p *corev1.Pod) string { return p.Namespace + "/" + p.Name }

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

func strList(l corev1.ResourceList) map[string]string {
	if len(l) == 0 {
		return nil
	}
	out := map[string]string{}
	for k, v := range l {
		out[string(k)] = v.String()
	}
	return out
}

func qstr(q resource.Quantity) string {
	if q.IsZero() {
		return "0"
	}
	return q.String()
}

func byteString(v int64) string { return resource.NewQuantity(v, resource.BinarySI).String() }

func amount(name corev1.ResourceName, v int64) string {
	if name == corev1.ResourceCPU {
		return resource.NewMilliQuantity(v, resource.DecimalSI).String()
	}
	return byteString(v)
}

func percent(v, of int64) int {
	if of <= 0 {
		return 0
	}
	return int(v * 100 / of)
}

func list(noun string, names []string) string {
	if len(names) == 1 {
		return noun + " " + names[0]
	}
	return noun + "s " + strings.Join(names, ", ")
}

func hasHave(names []string) string {
	if len(names) == 1 {
		return "has"
	}
	return "have"
}

func itThem(names []string) string {
	if len(names) == 1 {
		return "it"
	}
	return "them"
}

func isAre(what string) string {
	if what == "the pod" {
		return "is"
	}
	return "are"
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

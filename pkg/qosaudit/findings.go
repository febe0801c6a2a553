package qosaudit

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	resourcehelper "k8s.io/component-helpers/resource"

	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/pkg/qos"
	"github.com/ktriage/ktriage/pkg/report"
)

// specFindings reports what a pod's resources say (QA101–QA105, QA108), and
// for a manifest what admission does to it (QA110, QA113). pod speaks for
// the unit's pods of the class; adm is nil for live pods.
func specFindings(r *Result, u *unit, pod *corev1.Pod, class corev1.PodQOSClass, opts AnalysisOptions, snap *cluster.Snapshot, adm *qos.Admission, mixed bool) {
	f := newClassFindings(r, u, class, mixed, adm == nil)
	if class == corev1.PodQOSBestEffort {
		f.add(RuleBestEffort, report.SeverityWarning,
			fmt.Sprintf("%s BestEffort: evicted first under memory pressure, oom_score_adj 1000", capitalize(f.what)+" "+isAre(f.what)),
			"Set cpu and memory requests and a memory limit on every container (requests = limits for Guaranteed).", nil)
	}
	required, requiredBy := requiredClass(u, pod, opts, snap, adm != nil)
	resourceFindings(f, pod, class, required, requiredBy)
	if required != "" && qos.Rank(class) < qos.Rank(required) {
		f.add(RuleRequiredClass, report.SeverityError,
			fmt.Sprintf("%s %s, below the %s class required by %s", capitalize(f.what), isAre(f.what)+" "+string(class), required, requiredBy),
			fixFor(required), map[string]any{"requiredQosClass": string(required), "requiredBy": requiredBy})
	}
	if adm != nil {
		admissionFindings(f, adm)
	}
}

// classFindings records the findings about one class of a unit's pods.
type classFindings struct {
	r *Result
	u *unit
	// what the messages are about: "the pod", "its pods", "its Burstable pods".
	what string
	// details every finding carries: the class, and a live workload's number
	// of pods of it.
	details map[string]any
}

func newClassFindings(r *Result, u *unit, class corev1.PodQOSClass, mixed, live bool) *classFindings {
	f := &classFindings{r: r, u: u, what: "the pod", details: map[string]any{"qosClass": string(class)}}
	switch {
	case mixed:
		f.what = "its " + string(class) + " pods"
	case u.kind != "Pod":
		f.what = "its pods"
	}
	if u.kind != "Pod" && live {
		n := 0
		for _, p := range u.pods {
			if qos.PodClass(p) == class {
				n++
			}
		}
		f.details["pods"] = n
	}
	return f
}

// add records a finding on the unit, once: pods of one class in a workload
// say the same thing once.
func (f *classFindings) add(id string, sev report.Severity, msg, fix string, extra map[string]any) {
	u := f.u
	key := id + "\x00" + u.ref.String() + "\x00" + msg
	if u.reported[key] {
		return
	}
	if u.reported == nil {
		u.reported = map[string]bool{}
	}
	u.reported[key] = true
	d := map[string]any{}
	for k, v := range f.details {
		d[k] = v
	}
	for k, v := range extra {
		d[k] = v
	}
	f.r.Add(report.Finding{RuleID: id, Severity: sev, Object: u.ref, Message: msg, Fix: fix, Details: d})
}

// resourceScan is what a pod's requests and limits say, container by
// container (names) or, where they decide, at pod level.
type resourceScan struct {
	noMemLimit, noRequests, cpuLimited []string
	// memDiffers describes each memory request that differs from its limit.
	memDiffers []string
	// guaranteedLike: some cpu limit equals its request, as in a
	// Guaranteed pod.
	guaranteedLike bool
}

func scanResources(pod *corev1.Pod, class corev1.PodQOSClass) resourceScan {
	var s resourceScan
	podMemLimit := pod.Spec.Resources != nil && !pod.Spec.Resources.Limits.Memory().IsZero()
	// Pod-level requests reserve for every container.
	podRequests := pod.Spec.Resources != nil && (!pod.Spec.Resources.Requests.Cpu().IsZero() || !pod.Spec.Resources.Requests.Memory().IsZero())
	visit(pod, func(c *corev1.Container, typ string) {
		r := &c.Resources
		if typ != "init" && !podMemLimit && r.Limits.Memory().IsZero() {
			s.noMemLimit = append(s.noMemLimit, c.Name)
		}
		if class != corev1.PodQOSBestEffort && !podRequests && typ != "init" && r.Requests.Cpu().IsZero() && r.Requests.Memory().IsZero() {
			s.noRequests = append(s.noRequests, c.Name)
		}
		if !r.Limits.Cpu().IsZero() {
			s.cpuLimited = append(s.cpuLimited, c.Name)
		}
		if memoryDiffers(r) {
			s.memDiffers = append(s.memDiffers, c.Name+" ("+memoryPair(r)+")")
		}
		s.guaranteedLike = s.guaranteedLike || cpuPinned(r)
	})
	// With pod-level cpu or memory set, the class reads only the pod-level
	// resources: the containers' memory and cpu no longer decide it.
	if resourcehelper.IsPodLevelResourcesSet(pod) {
		r := pod.Spec.Resources
		s.memDiffers, s.guaranteedLike = nil, cpuPinned(r)
		if memoryDiffers(r) {
			s.memDiffers = append(s.memDiffers, "the pod-level resources ("+memoryPair(r)+")")
		}
	}
	return s
}

// memoryDiffers: a memory limit with a request that is not equal to it.
func memoryDiffers(r *corev1.ResourceRequirements) bool {
	return !r.Limits.Memory().IsZero() && !r.Requests.Memory().Equal(r.Limits[corev1.ResourceMemory])
}

// cpuPinned: a cpu limit equal to its request.
func cpuPinned(r *corev1.ResourceRequirements) bool {
	req, lim := r.Requests[corev1.ResourceCPU], r.Limits[corev1.ResourceCPU]
	return !lim.IsZero() && req.Equal(lim)
}

func memoryPair(r *corev1.ResourceRequirements) string {
	return fmt.Sprintf("request %s, limit %s", qstr(r.Requests[corev1.ResourceMemory]), qstr(r.Limits[corev1.ResourceMemory]))
}

// resourceFindings reports missing limits and requests, a memory request
// that alone keeps the pod from Guaranteed, and CPU limits (QA102–QA105).
func resourceFindings(f *classFindings, pod *corev1.Pod, class corev1.PodQOSClass, required corev1.PodQOSClass, requiredBy string) {
	s := scanResources(pod, class)
	if len(s.noMemLimit) > 0 && class != corev1.PodQOSBestEffort {
		f.add(RuleNoMemoryLimit, report.SeverityWarning,
			fmt.Sprintf("no memory limit on %s: it can use the node's memory until the kernel OOM-kills", list("container", s.noMemLimit)),
			fmt.Sprintf("Set resources.limits.memory on %s.", strings.Join(s.noMemLimit, ", ")), map[string]any{"containers": s.noMemLimit})
	}
	shouldBeGuaranteed := required == corev1.PodQOSGuaranteed || s.guaranteedLike
	if class == corev1.PodQOSBurstable && shouldBeGuaranteed && len(s.memDiffers) > 0 && onlyMemoryKeepsBurstable(pod) {
		why := "cpu requests equal limits"
		if required == corev1.PodQOSGuaranteed {
			why = "Guaranteed is required by " + requiredBy
		}
		f.add(RuleMemoryNotEqual, report.SeverityWarning,
			fmt.Sprintf("Burstable only because memory request ≠ limit on %s, while %s", strings.Join(s.memDiffers, "; "), why),
			"Set the memory request equal to the memory limit; the pod becomes Guaranteed.", nil)
	}
	if len(s.noRequests) > 0 {
		f.add(RuleNoRequests, report.SeverityWarning,
			fmt.Sprintf("%s no cpu or memory request: the scheduler reserves nothing for %s", list("container", s.noRequests)+" "+hasHave(s.noRequests), itThem(s.noRequests)),
			fmt.Sprintf("Set cpu and memory requests on %s.", strings.Join(s.noRequests, ", ")), map[string]any{"containers": s.noRequests})
	}
	// A Guaranteed pod needs its CPU limits (equal to requests).
	if len(s.cpuLimited) > 0 && class != corev1.PodQOSGuaranteed && required != corev1.PodQOSGuaranteed {
		f.add(RuleCPULimit, report.SeverityInfo,
			fmt.Sprintf("CPU limit on %s: the kernel throttles %s even when the node's CPU is idle", list("container", s.cpuLimited), itThem(s.cpuLimited)),
			"Remove the CPU limit unless the pod must be Guaranteed (then keep limit = request).", map[string]any{"containers": s.cpuLimited})
	}
}

// admissionFindings reports a manifest the apiserver refuses after
// defaulting (QA113) and a LimitRange that changes its class (QA110).
func admissionFindings(f *classFindings, adm *qos.Admission) {
	ns := f.u.namespace
	pods := strings.TrimPrefix(f.what, "its ")
	if len(adm.Violations) > 0 {
		f.add(RuleLimitRangeRejects, report.SeverityError,
			fmt.Sprintf("the namespace's LimitRange refuses %s: %s", pods, strings.Join(adm.Violations, "; ")),
			"Bring requests and limits inside the LimitRange (kubectl describe limitrange -n "+ns+"), or change it.",
			map[string]any{"violations": adm.Violations})
	}
	if len(adm.Invalid) > 0 {
		var reasons []string
		var defaulted []string
		for _, e := range adm.Invalid {
			reasons = append(reasons, e.String())
			defaulted = append(defaulted, e.Defaulted...)
		}
		fix := "Set requests at or below limits (pod-level requests at least the containers' requests)."
		if len(defaulted) > 0 {
			fix = "Set the limits in the manifest instead of relying on the LimitRange default (kubectl describe limitrange -n " + ns + "), or lower the requests."
		}
		f.add(RuleLimitRangeRejects, report.SeverityError,
			fmt.Sprintf("the apiserver refuses %s after defaulting: %s", pods, strings.Join(reasons, "; ")),
			fix, map[string]any{"validationErrors": invalidMessages(adm.Invalid), "limitRangeDefaults": defaulted})
	}
	if adm.LimitRangeChangedClass() {
		f.add(RuleLimitRangeChanged, report.SeverityInfo,
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

func qstr(q resource.Quantity) string {
	if q.IsZero() {
		return "0"
	}
	return q.String()
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

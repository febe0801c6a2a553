package pending

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	apiequality "k8s.io/apimachinery/pkg/api/equality"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	resourcehelper "k8s.io/component-helpers/resource"

	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/pkg/qos"
	"github.com/ktriage/ktriage/pkg/report"
)

// ManifestWorkload is one object of the manifests that creates pods: its
// pod template as the API server would admit it, and how many replicas.
type ManifestWorkload struct {
	Kind     string
	Object   metav1.Object
	Template corev1.PodTemplateSpec
	Replicas int
}

// Workloads lists the pod-creating objects of a manifest snapshot, in file
// order per kind.
func Workloads(files *cluster.Snapshot) []ManifestWorkload {
	var out []ManifestWorkload
	one := func(r *int32) int {
		if r == nil {
			return 1
		}
		return int(*r)
	}
	for _, p := range files.Pods {
		out = append(out, ManifestWorkload{Kind: "Pod", Object: p, Template: corev1.PodTemplateSpec{ObjectMeta: p.ObjectMeta, Spec: p.Spec}, Replicas: 1})
	}
	for _, d := range files.Deployments {
		out = append(out, ManifestWorkload{Kind: "Deployment", Object: d, Template: d.Spec.Template, Replicas: one(d.Spec.Replicas)})
	}
	for _, r := range files.ReplicaSets {
		out = append(out, ManifestWorkload{Kind: "ReplicaSet", Object: r, Template: r.Spec.Template, Replicas: one(r.Spec.Replicas)})
	}
	for _, s := range files.StatefulSets {
		out = append(out, ManifestWorkload{Kind: "StatefulSet", Object: s, Template: s.Spec.Template, Replicas: one(s.Spec.Replicas)})
	}
	for _, d := range files.DaemonSets {
		// The DaemonSet wants one pod per eligible node: see placeDaemonSet.
		out = append(out, ManifestWorkload{Kind: "DaemonSet", Object: d, Template: d.Spec.Template, Replicas: 1})
	}
	for _, j := range files.Jobs {
		out = append(out, ManifestWorkload{Kind: "Job", Object: j, Template: j.Spec.Template, Replicas: one(j.Spec.Parallelism)})
	}
	for _, c := range files.CronJobs {
		out = append(out, ManifestWorkload{Kind: "CronJob", Object: c, Template: c.Spec.JobTemplate.Spec.Template, Replicas: one(c.Spec.JobTemplate.Spec.Parallelism)})
	}
	return out
}

// podFor builds replica i of a workload as the controller would create it.
func podFor(w ManifestWorkload, i int) *corev1.Pod {
	meta := *w.Template.ObjectMeta.DeepCopy()
	meta.Namespace = w.Object.GetNamespace()
	switch w.Kind {
	case "Pod":
		meta.Name = w.Object.GetName()
	case "StatefulSet":
		meta.Name = fmt.Sprintf("%s-%d", w.Object.GetName(), i-1)
	default:
		meta.Name = fmt.Sprintf("%s-%d", w.Object.GetName(), i)
	}
	meta.UID = ""
	meta.Labels = copyLabels(meta.Labels)
	p := &corev1.Pod{ObjectMeta: meta, Spec: *w.Template.Spec.DeepCopy()}
	if p.Spec.SchedulerName == "" {
		p.Spec.SchedulerName = DefaultScheduler
	}
	if w.Kind == "DaemonSet" {
		addDaemonSetTolerations(p)
	}
	p.Status.Phase = corev1.PodPending
	return p
}

func copyLabels(in map[string]string) map[string]string {
	out := make(map[string]string, len(in))
	for k, v := range in {
		out[k] = v
	}
	return out
}

// addDaemonSetTolerations adds what the DaemonSet controller adds to its pods.
func addDaemonSetTolerations(p *corev1.Pod) {
	for _, key := range []string{corev1.TaintNodeNotReady, corev1.TaintNodeUnreachable} {
		p.Spec.Tolerations = append(p.Spec.Tolerations, corev1.Toleration{Key: key, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute})
	}
	for _, key := range []string{corev1.TaintNodeDiskPressure, corev1.TaintNodeMemoryPressure, corev1.TaintNodePIDPressure, corev1.TaintNodeUnschedulable} {
		p.Spec.Tolerations = append(p.Spec.Tolerations, corev1.Toleration{Key: key, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule})
	}
}

// admitRuntimeClass is the RuntimeClass admission plugin for a manifest
// pod: it adds the class's pod overhead (which the scheduler counts) and its
// scheduling constraints, or says why the API server would refuse the pod.
// Without the RuntimeClasses loaded it changes nothing.
func admitRuntimeClass(p *corev1.Pod, snap *cluster.Snapshot) (set []string, refused string) {
	if p.Spec.RuntimeClassName == nil || *p.Spec.RuntimeClassName == "" || !snap.Loaded[cluster.KindRuntimeClass] {
		return nil, ""
	}
	name := *p.Spec.RuntimeClassName
	rc := snap.RuntimeClass(name)
	if rc == nil {
		return nil, fmt.Sprintf("pod rejected: RuntimeClass %q not found", name)
	}
	if rc.Overhead != nil && len(rc.Overhead.PodFixed) > 0 {
		if p.Spec.Overhead != nil && !apiequality.Semantic.DeepEqual(p.Spec.Overhead, rc.Overhead.PodFixed) {
			return nil, "pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead"
		}
		p.Spec.Overhead = rc.Overhead.PodFixed.DeepCopy()
		set = append(set, fmt.Sprintf("pod overhead %s from RuntimeClass %s", formatList(rc.Overhead.PodFixed), name))
	}
	if sc := rc.Scheduling; sc != nil {
		for _, k := range slices.Sorted(maps.Keys(sc.NodeSelector)) {
			v := sc.NodeSelector[k]
			if old, ok := p.Spec.NodeSelector[k]; ok && old != v {
				return nil, fmt.Sprintf("conflict: runtimeClass.scheduling.nodeSelector[%s] = %s; pod.spec.nodeSelector[%s] = %s", k, v, k, old)
			}
			if p.Spec.NodeSelector == nil {
				p.Spec.NodeSelector = map[string]string{}
			}
			p.Spec.NodeSelector[k] = v
			set = append(set, fmt.Sprintf("nodeSelector %s=%s from RuntimeClass %s", k, v, name))
		}
		for _, t := range sc.Tolerations {
			dup := false
			for _, have := range p.Spec.Tolerations {
				dup = dup || have.MatchToleration(&t)
			}
			if !dup {
				p.Spec.Tolerations = append(p.Spec.Tolerations, t)
			}
		}
	}
	return set, ""
}

// formatList prints a resource list as "cpu=250m, memory=120Mi".
func formatList(l corev1.ResourceList) string {
	var parts []string
	for k, q := range l {
		parts = append(parts, string(k)+"="+q.String())
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// admit applies to p, in place, what the API server applies on create: the
// RuntimeClass admission plugin (admitRuntimeClass), API defaulting, then the
// LimitRanger admission plugin with the pod's namespace's LimitRanges, as
// pkg/qos.Admit ports it. It returns, for the evidence, what the
// RuntimeClass and the LimitRanges set; refused, when the RuntimeClass
// plugin refuses the pod; and LimitRanger's reasons to refuse it, each
// naming its LimitRange.
func admit(p *corev1.Pod, snap *cluster.Snapshot) (set, violations []string, refused string) {
	if set, refused = admitRuntimeClass(p, snap); refused != "" {
		return nil, nil, refused
	}
	var own []*corev1.LimitRange
	for _, lr := range snap.LimitRanges {
		if lr.Namespace == p.Namespace {
			own = append(own, lr)
		}
	}
	before := p.DeepCopy()
	qos.DefaultContainerRequests(before)
	adm := qos.Admit(p, own)
	*p = *adm.Pod
	if adm.LimitRangeApplied() {
		by := "LimitRange " + strings.Join(adm.LimitRanges, ", ")
		if len(adm.LimitRanges) > 1 {
			by = "LimitRanges " + strings.Join(adm.LimitRanges, ", ")
		}
		set = append(set, defaultedResources(before, p, by)...)
	}
	for _, lr := range own {
		for _, v := range qos.ValidateLimitRange(lr, p) {
			violations = append(violations, fmt.Sprintf("%s (LimitRange %s)", v, lr.Name))
		}
	}
	sort.Strings(violations)
	return set, violations, ""
}

// defaultedResources lists the container requests and limits after has and
// before lacks ("container app: requests.cpu=300m from LimitRange defaults").
func defaultedResources(before, after *corev1.Pod, by string) []string {
	var out []string
	diff := func(was, now []corev1.Container) {
		for i := range now {
			if i >= len(was) {
				break
			}
			for _, part := range []struct {
				field    string
				was, now corev1.ResourceList
			}{{"limits", was[i].Resources.Limits, now[i].Resources.Limits}, {"requests", was[i].Resources.Requests, now[i].Resources.Requests}} {
				for name, q := range part.now {
					if _, ok := part.was[name]; !ok {
						out = append(out, fmt.Sprintf("container %s: %s.%s=%s from %s", now[i].Name, part.field, name, q.String(), by))
					}
				}
			}
		}
	}
	diff(before.Spec.InitContainers, after.Spec.InitContainers)
	diff(before.Spec.Containers, after.Spec.Containers)
	sort.Strings(out)
	return out
}

// quotaUsage is what replicas pods add to a quota's tracked resources.
func quotaUsage(p *corev1.Pod, replicas int, hard corev1.ResourceList) corev1.ResourceList {
	req := resourcehelper.PodRequests(p, resourcehelper.PodResourcesOptions{})
	lim := resourcehelper.PodLimits(p, resourcehelper.PodResourcesOptions{})
	out := corev1.ResourceList{}
	for name := range hard {
		var q resource.Quantity
		switch {
		case name == corev1.ResourcePods || name == "count/pods":
			q = *resource.NewQuantity(1, resource.DecimalSI)
		case strings.HasPrefix(string(name), "requests."):
			q = req[corev1.ResourceName(strings.TrimPrefix(string(name), "requests."))]
		case strings.HasPrefix(string(name), "limits."):
			q = lim[corev1.ResourceName(strings.TrimPrefix(string(name), "limits."))]
		case name == corev1.ResourceCPU || name == corev1.ResourceMemory || name == corev1.ResourceEphemeralStorage:
			q = req[name]
		default:
			continue
		}
		total := q.DeepCopy()
		for i := 1; i < replicas; i++ {
			total.Add(q)
		}
		out[name] = total
	}
	return out
}

// ExplainManifests answers "would these workloads run on this cluster?":
// each workload's pods, with the namespace's LimitRange defaults applied,
// against ResourceQuota headroom, then placed replica by replica on the
// nodes (each placed replica loads its node and counts for affinity and
// spread of the next). state holds the cluster and the manifests' own
// objects (claims, classes); files holds the manifests.
func ExplainManifests(state, files *cluster.Snapshot, opts Options) Result {
	opts.Manifests = true
	work := cluster.Merge(state, nil)
	a := newAnalyzer(work, opts)
	// Quota headroom consumed by the manifests so far, per quota.
	consumed := map[string]corev1.ResourceList{}
	for _, w := range Workloads(files) {
		ref := report.RefFor(w.Kind, w.Object).WithSource(files.SourceOf(w.Kind, w.Object.GetNamespace(), w.Object.GetName()))
		wl := &Workload{Kind: w.Kind, Name: w.Object.GetName()}
		first := podFor(w, 1)
		defaults, v, refused := admit(first, work)
		if refused != "" {
			ex := Explanation{Namespace: first.Namespace, Name: w.Object.GetName(), Workload: wl, Stage: StageNotCreated, Replicas: w.Replicas, object: ref, Source: ref.Source}
			ex.Reason = refused
			a.add(&ex, RuleAdmission, report.SeverityError, fmt.Sprintf("%s %s/%s would not be created: %s", w.Kind, first.Namespace, w.Object.GetName(), refused),
				"create the RuntimeClass, or fix spec.runtimeClassName and the pod's nodeSelector/overhead to agree with it", map[string]any{"runtimeClassName": *first.Spec.RuntimeClassName})
			a.res.Pods = append(a.res.Pods, ex)
			continue
		}
		if len(v) > 0 {
			ex := Explanation{Namespace: first.Namespace, Name: w.Object.GetName(), Workload: wl, Stage: StageNotCreated, Replicas: w.Replicas, object: ref, Source: ref.Source}
			ex.Reason = "LimitRange: " + v[0]
			ex.Evidence = append(defaults, v...)
			a.add(&ex, RuleLimitRange, report.SeverityError, fmt.Sprintf("%s %s/%s would not be created: %s", w.Kind, first.Namespace, w.Object.GetName(), strings.Join(v, "; ")),
				"bring the containers' requests/limits within the namespace's LimitRange, or change the LimitRange", map[string]any{"violations": v})
			a.res.Pods = append(a.res.Pods, ex)
			continue
		}
		if ex, blocked := a.quotaCheck(w, first, ref, wl, consumed); blocked {
			ex.Evidence = append(defaults, ex.Evidence...)
			a.res.Pods = append(a.res.Pods, ex)
			continue
		}
		if w.Kind == "DaemonSet" {
			a.placeDaemonSet(w, ref, wl, defaults)
			continue
		}
		a.placeReplicas(w, ref, wl, defaults)
	}
	return a.result()
}

// quotaCheck compares the workload's pods with each quota's headroom.
func (a *analyzer) quotaCheck(w ManifestWorkload, p *corev1.Pod, ref report.ObjectRef, wl *Workload, consumed map[string]corev1.ResourceList) (Explanation, bool) {
	for _, q := range a.snap.ResourceQuotas {
		if q.Namespace != p.Namespace {
			continue
		}
		hard := q.Status.Hard
		if len(hard) == 0 {
			hard = q.Spec.Hard
		}
		if missing := mustSpecify(p, hard); len(missing) > 0 {
			ex := Explanation{Namespace: p.Namespace, Name: w.Object.GetName(), Workload: wl, Stage: StageNotCreated, Replicas: w.Replicas, object: ref, Source: ref.Source}
			ex.Reason = fmt.Sprintf("quota %s requires %s", q.Name, strings.Join(missing, "; "))
			a.add(&ex, RuleQuota, report.SeverityError,
				fmt.Sprintf("%s %s/%s would be refused: ResourceQuota %s requires every container to set %s", w.Kind, p.Namespace, w.Object.GetName(), q.Name, strings.Join(missing, "; ")),
				fmt.Sprintf("set resources.requests/limits for the containers named, or add a LimitRange with defaults in namespace %s", p.Namespace),
				map[string]any{"quota": q.Name, "missing": missing})
			return ex, true
		}
		add := quotaUsage(p, w.Replicas, hard)
		key := q.Namespace + "/" + q.Name
		if consumed[key] == nil {
			consumed[key] = corev1.ResourceList{}
		}
		var over []string
		details := map[string]any{"quota": q.Name}
		for name, h := range hard {
			x, ok := add[name]
			if !ok {
				continue
			}
			used := q.Status.Used[name].DeepCopy()
			used.Add(consumed[key][name])
			need := used.DeepCopy()
			need.Add(x)
			if need.Cmp(h) > 0 {
				over = append(over, fmt.Sprintf("%s: %d replica(s) request %s, used %s, hard %s (needs %s)", name, w.Replicas, x.String(), used.String(), h.String(), need.String()))
				details[string(name)] = map[string]string{"requested": x.String(), "used": used.String(), "hard": h.String(), "needed": need.String()}
			}
		}
		if len(over) == 0 {
			for name, x := range add {
				c := consumed[key][name]
				c.Add(x)
				consumed[key][name] = c
			}
			continue
		}
		sort.Strings(over)
		ex := Explanation{Namespace: p.Namespace, Name: w.Object.GetName(), Workload: wl, Stage: StageNotCreated, Replicas: w.Replicas, object: ref, Source: ref.Source}
		ex.Reason = fmt.Sprintf("would exceed quota %s (%s)", q.Name, over[0])
		ex.Evidence = over
		a.add(&ex, RuleQuota, report.SeverityError,
			fmt.Sprintf("%s %s/%s would exceed ResourceQuota %s: %s", w.Kind, p.Namespace, w.Object.GetName(), q.Name, strings.Join(over, "; ")),
			fmt.Sprintf("raise ResourceQuota %s's hard limits to the 'needs' values, or lower the requests or replicas", q.Name), details)
		return ex, true
	}
	return Explanation{}, false
}

// placeReplicas evaluates replica after replica, placing each where it fits
// (the node with the most free CPU, as the default LeastAllocated scoring
// prefers), until one does not fit.
func (a *analyzer) placeReplicas(w ManifestWorkload, ref report.ObjectRef, wl *Workload, defaults []string) {
	var last Explanation
	for i := 1; i <= w.Replicas; i++ {
		p := podFor(w, i)
		admit(p, a.snap)
		ex := Explanation{Namespace: p.Namespace, Name: w.Object.GetName(), Workload: wl, Replicas: w.Replicas, object: ref, Source: ref.Source}
		if w.Replicas > 1 {
			ex.Replica = i
		}
		ex.Evidence = append(ex.Evidence, defaults...)
		before := len(a.res.Findings)
		a.explainUnbound(p, &ex)
		if ex.Stage != StageSchedulable {
			a.res.Pods = append(a.res.Pods, ex)
			return
		}
		a.res.Findings = a.res.Findings[:before]
		node := a.pickNode(p, ex.Feasible)
		placed := p.DeepCopy()
		placed.Spec.NodeName = node
		placed.Status.Phase = corev1.PodRunning
		placed.UID = types.UID(fmt.Sprintf("manifest-%s-%s-%d", w.Kind, w.Object.GetName(), i))
		a.snap.Pods = append(a.snap.Pods, placed)
		a.eng = nil
		a.podsByNode[node] = append(a.podsByNode[node], placed)
		last = ex
	}
	last.Replica = 0
	if w.Replicas > 1 {
		last.Reason = fmt.Sprintf("all %d replicas fit", w.Replicas)
	}
	a.res.Pods = append(a.res.Pods, last)
}

func (a *analyzer) pickNode(p *corev1.Pod, feasible []string) string {
	best, bestFree := "", int64(-1)<<62
	for _, n := range feasible {
		node := a.nodes[n]
		if node == nil {
			continue
		}
		alloc := node.Status.Allocatable.Cpu().MilliValue()
		if alloc == 0 {
			alloc = 1
		}
		free := a.freeOn(n, corev1.ResourceCPU) * 1000 / alloc
		if free > bestFree {
			best, bestFree = n, free
		}
	}
	if best == "" && len(feasible) > 0 {
		best = feasible[0]
	}
	return best
}

// mustSpecify lists, as the quota admission does, the compute resources a
// quota tracks that some container leaves unset ("requests.cpu for: app").
func mustSpecify(p *corev1.Pod, hard corev1.ResourceList) []string {
	var out []string
	for _, name := range []corev1.ResourceName{"requests.cpu", "requests.memory", "limits.cpu", "limits.memory", corev1.ResourceCPU, corev1.ResourceMemory} {
		if _, tracked := hard[name]; !tracked {
			continue
		}
		limits := strings.HasPrefix(string(name), "limits.")
		res := corev1.ResourceName(strings.TrimPrefix(strings.TrimPrefix(string(name), "requests."), "limits."))
		var lacking []string
		for _, c := range append(append([]corev1.Container{}, p.Spec.InitContainers...), p.Spec.Containers...) {
			list := c.Resources.Requests
			if limits {
				list = c.Resources.Limits
			}
			if _, ok := list[res]; !ok {
				lacking = append(lacking, c.Name)
			}
		}
		if len(lacking) > 0 {
			out = append(out, fmt.Sprintf("%s for: %s", name, strings.Join(lacking, ",")))
		}
	}
	return out
}

// placeDaemonSet checks the DaemonSet's pod on every node it would run on:
// the nodes whose labels and taints admit its template (as the DaemonSet
// controller decides), each pod pinned to its node with the node-name
// affinity the controller sets.
func (a *analyzer) placeDaemonSet(w ManifestWorkload, ref report.ObjectRef, wl *Workload, defaults []string) {
	base := podFor(w, 1)
	admit(base, a.snap)
	res := a.engine(base)
	var eligible []string
	for _, n := range res.Nodes {
		ok := true
		for _, r := range n.Reasons {
			if r.Plugin == "TaintToleration" || r.Plugin == "NodeAffinity" || r.Plugin == "NodeName" {
				ok = false
			}
		}
		if ok {
			eligible = append(eligible, n.Name)
		}
	}
	ex := Explanation{Namespace: base.Namespace, Name: w.Object.GetName(), Workload: wl, object: ref, Source: ref.Source, Replicas: len(eligible)}
	ex.Evidence = append(ex.Evidence, defaults...)
	if len(eligible) == 0 {
		ex.Stage = StageSchedulable
		ex.Reason = "no node admits the DaemonSet's nodeSelector/affinity/tolerations: it would run no pod"
		a.res.Pods = append(a.res.Pods, ex)
		return
	}
	var failing []string
	var first *Explanation
	for i, node := range eligible {
		p := podFor(w, i+1)
		admit(p, a.snap)
		p.Name = w.Object.GetName() + "-" + node
		pinToNode(p, node)
		one := Explanation{Namespace: p.Namespace, Name: w.Object.GetName(), Workload: wl, object: ref, Source: ref.Source, Replicas: len(eligible), Replica: i + 1}
		one.Evidence = append(one.Evidence, defaults...)
		before := len(a.res.Findings)
		a.explainUnbound(p, &one)
		if one.Stage == StageSchedulable {
			a.res.Findings = a.res.Findings[:before]
			continue
		}
		failing = append(failing, node)
		if first == nil {
			one.Node = node
			first = &one
		} else {
			a.res.Findings = a.res.Findings[:before]
		}
	}
	if first == nil {
		ex.Stage = StageSchedulable
		ex.Reason = fmt.Sprintf("its pod fits on all %d eligible node(s)", len(eligible))
		a.res.Pods = append(a.res.Pods, ex)
		return
	}
	first.Evidence = append(first.Evidence, fmt.Sprintf("the DaemonSet's pod would not fit on %d of %d eligible node(s): %s", len(failing), len(eligible), joinNames(failing, 5)))
	first.Reason = fmt.Sprintf("no room on %d of %d node(s) (first: %s): %s", len(failing), len(eligible), failing[0], first.Reason)
	a.res.Pods = append(a.res.Pods, *first)
}

// pinToNode sets the node-name affinity the DaemonSet controller gives each
// pod (it replaces the template's required node affinity).
func pinToNode(p *corev1.Pod, node string) {
	if p.Spec.Affinity == nil {
		p.Spec.Affinity = &corev1.Affinity{}
	}
	if p.Spec.Affinity.NodeAffinity == nil {
		p.Spec.Affinity.NodeAffinity = &corev1.NodeAffinity{}
	}
	p.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution = &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
		MatchFields: []corev1.NodeSelectorRequirement{{Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{node}}},
	}}}
}

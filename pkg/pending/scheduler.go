package pending

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/pkg/report"
	"github.com/ktriage/ktriage/pkg/scheduling"
	"github.com/ktriage/ktriage/pkg/topn"
)

// explainUnbound handles a pod without spec.nodeName: gates, scheduler,
// volumes, filters.
func (a *analyzer) explainUnbound(pod *corev1.Pod, ex *Explanation) {
	ex.NominatedNodeName = pod.Status.NominatedNodeName
	cond := podScheduledCondition(pod)
	if cond != nil && cond.Status == corev1.ConditionFalse && cond.Reason == corev1.PodReasonUnschedulable {
		ex.SchedulerMessage = cond.Message
	}

	if len(pod.Spec.SchedulingGates) > 0 {
		a.explainGated(pod, ex)
		return
	}
	if !a.opts.Manifests && a.explainNoScheduler(pod, ex, cond) {
		return
	}

	volumeBlocked := a.checkVolumes(pod, ex)
	if !a.opts.Manifests && a.snap.Loaded != nil && !a.snap.Loaded[cluster.KindNode] {
		a.explainWithoutNodes(pod, ex, volumeBlocked)
		return
	}
	res := a.engine(a.withoutProvisionable(pod))
	firstFinding := len(a.res.Findings)
	defer func() {
		// After the findings, so that each group names the rule explaining it.
		ex.NodeReasons = groupNodeReasons(res)
		linkRules(ex.NodeReasons, a.res.Findings[firstFinding:])
	}()
	a.incompleteFinding(ex, res)
	ex.SimulatedSchedulerMessage = res.Message
	ex.Nodes = res.Nodes
	ex.Feasible = res.Feasible
	ex.FeasibleCount = len(res.Feasible)
	switch {
	case schedulerNameOf(pod) != DefaultScheduler:
		// Another scheduler has its own plugins and words: the simulation
		// is the default profile's view, not a check of that message.
		ex.Evidence = append(ex.Evidence, fmt.Sprintf("simulated with kube-scheduler's default profile; the pod's scheduler is %q", schedulerNameOf(pod)))
	case ex.SchedulerMessage != "" && ex.SimulatedSchedulerMessage != "":
		agree := strings.TrimSpace(ex.SchedulerMessage) == strings.TrimSpace(ex.SimulatedSchedulerMessage)
		ex.MessagesAgree = &agree
	}

	switch {
	case volumeBlocked:
		ex.Stage = StageVolumeBinding
	case len(res.Feasible) > 0:
		a.explainFeasible(pod, ex, res, cond)
		return
	default:
		ex.Stage = StageUnschedulable
		ex.Reason = shortSchedulerReason(res.Message)
	}
	if len(res.Feasible) == 0 && ex.NominatedNodeName != "" {
		a.nominatedFinding(pod, ex)
	}
	if len(res.Feasible) == 0 {
		if volumeBlocked && res.PreFilter != nil && pluginRule(res.PreFilter.Plugin) == RuleVolumeTopology {
			// The claim findings already say why; the PreFilter reason is
			// the same cause in the scheduler's words.
			res.PreFilter = nil
		}
		a.filterFindings(pod, ex, res)
		a.preemptionFindings(pod, ex, res)
	}
	a.staleFinding(pod, ex, cond)
}

// explainFeasible: the filters pass on some node now.
func (a *analyzer) explainFeasible(pod *corev1.Pod, ex *Explanation, res scheduling.Result, cond *corev1.PodCondition) {
	if a.opts.Manifests {
		ex.Stage = StageSchedulable
		ex.Reason = fmt.Sprintf("fits on %d node(s): %s", len(res.Feasible), joinNames(res.Feasible, 3)) + notEvaluated(res)
		return
	}
	if ex.NominatedNodeName != "" {
		ex.Stage = StageUnschedulable
		ex.Reason = "waiting on nominated node " + ex.NominatedNodeName + " for preempted pods to leave"
		a.add(ex, RuleNominated, report.SeverityInfo,
			fmt.Sprintf("pod %s/%s is nominated to node %s after preempting pods there; it binds once they have terminated", pod.Namespace, pod.Name, ex.NominatedNodeName),
			"wait for the preempted pods' termination grace period", map[string]any{"nominatedNodeName": ex.NominatedNodeName})
		a.staleFinding(pod, ex, cond)
		return
	}
	ex.Stage = StageUnschedulable
	if ex.SchedulerMessage != "" && len(res.Unevaluated) > 0 {
		// Not a stale condition: the filters that could have failed did
		// not run here, so the scheduler's own verdict stands.
		ex.Reason = shortSchedulerReason(ex.SchedulerMessage) + " (scheduler's message; " + strings.Join(res.Unevaluated, ", ") + " not evaluated here)"
		ex.MessagesAgree = nil
		// The nodes passed only the filters that ran: not a verdict.
		ex.Feasible, ex.FeasibleCount = nil, 0
		return
	}
	if ex.SchedulerMessage != "" {
		ex.Reason = "last attempt failed but it fits now on " + joinNames(res.Feasible, 3) + ": the scheduler will retry"
		f := false
		ex.MessagesAgree = &f
		msg := fmt.Sprintf("the scheduler's last verdict (%q) is out of date: the pod fits now on %s", ex.SchedulerMessage, joinNames(res.Feasible, 5))
		details := map[string]any{"schedulerMessage": ex.SchedulerMessage, "feasible": firstNames(res.Feasible, maxEvidenceNodes)}
		if len(res.Feasible) > maxEvidenceNodes {
			details["feasibleCount"] = len(res.Feasible)
		}
		if changed, d := a.staleVerdict(pod, cond, res.Feasible); changed != "" {
			msg += "; " + changed
			ex.Evidence = append(ex.Evidence, changed)
			details["since"], details["changes"] = d["since"], d["changes"]
		}
		a.add(ex, RuleStaleCondition, report.SeverityWarning, msg,
			"wait for the scheduler's retry (at most 5 minutes for unschedulable pods), or check the scheduler's logs",
			details)
		return
	}
	ex.Reason = fmt.Sprintf("fits on %s but %s has not bound it yet", joinNames(res.Feasible, 3), schedulerNameOf(pod)) + notEvaluated(res)
	ex.Evidence = append(ex.Evidence, fmt.Sprintf("created %s ago, no PodScheduled condition yet", age(a.now.Sub(pod.CreationTimestamp.Time))))
}

// explainWithoutNodes: nodes could not be read (typically a user whose
// access is limited to namespaces), so no filter can run; the scheduler's
// own condition is the explanation.
func (a *analyzer) explainWithoutNodes(pod *corev1.Pod, ex *Explanation, volumeBlocked bool) {
	ex.Stage = StageUnschedulable
	if volumeBlocked {
		ex.Stage = StageVolumeBinding
	}
	switch {
	case ex.SchedulerMessage != "":
		ex.Reason = shortSchedulerReason(ex.SchedulerMessage) + " (scheduler's message; nodes not readable)"
	case ex.Reason == "":
		ex.Reason = "not scheduled yet; nodes not readable, so the filters cannot be evaluated"
	}
	a.add(ex, RuleIncomplete, report.SeverityWarning,
		"nodes could not be read, so no scheduler filter was evaluated; the scheduler's own message is shown",
		"grant get,list on nodes (a ClusterRole) to see every filter per node",
		map[string]any{"unevaluated": []string{"all filters"}})
}

// notEvaluated qualifies a "fits" verdict when filters did not run.
func notEvaluated(res scheduling.Result) string {
	if len(res.Unevaluated) == 0 {
		return ""
	}
	return " (as far as evaluated: " + strings.Join(res.Unevaluated, ", ") + " not evaluated)"
}

// incompleteFinding warns that filters applying to the pod did not run.
func (a *analyzer) incompleteFinding(ex *Explanation, res scheduling.Result) {
	if len(res.Unevaluated) == 0 {
		return
	}
	a.add(ex, RuleIncomplete, report.SeverityWarning,
		fmt.Sprintf("scheduler filter(s) %s not evaluated: %s", strings.Join(res.Unevaluated, ", "), strings.Join(res.Warnings, "; ")),
		"grant get/list on the kinds named (or include them in the input) and run again",
		map[string]any{"unevaluated": res.Unevaluated, "warnings": res.Warnings})
}

func (a *analyzer) staleFinding(pod *corev1.Pod, ex *Explanation, cond *corev1.PodCondition) {
	if ex.MessagesAgree == nil || *ex.MessagesAgree {
		return
	}
	msg := fmt.Sprintf("the pod's PodScheduled condition says %q; kube-scheduler would now write %q", ex.SchedulerMessage, ex.SimulatedSchedulerMessage)
	details := map[string]any{"schedulerMessage": ex.SchedulerMessage, "simulatedSchedulerMessage": ex.SimulatedSchedulerMessage}
	if changed, d := a.staleVerdict(pod, cond, nil); changed != "" {
		msg += "; " + changed
		ex.Evidence = append(ex.Evidence, changed)
		details["since"], details["changes"] = d["since"], d["changes"]
	}
	a.add(ex, RuleStaleCondition, report.SeverityWarning, msg,
		"compare the two messages; the cluster changed since the last attempt, or the scheduler runs another version or configuration",
		details)
}

// shortSchedulerReason keeps the reasons part of "0/N nodes are available:
// <reasons>. preemption: ...".
func shortSchedulerReason(msg string) string {
	s := msg
	if i := strings.Index(s, ". preemption:"); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimSuffix(s, ".")
	return s
}

func (a *analyzer) explainGated(pod *corev1.Pod, ex *Explanation) {
	ex.Stage = StageGated
	var gates []string
	for _, g := range pod.Spec.SchedulingGates {
		gates = append(gates, g.Name)
	}
	ex.Reason = "scheduling gates: " + strings.Join(gates, ", ")
	ex.Evidence = append(ex.Evidence, "spec.schedulingGates: "+strings.Join(gates, ", "))
	fix := fmt.Sprintf("remove the gates once their owner is done: kubectl patch pod %s -n %s --type=json -p '[{\"op\":\"remove\",\"path\":\"/spec/schedulingGates\"}]'", pod.Name, pod.Namespace)
	a.add(ex, RuleGated, report.SeverityError,
		fmt.Sprintf("pod waits for scheduling gate(s) %s; the scheduler ignores it until they are removed", strings.Join(gates, ", ")),
		fix, map[string]any{"gates": gates})
}

// explainNoScheduler decides whether no running scheduler serves the pod: no
// PodScheduled condition, no event from a scheduler, old enough.
func (a *analyzer) explainNoScheduler(pod *corev1.Pod, ex *Explanation, cond *corev1.PodCondition) bool {
	if cond != nil {
		return false
	}
	name := schedulerNameOf(pod)
	for _, e := range a.events("Pod", pod.Namespace, pod.Name, string(pod.UID)) {
		if e.Reason == "FailedScheduling" || e.Reason == "Scheduled" || e.ReportingController == name || e.Source.Component == name {
			return false
		}
	}
	old := a.now.Sub(pod.CreationTimestamp.Time)
	var checked []string
	if name != DefaultScheduler {
		// Another scheduler: the default profile's simulation is not its
		// verdict. Either something shows it runs, and the pod waits for
		// it, or nothing does, and no grace period will change that.
		var proof []string
		proof, checked = a.schedulerProof(name, pod)
		if len(proof) > 0 {
			a.explainWaitingForScheduler(pod, ex, name, proof, old)
			return true
		}
	} else if old < a.opts.SchedulerGrace {
		return false
	}
	ex.Stage = StageNoScheduler
	ex.Reason = fmt.Sprintf("no scheduler %q has acted on it in %s", name, age(old))
	if len(checked) > 0 {
		ex.Reason = fmt.Sprintf("no scheduler %q runs: nothing in the cluster shows it (%s)", name, strings.Join(checked, ", "))
	}
	ex.Evidence = append(ex.Evidence,
		fmt.Sprintf("spec.schedulerName: %s", name),
		fmt.Sprintf("no PodScheduled condition after %s", age(old)))
	if a.snap.Loaded["Event"] {
		ex.Evidence = append(ex.Evidence, "no scheduling event for the pod")
	}
	ex.Evidence = append(ex.Evidence, checked...)
	// Pods created after this one that got scheduled prove a scheduler runs,
	// just not this one.
	served := map[string]int{}
	for _, p := range a.snap.Pods {
		if c := podScheduledCondition(p); c != nil && c.Status == corev1.ConditionTrue && p.CreationTimestamp.After(pod.CreationTimestamp.Time) {
			served[schedulerNameOf(p)]++
		}
	}
	var names []string
	for n, c := range served {
		names = append(names, fmt.Sprintf("%s (%d)", n, c))
	}
	sort.Strings(names)
	if len(names) > 0 {
		ex.Evidence = append(ex.Evidence, "pods created later were scheduled by: "+strings.Join(names, ", "))
	}
	var fix string
	if name == DefaultScheduler {
		fix = "check that kube-scheduler runs and is healthy (kubectl get pods -n kube-system -l component=kube-scheduler; its leader lease kube-system/kube-scheduler)"
	} else {
		fix = fmt.Sprintf("start the scheduler %q, or set spec.schedulerName: %s (or remove it) in the pod template", name, DefaultScheduler)
	}
	msg := fmt.Sprintf("no running scheduler named %q has acted on the pod in %s", name, age(old))
	if len(checked) > 0 {
		msg = fmt.Sprintf("nothing in the cluster shows a scheduler named %q (%s): no one will schedule the pod", name, strings.Join(checked, ", "))
	}
	a.add(ex, RuleNoScheduler, report.SeverityError, msg,
		fix, map[string]any{"schedulerName": name, "scheduledLaterBy": served})
	return true
}

// pluginRule maps a scheduler filter plugin to the rule of its cause family.
func pluginRule(plugin string) string {
	switch plugin {
	case "TaintToleration":
		return RuleTaint
	case "NodeAffinity":
		return RuleNodeAffinity
	case "NodeResourcesFit":
		return RuleResources
	case "NodePorts":
		return RuleHostPort
	case "InterPodAffinity":
		return RulePodAffinity
	case "PodTopologySpread":
		return RuleTopologySpread
	case "NodeUnschedulable":
		return RuleCordoned
	case "NodeName":
		return RuleNodeName
	case "VolumeBinding", "VolumeZone", "VolumeRestrictions", "NodeVolumeLimits":
		return RuleVolumeTopology
	}
	return RuleUnschedulable
}

// filterFindings turns the per-node reasons into one finding per cause
// family with the nodes, the specifics and a fix.
func (a *analyzer) filterFindings(pod *corev1.Pod, ex *Explanation, res scheduling.Result) {
	f := groupByPlugin(res)
	var generic []string
	for _, p := range f.plugins {
		if pluginRule(p) == RuleUnschedulable {
			generic = append(generic, p)
		}
	}
	a.unschedulableSummary(pod, ex, res, generic)
	summaryIdx, hintIdx := len(a.res.Findings)-1, len(ex.Fixes)-1
	if res.PreFilter != nil && pluginRule(res.PreFilter.Plugin) != RuleUnschedulable && len(f.plugins) == 0 {
		f.addPreFilter(res)
	}
	var families []string
	for _, p := range f.plugins {
		rule := pluginRule(p)
		if rule == RuleUnschedulable {
			continue
		}
		nodes := f.byPlugin[p]
		d := map[string]any{"plugin": p, "nodes": f.details[p].first(maxEvidenceNodes)}
		if n := len(f.details[p]); n > maxEvidenceNodes {
			// The evidence names a few nodes; pods[].nodes[] has every one.
			d["nodeCount"] = n
		}
		msg, fix := a.familyFinding(pod, rule, p, f, res, d)
		if len(nodes) == 0 && msg == "" {
			continue
		}
		a.add(ex, rule, report.SeverityError, msg, fix, d)
		families = append(families, rule)
	}
	if len(families) > 0 && len(generic) == 0 {
		// The specific findings carry the fixes; the summary points at them.
		a.res.Findings[summaryIdx].Fix = "a node needs every reason it has removed: apply the fixes of " + strings.Join(families, ", ") + " for this pod"
		ex.Fixes = append(ex.Fixes[:hintIdx], ex.Fixes[hintIdx+1:]...)
	}
}

// pluginFailures groups the nodes a pod failed on by the filter plugin that
// rejected them, plugins in the order they first failed.
type pluginFailures struct {
	plugins   []string
	byPlugin  map[string][]string    // plugin → nodes
	details   map[string]nodeDetails // plugin → node → detail
	onlyFails map[string][]string    // plugin → nodes where it is the only failing plugin
}

// groupByPlugin counts each node once per failing plugin, with that
// plugin's first reason on the node as its detail.
func groupByPlugin(res scheduling.Result) pluginFailures {
	f := pluginFailures{byPlugin: map[string][]string{}, details: map[string]nodeDetails{}, onlyFails: map[string][]string{}}
	var firsts []scheduling.Reason // each failing plugin's first reason on a node
	// Size the per-plugin lists first: on a large cluster they hold a name
	// per node, and growing them by appending doubles the garbage.
	failing := map[string]int{}
	for _, n := range res.Nodes {
		firsts = firstPerPlugin(firsts[:0], n.Reasons)
		for _, r := range firsts {
			failing[r.Plugin]++
		}
	}
	for _, n := range res.Nodes {
		firsts = firstPerPlugin(firsts[:0], n.Reasons)
		for _, r := range firsts {
			if _, ok := f.byPlugin[r.Plugin]; !ok {
				f.plugins = append(f.plugins, r.Plugin)
				f.byPlugin[r.Plugin] = make([]string, 0, failing[r.Plugin])
				f.details[r.Plugin] = make(nodeDetails, 0, failing[r.Plugin])
			}
			f.byPlugin[r.Plugin] = append(f.byPlugin[r.Plugin], n.Name)
			d := r.Message
			if r.Detail != "" {
				d = r.Detail
			}
			f.details[r.Plugin] = append(f.details[r.Plugin], nodeDetail{n.Name, d})
		}
		if len(firsts) == 1 {
			f.onlyFails[firsts[0].Plugin] = append(f.onlyFails[firsts[0].Plugin], n.Name)
		}
	}
	return f
}

// addPreFilter records a PreFilter failure as its plugin failing on every
// node: the scheduler ran no Filter, so no node has a reason of its own.
func (f *pluginFailures) addPreFilter(res scheduling.Result) {
	p := res.PreFilter.Plugin
	f.plugins = append(f.plugins, p)
	f.byPlugin[p] = nil
	d := res.PreFilter.Message
	if res.PreFilter.Detail != "" {
		d = res.PreFilter.Detail
	}
	f.details[p] = nodeDetails{{"*", d}}
	for _, n := range res.Nodes {
		f.byPlugin[p] = append(f.byPlugin[p], n.Name)
	}
}

// unschedulableSummary adds the finding with the scheduler's message; its
// fix points at the per-node reasons, naming the generic plugins that have
// no finding of their own.
func (a *analyzer) unschedulableSummary(pod *corev1.Pod, ex *Explanation, res scheduling.Result, generic []string) {
	summary := map[string]any{"simulatedSchedulerMessage": res.Message}
	if ex.SchedulerMessage != "" {
		summary["schedulerMessage"] = ex.SchedulerMessage
	}
	if res.PreFilter != nil {
		summary["preFilter"] = res.PreFilter
	}
	fixHint := fmt.Sprintf("read the per-node reasons (kubectl why-pending %s -n %s -o wide) and change the pod or the nodes they name", pod.Name, pod.Namespace)
	if len(generic) > 0 {
		fixHint = fmt.Sprintf("fix what %s reports per node (kubectl why-pending %s -n %s -o wide)", strings.Join(generic, ", "), pod.Name, pod.Namespace)
	}
	a.add(ex, RuleUnschedulable, report.SeverityError, res.Message, fixHint, summary)
}

// familyFinding writes the message and fix of one cause family's finding
// (plugin p failing under rule); d is its evidence, which some families add to.
func (a *analyzer) familyFinding(pod *corev1.Pod, rule, p string, f pluginFailures, res scheduling.Result, d map[string]any) (msg, fix string) {
	nodes, details := f.byPlugin[p], f.details[p]
	switch rule {
	case RuleTaint:
		msg, fix = a.taintFix(pod, nodes, d)
	case RuleNodeAffinity:
		msg, fix = a.affinityFix(pod, nodes, f.onlyFails[p], details, d)
	case RuleResources:
		msg, fix = a.resourcesFix(pod, res, d)
	case RuleCordoned:
		msg = fmt.Sprintf("%d node(s) are cordoned: %s", len(nodes), joinNames(nodes, 5))
		if len(f.onlyFails[p]) > 0 {
			fix = "kubectl uncordon " + f.onlyFails[p][0] + " (nothing else keeps the pod off it)"
		} else {
			fix = "uncordon a node once its maintenance is done: kubectl uncordon " + nodes[0]
		}
	case RuleHostPort:
		msg = fmt.Sprintf("the pod's host port is taken on %d node(s): %s", len(nodes), summarizeDetails(details, 3))
		fix = "remove hostPort from the pod (expose it with a Service) or choose a port no pod uses on the nodes"
	case RulePodAffinity:
		msg = fmt.Sprintf("inter-pod affinity rules exclude %d node(s): %s", len(nodes), summarizeDetails(details, 3))
		fix = "relax requiredDuringScheduling pod (anti-)affinity to preferredDuringScheduling, change its labelSelector or topologyKey, or add nodes in a new topology domain"
	case RuleTopologySpread:
		msg = fmt.Sprintf("topology spread constraints exclude %d node(s): %s", len(nodes), summarizeDetails(details, 3))
		fix = "raise maxSkew, set whenUnsatisfiable: ScheduleAnyway, or add capacity in the topology domains with fewer matching pods"
		msg, fix = spreadFindingText(msg, fix, res.Spread, d)
	case RuleNodeName:
		msg = fmt.Sprintf("spec.nodeName is %q: %s", pod.Spec.NodeName, summarizeDetails(details, 1))
		if _, ok := a.nodes[pod.Spec.NodeName]; !ok && pod.Spec.NodeName != "" {
			msg = fmt.Sprintf("spec.nodeName names node %q, which does not exist", pod.Spec.NodeName)
		}
		fix = "remove spec.nodeName (let the scheduler choose) or set it to an existing node"
	case RuleVolumeTopology:
		msg = fmt.Sprintf("the pod's volumes rule out %d node(s): %s", len(nodes), summarizeDetails(details, 3))
		fix = "use a volume available in the zones/nodes where the pod can run, or run the pod where its PersistentVolume's nodeAffinity points"
	}
	return msg, fix
}

// firstPerPlugin appends to buf the first reason of each plugin in reasons,
// in order: a node counts once per failing plugin.
func firstPerPlugin(buf, reasons []scheduling.Reason) []scheduling.Reason {
	for _, r := range reasons {
		if !slices.ContainsFunc(buf, func(b scheduling.Reason) bool { return b.Plugin == r.Plugin }) {
			buf = append(buf, r)
		}
	}
	return buf
}

// maxEvidenceNodes caps the node → detail pairs a finding's evidence holds:
// on a large cluster every Pending pod would otherwise repeat the whole
// per-node breakdown in its findings.
const maxEvidenceNodes = 20

// firstNames returns the first n names in order, without sorting them all.
func firstNames(names []string, n int) []string {
	return topn.Sorted(names, n, func(a, b string) bool { return a < b })
}

// nodeDetail is what one filter says about one node ("*": every node).
type nodeDetail struct {
	node   string
	detail string
}

// nodeDetails are a filter's details in the engine's node order.
type nodeDetails []nodeDetail

// sorted returns the first n details by node name, without sorting them all.
func (ds nodeDetails) sorted(n int) nodeDetails {
	return topn.Sorted(ds, n, func(a, b nodeDetail) bool { return a.node < b.node })
}

// first is the evidence map of the first n nodes by name.
func (ds nodeDetails) first(n int) map[string]any {
	out := make(map[string]any, min(n, len(ds)))
	for _, d := range ds.sorted(n) {
		out[d.node] = d.detail
	}
	return out
}

// of returns the detail for one node.
func (ds nodeDetails) of(node string) string {
	for _, d := range ds {
		if d.node == node {
			return d.detail
		}
	}
	return ""
}

// summarizeDetails renders "node: detail" pairs, eliding after max.
func summarizeDetails(ds nodeDetails, max int) string {
	var parts []string
	for _, d := range ds.sorted(max) {
		if d.node == "*" {
			parts = append(parts, d.detail)
			continue
		}
		parts = append(parts, fmt.Sprintf("%s: %s", d.node, d.detail))
	}
	if len(ds) > max {
		parts = append(parts, fmt.Sprintf("… (%d nodes in all)", len(ds)))
	}
	return strings.Join(parts, "; ")
}

// preemptionFindings reports the engine's preemption dry run: the node the
// scheduler would nominate and the lower-priority pods it would evict.
func (a *analyzer) preemptionFindings(pod *corev1.Pod, ex *Explanation, res scheduling.Result) {
	if res.PreemptionBlocked != nil {
		a.preemptionBlockedFinding(pod, ex, res.PreemptionBlocked)
	}
	pr := res.Preemption
	if pr == nil {
		return
	}
	msg := fmt.Sprintf("preemption can make room on node %s by evicting %d lower-priority pod(s): %s", pr.Node, len(pr.Victims), joinNames(pr.Victims, 3))
	if pr.PDBViolations > 0 {
		msg += fmt.Sprintf(" (%d of them against a PodDisruptionBudget)", pr.PDBViolations)
	}
	a.add(ex, RulePreemption, report.SeverityInfo, msg,
		"kube-scheduler preempts them on its next attempt (the pod's priority is higher); to avoid evictions, add capacity instead",
		map[string]any{"priority": podPriority(pod), "node": pr.Node, "victims": pr.Victims, "pdbViolations": pr.PDBViolations})
}

func podPriority(p *corev1.Pod) int32 {
	if p.Spec.Priority != nil {
		return *p.Spec.Priority
	}
	return 0
}

// withoutProvisionable drops the volumes of manifest claims that will be
// provisioned on creation, which the scheduler would otherwise see as
// unbound immediate claims.
func (a *analyzer) withoutProvisionable(pod *corev1.Pod) *corev1.Pod {
	if len(a.provisionable) == 0 {
		return pod
	}
	p := pod.DeepCopy()
	p.Spec.Volumes = p.Spec.Volumes[:0]
	for _, v := range pod.Spec.Volumes {
		if v.PersistentVolumeClaim != nil && a.provisionable[pod.Namespace+"/"+v.PersistentVolumeClaim.ClaimName] {
			continue
		}
		p.Spec.Volumes = append(p.Spec.Volumes, v)
	}
	return p
}

// nominatedFinding describes the node the scheduler nominated after
// preempting: which lower-priority pods there are still leaving.
func (a *analyzer) nominatedFinding(pod *corev1.Pod, ex *Explanation) {
	node := ex.NominatedNodeName
	prio := podPriority(pod)
	var leaving, lower []string
	for _, p := range a.podsByNode[node] {
		if podPriority(p) >= prio {
			continue
		}
		name := p.Namespace + "/" + p.Name
		if p.DeletionTimestamp != nil {
			leaving = append(leaving, name)
		} else {
			lower = append(lower, name)
		}
	}
	sort.Strings(leaving)
	sort.Strings(lower)
	msg := fmt.Sprintf("the scheduler nominated node %s for the pod after preempting there", node)
	switch {
	case len(leaving) > 0:
		msg += fmt.Sprintf("; %d victim(s) are still terminating: %s", len(leaving), joinNames(leaving, 3))
	case len(lower) > 0:
		msg += fmt.Sprintf("; lower-priority pods still there: %s", joinNames(lower, 3))
	default:
		msg += "; no lower-priority pod is left on it"
	}
	ex.Evidence = append(ex.Evidence, msg)
	a.add(ex, RuleNominated, report.SeverityInfo, msg,
		"wait for the preempted pods' termination grace period; the pod binds on the scheduler's next attempt",
		map[string]any{"nominatedNodeName": node, "terminating": leaving, "lowerPriority": lower})
}

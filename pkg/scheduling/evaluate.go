package scheduling

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	resourcev1 "k8s.io/api/resource/v1"
	ndf "k8s.io/component-helpers/nodedeclaredfeatures"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
)

// plugin is one scheduler filter plugin: an optional PreFilter and a
// Filter. Filters return the reasons the node fails (nil: it passes), with
// Message set to the scheduler's reason string.
type plugin struct {
	name string
	// needs names what the plugin reads to evaluate the pod besides nodes
	// and pods (nil: nothing, or nothing to check for this pod); when the
	// snapshot says one of those kinds was not loaded the plugin does not
	// run and the result says so.
	needs     func(e *Engine, pod *corev1.Pod) []Requirement
	preFilter func(c *cycle) preResult
	filter    func(c *cycle, ni *nodeInfo) []Reason
}

// preResult is a PreFilter outcome.
type preResult struct {
	// skip: the plugin has nothing to check for this pod; its Filter is
	// not run (the framework's Skip status).
	skip bool
	// nodeNames, when not nil, restricts the candidates to these nodes.
	nodeNames map[string]bool
	// reasons, when set, fail the pod before any node is looked at.
	reasons []Reason
}

// filterPlugins are the default profile's filter plugins in the order
// kube-scheduler v1.37 runs them (apis/config/v1/default_plugins.go).
var filterPlugins = []plugin{
	nodeNamePlugin,
	nodeUnschedulablePlugin,
	taintTolerationPlugin,
	nodeAffinityPlugin,
	nodePortsPlugin,
	nodeResourcesFitPlugin,
	volumeRestrictionsPlugin,
	nodeVolumeLimitsPlugin,
	volumeBindingPlugin,
	volumeZonePlugin,
	podTopologySpreadPlugin,
	interPodAffinityPlugin,
	dynamicResourcesPlugin,
	nodeDeclaredFeaturesPlugin,
}

// cycle is the state of one evaluation, like the scheduler's CycleState.
type cycle struct {
	e   *Engine
	pod *corev1.Pod
	// nodes and byName are the engine's, except that the pod itself is
	// never counted on a node: the scheduler's cache never holds the pod
	// it schedules. This lets callers evaluate a bound pod as if it were
	// rescheduled (with spec.nodeName cleared in a copy).
	nodes            []*nodeInfo
	byName           map[string]*nodeInfo
	opts             Options
	req              resources
	scalarNames      []corev1.ResourceName
	requiredAffinity nodeaffinity.RequiredNodeAffinity
	// nodeAffinityKeys, nodeAffinityByName and nodeAffinityDetails cache
	// the NodeAffinity detail per distinct input (nodeAffinityDetail).
	nodeAffinityKeys    []string
	nodeAffinityByName  bool
	nodeAffinityDetails map[string]string
	spread              *spreadState
	affinity            *affinityState
	volumes             *volumeState
	dra                 *draState
	restrictions        *restrictionsState
	pvTopologies        []pvTopology
	features            *ndf.FeatureSet
	// skipped and failedPre name the plugins whose Filter does not run.
	skipped, failedPre map[string]bool
	preemption         *Preemption
	// preemptionFailed: the dry run found no node (or the policy forbids
	// preempting), so the message ends in why preemption cannot help.
	preemptionFailed bool
	warnings         []string
	// partial: per plugin, the checks it left out when letting a node
	// pass (notSimulated).
	partial map[string][]string
	// postFilterNotFound: a PreFilter failure stopped the framework before
	// DynamicResources' PreFilter wrote its state, so that plugin's
	// PostFilter fails with the cycle state's "not found" error and
	// preemption never runs.
	postFilterNotFound bool
}

func (e *Engine) newCycle(pod *corev1.Pod, opts Options) *cycle {
	c := &cycle{e: e, pod: pod, opts: opts, nodes: e.nodes, byName: e.byName}
	c.excludeSelf()
	c.req = incomingPodRequests(pod)
	c.scalarNames = sortedScalarNames(c.req)
	c.requiredAffinity = nodeaffinity.GetRequiredNodeAffinity(pod)
	return c
}

// excludeSelf drops the evaluated pod from the node it is bound to in the
// snapshot, if any.
func (c *cycle) excludeSelf() {
	host := c.e.podHost[podKey(c.pod)]
	if host == nil {
		return
	}
	without := &nodeInfo{node: host.node, allocatable: host.allocatable}
	for _, p := range host.pods {
		if podKey(p) != podKey(c.pod) {
			without.addPod(c.e, p)
		}
	}
	c.nodes = make([]*nodeInfo, len(c.e.nodes))
	for i, ni := range c.e.nodes {
		c.nodes[i] = ni
		if ni == host {
			c.nodes[i] = without
		}
	}
	c.byName = make(map[string]*nodeInfo, len(c.e.byName))
	for k, v := range c.e.byName {
		c.byName[k] = v
	}
	c.byName[host.node.Name] = without
}

// Evaluate runs the scheduler's PreFilter and Filter plugins for pod on every
// node of the engine's snapshot, then builds the scheduler's message.
//
// Pods that differ only in name and UID (the Pending replicas of one
// workload) share one Result; its slices must not be modified.
func (e *Engine) Evaluate(pod *corev1.Pod, opts Options) Result {
	key, ok := equivalenceKey(pod)
	if !ok {
		return e.evaluate(pod, opts)
	}
	e.mu.Lock()
	res, hit := e.equivalent[key]
	e.mu.Unlock()
	if hit {
		return res
	}
	res = e.evaluate(pod, opts)
	e.mu.Lock()
	if e.equivalent == nil {
		e.equivalent = map[string]Result{}
	}
	e.equivalent[key] = res
	e.mu.Unlock()
	return res
}

// equivalenceKey identifies what a pod's evaluation depends on: namespace,
// labels and spec. Pods whose evaluation also depends on their identity get
// no key: bound pods (excluded from their own node), pods nominated to a
// node (excluded from the nominated pods) and pods with resource claims
// (claims are owned by and named after the pod).
func equivalenceKey(pod *corev1.Pod) (string, bool) {
	if pod.Spec.NodeName != "" || pod.Status.NominatedNodeName != "" || len(pod.Spec.ResourceClaims) > 0 {
		return "", false
	}
	spec, err := pod.Spec.Marshal()
	if err != nil {
		return "", false
	}
	keys := make([]string, 0, len(pod.Labels))
	for k := range pod.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.Grow(len(spec) + 64)
	b.WriteString(pod.Namespace)
	for _, k := range keys {
		b.WriteString("\x00")
		b.WriteString(k)
		b.WriteString("=")
		b.WriteString(pod.Labels[k])
	}
	b.WriteString("\x00\x00")
	b.Write(spec)
	return b.String(), true
}

func (e *Engine) evaluate(pod *corev1.Pod, opts Options) Result {
	c := e.newCycle(pod, opts)
	res := Result{Nodes: make([]NodeResult, 0, len(e.nodes)), Feasible: []string{}}
	pre := e.preFilter(c, pod, &res)
	skipped, failedPre, preFail := pre.skipped, pre.failedPre, pre.fail
	res.PreFilter = preFail
	c.postFilterNotFound = pre.stopped && !pre.draReached && hasPlugin(dynamicResourcesName)
	statuses := c.filterNodes(pre, &res)

	var ran []string
	for _, pl := range filterPlugins {
		if !skipped[pl.name] && !failedPre[pl.name] {
			ran = append(ran, pl.name)
		}
	}
	res.ran = ran
	res.Resources = c.resourceFits(res.Nodes, preFail)
	for _, rf := range res.Resources {
		if rf.Fragmented {
			res.Fragmentation = append(res.Fragmentation, rf)
		}
	}
	if len(res.Feasible) == 0 {
		res.Message = c.fitErrorMessage(preFail, statuses)
		res.Preemption = c.preemption
		if c.preemptionFailed && len(c.nodes) > 0 {
			res.PreemptionBlocked = c.preemptionBlocked(preFail, statuses)
		}
	}
	if rejects(res.Nodes, "PodTopologySpread") {
		res.Spread = c.spreadExplanation()
	}
	c.addPartial(&res)
	res.Warnings = append(res.Warnings, c.warnings...)
	return res
}

// preFilterOutcome is what the PreFilter phase leaves for the Filter phase.
type preFilterOutcome struct {
	skipped, failedPre map[string]bool
	// nodeNames, when not nil, are the only nodes the restricting plugins allow.
	nodeNames   map[string]bool
	restricting []string
	fail        *Reason
	stopped     bool
	draReached  bool
}

// preFilter runs PreFilter as RunPreFilterPlugins does: an unresolvable
// failure stops at once, a resolvable one is remembered while the others
// still run, and node-name restrictions intersect. Plugins whose kinds are
// not loaded are recorded in res as not evaluated.
func (e *Engine) preFilter(c *cycle, pod *corev1.Pod, res *Result) preFilterOutcome {
	skipped := map[string]bool{}
	failedPre := map[string]bool{}
	var nodeNames map[string]bool
	var restricting []string
	var preFail *Reason
	stopped, draReached := false, false
	for _, pl := range filterPlugins {
		if !stopped && pl.name == dynamicResourcesName {
			draReached = true
		}
		if missing := e.missingFor(pl, pod); len(missing) > 0 {
			skipped[pl.name] = true
			res.Unevaluated = append(res.Unevaluated, pl.name)
			res.Warnings = append(res.Warnings, fmt.Sprintf("%s not evaluated: %s not loaded", pl.name, strings.Join(missing, ", ")))
			continue
		}
		if pl.preFilter == nil {
			continue
		}
		r := pl.preFilter(c)
		if r.skip {
			skipped[pl.name] = true
			continue
		}
		if stopped {
			// The scheduler stopped at the earlier failure; the rest still
			// runs here so that Detail covers every cause.
			if len(r.reasons) > 0 {
				failedPre[pl.name] = true
			}
			continue
		}
		if len(r.reasons) > 0 {
			failedPre[pl.name] = true
			reason := joinReasons(pl.name, r.reasons)
			preFail = &reason
			if reason.Unresolvable {
				stopped = true
			}
			continue
		}
		if r.nodeNames != nil {
			restricting = append(restricting, pl.name)
			nodeNames = intersect(nodeNames, r.nodeNames)
			if len(nodeNames) == 0 {
				msg := fmt.Sprintf("node(s) didn't satisfy plugin(s) %v simultaneously", sortedCopy(restricting))
				if len(restricting) == 1 {
					msg = "node(s) didn't satisfy plugin " + restricting[0]
				}
				preFail = &Reason{Message: msg, Unresolvable: true, Reported: true,
					Detail: "the nodes allowed by " + strings.Join(restricting, " and ") + " leave no node"}
				stopped = true
			}
		}
	}
	return preFilterOutcome{skipped: skipped, failedPre: failedPre, nodeNames: nodeNames, restricting: restricting,
		fail: preFail, stopped: stopped, draReached: draReached}
}

// filterNodes runs Filter on every node, every plugin (not only up to the
// first failure) so Detail covers all causes; the first failing plugin's
// reasons are the ones the scheduler records. It fills res.Nodes and
// res.Feasible and returns each node's reported reasons.
func (c *cycle) filterNodes(pre preFilterOutcome, res *Result) [][]Reason {
	preFail, nodeNames, restricting := pre.fail, pre.nodeNames, pre.restricting
	absentMsg := ""
	if nodeNames != nil {
		absentMsg = fmt.Sprintf("node(s) didn't satisfy plugin(s) %v", sortedCopy(restricting))
	}
	c.skipped, c.failedPre = pre.skipped, pre.failedPre
	statuses := make([][]Reason, 0, len(c.nodes))
	for _, ni := range c.nodes {
		nr := NodeResult{Name: ni.node.Name}
		excluded := preFail == nil && nodeNames != nil && !nodeNames[ni.node.Name]
		reasons := c.filterWithNominated(ni)
		switch {
		case excluded:
			nr.Reasons = append([]Reason{{Message: absentMsg, Unresolvable: true, Reported: true,
				Detail: "excluded before filtering by " + strings.Join(restricting, ", ")}}, reasons...)
		case preFail == nil:
			markFirstPlugin(reasons)
			nr.Reasons = reasons
		default:
			nr.Reasons = reasons
		}
		if nr.Reasons == nil {
			nr.Reasons = []Reason{} // "reasons": [] in JSON
		}
		if len(nr.Reasons) == 0 && preFail == nil {
			res.Feasible = append(res.Feasible, ni.node.Name)
		}
		statuses = append(statuses, reportedReasons(nr.Reasons))
		res.Nodes = append(res.Nodes, nr)
	}
	return statuses
}

// rejects: the plugin rejects some node.
func rejects(nodes []NodeResult, plugin string) bool {
	for _, n := range nodes {
		for _, r := range n.Reasons {
			if r.Plugin == plugin {
				return true
			}
		}
	}
	return false
}

// runFilters runs every filter that the PreFilter phase left in, on one
// node, and returns all failures in plugin order.
func (c *cycle) runFilters(ni *nodeInfo) []Reason {
	var out []Reason
	for _, pl := range filterPlugins {
		if c.skipped[pl.name] || c.failedPre[pl.name] {
			continue
		}
		reasons := pl.filter(c, ni)
		for i := range reasons {
			reasons[i].Plugin = pl.name
		}
		if out == nil {
			// Capped: a later append copies instead of writing past it.
			out = reasons[:len(reasons):len(reasons)]
			continue
		}
		out = append(out, reasons...)
	}
	return out
}

// firstStatus is what the framework returns for a node: the reasons of the
// first failing plugin only.
func firstStatus(all []Reason) []Reason {
	if len(all) == 0 {
		return nil
	}
	n := 1
	for n < len(all) && all[n].Plugin == all[0].Plugin {
		n++
	}
	return all[:n]
}

func markFirstPlugin(all []Reason) {
	for i := range firstStatus(all) {
		all[i].Reported = true
	}
}

// reportedReasons are the reasons the scheduler records for one node.
func reportedReasons(all []Reason) []Reason {
	n := 0
	for _, r := range all {
		if r.Reported {
			n++
		}
	}
	if n == len(all) {
		return all
	}
	out := make([]Reason, 0, n)
	for _, r := range all {
		if r.Reported {
			out = append(out, r)
		}
	}
	return out
}

// joinReasons turns a plugin's PreFilter reasons into one status, as the
// framework does: its message is the reasons joined with ", ".
func joinReasons(pluginName string, reasons []Reason) Reason {
	msgs := make([]string, 0, len(reasons))
	details := make([]string, 0, len(reasons))
	unresolvable := false
	for _, r := range reasons {
		msgs = append(msgs, r.Message)
		if r.Detail != "" {
			details = append(details, r.Detail)
		}
		unresolvable = unresolvable || r.Unresolvable
	}
	return Reason{Plugin: pluginName, Message: strings.Join(msgs, ", "), Detail: strings.Join(details, "; "),
		Unresolvable: unresolvable, Reported: true}
}

// fitErrorMessage is FitError.Error(): "0/N nodes are available: " then the
// PreFilter message, or the histogram of the nodes' reasons sorted as
// strings, then the PostFilter (preemption) message.
func (c *cycle) fitErrorMessage(preFail *Reason, statuses [][]Reason) string {
	msg := fmt.Sprintf("0/%d nodes are available:", len(c.e.nodes))
	if len(c.e.nodes) == 0 {
		return "no nodes available to schedule pods"
	}
	if preFail != nil {
		msg += " " + preFail.Message + "."
	} else {
		msg += histogram(statuses)
	}
	if post := c.preemptionMessage(preFail, statuses); post != "" {
		msg += " " + post
	}
	return msg
}

// histogram is the "<count> <reason>" list, sorted with sort.Strings and
// joined with ", ", ending with "." (empty when there is no reason).
func histogram(statuses [][]Reason) string {
	return histogramWithAbsent(statuses, len(statuses), "")
}

// histogramWithAbsent is histogram with n-len(statuses) more nodes that
// failed with the message absent.
func histogramWithAbsent(statuses [][]Reason, n int, absent string) string {
	counts := map[string]int{}
	for _, st := range statuses {
		for _, r := range st {
			counts[r.Message]++
		}
	}
	if n > len(statuses) {
		counts[absent] += n - len(statuses)
	}
	if len(counts) == 0 {
		return ""
	}
	items := make([]string, 0, len(counts))
	for m, n := range counts {
		items = append(items, fmt.Sprintf("%d %s", n, m))
	}
	sort.Strings(items)
	return " " + strings.Join(items, ", ") + "."
}

func intersect(a, b map[string]bool) map[string]bool {
	if a == nil {
		out := make(map[string]bool, len(b))
		for k := range b {
			out[k] = true
		}
		return out
	}
	for k := range a {
		if !b[k] {
			delete(a, k)
		}
	}
	return a
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

// deviceClassForResource finds the DeviceClass that provides an extended
// resource, explicitly (spec.extendedResourceName) or by the implicit
// "deviceclass.resource.kubernetes.io/<class>" name.
func (e *Engine) deviceClassForResource(name corev1.ResourceName) *resourcev1.DeviceClass {
	for _, dc := range e.snap.DeviceClasses {
		if dc == nil {
			continue
		}
		if dc.Spec.ExtendedResourceName != nil && *dc.Spec.ExtendedResourceName == string(name) {
			return dc
		}
		if string(name) == resourcev1.ResourceDeviceClassPrefix+dc.Name {
			return dc
		}
	}
	return nil
}

const dynamicResourcesName = "DynamicResources"

func hasPlugin(name string) bool {
	for _, pl := range filterPlugins {
		if pl.name == name {
			return true
		}
	}
	return false
}

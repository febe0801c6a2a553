package autoscaler

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/pkg/scheduling"
)

// cluster-autoscaler's other traces: its leader-election Lease
// (kube-system/cluster-autoscaler, renewed every few seconds by the
// leader) and its Deployment (named cluster-autoscaler, or
// RELEASE-CLOUD-cluster-autoscaler by the Helm chart).
const (
	leaseName = "cluster-autoscaler"
	// expendableCutoff is --expendable-pods-priority-cutoff's default: pods
	// of a lower priority never trigger a scale-up.
	expendableCutoff = -10
	// maxNodeProvisionTime is --max-node-provision-time's default: a node
	// not registered this long after the scale-up fails it.
	maxNodeProvisionTime = 15 * time.Minute
	// podScaleUpDelayAnnotation delays scale-up for one pod.
	podScaleUpDelayAnnotation = "cluster-autoscaler.kubernetes.io/pod-scale-up-delay"
)

type caState struct {
	status    *Status
	statusErr error
	// updated is when the status ConfigMap was last written.
	updated    time.Time
	lease      *lease
	deployment *appsv1.Deployment
	running    *bool
	evidence   []string
	// cmEvents are the events on the status ConfigMap, oldest first.
	cmEvents []*corev1.Event
	// templates holds, by group name, a node of the group.
	templates map[string]*corev1.Node
}

type lease struct {
	namespace, name string
	holder          string
	renewed         time.Time
}

func readClusterAutoscaler(snap *cluster.Snapshot, now time.Time) *caState {
	ca := &caState{}
	found := false
	for _, cm := range snap.ConfigMaps {
		if cm.Namespace != StatusNamespace || cm.Name != StatusName {
			continue
		}
		found = true
		st, err := ParseStatus(cm.Data["status"])
		if err != nil {
			ca.statusErr = err
		} else {
			ca.status = &st
			ca.updated = st.Time
		}
		if t, ok := parseStatusTime(cm.Annotations[StatusUpdatedAnnotation]); ok && t.After(ca.updated) {
			ca.updated = t
		}
	}
	if l := findLease(snap.Other, StatusNamespace, leaseName); l != nil {
		found = true
		ca.lease = l
	}
	for _, d := range snap.Deployments {
		if d.Namespace == StatusNamespace && strings.Contains(d.Name, "cluster-autoscaler") {
			found = true
			ca.deployment = d
			break
		}
	}
	if !found {
		return nil
	}
	for _, e := range snap.Events {
		io := e.InvolvedObject
		if io.Kind == "ConfigMap" && io.Namespace == StatusNamespace && io.Name == StatusName {
			ca.cmEvents = append(ca.cmEvents, e)
		}
	}
	sort.SliceStable(ca.cmEvents, func(i, j int) bool { return eventTime(ca.cmEvents[i]).Before(eventTime(ca.cmEvents[j])) })
	ca.decideRunning(now)
	if ca.status != nil {
		ca.templates = groupTemplates(ca.status.NodeGroups, snap.Nodes)
	}
	return ca
}

// decideRunning tells from the status age, the Lease and the Deployment
// whether cluster-autoscaler runs.
func (ca *caState) decideRunning(now time.Time) {
	yes, no := true, false
	switch {
	case !ca.updated.IsZero() && now.Sub(ca.updated) <= statusStale:
		ca.running = &yes
		ca.evidence = append(ca.evidence, fmt.Sprintf("status ConfigMap %s/%s written %s ago", StatusNamespace, StatusName, age(now.Sub(ca.updated))))
	case ca.lease != nil && !ca.lease.renewed.IsZero() && now.Sub(ca.lease.renewed) <= leaseSlack:
		ca.running = &yes
		ca.evidence = append(ca.evidence, fmt.Sprintf("Lease %s/%s renewed %s ago by %s", ca.lease.namespace, ca.lease.name, age(now.Sub(ca.lease.renewed)), ca.lease.holder))
	case !ca.updated.IsZero():
		ca.running = &no
		ca.evidence = append(ca.evidence, fmt.Sprintf("status ConfigMap %s/%s last written %s ago (it is rewritten every scan, 10s by default)", StatusNamespace, StatusName, age(now.Sub(ca.updated))))
	case ca.lease != nil && !ca.lease.renewed.IsZero():
		ca.running = &no
		ca.evidence = append(ca.evidence, fmt.Sprintf("Lease %s/%s last renewed %s ago", ca.lease.namespace, ca.lease.name, age(now.Sub(ca.lease.renewed))))
	case ca.deployment != nil:
		ready := ca.deployment.Status.ReadyReplicas > 0
		ca.running = &ready
		ca.evidence = append(ca.evidence, fmt.Sprintf("Deployment %s/%s has %d ready replica(s)", ca.deployment.Namespace, ca.deployment.Name, ca.deployment.Status.ReadyReplicas))
	}
	if ca.statusErr != nil {
		ca.evidence = append(ca.evidence, fmt.Sprintf("status ConfigMap %s/%s unreadable: %v", StatusNamespace, StatusName, ca.statusErr))
	}
}

// findLease returns the coordination.k8s.io Lease ns/name among objs.
func findLease(objs []*unstructured.Unstructured, ns, name string) *lease {
	for _, u := range objs {
		gvk := u.GroupVersionKind()
		if gvk.Group != "coordination.k8s.io" || gvk.Kind != "Lease" || u.GetNamespace() != ns || u.GetName() != name {
			continue
		}
		l := &lease{namespace: ns, name: name}
		l.holder, _, _ = unstructured.NestedString(u.Object, "spec", "holderIdentity")
		if s, _, _ := unstructured.NestedString(u.Object, "spec", "renewTime"); s != "" {
			l.renewed, _ = time.Parse(time.RFC3339Nano, s)
		}
		return l
	}
	return nil
}

// explainClusterAutoscaler reads cluster-autoscaler's last word about the
// pod and its node groups.
func (s *State) explainClusterAutoscaler(pod *corev1.Pod, evs []*corev1.Event) *Explanation {
	ca := s.ca
	ex := &Explanation{Kind: KindClusterAutoscaler, Running: ca.running, Events: toEvents(evs)}
	ex.Evidence = append(ex.Evidence, ca.evidence...)
	groups := s.caGroups(pod)
	last := lastEvent(evs, ReasonTriggeredScaleUp, ReasonNotTriggerScaleUp)
	if last != nil {
		ex.Evidence = append(ex.Evidence, s.lastWord("cluster-autoscaler", last))
	}
	switch {
	case last != nil && last.Reason == ReasonTriggeredScaleUp:
		s.caTriggered(ex, groups, last)
	case last != nil:
		s.caNotTriggered(ex, pod, groups, last)
	default:
		ex.Verdict = VerdictNoEvent
		reasons, none := s.caGroupReasons(pod, groups)
		var takers []string
		for _, g := range groups.list {
			if g.Fits != nil && *g.Fits && (g.CanScaleUp == nil || *g.CanScaleUp) {
				takers = append(takers, g.Name)
			}
		}
		s.silence(ex, pod, sourceClusterAutoscaler, ca.running, reasons, none, takers)
	}
	ex.NodeGroups = groups.list
	return ex
}

// caGroupSet is the node groups for one pod, by name.
type caGroupSet struct {
	list []NodeGroup
	// sim holds the scheduler's result on each group's template node.
	sim map[string]scheduling.NodeResult
	pre *scheduling.Reason
}

func (g *caGroupSet) get(name string) *NodeGroup {
	for i := range g.list {
		if g.list[i].Name == name {
			return &g.list[i]
		}
	}
	g.list = append(g.list, NodeGroup{Name: name})
	return &g.list[len(g.list)-1]
}

// caGroups builds the status's node groups, what keeps each from growing,
// and whether the pod fits its template node.
func (s *State) caGroups(pod *corev1.Pod) *caGroupSet {
	set := &caGroupSet{}
	ca := s.ca
	if ca.status == nil {
		return set
	}
	var templates []*corev1.Node
	var daemons []*corev1.Pod
	tmplGroup := map[string]string{}
	for _, gs := range ca.status.NodeGroups {
		ng := NodeGroup{Name: gs.Name, MinSize: gs.MinSize, MaxSize: gs.MaxSize, TargetSize: gs.Target, Ready: gs.Ready, Health: gs.Health, ScaleUp: gs.ScaleUp}
		can := true
		if gs.Target != nil && gs.MaxSize != nil && *gs.Target >= *gs.MaxSize {
			can = false
			ng.Blockers = append(ng.Blockers, fmt.Sprintf("at its max size (%d of %d)", *gs.Target, *gs.MaxSize))
		}
		if gs.ScaleUp == "Backoff" {
			can = false
			ng.Backoff = s.backoffOf(gs)
			ng.Blockers = append(ng.Blockers, "in backoff after a failed scale-up"+s.backoffWords(ng.Backoff))
		}
		if gs.Health == "Unhealthy" || gs.ScaleUp == "Unhealthy" {
			can = false
			ng.Blockers = append(ng.Blockers, "unhealthy: too many of its nodes are unready or unregistered"+readyWords(gs))
		}
		ng.CanScaleUp = ptr(can)
		if n := ca.templates[gs.Name]; n != nil {
			ng.Template = "node/" + n.Name
			t := templateFromNode(n, gs.Name)
			tmplGroup[t.Name] = gs.Name
			templates = append(templates, t)
			daemons = append(daemons, s.daemonPodsFor(n, t)...)
		}
		set.list = append(set.list, ng)
	}
	if len(templates) == 0 {
		return set
	}
	results, pre := s.simulate(pod, templates, daemons...)
	set.pre = pre
	set.sim = map[string]scheduling.NodeResult{}
	for tname, group := range tmplGroup {
		r := results[tname]
		set.sim[group] = r
		ng := set.get(group)
		fits := pre == nil && len(r.Reasons) == 0
		ng.Fits = ptr(fits)
		ng.Blockers = append(ng.Blockers, simBlockers(r, pre)...)
	}
	return set
}

func readyWords(gs GroupStatus) string {
	var parts []string
	if gs.Ready != nil {
		parts = append(parts, "ready="+strconv.Itoa(*gs.Ready))
	}
	if gs.Registered != nil {
		parts = append(parts, "registered="+strconv.Itoa(*gs.Registered))
	}
	if gs.Target != nil {
		parts = append(parts, "target="+strconv.Itoa(*gs.Target))
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, " ") + ")"
}

// backoffOf combines the status's backoff information with the last
// FailedToScaleUpGroup event of the group.
func (s *State) backoffOf(gs GroupStatus) *Backoff {
	b := &Backoff{ErrorCode: gs.BackoffCode, ErrorMessage: gs.BackoffMessage}
	if !gs.ScaleUpSince.IsZero() {
		b.Since = ptr(gs.ScaleUpSince)
	}
	if e, msg := s.lastFailedScaleUp(gs.Name); e != nil {
		if b.ErrorMessage == "" {
			b.ErrorMessage = msg
		}
		if b.Since == nil {
			b.Since = ptr(eventTime(e))
		}
	}
	return b
}

func (s *State) lastFailedScaleUp(group string) (*corev1.Event, string) {
	var last *corev1.Event
	msg := ""
	for _, e := range s.ca.cmEvents {
		if e.Reason != ReasonFailedToScaleUpGroup {
			continue
		}
		if g, err, ok := ParseFailedScaleUp(e.Message); ok && g == group {
			last, msg = e, err
		}
	}
	return last, msg
}

// backoffWords: " since 12:03: the cloud provider refused: <its message>".
func (s *State) backoffWords(b *Backoff) string {
	var w strings.Builder
	if b.Since != nil {
		w.WriteString(" since " + s.clock(*b.Since))
	}
	w.WriteString(": " + errorCodeWords(b.ErrorCode))
	if b.ErrorMessage != "" {
		w.WriteString(": " + oneLine(b.ErrorMessage))
	}
	return w.String()
}

// errorCodeWords says a scale-up error code in words. The codes are the
// cloud providers' (GCE's QUOTA_EXCEEDED, ...) or cluster-autoscaler's own
// (cloudProviderError, timeout).
func errorCodeWords(code string) string {
	c := strings.ToUpper(code)
	switch {
	case c == "":
		return "the last scale-up failed"
	case c == "CLOUDPROVIDERERROR":
		return "the cloud provider refused"
	case strings.Contains(c, "QUOTA"):
		return "the cloud provider's quota is exhausted (" + code + ")"
	case strings.Contains(c, "STOCKOUT"), strings.Contains(c, "RESOURCE_POOL_EXHAUSTED"), strings.Contains(c, "OUT_OF_RESOURCES"), strings.Contains(c, "INSUFFICIENT"), strings.Contains(c, "CAPACITY"):
		return "the cloud provider has no capacity for this instance type (" + code + ")"
	case strings.Contains(c, "IP_SPACE"):
		return "the subnet has no free IP addresses (" + code + ")"
	case strings.Contains(c, "PERMISSION"), strings.Contains(c, "UNAUTHORIZED"), strings.Contains(c, "FORBIDDEN"):
		return "cluster-autoscaler lacks permission in the cloud provider (" + code + ")"
	case c == "TIMEOUT":
		return "the new nodes did not register in time (--max-node-provision-time)"
	}
	return "the last scale-up failed (" + code + ")"
}

// caTriggered: the last word was TriggeredScaleUp. The node is coming,
// unless the scale-up failed or stalled since.
func (s *State) caTriggered(ex *Explanation, groups *caGroupSet, e *corev1.Event) {
	ex.Verdict = VerdictTriggered
	at := eventTime(e)
	ups := ParseTriggeredScaleUp(e.Message)
	var words []string
	for _, up := range ups {
		ng := groups.get(up.Group)
		ng.Triggered = ptr(up.SizeChange)
		words = append(words, fmt.Sprintf("%s %d->%d (max %d)", up.Group, up.From, up.To, up.Max))
		if e, msg := s.lastFailedScaleUp(up.Group); e != nil && !eventTime(e).Before(at) {
			ex.Reasons = append(ex.Reasons, Reason{Code: "scale-up-failed", NodeGroup: up.Group, Source: "event", Raw: e.Message,
				Message: fmt.Sprintf("the scale-up of %s failed at %s: %s", up.Group, s.clock(eventTime(e)), oneLine(msg)),
				Fix:     fmt.Sprintf("fix the cloud provider error for group %s; cluster-autoscaler retries it when its backoff ends (5 minutes at first, up to 30)", up.Group)})
			continue
		}
		if ng.Backoff != nil && (ng.Backoff.Since == nil || !ng.Backoff.Since.Before(at)) {
			ex.Reasons = append(ex.Reasons, Reason{Code: "backoff", NodeGroup: up.Group, Source: "status",
				Message: "the scale-up failed: backoff after failed scale-up" + s.backoffWords(ng.Backoff),
				Fix:     backoffFix(up.Group, ng.Backoff)})
		}
	}
	ex.Summary = fmt.Sprintf("scale-up triggered %s ago: %s", age(s.now.Sub(at)), strings.Join(words, ", "))
	if len(ex.Reasons) == 0 && s.now.Sub(at) > maxNodeProvisionTime {
		ex.Reasons = append(ex.Reasons, Reason{Code: "node-not-registered", Source: "event", Raw: e.Message,
			Message: fmt.Sprintf("the scale-up was asked for %s ago and the pod still waits: cluster-autoscaler gives new nodes %s to register (--max-node-provision-time), then backs the group off", age(s.now.Sub(at)), age(maxNodeProvisionTime)),
			Fix:     "look at the group's instances in the cloud provider (launch errors, quota, image, bootstrap) and at nodes that never became Ready"})
	}
	if len(ex.Reasons) > 0 {
		ex.Summary += "; " + ex.Reasons[0].Short()
	}
}

// maxSizeReason: the group is at its max size.
func maxSizeReason(ng NodeGroup, source, raw string) Reason {
	return Reason{Code: "max-node-group-size", NodeGroup: ng.Name, Source: source, Raw: raw,
		Message: fmt.Sprintf("max node group size reached: %s is at %d of max %d", ng.Name, *ng.TargetSize, *ng.MaxSize),
		Fix:     fmt.Sprintf("raise the group's max from %d (%s: the cloud provider's group maximum, or cluster-autoscaler's --nodes=MIN:MAX:%s)", *ng.MaxSize, ng.Name, ng.Name),
		short:   fmt.Sprintf("%s at its max size (%d)", ng.Name, *ng.MaxSize)}
}

// backoffReason: the group is backed off after a failed scale-up.
func (s *State) backoffReason(ng NodeGroup, source, raw string) Reason {
	short := ng.Name + " in backoff after a failed scale-up"
	if b := ng.Backoff; b != nil {
		if b.Since != nil {
			short += " since " + s.clock(*b.Since)
		}
		if b.ErrorCode != "" {
			short += " (" + b.ErrorCode + ")"
		}
	}
	return Reason{Code: "backoff", NodeGroup: ng.Name, Source: source, Raw: raw,
		Message: fmt.Sprintf("%s: backoff after failed scale-up%s", ng.Name, s.backoffWords(ng.Backoff)),
		Fix:     backoffFix(ng.Name, ng.Backoff), short: short}
}

// unhealthyReason: the group has too many unready or unregistered nodes.
func unhealthyReason(group, source, raw string) Reason {
	return Reason{Code: "not-ready", NodeGroup: group, Source: source, Raw: raw,
		Message: fmt.Sprintf("not ready for scale-up: %s is unhealthy (too many unready or unregistered nodes)", group),
		Fix:     fmt.Sprintf("repair or remove the unready and unregistered nodes of %s; cluster-autoscaler does not grow an unhealthy group", group),
		short:   group + " unhealthy"}
}

// groupFilterReason: the pod does not pass a scheduler filter on the
// group's template node.
func groupFilterReason(code, group string, r scheduling.Reason, pod *corev1.Pod, source, raw string) Reason {
	return Reason{Code: code, NodeGroup: group, Source: source, Raw: raw,
		Message: group + ": " + reasonWords(r), Fix: filterFix(r, "node group "+group, pod), short: group + ": " + r.Message}
}

func backoffFix(group string, b *Backoff) string {
	fix := fmt.Sprintf("fix the cause in the cloud provider for group %s", group)
	if b != nil && b.ErrorMessage != "" {
		fix += " (" + oneLine(b.ErrorMessage) + ")"
	}
	return fix + "; cluster-autoscaler retries it when the backoff ends (5 minutes at first, doubling up to 30)"
}

// caNotTriggered: the last word was NotTriggerScaleUp. Each reason is put
// in words and, where the status or the template check tells, pinned on
// the groups it concerns.
func (s *State) caNotTriggered(ex *Explanation, pod *corev1.Pod, groups *caGroupSet, e *corev1.Event) {
	ex.Verdict = VerdictNotTriggered
	for _, cr := range ParseNotTriggerScaleUp(e.Message) {
		ex.Reasons = append(ex.Reasons, s.caReasons(pod, groups, cr, e.Message)...)
	}
	// What keeps the groups the pod fits from growing comes first: that is
	// the fix that brings a node.
	fits := map[string]bool{}
	for _, g := range groups.list {
		fits[g.Name] = g.Fits == nil || *g.Fits
	}
	rank := func(r Reason) int {
		if r.NodeGroup == "" || fits[r.NodeGroup] {
			return 0
		}
		return 1
	}
	sort.SliceStable(ex.Reasons, func(i, j int) bool { return rank(ex.Reasons[i]) < rank(ex.Reasons[j]) })
	ex.Summary = "no scale-up: " + joinCut(shorts(ex.Reasons), 3)
}

// caReasons turns one counted reason of a NotTriggerScaleUp event into
// reasons naming the node groups it is about, or one generic reason when
// the groups' state does not show which.
func (s *State) caReasons(pod *corev1.Pod, groups *caGroupSet, cr CountedReason, raw string) []Reason {
	code := caReasonCode(cr.Text)
	count := ""
	if cr.Count > 0 {
		count = fmt.Sprintf("%d node group(s): ", cr.Count)
	}
	generic := func(msg, fix string) []Reason {
		return []Reason{{Code: code, Source: "event", Raw: raw, Message: msg, Fix: fix}}
	}
	switch code {
	case "max-node-group-size":
		if out := maxSizeReasons(groups, raw); len(out) > 0 {
			return out
		}
		return generic(count+"max node group size reached", "raise the max size of the node groups the pod fits")
	case "backoff":
		var out []Reason
		for _, ng := range groups.list {
			if ng.Backoff == nil {
				continue
			}
			out = append(out, s.backoffReason(ng, "event", raw))
		}
		if len(out) > 0 {
			return out
		}
		return generic(count+"backoff after failed scale-up", "look at the FailedToScaleUpGroup events on "+StatusNamespace+"/"+StatusName+" and fix the cloud provider error; the backoff ends by itself")
	case "not-ready":
		var out []Reason
		for _, ng := range groups.list {
			if ng.Health == "Unhealthy" || ng.ScaleUp == "Unhealthy" {
				out = append(out, unhealthyReason(ng.Name, "event", raw))
			}
		}
		if len(out) > 0 {
			return out
		}
		return generic(count+"not ready for scale-up (unhealthy group)", "repair or remove the groups' unready and unregistered nodes")
	case "max-resource-limit":
		res := strings.TrimSuffix(strings.TrimPrefix(cr.Text, "max cluster "), " limit reached")
		return generic("the cluster-wide "+res+" limit is reached", "raise cluster-autoscaler's cluster-wide limits (--cores-total, --memory-total, --gpu-total) for "+res)
	case "quota-exceeded":
		return generic(count+cr.Text, "raise the capacity quota named (the cluster-wide --cores-total/--memory-total, or the CapacityQuota object)")
	case "max-nodes-total":
		limit := s.maxNodesTotal()
		msg := "the cluster is at cluster-autoscaler's node limit (--max-nodes-total)"
		fix := "raise --max-nodes-total"
		if limit != "" {
			msg = fmt.Sprintf("the cluster is at cluster-autoscaler's node limit (--max-nodes-total=%s)", limit)
			fix = "raise --max-nodes-total above " + limit
		}
		return generic(msg, fix)
	case "atomic-node-limit":
		return generic(count+"a zero-or-max group's whole scale-up would exceed --max-nodes-total", "raise --max-nodes-total or lower the group's max")
	case "all-or-nothing":
		return generic(count+"not all pods of the request would fit and the scale-up is all-or-nothing", "lower the number of pods requested together, or raise the groups' max")
	case "expander-filtered":
		return generic(count+"the expander discarded every option", "check the expander's configuration (--expander, the priority ConfigMap cluster-autoscaler-priority-expander)")
	case "vertical-headroom":
		return generic(count+"a node of the group can be resized instead of adding one", "")
	}
	if out := templateFilterReasons(pod, groups, cr.Text, code, raw); len(out) > 0 {
		return out
	}
	return generic(count+cr.Text, "make the pod fit a node group's nodes: "+genericFilterFix(cr.Text))
}

// maxSizeReasons names the groups at their max size: recent releases count
// only the groups the pod fits, older ones every group at its max.
func maxSizeReasons(groups *caGroupSet, raw string) []Reason {
	var fitting, all []Reason
	for _, ng := range groups.list {
		if ng.MaxSize == nil || ng.TargetSize == nil || *ng.TargetSize < *ng.MaxSize {
			continue
		}
		r := maxSizeReason(ng, "event", raw)
		all = append(all, r)
		if ng.Fits == nil || *ng.Fits {
			fitting = append(fitting, r)
		}
	}
	if len(fitting) > 0 {
		return fitting
	}
	return all
}

// templateFilterReasons reads text as a scheduler filter's reason on the
// groups' template nodes and names the groups whose template fails the same
// way here (cluster-autoscaler, like the scheduler, reports the first
// failing filter only).
func templateFilterReasons(pod *corev1.Pod, groups *caGroupSet, text, code, raw string) []Reason {
	var out []Reason
	for _, name := range slices.Sorted(maps.Keys(groups.sim)) {
		for _, r := range groups.sim[name].Reasons {
			if r.Reported && sameSchedulerReason(r.Message, text) {
				out = append(out, groupFilterReason(code, name, r, pod, "event", raw))
			}
		}
	}
	if groups.pre != nil && sameSchedulerReason(groups.pre.Message, text) {
		out = append(out, Reason{Code: code, Source: "event", Raw: raw, Message: reasonWords(*groups.pre), Fix: filterFix(*groups.pre, "", pod), short: groups.pre.Message})
	}
	return out
}

// maxNodesTotal reads --max-nodes-total from the last MaxNodesTotalReached
// event ("Max total nodes in cluster reached: 20").
func (s *State) maxNodesTotal() string {
	v := ""
	for _, e := range s.ca.cmEvents {
		if e.Reason == reasonMaxNodesTotalReached {
			if i := strings.LastIndex(e.Message, ": "); i >= 0 {
				v = strings.TrimSpace(e.Message[i+2:])
			}
		}
	}
	return v
}

// sameSchedulerReason compares a scheduler reason with one an autoscaler
// reported. Before 1.35 the taint reason named the taint
// ("node(s) had untolerated taint {dedicated: gpu}").
func sameSchedulerReason(ours, theirs string) bool {
	if ours == theirs {
		return true
	}
	const taint = "node(s) had untolerated taint"
	return strings.HasPrefix(ours, taint) && strings.HasPrefix(theirs, taint)
}

// groupTemplates picks, for each node group, a node that belongs to it:
// the groups' names are cloud-provider IDs (an ASG name, a MIG URL, a VMSS
// name), the nodes carry their node pool's name in a well-known label, or
// are named after the group (GCE).
func groupTemplates(groups []GroupStatus, nodes []*corev1.Node) map[string]*corev1.Node {
	out := map[string]*corev1.Node{}
	best := map[string]int{}
	sorted := append([]*corev1.Node(nil), nodes...)
	sort.Slice(sorted, func(i, j int) bool {
		if a, b := usableTemplate(sorted[i]), usableTemplate(sorted[j]); a != b {
			return a
		}
		return sorted[i].Name < sorted[j].Name
	})
	for _, n := range sorted {
		group, score := "", 0
		for _, g := range groups {
			if sc := nodeInGroup(n, g.Name); sc > score {
				group, score = g.Name, sc
			}
		}
		if group == "" || score <= best[group] {
			continue
		}
		best[group] = score
		out[group] = n
	}
	return out
}

// usableTemplate prefers Ready, schedulable nodes as templates.
func usableTemplate(n *corev1.Node) bool {
	return !n.Spec.Unschedulable && cluster.NodeReady(n)
}

// nodePoolLabels carry a node's node pool or group name, by platform.
var nodePoolLabels = []string{
	"eks.amazonaws.com/nodegroup",
	"alpha.eksctl.io/nodegroup-name",
	"cloud.google.com/gke-nodepool",
	"kubernetes.azure.com/agentpool",
	"agentpool",
	"kops.k8s.io/instancegroup",
	"doks.digitalocean.com/node-pool",
	"node.kubernetes.io/instancegroup",
	"cluster.x-k8s.io/deployment-name",
	"kwok-nodegroup",
}

// nodeInGroup scores how surely node n belongs to the group named id: 0
// not at all; 4 a label names it exactly; 3 GCE naming (the MIG name
// without "-grp" prefixes the node name); 2 a label names the last path
// segment; 1 a label's value is a delimited part of the ID (ASG
// "eks-workers-1a2b", VMSS "aks-workers-123-vmss").
func nodeInGroup(n *corev1.Node, id string) int {
	last := id
	if i := strings.LastIndex(id, "/"); i >= 0 {
		last = id[i+1:]
	}
	score := 0
	for _, k := range nodePoolLabels {
		v := n.Labels[k]
		switch {
		case v == "":
		case v == id:
			score = max(score, 4)
		case v == last:
			score = max(score, 2)
		case containsDelimited(id, v):
			score = max(score, 1)
		}
	}
	if base, ok := strings.CutSuffix(last, "-grp"); ok && strings.HasPrefix(n.Name, base+"-") {
		score = max(score, 3)
	}
	return score
}

// containsDelimited: v occurs in s as a whole part followed by an ID: bounded
// by the start or one of - _ . / before, and after by the end, a "." or
// "/" (kops' "nodes.cluster.example.com"), or a part holding a digit (the
// "-6ac6e2d4" of "eks-workers-6ac6e2d4") — so "workers" is not found in
// "eks-workers-large-6ac6e2d4".
func containsDelimited(s, v string) bool {
	delim := func(b byte) bool { return b == '-' || b == '_' || b == '.' || b == '/' }
	for i := 0; ; {
		j := strings.Index(s[i:], v)
		if j < 0 {
			return false
		}
		j += i
		end := j + len(v)
		if (j == 0 || delim(s[j-1])) && (end == len(s) || s[end] == '.' || s[end] == '/' || delim(s[end]) && idPart(s[end+1:])) {
			return true
		}
		i = j + 1
	}
}

// idPart: the part of s up to its first delimiter holds a digit.
func idPart(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '-' || c == '_' || c == '.' || c == '/':
			return false
		case c >= '0' && c <= '9':
			return true
		}
	}
	return false
}

// transientTaints are taints a node has for a while (or a template never
// has): the node lifecycle's and cluster-autoscaler's own.
var transientTaints = map[string]bool{
	corev1.TaintNodeNotReady:                         true,
	corev1.TaintNodeUnreachable:                      true,
	corev1.TaintNodeUnschedulable:                    true,
	corev1.TaintNodeMemoryPressure:                   true,
	corev1.TaintNodeDiskPressure:                     true,
	corev1.TaintNodePIDPressure:                      true,
	corev1.TaintNodeNetworkUnavailable:               true,
	"ToBeDeletedByClusterAutoscaler":                 true,
	"DeletionCandidateOfClusterAutoscaler":           true,
	"node.cloudprovider.kubernetes.io/uninitialized": true,
}

// TemplateSources names the nodes cluster-autoscaler's node groups are
// imagined from: the DaemonSet pods on them run on every new node of the
// group too, so a loader that did not list their pods should.
func (s *State) TemplateSources() []string {
	if s.ca == nil {
		return nil
	}
	var out []string
	for _, n := range s.ca.templates {
		out = append(out, n.Name)
	}
	sort.Strings(out)
	return out
}

// daemonPodsFor copies the DaemonSet pods running on n onto its template
// t: cluster-autoscaler's template node of a group carries them, since they
// start on every node the group adds.
func (s *State) daemonPodsFor(n, t *corev1.Node) []*corev1.Pod {
	var out []*corev1.Pod
	for _, p := range s.snap.Pods {
		if p.Spec.NodeName != n.Name || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed || !ownedByDaemonSet(p) {
			continue
		}
		c := p.DeepCopy()
		c.Name += "-" + t.Name
		c.UID += "-" + types.UID(t.Name)
		c.Spec.NodeName = t.Name
		out = append(out, c)
	}
	return out
}

func ownedByDaemonSet(p *corev1.Pod) bool {
	for _, ref := range p.OwnerReferences {
		if ref.Controller != nil && *ref.Controller && ref.Kind == "DaemonSet" {
			return true
		}
	}
	return false
}

// templateFromNode is a new node of group as cluster-autoscaler imagines
// it from an existing one: its labels (a fresh hostname), lasting taints
// and allocatable, Ready, and nothing running on it.
func templateFromNode(n *corev1.Node, group string) *corev1.Node {
	name := templateName(group)
	t := &corev1.Node{}
	t.Name = name
	t.Labels = map[string]string{}
	for k, v := range n.Labels {
		t.Labels[k] = v
	}
	t.Labels[corev1.LabelHostname] = name
	for _, taint := range n.Spec.Taints {
		if !transientTaints[taint.Key] {
			t.Spec.Taints = append(t.Spec.Taints, taint)
		}
	}
	t.Status.Capacity = n.Status.Capacity.DeepCopy()
	t.Status.Allocatable = n.Status.Allocatable.DeepCopy()
	t.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}
	return t
}

package drain

import (
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	podutil "k8s.io/kubectl/pkg/util/podutils"

	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/pkg/report"
	"github.com/ktriage/ktriage/pkg/scheduling"
)

// Simulate answers what `kubectl drain` with o's flags does to o.Nodes on the
// cluster in snap: every node is cordoned first, then drained in order. As
// kubectl does, the drain goes on to the next node when one fails (an error
// from its filters or from an eviction), and never gets past a node on
// which it waits for ever. snap is not changed. Nodes must exist in snap
// (see cluster.ResolveNodes).
func Simulate(snap *cluster.Snapshot, o Options) (*Result, error) {
	s := newSim(snap, o)
	if err := s.run(); err != nil {
		return nil, err
	}
	s.finish()
	return s.res, nil
}

// sim is the state of one simulated drain.
type sim struct {
	snap    *cluster.Snapshot
	o       Options
	eng     *scheduling.Engine
	budgets []*budget
	drained map[string]bool
	before  map[string]scheduling.Usage
	res     *Result
	// queue holds replacements the scheduler has not placed yet.
	queue []*replacement
	seq   int
	// touched budgets, for the report.
	touched map[*budget]bool
	// preempted are the victims, in order; finish copies them out.
	preempted []*Preempted
	// oneByOne cordons each node only when its turn comes, as draining
	// the nodes with one kubectl drain each does.
	oneByOne    bool
	warnedStale map[*budget]bool
	// gone are the pods (by scheduling.PodKey) that left their node; arrived are the
	// replacements bound to each node. A node drained later holds the
	// latter, not the former.
	gone    map[string]bool
	arrived map[string][]*corev1.Pod
}

// replacement is a pod a controller creates for an evicted (or preempted)
// pod, waiting to be scheduled.
type replacement struct {
	pod *corev1.Pod
	of  *corev1.Pod
	// plan or victim is the report entry to fill in.
	plan   *PodPlan
	victim *Preempted
	// ready: the replacement will become ready (its predecessor was).
	ready bool
	seq   int
	last  scheduling.Result
}

func newSim(snap *cluster.Snapshot, o Options) *sim {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	s := &sim{snap: snap, o: o, eng: scheduling.NewEngine(snap), drained: map[string]bool{},
		before: map[string]scheduling.Usage{}, touched: map[*budget]bool{}, warnedStale: map[*budget]bool{},
		gone: map[string]bool{}, arrived: map[string][]*corev1.Pod{},
		res: &Result{Reasons: []string{}, Nodes: []NodePlan{}, PDBs: []BudgetMath{}, Capacity: []Capacity{}, Preempted: []Preempted{}}}
	for _, n := range o.Nodes {
		s.drained[n] = true
	}
	for _, n := range snap.Nodes {
		if !s.drained[n.Name] {
			if u, ok := s.eng.UsageOf(n.Name); ok {
				s.before[n.Name] = u
			}
		}
	}
	for _, pdb := range snap.PDBs {
		s.budgets = append(s.budgets, newBudget(pdb))
	}
	return s
}

func (s *sim) run() error {
	if !s.oneByOne {
		for _, n := range s.o.Nodes {
			s.eng.Cordon(n)
		}
	}
	stopped := ""
	for _, n := range s.o.Nodes {
		if s.oneByOne {
			s.eng.Cordon(n)
		}
		if stopped != "" {
			np, err := s.notReached(n, stopped)
			if err != nil {
				return err
			}
			s.res.Nodes = append(s.res.Nodes, *np)
			continue
		}
		np, hangs, err := s.drainNode(n)
		if err != nil {
			return err
		}
		s.res.Nodes = append(s.res.Nodes, *np)
		if hangs {
			stopped = n
		}
	}
	return nil
}

// drainNode runs kubectl's filters on the node's pods, then evicts them in
// rounds: each round every pod still on the node is tried, the scheduler
// places the replacements, and the budgets recover for those that are
// ready. It ends when every pod is out or a round changes nothing. hangs
// reports that kubectl drain waits for ever on the node, rather than
// failing and going on to the next one.
func (s *sim) drainNode(name string) (np *NodePlan, hangs bool, err error) {
	np = &NodePlan{Name: name, Verdict: Safe, Pods: []PodPlan{}}
	view := &cluster.Snapshot{Pods: s.podsOn(name), DaemonSets: s.snap.DaemonSets}
	decisions, errs, err := decide(view, name, s.o)
	if err != nil {
		return nil, false, err
	}
	// kubectl gathers its errors in a map: sort them for a stable report.
	sort.Strings(errs)
	np.Errors = errs
	for _, d := range decisions {
		np.Pods = append(np.Pods, PodPlan{Namespace: d.pod.Namespace, Name: d.pod.Name, Owner: ownerString(d.pod),
			Action: d.action, Reason: d.message})
	}
	plans := make([]*PodPlan, len(np.Pods))
	for i := range np.Pods {
		plans[i] = &np.Pods[i]
	}
	if len(errs) > 0 {
		s.refuseNode(np, decisions, plans)
		return np, false, nil
	}
	toGo := s.leavers(decisions, plans)
	failedAny := false
	for round := 1; len(toGo) > 0; round++ {
		still, progressed, failed := s.evictRound(name, toGo, round)
		failedAny = failedAny || failed
		for _, b := range s.budgets {
			b.waiting = 0
		}
		placed := s.schedule()
		synced := false
		for _, b := range s.budgets {
			synced = b.sync() || synced
		}
		toGo = still
		if !progressed && !placed && !synced {
			break
		}
	}
	for _, l := range toGo {
		// Refused for good: kubectl drain retries for ever.
		l.plan.Action = ActionBlocked
		for _, b := range s.budgets {
			if b.covers(l.d.pod) {
				b.waiting++
			}
		}
	}
	if len(toGo) > 0 || failedAny {
		np.Verdict = Blocked
	}
	s.blockingBudgets(name, len(toGo))
	hangs = len(toGo) > 0
	if s.waitsForever(name, decisions, plans) {
		np.Verdict = Blocked
		hangs = true
	}
	return np, hangs, nil
}

// refuseNode reports a node whose filters returned errors: kubectl drain
// evicts nothing from it and goes on to the next one.
func (s *sim) refuseNode(np *NodePlan, decisions []podDecision, plans []*PodPlan) {
	np.Verdict = Blocked
	for i, d := range decisions {
		if d.action == ActionBlocked {
			s.add(filterRule(d.message), d.pod, "Pod", fmt.Sprintf("kubectl drain refuses the pod: %s", d.message), flagFix(d.message))
		} else if plans[i].Reason == "" && d.action != ActionSkip {
			plans[i].Reason = "not evicted: kubectl drain stops before evicting anything"
		}
	}
	for _, e := range np.Errors {
		s.res.Reasons = append(s.res.Reasons, fmt.Sprintf("node %s: %s", np.Name, e))
		if fix := flagFix(e); fix != "" {
			s.addFix(fix)
		}
	}
}

// leaving is a pod the drain evicts or deletes, with its line in the plan.
type leaving struct {
	d    podDecision
	plan *PodPlan
}

// leavers returns the pods the drain evicts or deletes, and counts each
// evicted pod against the budgets that cover it.
func (s *sim) leavers(decisions []podDecision, plans []*PodPlan) []leaving {
	var toGo []leaving
	for i, d := range decisions {
		switch d.action {
		case ActionEvict, ActionDelete:
			toGo = append(toGo, leaving{d, plans[i]})
			for _, b := range s.budgets {
				// The Eviction API does not consult budgets for pods it
				// can let go anyway (canIgnorePDB).
				if b.covers(d.pod) && d.action == ActionEvict && !canIgnorePDB(d.pod) {
					b.pods++
					s.touched[b] = true
				}
			}
		case ActionSkip:
			if plans[i].Reason == "" {
				plans[i].Reason = "skipped"
			}
		}
	}
	return toGo
}

// evictRound tries every pod still on the node once, as kubectl drain's
// goroutines do: still holds the pods answered 429, progressed says some
// pod left, failedAny that an eviction failed for good.
func (s *sim) evictRound(name string, toGo []leaving, round int) (still []leaving, progressed, failedAny bool) {
	for _, l := range toGo {
		if l.d.action == ActionEvict {
			a := evict(l.d.pod, s.budgets)
			if a.budget != nil {
				s.touched[a.budget] = true
			}
			switch a.kind {
			case retry:
				l.plan.Reason = "429 Too Many Requests: " + a.message
				if a.rule == RuleBudgetStale && !s.warnedStale[a.budget] {
					s.warnedStale[a.budget] = true
					s.add(RuleBudgetStale, a.budget.pdb, "PodDisruptionBudget", a.message+" (status.observedGeneration is behind metadata.generation): evictions wait until the disruption controller catches up",
						"check that kube-controller-manager's disruption controller runs")
				}
				if a.budget != nil {
					a.budget.waiting++
				}
				still = append(still, l)
				continue
			case failed:
				l.plan.Reason = "eviction fails: " + a.message
				l.plan.Action = ActionBlocked
				failedAny = true
				s.res.Reasons = append(s.res.Reasons, fmt.Sprintf("node %s: error when evicting pods/%q -n %q: %s", name, l.d.pod.Name, l.d.pod.Namespace, a.message))
				s.add(a.rule, l.d.pod, "Pod", a.message, failFix(a))
				continue
			}
			if a.budget != nil {
				a.budget.evicted++
				// It got through: forget the 429s it met before.
				l.plan.Reason = "evicted"
			} else if l.plan.Reason == "" {
				l.plan.Reason = "evicted"
			}
		} else if l.plan.Reason == "" {
			l.plan.Reason = "deleted (--disable-eviction: budgets do not apply)"
		}
		progressed = true
		l.plan.Round = round
		s.leave(l.d.pod, l.plan)
	}
	return still, progressed, failedAny
}

// notReached lists what kubectl's filters would do with the pods of a node
// the drain never gets to, because it waits for ever on an earlier one.
func (s *sim) notReached(name, stopped string) (*NodePlan, error) {
	msg := fmt.Sprintf("not drained: kubectl drain waits for ever on node %s first", stopped)
	np := &NodePlan{Name: name, Verdict: Blocked, Pods: []PodPlan{}, Errors: []string{msg}}
	decisions, _, err := decide(&cluster.Snapshot{Pods: s.podsOn(name), DaemonSets: s.snap.DaemonSets}, name, s.o)
	if err != nil {
		return nil, err
	}
	for _, d := range decisions {
		reason := msg
		if d.message != "" {
			reason = d.message + "; " + msg
		}
		np.Pods = append(np.Pods, PodPlan{Namespace: d.pod.Namespace, Name: d.pod.Name, Owner: ownerString(d.pod),
			Action: d.action, Reason: reason})
	}
	return np, nil
}

// podsOn are the pods on the node now: the snapshot's that have not left,
// and the replacements bound there since.
func (s *sim) podsOn(node string) []*corev1.Pod {
	var out []*corev1.Pod
	for _, pods := range [][]*corev1.Pod{s.snap.PodsOnNode(node), s.arrived[node]} {
		for _, p := range pods {
			if !s.gone[scheduling.PodKey(p)] {
				out = append(out, p)
			}
		}
	}
	return out
}

// leave removes the pod from the node and queues its replacement.
func (s *sim) leave(p *corev1.Pod, plan *PodPlan) {
	s.eng.Remove(p)
	s.gone[scheduling.PodKey(p)] = true
	if !replacedByController(p) {
		if p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
			if ref := metav1.GetControllerOf(p); ref == nil {
				s.add(RuleNotReplaced, p, "Pod", "the pod has no controller: once deleted nothing recreates it", "recreate it by hand if it is still needed")
			}
		}
		return
	}
	if p.DeletionTimestamp != nil && !replacedOnlyWhenGone(p) {
		// Its controller stopped counting it when it began terminating
		// and has created its replacement already: that one is in the
		// snapshot, Pending or placed.
		plan.Reason += "; its controller has replaced it already"
		return
	}
	plan.Replaced = true
	s.enqueue(&replacement{pod: replacementFor(p), of: p, plan: plan, ready: podutil.IsPodReady(p)})
	s.risks(p)
}

func (s *sim) enqueue(r *replacement) {
	s.seq++
	r.seq = s.seq
	s.queue = append(s.queue, r)
}

// schedule places the queued replacements as kube-scheduler's queue orders
// them (higher priority first, then the order they were created),
// preempting lower-priority pods where the scheduler would. It reports
// whether any was placed.
func (s *sim) schedule() bool {
	placedAny := false
	for {
		sort.SliceStable(s.queue, func(i, j int) bool {
			pi, pj := s.eng.Priority(s.queue[i].pod), s.eng.Priority(s.queue[j].pod)
			if pi != pj {
				return pi > pj
			}
			return s.queue[i].seq < s.queue[j].seq
		})
		placed := false
		var left []*replacement
		pass := s.queue
		for _, r := range pass {
			if s.place(r) {
				placed = true
				continue
			}
			left = append(left, r)
		}
		// A preemption queued the victims' replacements during the pass:
		// keep them, and go round again.
		s.queue = append(left, s.queue[len(pass):]...)
		placedAny = placedAny || placed
		if !placed || len(s.queue) == 0 {
			return placedAny
		}
	}
}

// place schedules one replacement, by preemption if need be.
func (s *sim) place(r *replacement) bool {
	res := s.eng.Evaluate(r.pod, scheduling.Options{})
	r.last = res
	host := s.eng.SelectHost(r.pod, res)
	if host == "" && res.Preemption != nil && res.Preemption.Node != "" {
		host = res.Preemption.Node
		s.preempt(r, res.Preemption)
	}
	if host == "" {
		return false
	}
	bound := s.eng.Bind(r.pod, host)
	if r.ready {
		// It becomes ready there, as its predecessor was.
		bound.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	}
	s.arrived[host] = append(s.arrived[host], bound)
	r.setDestination(host)
	if r.ready {
		for _, b := range s.budgets {
			if b.covers(r.pod) {
				b.healthy++
			}
		}
	}
	return true
}

func (r *replacement) setDestination(node string) {
	if r.plan != nil {
		r.plan.Destination = node
		r.plan.Pending = nil
	}
	if r.victim != nil {
		r.victim.Destination = node
	}
}

// preempt removes the victims the scheduler would evict for r.
func (s *sim) preempt(r *replacement, p *scheduling.Preemption) {
	victims := map[string]bool{}
	for _, v := range p.Victims {
		victims[v] = true
	}
	for _, v := range s.eng.PodsOn(p.Node) {
		if !victims[v.Namespace+"/"+v.Name] {
			continue
		}
		s.eng.Remove(v)
		s.gone[scheduling.PodKey(v)] = true
		if podutil.IsPodReady(v) {
			for _, b := range s.budgets {
				if b.covers(v) {
					b.healthy--
					b.allowed = max(0, b.allowed-1)
				}
			}
		}
		victim := &Preempted{Namespace: v.Namespace, Name: v.Name, Node: p.Node,
			By: r.of.Namespace + "/" + r.of.Name, Replaced: replacedByController(v)}
		s.preempted = append(s.preempted, victim)
		s.add(RulePreemption, v, "Pod", fmt.Sprintf("preempted on %s by the replacement of %s/%s (priority %d above %d)",
			p.Node, r.of.Namespace, r.of.Name, s.eng.Priority(r.pod), s.eng.Priority(v)), "add capacity so that the replacement fits without preemption, or accept that this pod is evicted")
		if victim.Replaced {
			s.enqueue(&replacement{pod: replacementFor(v), of: v, victim: victim, ready: podutil.IsPodReady(v)})
		}
	}
}

// finish explains what stays Pending, fills the budgets, capacity and
// verdict.
func (s *sim) finish() {
	res := s.res
	for _, v := range s.preempted {
		res.Preempted = append(res.Preempted, *v)
	}
	for _, r := range s.queue {
		p := &Pending{Message: r.last.Message, Nodes: r.last.Nodes}
		if r.plan != nil {
			r.plan.Pending = p
		}
		msg := "its replacement stays Pending: " + r.last.Message
		s.add(RuleReplacementStuck, r.of, "Pod", msg, s.capacityFix(r))
	}
	blocked, pending := false, len(s.queue) > 0
	for _, n := range res.Nodes {
		if n.Verdict == Blocked {
			blocked = true
		}
	}
	for i := range res.Nodes {
		if res.Nodes[i].Verdict == Safe && pending && s.nodeHasPending(&res.Nodes[i]) {
			res.Nodes[i].Verdict = Unschedulable
		}
	}
	switch {
	case blocked:
		res.Verdict = Blocked
	case pending:
		res.Verdict = Unschedulable
		res.Reasons = append(res.Reasons, fmt.Sprintf("%d replacement pod(s) find no node and stay Pending", len(s.queue)))
	default:
		res.Verdict = Safe
	}
	for _, b := range s.budgets {
		if !s.touched[b] {
			continue
		}
		bm := BudgetMath{Namespace: b.pdb.Namespace, Name: b.pdb.Name,
			DesiredHealthy: b.pdb.Status.DesiredHealthy, CurrentHealthy: b.pdb.Status.CurrentHealthy,
			DisruptionsAllowed: b.pdb.Status.DisruptionsAllowed, ExpectedPods: b.pdb.Status.ExpectedPods,
			Evicted: b.evicted, Pods: b.pods}
		if b.waiting > 0 {
			bm.Blocks = true
			bm.Reason, _ = b.deadlock()
		}
		res.PDBs = append(res.PDBs, bm)
	}
	sort.Slice(res.PDBs, func(i, j int) bool {
		return res.PDBs[i].Namespace+"/"+res.PDBs[i].Name < res.PDBs[j].Namespace+"/"+res.PDBs[j].Name
	})
	names := make([]string, 0, len(s.before))
	for n := range s.before {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		after, _ := s.eng.UsageOf(n)
		res.Capacity = append(res.Capacity, Capacity{Node: n, Allocatable: amounts(s.before[n].Allocatable),
			Before: amounts(s.before[n].Requested), After: amounts(after.Requested)})
	}
}

func (s *sim) nodeHasPending(n *NodePlan) bool {
	for _, p := range n.Pods {
		if p.Replaced && p.Destination == "" {
			return true
		}
	}
	return false
}

// blockingBudgets reports the budgets that keep pods on the node for ever.

func amounts(l corev1.ResourceList) Amounts {
	return Amounts{CPU: l.Cpu().String(), Memory: l.Memory().String(), Pods: l.Pods().Value()}
}

// replacedByController: a controller recreates the pod elsewhere once it is
// gone. DaemonSet pods belong to their node; finished pods are not rerun.
func replacedByController(p *corev1.Pod) bool {
	ref := metav1.GetControllerOf(p)
	if ref == nil || ref.Kind == "DaemonSet" {
		return false
	}
	return p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed
}

// replacedOnlyWhenGone: a StatefulSet recreates a pod (same name) only
// once the old one is deleted; ReplicaSets and Jobs replace a pod as soon as
// it starts terminating.
func replacedOnlyWhenGone(p *corev1.Pod) bool {
	ref := metav1.GetControllerOf(p)
	return ref != nil && ref.Kind == "StatefulSet"
}

// replacementFor is the pod the controller creates in p's place: the same
// spec and labels, not bound, not yet started.
func replacementFor(p *corev1.Pod) *corev1.Pod {
	r := p.DeepCopy()
	r.UID = types.UID("replacement-of-" + scheduling.PodKey(p))
	r.ResourceVersion = ""
	r.DeletionTimestamp = nil
	r.DeletionGracePeriodSeconds = nil
	r.Spec.NodeName = ""
	r.Status = corev1.PodStatus{Phase: corev1.PodPending}
	return r
}

func ownerString(p *corev1.Pod) string {
	if ref := metav1.GetControllerOf(p); ref != nil {
		return ref.Kind + "/" + ref.Name
	}
	return ""
}

// add records a finding about an object.
func (s *sim) add(rule string, obj metav1.Object, kind, msg, fix string) {
	sev := report.SeverityError
	if r, ok := report.LookupRule(rule); ok {
		sev = r.Severity
	}
	s.res.Findings = append(s.res.Findings, report.Finding{RuleID: rule, Severity: sev,
		Object: report.RefFor(kind, obj), Message: msg, Fix: fix})
}

func (s *sim) addFix(fix string) {
	for _, f := range s.res.Fixes {
		if f == fix {
			return
		}
	}
	s.res.Fixes = append(s.res.Fixes, fix)
}

// filterRule maps kubectl's filter texts to rule IDs.
func filterRule(msg string) string {
	switch {
	case strings.Contains(msg, "--ignore-daemonsets"):
		return RuleDaemonSet
	case strings.Contains(msg, "--force"):
		return RuleUnmanaged
	case strings.Contains(msg, "--delete-emptydir-data"):
		return RuleLocalStorage
	}
	return RuleFilterError
}

// flagFix turns kubectl's "(use --flag to ...)" hint into a fix.
func flagFix(msg string) string {
	i := strings.Index(msg, "(use --")
	if i < 0 {
		return ""
	}
	flag := msg[i+len("(use "):]
	if j := strings.IndexAny(flag, " )"); j >= 0 {
		flag = flag[:j]
	}
	return "add " + flag + " to kubectl drain"
}

func failFix(a answer) string {
	switch a.rule {
	case RuleMultipleBudgets:
		return "make the PodDisruptionBudgets' selectors disjoint so that the pod has one budget"
	case RuleBudgetNegative:
		return "check the budget with kubectl describe pdb; its status is inconsistent"
	}
	return ""
}

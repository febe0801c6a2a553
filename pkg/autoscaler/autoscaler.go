package autoscaler

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/pkg/scheduling"
)

// Kind names the autoscaler. The values are a contract (JSON "kind").
type Kind string

const (
	KindClusterAutoscaler Kind = "cluster-autoscaler"
	KindKarpenter         Kind = "karpenter"
	KindNone              Kind = "none"
)

// Verdict is what the autoscaler did about the pod. The values are a
// contract (JSON "verdict").
type Verdict string

const (
	// VerdictTriggered: the autoscaler decided to add a node for the pod
	// (cluster-autoscaler's TriggeredScaleUp, Karpenter's nomination).
	VerdictTriggered Verdict = "scale-up-triggered"
	// VerdictNotTriggered: the autoscaler looked at the pod and will not add
	// a node (NotTriggerScaleUp, Karpenter's FailedScheduling).
	VerdictNotTriggered Verdict = "not-triggered"
	// VerdictNoEvent: there is an autoscaler but it said nothing about the
	// pod.
	VerdictNoEvent Verdict = "no-event"
	// VerdictNone: no autoscaler was found; no node comes by itself.
	VerdictNone Verdict = "none"
)

// Explanation is the autoscaler's side of one unschedulable pod.
type Explanation struct {
	Kind    Kind    `json:"kind"`
	Verdict Verdict `json:"verdict"`
	// Summary says the answer in one line.
	Summary string `json:"summary"`
	// Running says whether the autoscaler is running, when that could be
	// told (status age, Lease, Deployment).
	Running *bool `json:"running,omitempty"`
	// Reasons are why a node does not come (or what went wrong after it was
	// asked for), each in words, with the node group it concerns and a fix.
	Reasons []Reason `json:"reasons"`
	// NodeGroups are cluster-autoscaler's node groups or Karpenter's
	// NodePools, as they concern the pod.
	NodeGroups []NodeGroup `json:"nodeGroups"`
	// Events are the autoscaler's own events about the pod, oldest first.
	Events []Event `json:"events,omitempty"`
	// Evidence lists the facts the verdict rests on.
	Evidence []string `json:"evidence,omitempty"`
}

// Reason is one cause, in words. Code is a stable identifier of the kind of
// cause (e.g. "max-node-group-size", "backoff", "taint", "limits").
type Reason struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// NodeGroup names the node group or NodePool the reason concerns.
	NodeGroup string `json:"nodeGroup,omitempty"`
	Fix       string `json:"fix,omitempty"`
	// Source says where the reason was read: "event" (the autoscaler's
	// event on the pod), "status" (its status ConfigMap or objects),
	// "simulation" (the scheduler's filters on a template node) or "pod".
	Source string `json:"source"`
	// Raw is the autoscaler's own text the reason was read from.
	Raw string `json:"raw,omitempty"`
	// short says it in a few words for the one-line summary.
	short string
}

// Short is the reason in a few words.
func (r Reason) Short() string {
	if r.short != "" {
		return r.short
	}
	return r.Message
}

// shorts are the reasons in a few words each, once each.
func shorts(rs []Reason) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range rs {
		if s := r.Short(); !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// NodeGroup is a cluster-autoscaler node group or a Karpenter NodePool.
type NodeGroup struct {
	Name string `json:"name"`
	// cluster-autoscaler, from its status ConfigMap.
	MinSize    *int     `json:"minSize,omitempty"`
	MaxSize    *int     `json:"maxSize,omitempty"`
	TargetSize *int     `json:"targetSize,omitempty"`
	Ready      *int     `json:"ready,omitempty"`
	Health     string   `json:"health,omitempty"`
	ScaleUp    string   `json:"scaleUp,omitempty"`
	Backoff    *Backoff `json:"backoff,omitempty"`
	// Triggered is the scale-up the autoscaler's event announced for this
	// group.
	Triggered *SizeChange `json:"triggered,omitempty"`
	// Karpenter, from the NodePool and its NodeClaims.
	Weight     *int32            `json:"weight,omitempty"`
	Limits     map[string]string `json:"limits,omitempty"`
	InUse      map[string]string `json:"inUse,omitempty"`
	NodeClaims *int              `json:"nodeClaims,omitempty"`
	// Template says what the template node was built from: "node/NAME"
	// (a node of the group), "nodepool" (the NodePool's template), or ""
	// when there was nothing to build it from.
	Template string `json:"template,omitempty"`
	// Fits: the pod passes the scheduler's filters on the template node
	// (unset when there is no template).
	Fits *bool `json:"fits,omitempty"`
	// CanScaleUp: the group can add a node now (below its max, not backed
	// off, healthy, limits left).
	CanScaleUp *bool `json:"canScaleUp,omitempty"`
	// Blockers say why the group does not take the pod.
	Blockers []string `json:"blockers,omitempty"`
}

// Backoff is a node group's scale-up backoff after a failed scale-up.
type Backoff struct {
	Since        *time.Time `json:"since,omitempty"`
	ErrorCode    string     `json:"errorCode,omitempty"`
	ErrorMessage string     `json:"errorMessage,omitempty"`
}

// SizeChange is a scale-up cluster-autoscaler announced: "{group 1->3 (max: 5)}".
type SizeChange struct {
	From int `json:"from"`
	To   int `json:"to"`
	Max  int `json:"max"`
}

// Event is an autoscaler event about the pod.
type Event struct {
	Reason  string    `json:"reason"`
	Message string    `json:"message"`
	Time    time.Time `json:"time"`
	Count   int32     `json:"count,omitempty"`
}

// Options tune the analysis.
type Options struct {
	// Now is the analysis time; zero means time.Now().
	Now time.Time
	// Grace is how long a pod may be unschedulable without a word from a
	// running autoscaler before its silence is a finding; zero means
	// DefaultGrace.
	Grace time.Duration
	// Unreadable names what could not be read (forbidden, API not served),
	// in words; it qualifies a "no autoscaler found" answer.
	Unreadable []string
}

// DefaultGrace: cluster-autoscaler scans every 10 seconds and Karpenter
// batches pods for at most 10 seconds; three minutes of silence is telling.
const DefaultGrace = 3 * time.Minute

// statusStale: cluster-autoscaler rewrites its status ConfigMap every loop
// (10 seconds by default); one not touched for this long is not running.
const statusStale = 5 * time.Minute

// leaseSlack: a leader Lease renewed within this long is held by a running
// process (lease durations are 15 seconds by default).
const leaseSlack = 2 * time.Minute

// State is what the snapshot says about the cluster's autoscaler.
type State struct {
	snap *cluster.Snapshot
	opts Options
	now  time.Time
	ca   *caState
	karp *karpState
	// podEvents are the autoscalers' events by pod UID, then by
	// namespace/name for events without a UID, oldest first.
	podEvents map[string][]*corev1.Event
}

// Read parses the autoscaler objects in snap: the status ConfigMap, Leases,
// Deployments and events of cluster-autoscaler, Karpenter's NodePools and
// NodeClaims (in snap.Other), and the nodes and pods template checks need.
func Read(snap *cluster.Snapshot, opts Options) *State {
	if snap == nil {
		snap = &cluster.Snapshot{}
	}
	s := &State{snap: snap, opts: opts, now: opts.Now, podEvents: map[string][]*corev1.Event{}}
	if s.now.IsZero() {
		s.now = time.Now()
	}
	if s.opts.Grace == 0 {
		s.opts.Grace = DefaultGrace
	}
	s.ca = readClusterAutoscaler(snap, s.now)
	s.karp = readKarpenter(snap, s.now)
	for _, e := range snap.Events {
		if e.InvolvedObject.Kind != "Pod" || eventSource(e) == "" {
			continue
		}
		k := "uid:" + string(e.InvolvedObject.UID)
		if e.InvolvedObject.UID == "" {
			k = e.InvolvedObject.Namespace + "/" + e.InvolvedObject.Name
		}
		s.podEvents[k] = append(s.podEvents[k], e)
	}
	for _, evs := range s.podEvents {
		sort.SliceStable(evs, func(i, j int) bool { return eventTime(evs[i]).Before(eventTime(evs[j])) })
	}
	return s
}

// Kind is the autoscaler found: Karpenter when it has NodePools,
// cluster-autoscaler when any of its objects is there, else none.
func (s *State) Kind() Kind {
	switch {
	case s.karp != nil && (len(s.karp.pools) > 0 || s.ca == nil):
		return KindKarpenter
	case s.ca != nil:
		return KindClusterAutoscaler
	case s.karp != nil:
		return KindKarpenter
	}
	return KindNone
}

// Found lists the autoscalers the snapshot shows traces of.
func (s *State) Found() []Kind {
	var out []Kind
	if s.ca != nil {
		out = append(out, KindClusterAutoscaler)
	}
	if s.karp != nil {
		out = append(out, KindKarpenter)
	}
	return out
}

// Explain says what the autoscaler did, or will do, about pod. res is the
// scheduler's verdict on the existing nodes, when known: a pod that fits an
// existing node needs no new one and gets nil.
func (s *State) Explain(pod *corev1.Pod, res *scheduling.Result) *Explanation {
	if res != nil && len(res.Feasible) > 0 {
		return nil
	}
	evs := s.eventsOf(pod)
	kind := s.Kind()
	// With both installed (a migration), the one that spoke about the pod
	// answers.
	if s.ca != nil && s.karp != nil && len(evs) > 0 {
		switch eventSource(evs[len(evs)-1]) {
		case sourceClusterAutoscaler:
			kind = KindClusterAutoscaler
		case sourceKarpenter:
			kind = KindKarpenter
		}
	}
	var ex *Explanation
	switch kind {
	case KindClusterAutoscaler:
		ex = s.explainClusterAutoscaler(pod, filterSource(evs, sourceClusterAutoscaler))
	case KindKarpenter:
		ex = s.explainKarpenter(pod, filterSource(evs, sourceKarpenter))
	default:
		ex = s.explainNone()
	}
	if ex.Reasons == nil {
		ex.Reasons = []Reason{}
	}
	if ex.NodeGroups == nil {
		ex.NodeGroups = []NodeGroup{}
	}
	return ex
}

// explainNone: no autoscaler object was found.
func (s *State) explainNone() *Explanation {
	ex := &Explanation{Kind: KindNone, Verdict: VerdictNone}
	msg := "no cluster autoscaler found (no cluster-autoscaler status ConfigMap, Lease or Deployment in kube-system, no Karpenter NodePool): no node is added for this pod"
	if len(s.opts.Unreadable) > 0 {
		msg += "; not readable: " + strings.Join(s.opts.Unreadable, "; ")
	}
	ex.Summary = "no autoscaler found: no node will be added"
	if len(s.opts.Unreadable) > 0 {
		ex.Summary = "no autoscaler found where it could look (see the warnings): no node will be added unless one runs"
	}
	ex.Reasons = []Reason{{Code: "no-autoscaler", Source: "status", Message: msg,
		Fix: "add capacity the pod fits on, or run a node autoscaler (cluster-autoscaler or Karpenter) with a node group or NodePool the pod fits"}}
	return ex
}

const (
	sourceClusterAutoscaler = "cluster-autoscaler"
	sourceKarpenter         = "karpenter"
)

// eventSource says which autoscaler wrote an event, or "".
func eventSource(e *corev1.Event) string {
	for _, c := range []string{e.Source.Component, e.ReportingController} {
		switch c {
		case sourceClusterAutoscaler, sourceKarpenter:
			return c
		}
	}
	return ""
}

func filterSource(evs []*corev1.Event, source string) []*corev1.Event {
	var out []*corev1.Event
	for _, e := range evs {
		if eventSource(e) == source {
			out = append(out, e)
		}
	}
	return out
}

// eventsOf returns the autoscalers' events about pod, oldest first; the UID
// match is preferred so a re-created pod of the same name does not inherit
// old ones.
func (s *State) eventsOf(pod *corev1.Pod) []*corev1.Event {
	if evs := s.podEvents["uid:"+string(pod.UID)]; len(evs) > 0 {
		return evs
	}
	return s.podEvents[pod.Namespace+"/"+pod.Name]
}

func eventTime(e *corev1.Event) time.Time {
	switch {
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case e.Series != nil && !e.Series.LastObservedTime.IsZero():
		return e.Series.LastObservedTime.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	}
	return e.CreationTimestamp.Time
}

// lastWord is evidence of when the autoscaler last spoke about the pod.
func (s *State) lastWord(who string, e *corev1.Event) string {
	times := ""
	if e.Count > 1 {
		times = fmt.Sprintf(", %d times in all", e.Count)
	}
	return fmt.Sprintf("%s's last word about the pod: %s, %s ago%s", who, e.Reason, age(s.now.Sub(eventTime(e))), times)
}

// lastEvent is the last of evs with one of the reasons; nil when none has.
func lastEvent(evs []*corev1.Event, reasons ...string) *corev1.Event {
	var last *corev1.Event
	for _, e := range evs {
		if slices.Contains(reasons, e.Reason) {
			last = e
		}
	}
	return last
}

func toEvents(evs []*corev1.Event) []Event {
	out := make([]Event, 0, len(evs))
	for _, e := range evs {
		out = append(out, Event{Reason: e.Reason, Message: e.Message, Time: eventTime(e), Count: e.Count})
	}
	return out
}

// unschedulableSince is when the scheduler marked the pod unschedulable, or
// when it was created.
func unschedulableSince(pod *corev1.Pod) (time.Time, bool) {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
			if !c.LastTransitionTime.IsZero() {
				return c.LastTransitionTime.Time, true
			}
			return pod.CreationTimestamp.Time, true
		}
	}
	return pod.CreationTimestamp.Time, false
}

// age renders a duration the way kubectl does, roughly: 40s, 12m, 3h, 2d.
func age(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < 2*time.Minute:
		return strconv.Itoa(int(d/time.Second)) + "s"
	case d < 2*time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + "m"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + "h"
	}
	return strconv.Itoa(int(d/(24*time.Hour))) + "d"
}

// clock renders a time of day for a message: 12:03 today, else with the date.
func (s *State) clock(t time.Time) string {
	t = t.In(s.now.Location())
	if y, m, d := t.Date(); y == s.now.Year() && m == s.now.Month() && d == s.now.Day() {
		return t.Format("15:04")
	}
	return t.Format("2006-01-02 15:04")
}

func ptr[T any](v T) *T { return &v }

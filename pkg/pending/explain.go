package pending

import (
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/ktriage/ktriage/pkg/autoscaler"
	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/pkg/report"
	"github.com/ktriage/ktriage/pkg/scheduling"
)

// Stage is where a pod is stuck. The values are a contract (JSON "stage").
type Stage string

const (
	StageGated       Stage = "Gated"
	StageNoScheduler Stage = "NoScheduler"
	// StageWaitingForScheduler: the pod names another scheduler, which shows
	// in the cluster but has not acted on the pod yet.
	StageWaitingForScheduler Stage = "WaitingForScheduler"
	StageUnschedulable       Stage = "Unschedulable"
	StageVolumeBinding       Stage = "VolumeBinding"
	StageNotCreated          Stage = "NotCreated"
	StageImagePull           Stage = "ImagePull"
	StageContainerCreating   Stage = "ContainerCreating"
	StageInitContainers      Stage = "InitContainers"
	StageNodeLost            Stage = "NodeLost"
	// StageSchedulable is used in manifest (CI) mode for pods that would
	// schedule; live pods that are not Pending are never explained.
	StageSchedulable Stage = "Schedulable"
)

// Workload names the controller a pod belongs to (the top of its owner chain
// as far as the snapshot knows it).
type Workload struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
}

// Explanation is why one pod (or one workload without pods) is not running.
type Explanation struct {
	Namespace string    `json:"namespace"`
	Name      string    `json:"name"`
	Workload  *Workload `json:"workload,omitempty"`
	// Replica is set in manifest mode: which replica of the workload this is
	// (1-based) when it is the first one that would not schedule.
	Replica  int   `json:"replica,omitempty"`
	Replicas int   `json:"replicas,omitempty"`
	Stage    Stage `json:"stage"`
	// Reason is a one-line summary for the table.
	Reason string `json:"reason"`
	// Evidence lists the facts the stage was decided on.
	Evidence []string `json:"evidence,omitempty"`
	// Fixes are concrete changes that would let the pod run.
	Fixes []string `json:"fixes,omitempty"`

	Node              string `json:"node,omitempty"`
	NominatedNodeName string `json:"nominatedNodeName,omitempty"`
	SchedulerName     string `json:"schedulerName,omitempty"`
	// SimulatedSchedulerMessage is what kube-scheduler would write into the
	// PodScheduled condition now.
	SimulatedSchedulerMessage string `json:"simulatedSchedulerMessage,omitempty"`
	// SchedulerMessage is the message of the pod's real PodScheduled
	// condition, when it has one.
	SchedulerMessage string `json:"schedulerMessage,omitempty"`
	// MessagesAgree compares the two when both exist.
	MessagesAgree *bool `json:"messagesAgree,omitempty"`
	// NodeReasons groups the filters' verdicts on every node by reason, as
	// kube-scheduler's message does, with a count and a few node names: it
	// grows with the reasons, not with the nodes.
	NodeReasons []NodeReasonGroup `json:"nodeReasons,omitempty"`
	// Nodes is every node's verdict. Printers drop it (DropNodeLists)
	// unless every node is asked for: it grows with the cluster.
	Nodes []scheduling.NodeResult `json:"nodes,omitempty"`
	// Feasible names the nodes the pod fits on (manifest mode, stale state);
	// after DropNodeLists only the first MaxExampleNodes by name.
	Feasible []string `json:"feasible,omitempty"`
	// FeasibleCount is the number of nodes the pod fits on.
	FeasibleCount int            `json:"feasibleCount,omitempty"`
	Source        *report.Source `json:"source,omitempty"`
	// Autoscaler is the node autoscaler's side of an Unschedulable pod:
	// will a node come for it, and if not, why. Set by the caller (live
	// mode), which loads the autoscaler's objects only for such pods.
	Autoscaler *autoscaler.Explanation `json:"autoscaler,omitempty"`
	object     report.ObjectRef        `json:"-"`
}

// Subject is one pod to explain. Object, when set, is what findings are
// about instead of the pod (manifest mode: the workload in its file).
type Subject struct {
	Pod    *corev1.Pod
	Object *report.ObjectRef
	// Workload, Replica and Replicas describe a pod expanded from a
	// workload template (manifest mode).
	Workload *Workload
	Replica  int
	Replicas int
}

// WorkloadTarget is a controller the user named (TYPE/NAME) that has no pods,
// or fewer than it wants: NotCreated explains why.
type WorkloadTarget struct {
	Kind      string // Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob
	Namespace string
	Name      string
	// HasPods: the workload has some pods (explained separately); it is
	// explained only when its controller reports failures to create more.
	HasPods bool
}

// Options tune an analysis.
type Options struct {
	// Now is the analysis time (pod ages); zero means time.Now().
	Now time.Time
	// SchedulerGrace is how old a pod with no scheduler reaction must be to
	// conclude that no scheduler serves it; zero means DefaultSchedulerGrace.
	SchedulerGrace time.Duration
	// Manifests: the pods come from files (CI mode) and have no status; the
	// question is "would they schedule".
	Manifests bool
}

// DefaultSchedulerGrace: kube-scheduler reacts to a new pod within
// milliseconds unless it is overloaded; ten seconds of silence is telling.
const DefaultSchedulerGrace = 10 * time.Second

// Result is the analysis output.
type Result struct {
	Pods     []Explanation
	Findings []report.Finding
}

// DefaultScheduler is the scheduler name pods get when they name none.
const DefaultScheduler = corev1.DefaultSchedulerName

// Explain analyses the subjects and workloads against the snapshot.
func Explain(snap *cluster.Snapshot, subjects []Subject, workloads []WorkloadTarget, opts Options) Result {
	a := newAnalyzer(snap, opts)
	if !opts.Manifests {
		a.prefetch(subjects)
	}
	for _, s := range subjects {
		a.explainSubject(s)
	}
	for _, w := range workloads {
		a.explainWorkload(w)
	}
	return a.result()
}

// result is the analysis' result: its pods in namespace and name order,
// findings an empty list rather than null when there are none.
func (a *analyzer) result() Result {
	sort.SliceStable(a.res.Pods, func(i, j int) bool {
		x, y := a.res.Pods[i], a.res.Pods[j]
		if x.Namespace != y.Namespace {
			return x.Namespace < y.Namespace
		}
		return x.Name < y.Name
	})
	if a.res.Findings == nil {
		a.res.Findings = []report.Finding{}
	}
	return a.res
}

type analyzer struct {
	snap       *cluster.Snapshot
	opts       Options
	now        time.Time
	res        Result
	nodes      map[string]*corev1.Node
	podsByNode map[string][]*corev1.Pod
	eventsFor  map[string][]*corev1.Event // by involved object UID, else kind/ns/name
	engine     func(*corev1.Pod) scheduling.Result
	eng        *scheduling.Engine
	// prefetched holds engine results computed in parallel ahead of the
	// (sequential) explanations, by pod.
	prefetched map[*corev1.Pod]scheduling.Result
	// provisionable holds manifest claims (namespace/name) a class will
	// provision on creation: the pod is evaluated without them.
	provisionable map[string]bool
}

func newAnalyzer(snap *cluster.Snapshot, opts Options) *analyzer {
	if snap == nil {
		snap = &cluster.Snapshot{}
	}
	a := &analyzer{snap: snap, opts: opts, now: opts.Now, nodes: map[string]*corev1.Node{}, podsByNode: map[string][]*corev1.Pod{}, eventsFor: map[string][]*corev1.Event{}, provisionable: map[string]bool{}}
	if a.now.IsZero() {
		a.now = time.Now()
	}
	if a.opts.SchedulerGrace == 0 {
		a.opts.SchedulerGrace = DefaultSchedulerGrace
	}
	for _, n := range snap.Nodes {
		a.nodes[n.Name] = n
	}
	for _, p := range snap.Pods {
		if p.Spec.NodeName != "" && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
			a.podsByNode[p.Spec.NodeName] = append(a.podsByNode[p.Spec.NodeName], p)
		}
	}
	for _, e := range snap.Events {
		for _, k := range eventKeys(e) {
			a.eventsFor[k] = append(a.eventsFor[k], e)
		}
	}
	for k := range a.eventsFor {
		evs := a.eventsFor[k]
		sort.SliceStable(evs, func(i, j int) bool { return eventTime(evs[i]).Before(eventTime(evs[j])) })
	}
	// One engine for the whole run: building it indexes every node and pod.
	// Manifest mode adds placed replicas and drops it (stale) to rebuild.
	a.engine = func(p *corev1.Pod) scheduling.Result {
		if res, ok := a.prefetched[p]; ok {
			return res
		}
		if a.eng == nil {
			a.eng = scheduling.NewEngine(a.snap)
		}
		return a.eng.Evaluate(p, scheduling.Options{})
	}
	return a
}

// prefetch evaluates, on every CPU, the pods the scheduler has already
// found unschedulable: they are the ones explainUnbound hands to the engine,
// and on a large cluster evaluating them is most of the work. The engine is
// safe for concurrent use; the explanations that follow stay sequential.
func (a *analyzer) prefetch(subjects []Subject) {
	var pods []*corev1.Pod
	for _, s := range subjects {
		p := s.Pod
		if p.Spec.NodeName != "" || len(p.Spec.SchedulingGates) > 0 || podScheduledCondition(p) == nil {
			continue
		}
		pods = append(pods, a.withoutProvisionable(p))
	}
	workers := min(runtime.GOMAXPROCS(0), len(pods))
	if workers < 2 {
		return
	}
	if a.eng == nil {
		a.eng = scheduling.NewEngine(a.snap)
	}
	results := make([]scheduling.Result, len(pods))
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				results[i] = a.eng.Evaluate(pods[i], scheduling.Options{})
			}
		})
	}
	for i := range pods {
		next <- i
	}
	close(next)
	wg.Wait()
	a.prefetched = make(map[*corev1.Pod]scheduling.Result, len(pods))
	for i, p := range pods {
		a.prefetched[p] = results[i]
	}
}

func eventKeys(e *corev1.Event) []string {
	io := e.InvolvedObject
	keys := []string{objKey(io.Kind, io.Namespace, io.Name)}
	if io.UID != "" {
		keys = append(keys, "uid:"+string(io.UID))
	}
	return keys
}

func objKey(kind, ns, name string) string { return kind + "/" + ns + "/" + name }

func eventTime(e *corev1.Event) time.Time {
	switch {
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	case e.Series != nil && !e.Series.LastObservedTime.IsZero():
		return e.Series.LastObservedTime.Time
	}
	return e.CreationTimestamp.Time
}

// events returns the events about an object, oldest first; the UID match is
// preferred so a re-created object of the same name does not inherit old ones.
func (a *analyzer) events(kind, ns, name, uid string) []*corev1.Event {
	if uid != "" {
		if evs := a.eventsFor["uid:"+uid]; len(evs) > 0 {
			return evs
		}
	}
	var out []*corev1.Event
	for _, e := range a.eventsFor[objKey(kind, ns, name)] {
		if uid == "" || e.InvolvedObject.UID == "" || string(e.InvolvedObject.UID) == uid {
			out = append(out, e)
		}
	}
	return out
}

// add records a finding about the explanation's object and copies its fix.
func (a *analyzer) add(ex *Explanation, rule string, sev report.Severity, msg, fix string, details map[string]any) {
	f := report.Finding{RuleID: rule, Severity: sev, Object: ex.object, Message: msg, Fix: fix, Details: details}
	a.res.Findings = append(a.res.Findings, f)
	if fix != "" && sev >= report.SeverityWarning {
		ex.Fixes = append(ex.Fixes, fix)
	}
}

func (a *analyzer) explainSubject(s Subject) {
	pod := s.Pod
	ex := Explanation{Namespace: pod.Namespace, Name: pod.Name, Workload: s.Workload, Replica: s.Replica, Replicas: s.Replicas}
	if ex.Workload == nil {
		ex.Workload = a.workloadOf(pod)
	}
	if s.Object != nil {
		ex.object = *s.Object
	} else {
		ex.object = report.RefFor("Pod", pod)
		ex.object.Source = a.snap.SourceOf(string(cluster.KindPod), pod.Namespace, pod.Name)
	}
	ex.Source = ex.object.Source
	if pod.Spec.SchedulerName != "" && pod.Spec.SchedulerName != DefaultScheduler {
		ex.SchedulerName = pod.Spec.SchedulerName
	}
	if pod.Spec.NodeName != "" && !a.opts.Manifests {
		a.explainBound(pod, &ex)
	} else {
		a.explainUnbound(pod, &ex)
	}
	a.res.Pods = append(a.res.Pods, ex)
}

// workloadOf names the pod's top controller as far as the snapshot knows
// it: Pod → ReplicaSet → Deployment, Pod → Job → CronJob.
func (a *analyzer) workloadOf(pod *corev1.Pod) *Workload {
	kind, name, _ := a.snap.TopOwner(pod)
	if kind == "" {
		return nil
	}
	return &Workload{Kind: kind, Name: name}
}

// podScheduledCondition returns the pod's PodScheduled condition, if any.
func podScheduledCondition(pod *corev1.Pod) *corev1.PodCondition {
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == corev1.PodScheduled {
			return &pod.Status.Conditions[i]
		}
	}
	return nil
}

func schedulerNameOf(pod *corev1.Pod) string {
	if pod.Spec.SchedulerName == "" {
		return DefaultScheduler
	}
	return pod.Spec.SchedulerName
}

// joinNames renders a list for a message, eliding after a few.
func joinNames(names []string, max int) string {
	if len(names) <= max {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:max], ", ") + ", … (" + strconv.Itoa(len(names)) + " in all)"
}

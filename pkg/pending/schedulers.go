package pending

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/pkg/report"
)

// LeaseNamespace is where schedulers keep their leader-election Lease.
const LeaseNamespace = "kube-system"

// staleLease: a leader Lease not renewed for this long is no longer held by
// a running process (lease durations are 15 seconds by default).
const staleLease = 2 * time.Minute

// schedulerProof lists what in the snapshot shows that a scheduler named
// name exists: pods it bound, events it wrote, its leader Lease in
// kube-system. checked says, when nothing does, what was looked at.
func (a *analyzer) schedulerProof(name string, self *corev1.Pod) (proof, checked []string) {
	var bound []*corev1.Pod
	for _, p := range a.snap.Pods {
		if p.Spec.SchedulerName == name && p.Spec.NodeName != "" && p.UID != self.UID {
			bound = append(bound, p)
		}
	}
	if len(bound) > 0 {
		latest := bound[0]
		for _, p := range bound {
			if p.CreationTimestamp.After(latest.CreationTimestamp.Time) {
				latest = p
			}
		}
		proof = append(proof, fmt.Sprintf("%d pod(s) with schedulerName %s are bound to nodes, the latest %s/%s (on %s, created %s ago)",
			len(bound), name, latest.Namespace, latest.Name, latest.Spec.NodeName, age(a.now.Sub(latest.CreationTimestamp.Time))))
	}
	var events []*corev1.Event
	for _, e := range a.snap.Events {
		if e.ReportingController == name || e.Source.Component == name {
			events = append(events, e)
		}
	}
	if len(events) > 0 {
		latest := events[0]
		for _, e := range events {
			if eventTime(e).After(eventTime(latest)) {
				latest = e
			}
		}
		io := latest.InvolvedObject
		proof = append(proof, fmt.Sprintf("%d event(s) from %s, the latest %s on %s %s/%s %s ago",
			len(events), name, latest.Reason, io.Kind, io.Namespace, io.Name, age(a.now.Sub(eventTime(latest)))))
	}
	if l := a.schedulerLease(name); l != nil {
		proof = append(proof, leaseEvidence(l, a.now))
	}
	if len(proof) > 0 {
		return proof, nil
	}
	checked = append(checked, "no pod bound by it")
	if a.snap.Loaded[cluster.KindEvent] {
		checked = append(checked, "no event from it")
	}
	if a.snap.Loaded[cluster.KindLease] {
		checked = append(checked, fmt.Sprintf("no Lease %s/%s", LeaseNamespace, name))
	}
	return nil, checked
}

// schedulerLease is the scheduler's leader Lease, if the snapshot has it.
func (a *analyzer) schedulerLease(name string) *unstructured.Unstructured {
	for _, o := range a.snap.Other {
		if o.GetKind() == string(cluster.KindLease) && o.GetNamespace() == LeaseNamespace && o.GetName() == name {
			return o
		}
	}
	return nil
}

// leaseRenewed is when the Lease was last renewed (zero if never).
func leaseRenewed(l *unstructured.Unstructured) time.Time {
	s, _, _ := unstructured.NestedString(l.Object, "spec", "renewTime")
	var t metav1.MicroTime
	if err := t.UnmarshalQueryParameter(s); err != nil {
		return time.Time{}
	}
	return t.Time
}

func leaseEvidence(l *unstructured.Unstructured, now time.Time) string {
	holder, _, _ := unstructured.NestedString(l.Object, "spec", "holderIdentity")
	s := fmt.Sprintf("Lease %s/%s", l.GetNamespace(), l.GetName())
	if holder != "" {
		s += " held by " + holder
	}
	if t := leaseRenewed(l); !t.IsZero() {
		s += fmt.Sprintf(", renewed %s ago", age(now.Sub(t)))
		if now.Sub(t) > staleLease {
			s += " (no longer renewed: the scheduler may have stopped)"
		}
	}
	return s
}

// explainWaitingForScheduler: the pod's scheduler exists but has not acted
// on it yet.
func (a *analyzer) explainWaitingForScheduler(pod *corev1.Pod, ex *Explanation, name string, proof []string, old time.Duration) {
	ex.Stage = StageWaitingForScheduler
	ex.Reason = fmt.Sprintf("waiting for scheduler %q, which has not acted on it in %s", name, age(old))
	ex.Evidence = append(ex.Evidence, fmt.Sprintf("spec.schedulerName: %s; no PodScheduled condition and no event from it for the pod yet", name))
	ex.Evidence = append(ex.Evidence, proof...)
	sev, msg := report.SeverityInfo, fmt.Sprintf("the pod waits for scheduler %q, which runs in the cluster: %s", name, proof[0])
	if old >= a.opts.SchedulerGrace {
		sev = report.SeverityWarning
		msg = fmt.Sprintf("scheduler %q has not acted on the pod in %s, though it shows in the cluster: %s", name, age(old), proof[0])
	}
	a.add(ex, RuleWaitingScheduler, sev, msg,
		fmt.Sprintf("check that %q is healthy and serves this pod (its logs, its leader Lease), or set spec.schedulerName: %s (or remove it) in the pod template", name, DefaultScheduler),
		map[string]any{"schedulerName": name, "evidence": proof})
}

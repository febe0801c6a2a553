package pending

import (
	"fmt"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ktriage/ktriage/pkg/report"
)

// controllerFailure is one piece of evidence that a controller could not
// create pods: a FailedCreate event or a ReplicaFailure condition.
type controllerFailure struct {
	kind, name string
	message    string
	count      int32
	from       string // "event" or "condition"
}

// explainWorkload explains a controller that has fewer pods than it wants.
func (a *analyzer) explainWorkload(w WorkloadTarget) {
	obj := a.snap.Workload(w.Kind, w.Namespace, w.Name)
	ex := Explanation{Namespace: w.Namespace, Name: strings.ToLower(w.Kind) + "/" + w.Name, Workload: &Workload{Kind: w.Kind, Name: w.Name}, Stage: StageNotCreated}
	if obj != nil {
		ex.object = report.RefFor(w.Kind, obj)
	} else {
		ex.object = report.ObjectRef{Kind: w.Kind, Namespace: w.Namespace, Name: w.Name}
	}
	ex.object.Source = a.snap.SourceOf(w.Kind, w.Namespace, w.Name)
	ex.Source = ex.object.Source

	failures, notes := a.controllerFailures(w, obj)
	ex.Evidence = append(ex.Evidence, notes...)
	if len(failures) == 0 {
		if w.HasPods {
			return
		}
		if len(notes) > 0 && !strings.HasPrefix(notes[0], "desired") {
			ex.Reason = notes[0]
			a.add(&ex, RuleNotCreated, report.SeverityError, fmt.Sprintf("%s %s/%s has no pods: %s", w.Kind, w.Namespace, w.Name, notes[0]), notCreatedFix(w), map[string]any{"notes": notes})
		} else {
			ex.Reason = "no pods and no FailedCreate event (events expire after an hour)"
			a.add(&ex, RuleNotCreated, report.SeverityError,
				fmt.Sprintf("%s %s/%s has no pods, and its controller left no FailedCreate event or ReplicaFailure condition", w.Kind, w.Namespace, w.Name),
				"check kube-controller-manager runs, and the controller's conditions: kubectl describe "+strings.ToLower(w.Kind)+" "+w.Name+" -n "+w.Namespace,
				map[string]any{"notes": notes})
		}
		a.res.Pods = append(a.res.Pods, ex)
		return
	}
	f := failures[0]
	ex.Evidence = append(ex.Evidence, fmt.Sprintf("%s %s %s: %s", strings.ToLower(f.kind), f.name, f.from, f.message))
	a.classifyCreateFailure(&ex, w, f)
	a.res.Pods = append(a.res.Pods, ex)
}

func notCreatedFix(w WorkloadTarget) string {
	switch w.Kind {
	case "CronJob":
		return "wait for the next schedule, or run it now: kubectl create job --from=cronjob/" + w.Name + " " + w.Name + "-manual -n " + w.Namespace
	case "Deployment", "ReplicaSet", "StatefulSet", "ReplicationController":
		return "scale it up: kubectl scale " + strings.ToLower(w.Kind) + " " + w.Name + " -n " + w.Namespace + " --replicas=N"
	case "Job":
		return "resume it: kubectl patch job " + w.Name + " -n " + w.Namespace + " --type=merge -p '{\"spec\":{\"suspend\":false}}'"
	}
	return "check the controller: kubectl describe " + strings.ToLower(w.Kind) + " " + w.Name + " -n " + w.Namespace
}

func ownedBy(m metav1.Object, owner metav1.Object) bool {
	for _, r := range m.GetOwnerReferences() {
		if r.UID == owner.GetUID() {
			return true
		}
	}
	return false
}

// controllerFailures collects FailedCreate events and ReplicaFailure
// conditions of the objects that create the workload's pods, newest first,
// and notes explaining a workload that does not want pods.
func (a *analyzer) controllerFailures(w WorkloadTarget, obj metav1.Object) ([]controllerFailure, []string) {
	var out []controllerFailure
	var notes []string
	fromEvents := func(kind string, o metav1.Object) {
		evs := a.events(kind, o.GetNamespace(), o.GetName(), string(o.GetUID()))
		for i := len(evs) - 1; i >= 0; i-- {
			if evs[i].Reason == "FailedCreate" {
				out = append(out, controllerFailure{kind: kind, name: o.GetName(), message: evs[i].Message, count: evs[i].Count, from: "event FailedCreate"})
			}
		}
	}
	// A ReplicaSet's failures: its FailedCreate events, then its
	// ReplicaFailure condition.
	fromReplicaSet := func(rs *appsv1.ReplicaSet) {
		fromEvents("ReplicaSet", rs)
		for _, c := range rs.Status.Conditions {
			if c.Type == appsv1.ReplicaSetReplicaFailure && c.Status == corev1.ConditionTrue {
				out = append(out, controllerFailure{kind: "ReplicaSet", name: rs.Name, message: c.Message, from: "condition ReplicaFailure"})
			}
		}
	}
	switch o := obj.(type) {
	case *appsv1.Deployment:
		if o.Spec.Replicas != nil && *o.Spec.Replicas == 0 {
			notes = append(notes, "scaled to 0 replicas")
		}
		for _, c := range o.Status.Conditions {
			if c.Type == appsv1.DeploymentReplicaFailure && c.Status == corev1.ConditionTrue {
				out = append(out, controllerFailure{kind: "Deployment", name: o.Name, message: c.Message, from: "condition ReplicaFailure"})
			}
			// The deployment controller could not create the ReplicaSet
			// itself (quota on replicasets, a webhook refusing it).
			if c.Type == appsv1.DeploymentProgressing && c.Status == corev1.ConditionFalse && c.Reason == "ReplicaSetCreateError" {
				out = append(out, controllerFailure{kind: "Deployment", name: o.Name, message: c.Message, from: "condition Progressing/ReplicaSetCreateError"})
			}
		}
		evs := a.events("Deployment", o.Namespace, o.Name, string(o.UID))
		for i := len(evs) - 1; i >= 0; i-- {
			if evs[i].Reason == "ReplicaSetCreateError" {
				out = append(out, controllerFailure{kind: "Deployment", name: o.Name, message: evs[i].Message, count: evs[i].Count, from: "event ReplicaSetCreateError"})
			}
		}
		var rss []*appsv1.ReplicaSet
		for _, rs := range a.snap.ReplicaSets {
			if rs.Namespace == o.Namespace && ownedBy(rs, o) {
				rss = append(rss, rs)
			}
		}
		sort.Slice(rss, func(i, j int) bool { return rss[j].CreationTimestamp.Before(&rss[i].CreationTimestamp) })
		// The ReplicaSets' own events carry the full admission message: put
		// them before the Deployment's condition.
		deployment := out
		out = nil
		for _, rs := range rss {
			fromReplicaSet(rs)
		}
		out = append(out, deployment...)
		if len(rss) == 0 {
			notes = append(notes, "the Deployment has no ReplicaSet yet")
		}
	case *appsv1.ReplicaSet:
		fromReplicaSet(o)
		if o.Spec.Replicas != nil && *o.Spec.Replicas == 0 {
			notes = append(notes, "scaled to 0 replicas")
		}
	case *corev1.ReplicationController:
		fromEvents("ReplicationController", o)
		for _, c := range o.Status.Conditions {
			if c.Type == corev1.ReplicationControllerReplicaFailure && c.Status == corev1.ConditionTrue {
				out = append(out, controllerFailure{kind: "ReplicationController", name: o.Name, message: c.Message, from: "condition ReplicaFailure"})
			}
		}
		if o.Spec.Replicas != nil && *o.Spec.Replicas == 0 {
			notes = append(notes, "scaled to 0 replicas")
		}
	case *appsv1.StatefulSet:
		fromEvents("StatefulSet", o)
		if o.Spec.Replicas != nil && *o.Spec.Replicas == 0 {
			notes = append(notes, "scaled to 0 replicas")
		}
	case *appsv1.DaemonSet:
		fromEvents("DaemonSet", o)
		if o.Status.DesiredNumberScheduled == 0 {
			notes = append(notes, "no node matches the DaemonSet's nodeSelector/affinity/tolerations (desiredNumberScheduled 0)")
		}
	default:
		a.jobFailures(w, obj, &out, &notes, fromEvents)
	}
	return out, notes
}

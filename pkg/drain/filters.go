package drain

import (
	"context"
	"io"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	kubectldrain "k8s.io/kubectl/pkg/drain"

	"github.com/ktriage/ktriage/pkg/cluster"
)

// podDecision is kubectl drain's verdict on one pod.
type podDecision struct {
	pod    *corev1.Pod
	action Action
	// message is kubectl's warning or error text for the pod ("" when it
	// has none).
	message string
}

// decide runs kubectl's own GetPodsForDeletion for the node. kubectl's
// Helper reads pods and DaemonSets through a clientset; here that clientset
// answers from the snapshot (snapshotClient), so the filters, their order
// and their texts are kubectl's, not a copy. errs are kubectl's errors
// for the node, exactly as `kubectl drain` prints them.
func decide(snap *cluster.Snapshot, node string, o Options) (decisions []podDecision, errs []string, err error) {
	pods := snap.PodsOnNode(node)
	byKey := map[string]*corev1.Pod{}
	for _, p := range pods {
		byKey[p.Namespace+"/"+p.Name] = p
	}
	client, err := snapshotClient(pods, referencedDaemonSets(snap, pods))
	if err != nil {
		return nil, nil, err
	}
	h := &kubectldrain.Helper{
		Ctx:                             context.Background(),
		Client:                          client,
		Force:                           o.Force,
		GracePeriodSeconds:              o.GracePeriodSeconds,
		IgnoreAllDaemonSets:             o.IgnoreDaemonSets,
		DeleteEmptyDirData:              o.DeleteEmptyDirData,
		PodSelector:                     o.PodSelector,
		DisableEviction:                 o.DisableEviction,
		SkipWaitForDeleteTimeoutSeconds: o.SkipWaitForDeleteTimeoutSeconds,
		Out:                             io.Discard,
		ErrOut:                          io.Discard,
	}
	list, ferrs := h.GetPodsForDeletion(node)
	if list == nil {
		// Only a bad --pod-selector or a failed list gets here.
		if len(ferrs) > 0 {
			return nil, nil, ferrs[0]
		}
		return nil, nil, nil
	}
	for _, e := range ferrs {
		errs = append(errs, e.Error())
	}
	decided := map[string]podDecision{}
	for _, p := range list.Pods() {
		d := podDecision{pod: byKey[p.Namespace+"/"+p.Name], action: ActionEvict}
		if o.DisableEviction {
			d.action = ActionDelete
		}
		decided[p.Namespace+"/"+p.Name] = d
	}
	// kubectl reports warnings and errors as "<message>: ns/a, ns/b"; a pod
	// named there and not deleted is skipped (warning) or refused (error).
	for msg, keys := range parsePodLists(splitNonEmpty(list.Warnings(), "; ")) {
		for _, k := range keys {
			d, ok := decided[k]
			if !ok {
				d = podDecision{pod: byKey[k], action: ActionSkip}
			}
			d.message = msg
			decided[k] = d
		}
	}
	var errLists []string
	for _, e := range errs {
		errLists = append(errLists, strings.TrimPrefix(e, "cannot delete "))
	}
	for msg, keys := range parsePodLists(errLists) {
		for _, k := range keys {
			decided[k] = podDecision{pod: byKey[k], action: ActionBlocked, message: msg}
		}
	}
	selected := selectedPods(pods, o.PodSelector)
	for _, p := range pods {
		k := p.Namespace + "/" + p.Name
		d, ok := decided[k]
		if !ok {
			if !selected[p] {
				continue // --pod-selector leaves it alone
			}
			d = podDecision{pod: p, action: ActionSkip, message: skipReason(p, o)}
		}
		if d.pod == nil {
			continue
		}
		decisions = append(decisions, d)
	}
	return decisions, errs, nil
}

// parsePodLists reads kubectl's "<message>: ns/a, ns/b" items. Pod and
// namespace names hold no ", " or ": ", so the last ": " ends the message.
func parsePodLists(items []string) map[string][]string {
	out := map[string][]string{}
	for _, it := range items {
		i := strings.LastIndex(it, ": ")
		if i < 0 {
			continue
		}
		msg := it[:i]
		out[msg] = append(out[msg], splitNonEmpty(it[i+2:], ", ")...)
	}
	return out
}

func splitNonEmpty(s, sep string) []string {
	var out []string
	for _, p := range strings.Split(s, sep) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// skipReason says why kubectl drain passes over a pod without a message: a
// mirror pod, or one deleted longer ago than --skip-wait-for-delete-timeout.
func skipReason(p *corev1.Pod, o Options) string {
	if _, mirror := p.Annotations[corev1.MirrorPodAnnotationKey]; mirror {
		return "mirror pod: the kubelet runs it from a static manifest"
	}
	return "deleted more than --skip-wait-for-delete-timeout ago"
}

// selectedPods are the pods --pod-selector lets kubectl drain see.
func selectedPods(pods []*corev1.Pod, selector string) map[*corev1.Pod]bool {
	sel, err := labels.Parse(selector)
	out := map[*corev1.Pod]bool{}
	for _, p := range pods {
		if err == nil && sel.Matches(labels.Set(p.Labels)) {
			out[p] = true
		}
	}
	return out
}

// referencedDaemonSets are the snapshot's DaemonSets that control the pods.
func referencedDaemonSets(snap *cluster.Snapshot, pods []*corev1.Pod) []*appsv1.DaemonSet {
	want := map[string]bool{}
	for _, p := range pods {
		if ref := metav1.GetControllerOf(p); ref != nil && ref.Kind == "DaemonSet" {
			want[p.Namespace+"/"+ref.Name] = true
		}
	}
	var out []*appsv1.DaemonSet
	for _, ds := range snap.DaemonSets {
		if want[ds.Namespace+"/"+ds.Name] {
			out = append(out, ds)
		}
	}
	return out
}

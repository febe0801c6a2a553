package drain

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	podutil "k8s.io/kubectl/pkg/util/podutils"
)

// budget is a PodDisruptionBudget as the drain spends it: the Eviction API
// decrements disruptionsAllowed; the disruption controller recounts healthy
// pods and recomputes it when a replacement becomes ready.
type budget struct {
	pdb      *policyv1.PodDisruptionBudget
	selector labels.Selector
	desired  int32
	healthy  int32
	allowed  int32
	// stale: status.observedGeneration is behind metadata.generation; the
	// API answers 429 until the controller has caught up.
	stale bool
	// syncFailed: the controller could not compute the budget; it keeps
	// disruptionsAllowed at 0 whatever the pods do.
	syncFailed bool
	// evicted and pods count the drain's evictions and the pods it must
	// evict that the budget covers; waiting counts those refused for now.
	evicted, pods, waiting int
	// lost counts evicted pods whose replacement found no node.
	lost int
}

func newBudget(pdb *policyv1.PodDisruptionBudget) *budget {
	sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
	if err != nil {
		sel = labels.Nothing() // an invalid selector matches no pod, as in the API
	}
	cond := apimeta.FindStatusCondition(pdb.Status.Conditions, policyv1.DisruptionAllowedCondition)
	return &budget{
		pdb:        pdb,
		selector:   sel,
		desired:    pdb.Status.DesiredHealthy,
		healthy:    pdb.Status.CurrentHealthy,
		allowed:    pdb.Status.DisruptionsAllowed,
		stale:      pdb.Status.ObservedGeneration < pdb.Generation,
		syncFailed: cond != nil && cond.Status == metav1.ConditionFalse && cond.Reason == policyv1.SyncFailedReason,
	}
}

func (b *budget) key() string { return b.pdb.Namespace + "/" + b.pdb.Name }

func (b *budget) covers(p *corev1.Pod) bool {
	return b.pdb.Namespace == p.Namespace && b.selector.Matches(labels.Set(p.Labels))
}

// sync is the disruption controller's next pass: it has processed the
// budget and recounted the healthy pods. It reports whether anything changed.
func (b *budget) sync() bool {
	changed := b.stale
	b.stale = false
	if b.syncFailed {
		return changed
	}
	allowed := max(0, b.healthy-b.desired)
	if allowed != b.allowed {
		b.allowed = allowed
		changed = true
	}
	return changed
}

// answer is the Eviction API's answer to evicting one pod.
type answer struct {
	kind answerKind
	// message is the API's text for a refusal.
	message string
	budget  *budget
	// rule is the finding a lasting refusal becomes.
	rule string
}

type answerKind int

const (
	evicted answerKind = iota
	retry              // 429: kubectl retries every 5 s
	failed             // any other error: kubectl drain fails for the pod
)

// evict answers an eviction the way pkg/registry/core/pod/storage/eviction.go
// does, and spends the budget when it lets the pod go.
func evict(p *corev1.Pod, budgets []*budget) answer {
	if canIgnorePDB(p) {
		return answer{kind: evicted}
	}
	var matching []*budget
	for _, b := range budgets {
		if b.covers(p) {
			matching = append(matching, b)
		}
	}
	switch len(matching) {
	case 0:
		return answer{kind: evicted}
	case 1:
	default:
		return answer{kind: failed, rule: RuleMultipleBudgets,
			message: "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support."}
	}
	b := matching[0]
	ready := podutil.IsPodReady(p)
	if !ready {
		if pol := b.pdb.Spec.UnhealthyPodEvictionPolicy; pol != nil && *pol == policyv1.AlwaysAllow {
			return answer{kind: evicted, budget: b}
		}
		if b.healthy >= b.desired && b.desired > 0 {
			return answer{kind: evicted, budget: b}
		}
	}
	// checkAndDecrement.
	switch {
	case b.stale:
		return answer{kind: retry, budget: b, rule: RuleBudgetStale,
			message: fmt.Sprintf("The disruption budget %s is still being processed by the server.", b.pdb.Name)}
	case b.allowed < 0:
		return answer{kind: failed, budget: b, rule: RuleBudgetNegative,
			message: fmt.Sprintf("The disruption budget %s does not allow evicting pods currently: pdb disruptions allowed is negative", b.pdb.Name)}
	case b.allowed == 0:
		return answer{kind: retry, budget: b, rule: RuleBudgetBlocks, message: b.tooManyRequests()}
	}
	b.allowed--
	if ready {
		b.healthy--
	}
	return answer{kind: evicted, budget: b}
}

// tooManyRequests is the 429's cause text.
func (b *budget) tooManyRequests() string {
	cond := apimeta.FindStatusCondition(b.pdb.Status.Conditions, policyv1.DisruptionAllowedCondition)
	name := b.pdb.Name
	switch {
	case cond != nil && cond.Status == metav1.ConditionFalse && cond.Message != "" && cond.Reason == policyv1.SyncFailedReason:
		return fmt.Sprintf("The disruption budget %s does not allow evicting pods currently because it failed sync: %s", name, cond.Message)
	case b.healthy <= b.desired:
		return fmt.Sprintf("The disruption budget %s needs %d healthy pods and has %d currently", name, b.desired, b.healthy)
	case cond != nil && cond.Status == metav1.ConditionFalse && cond.Message != "":
		return fmt.Sprintf("The disruption budget %s does not allow evicting pods currently (%s): %s", name, cond.Reason, cond.Message)
	}
	return fmt.Sprintf("The disruption budget %s does not allow evicting pods currently", name)
}

// canIgnorePDB: the API lets these pods go whatever their budget says.
func canIgnorePDB(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed ||
		p.Status.Phase == corev1.PodPending || p.DeletionTimestamp != nil
}

// deadlock names why a budget that refuses evictions never recovers, and
// the smallest change that lets the drain through.
func (b *budget) deadlock() (why, fix string) {
	spec := b.pdb.Spec
	expected := b.pdb.Status.ExpectedPods
	name := "poddisruptionbudget " + b.key()
	switch {
	case b.syncFailed:
		return "the disruption controller cannot compute it (SyncFailed), so it allows no disruption",
			fmt.Sprintf("fix what kubectl describe %s reports so that the controller can compute it", name)
	case spec.MaxUnavailable != nil && isZero(*spec.MaxUnavailable):
		return fmt.Sprintf("maxUnavailable: %s never allows an eviction", spec.MaxUnavailable.String()),
			fmt.Sprintf("set maxUnavailable of %s to at least 1 (more replicas do not help while it is 0)", name)
	case spec.MinAvailable != nil && expected > 0 && b.desired >= expected:
		return fmt.Sprintf("minAvailable: %s equals its %d expected pods, so no pod may ever go", spec.MinAvailable.String(), expected),
			fmt.Sprintf("scale the workload to more than %d replicas before the drain, or lower minAvailable of %s below %d", expected, name, expected)
	case b.healthy == 0 && expected > 0:
		return "none of its pods is healthy, so it never allows a disruption",
			fmt.Sprintf("make its pods ready, or set unhealthyPodEvictionPolicy: AlwaysAllow on %s", name)
	case b.lost > 0:
		return fmt.Sprintf("%d evicted pod(s) get replacements that find no node, so it never gets back to %d healthy pods", b.lost, b.desired),
			fmt.Sprintf("add room for the replacements of %s's pods (see DP120), or relax the budget", name)
	}
	return fmt.Sprintf("it needs %d healthy pods and has %d", b.desired, b.healthy),
		fmt.Sprintf("relax %s (allow one more disruption) or scale its workload up by one before the drain", name)
}

func isZero(v intstr.IntOrString) bool {
	if v.Type == intstr.Int {
		return v.IntVal == 0
	}
	return v.StrVal == "0%" || v.StrVal == "0"
}

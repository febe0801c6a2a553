package autoscaler

import (
	"regexp"
	"strconv"
	"strings"
)

// cluster-autoscaler's events on a pod (processors/status/
// eventing_scale_up_processor.go), source component "cluster-autoscaler":
//
//	TriggeredScaleUp   pod triggered scale-up: [{workers 1->3 (max: 10)} {gpu 0->1 (max: 2)}]
//	NotTriggerScaleUp  pod didn't trigger scale-up: 2 max node group size reached, 1 Insufficient cpu
//
// NotTriggerScaleUp counts, for each reason, the node groups rejected (the
// pod does not fit their template node: the scheduler's own reason) or
// skipped (core/scaleup/orchestrator/skippedreasons.go) for it; the groups
// themselves are not named. When the cluster-wide node limit is reached the
// message is "pod didn't trigger scale-up: max total nodes in cluster reached".
//
// Events on the status ConfigMap (core/scaleup/orchestrator/executor.go):
//
//	ScaledUpGroup         Scale-up: setting group workers size to 3 instead of 1 (max: 10)
//	FailedToScaleUpGroup  Scale-up failed for group workers: <cloud provider error>
//	MaxNodesTotalReached  Max total nodes in cluster reached: 20
const (
	ReasonTriggeredScaleUp     = "TriggeredScaleUp"
	ReasonNotTriggerScaleUp    = "NotTriggerScaleUp"
	ReasonFailedToScaleUpGroup = "FailedToScaleUpGroup"
	// reasonMaxNodesTotalReached is on the status ConfigMap: "Max total
	// nodes in cluster reached: 20".
	reasonMaxNodesTotalReached = "MaxNodesTotalReached"
)

var (
	scaleUpInfoRe   = regexp.MustCompile(`\{(.+?) (\d+)->(\d+) \(max: (\d+)\)\}`)
	failedGroupRe   = regexp.MustCompile(`^Scale-up failed for group (.+?): (.*)$`)
	countedReasonRe = regexp.MustCompile(`^(\d+) (.+)$`)
)

// ScaleUp is one group of a TriggeredScaleUp event.
type ScaleUp struct {
	Group string
	SizeChange
}

// ParseTriggeredScaleUp reads the groups and sizes of a TriggeredScaleUp
// message.
func ParseTriggeredScaleUp(msg string) []ScaleUp {
	var out []ScaleUp
	for _, m := range scaleUpInfoRe.FindAllStringSubmatch(msg, -1) {
		from, _ := strconv.Atoi(m[2])
		to, _ := strconv.Atoi(m[3])
		max, _ := strconv.Atoi(m[4])
		out = append(out, ScaleUp{Group: m[1], SizeChange: SizeChange{From: from, To: to, Max: max}})
	}
	return out
}

// CountedReason is one reason of a NotTriggerScaleUp message and how many
// node groups it applied to (0 when the message gives no count).
type CountedReason struct {
	Count int
	Text  string
}

// ParseNotTriggerScaleUp splits a NotTriggerScaleUp message into its
// reasons. Reasons may contain ", " themselves ("max cluster cpu, memory
// limit reached"), so the list is split only before a count.
func ParseNotTriggerScaleUp(msg string) []CountedReason {
	body := msg
	// "pod didn't trigger scale-up: ..." (older releases: "pod didn't
	// trigger scale-up (it wouldn't fit if a new node is added): ...").
	if i := strings.Index(strings.ToLower(body), "trigger scale-up"); i >= 0 {
		rest := body[i+len("trigger scale-up"):]
		if j := strings.Index(rest, ": "); j >= 0 {
			body = rest[j+2:]
		} else {
			body = strings.TrimPrefix(rest, ":")
		}
	}
	body = strings.TrimSpace(body)
	if body == "" {
		return nil
	}
	var parts []string
	start := 0
	for i := 0; i+2 < len(body); i++ {
		if body[i] == ',' && body[i+1] == ' ' && startsWithCount(body[i+2:]) {
			parts = append(parts, body[start:i])
			start = i + 2
		}
	}
	parts = append(parts, body[start:])
	out := make([]CountedReason, 0, len(parts))
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if m := countedReasonRe.FindStringSubmatch(p); m != nil {
			n, _ := strconv.Atoi(m[1])
			out = append(out, CountedReason{Count: n, Text: m[2]})
			continue
		}
		out = append(out, CountedReason{Text: p})
	}
	return out
}

func startsWithCount(s string) bool {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i > 0 && i < len(s) && s[i] == ' '
}

// caReasonCode classifies a NotTriggerScaleUp reason: the skip reasons of
// the scale-up orchestrator, cluster-wide limits, or (anything else) a
// scheduler filter's reason on the group's template node.
func caReasonCode(text string) string {
	t := strings.ToLower(text)
	switch {
	case t == "max node group size reached":
		return "max-node-group-size"
	case t == "in backoff after failed scale-up":
		return "backoff"
	case t == "not ready for scale-up":
		return "not-ready"
	case strings.HasPrefix(t, "max cluster ") && strings.HasSuffix(t, " limit reached"):
		return "max-resource-limit"
	case strings.HasPrefix(t, "exceeded quota:"):
		return "quota-exceeded"
	case t == "max total nodes in cluster reached":
		return "max-nodes-total"
	case t == "atomic scale-up exceeds cluster node count limit":
		return "atomic-node-limit"
	case strings.HasPrefix(t, "not all pods would fit"):
		return "all-or-nothing"
	case strings.HasPrefix(t, "expansion options filtered out"):
		return "expander-filtered"
	case strings.HasPrefix(t, "at least one node can be vertically scaled"):
		return "vertical-headroom"
	}
	return "scheduler-filter"
}

// ParseFailedScaleUp reads a FailedToScaleUpGroup message: the group and
// the cloud provider's error.
func ParseFailedScaleUp(msg string) (group, err string, ok bool) {
	m := failedGroupRe.FindStringSubmatch(strings.TrimSpace(msg))
	if m == nil {
		return "", "", false
	}
	return m[1], m[2], true
}

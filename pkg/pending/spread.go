package pending

import (
	"fmt"
	"strings"

	"github.com/ktriage/ktriage/pkg/scheduling"
)

// spreadFindingText adds to the topology spread finding which domains
// count and why, and puts first the fix the deciding policy calls for.
func spreadFindingText(msg, fix string, spread []scheduling.SpreadConstraint, details map[string]any) (string, string) {
	if len(spread) == 0 {
		return msg, fix
	}
	var summaries, fixes []string
	for _, sc := range spread {
		summaries = append(summaries, sc.Summary)
		affinityCounts, taintsCount := false, false
		for _, d := range sc.Domains {
			if d.Counts && d.Matching == sc.Min && strings.Contains(d.Why, "nodeAffinityPolicy: Ignore") {
				affinityCounts = true
			}
			if d.Counts && d.Matching == sc.Min && strings.Contains(d.Why, "nodeTaintsPolicy: Ignore") {
				taintsCount = true
			}
		}
		if affinityCounts {
			fixes = append(fixes, fmt.Sprintf("set nodeAffinityPolicy: Honor on the %s constraint: domains the pod's nodeSelector/affinity keeps it out of then stop counting toward its skew", sc.TopologyKey))
		}
		if taintsCount {
			fixes = append(fixes, fmt.Sprintf("set nodeTaintsPolicy: Honor on the %s constraint: domains whose nodes have taints the pod does not tolerate then stop counting", sc.TopologyKey))
		}
		if sc.MinDomains > 0 && int32(sc.Counting) < sc.MinDomains {
			fixes = append(fixes, fmt.Sprintf("lower minDomains to %d (the %s domains that count), or add nodes in new %s domains", sc.Counting, sc.TopologyKey, sc.TopologyKey))
		}
	}
	details["constraints"] = spread
	msg += "; domains: " + strings.Join(summaries, "; ")
	if len(fixes) > 0 {
		fix = strings.Join(fixes, "; or ") + "; otherwise " + fix
	}
	return msg, fix
}

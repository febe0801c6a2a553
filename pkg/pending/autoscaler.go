package pending

import (
	"github.com/ktriage/ktriage/pkg/autoscaler"
	"github.com/ktriage/ktriage/pkg/report"
)

// The node autoscaler's findings (WP19x) are why-pending's.
func init() {
	for _, r := range autoscaler.Rules {
		r.Plugin = Plugin
		report.Register(r)
	}
}

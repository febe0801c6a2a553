package report

import (
	"fmt"
	"sort"
	"sync"
)

// Rule documents one finding type. Rule IDs are a contract: scripts, --ignore
// and the ktriage.io/ignore annotation refer to them, so an ID is never reused.
type Rule struct {
	ID       string   // stable identifier, e.g. WP101
	Plugin   string   // plugin that emits it, e.g. why-pending
	Severity Severity // default severity
	Title    string   // a few words, e.g. "untolerated taint"
	// Description explains what the rule detects and why it matters.
	Description string
	// Fix is general guidance; each finding carries its own concrete fix.
	Fix string
}

var (
	registryMu sync.RWMutex
	registry   = map[string]Rule{}
)

// Register adds rules to the global registry. Plugins call it from init; a
// duplicate ID is a programming error and panics.
func Register(rules ...Rule) {
	registryMu.Lock()
	defer registryMu.Unlock()
	for _, r := range rules {
		if r.ID == "" {
			panic("report: rule without ID")
		}
		if _, dup := registry[r.ID]; dup {
			panic(fmt.Sprintf("report: rule %s registered twice", r.ID))
		}
		registry[r.ID] = r
	}
}

// LookupRule returns the registered rule with that ID.
func LookupRule(id string) (Rule, bool) {
	registryMu.RLock()
	defer registryMu.RUnlock()
	r, ok := registry[id]
	return r, ok
}

// Rules returns every registered rule sorted by ID; with plugin set, only that
// plugin's rules.
func Rules(plugin string) []Rule {
	registryMu.RLock()
	defer registryMu.RUnlock()
	out := make([]Rule, 0, len(registry))
	for _, r := range registry {
		if plugin == "" || r.Plugin == plugin {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

package cluster

import (
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// ReadyCondition is the node's Ready condition; nil when it has none (its
// kubelet never reported).
func ReadyCondition(n *corev1.Node) *corev1.NodeCondition {
	for i := range n.Status.Conditions {
		if n.Status.Conditions[i].Type == corev1.NodeReady {
			return &n.Status.Conditions[i]
		}
	}
	return nil
}

// NodeReady reports whether the node's Ready condition is True.
func NodeReady(n *corev1.Node) bool {
	c := ReadyCondition(n)
	return c != nil && c.Status == corev1.ConditionTrue
}

// NotFoundError is a named object the snapshot does not have: a node, or a
// target (see Resolve).
type NotFoundError struct {
	Kind, Namespace, Name string
	// Hint says how to find the right name.
	Hint string
	// BareNamespace writes the namespace unquoted ("in namespace shop"), as
	// netcheck's messages, which scripts match, always have.
	BareNamespace bool
}

func (e *NotFoundError) Error() string {
	msg := fmt.Sprintf("%s %q not found", e.Kind, e.Name)
	switch {
	case e.Namespace != "" && e.BareNamespace:
		msg += " in namespace " + e.Namespace
	case e.Namespace != "":
		msg += fmt.Sprintf(" in namespace %q", e.Namespace)
	}
	if e.Hint != "" {
		msg += ": " + e.Hint
	}
	return msg
}

// ResolveNodes turns NODE arguments or a node label selector into node
// names: the names in the order given (each must exist), or the selected
// nodes sorted by name. Pass one or the other, as kubectl drain takes.
func ResolveNodes(s *Snapshot, names []string, selector string) ([]string, error) {
	if selector == "" {
		seen := map[string]bool{}
		var out []string
		for _, n := range names {
			if s.Node(n) == nil {
				return nil, &NotFoundError{Kind: "node", Name: n, Hint: "list the nodes with kubectl get nodes"}
			}
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
		return out, nil
	}
	sel, err := labels.Parse(selector)
	if err != nil {
		return nil, fmt.Errorf("invalid node selector %q: %w", selector, err)
	}
	var out []string
	for _, n := range s.Nodes {
		if sel.Matches(labels.Set(n.Labels)) {
			out = append(out, n.Name)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no node matches the selector %q: check it with kubectl get nodes -l '%s'", selector, selector)
	}
	sort.Strings(out)
	return out, nil
}

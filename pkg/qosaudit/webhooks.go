package qosaudit

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// podMutators names the mutating webhooks that may change a pod created in
// namespace ns with the given labels (sidecar injectors add containers with
// their own resources, which can change the class): those whose rules match
// pod CREATE and whose namespace and object selectors match. A nil namespace
// (not readable) matches any namespaceSelector.
func podMutators(configs []*admissionregistrationv1.MutatingWebhookConfiguration, ns *corev1.Namespace, podLabels map[string]string) []string {
	var out []string
	for _, c := range configs {
		for _, w := range c.Webhooks {
			if !matchesPodCreate(w.Rules) {
				continue
			}
			if ns != nil && !selects(w.NamespaceSelector, ns.Labels) {
				continue
			}
			if !selects(w.ObjectSelector, podLabels) {
				continue
			}
			out = append(out, fmt.Sprintf("%s (%s)", w.Name, c.Name))
		}
	}
	sort.Strings(out)
	return out
}

func matchesPodCreate(rules []admissionregistrationv1.RuleWithOperations) bool {
	for _, r := range rules {
		ops := slices.ContainsFunc(r.Operations, func(o admissionregistrationv1.OperationType) bool {
			return o == admissionregistrationv1.Create || o == admissionregistrationv1.OperationAll
		})
		group := slices.Contains(r.APIGroups, "") || slices.Contains(r.APIGroups, "*")
		version := slices.Contains(r.APIVersions, "v1") || slices.Contains(r.APIVersions, "*")
		resource := slices.Contains(r.Resources, "pods") || slices.Contains(r.Resources, "*")
		if ops && group && version && resource {
			return true
		}
	}
	return false
}

// selects is a webhook selector: nil or empty selects everything.
func selects(sel *metav1.LabelSelector, set map[string]string) bool {
	if sel == nil {
		return true
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return true // the API server rejects invalid selectors; assume it may apply
	}
	return s.Matches(labels.Set(set))
}

// mutatorWarning says which webhooks the -f prediction leaves out.
func mutatorWarning(namespace string, hooks []string) string {
	return fmt.Sprintf("namespace %s: mutating webhook(s) %s may change pods on creation (e.g. inject sidecars with their own resources); the predicted QoS classes leave their changes out", namespace, strings.Join(hooks, ", "))
}

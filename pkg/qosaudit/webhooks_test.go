package qosaudit

import (
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestPodMutatorsAreTheWebhooksThatMatchPodCreation(t *testing.T) {
	podCreate := []admissionregistrationv1.RuleWithOperations{{
		Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
		Rule:       admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"pods"}},
	}}
	svcCreate := []admissionregistrationv1.RuleWithOperations{{
		Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
		Rule:       admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"services"}},
	}}
	injection := &metav1.LabelSelector{MatchLabels: map[string]string{"istio-injection": "enabled"}}
	configs := []*admissionregistrationv1.MutatingWebhookConfiguration{
		{ObjectMeta: metav1.ObjectMeta{Name: "istio-sidecar-injector"}, Webhooks: []admissionregistrationv1.MutatingWebhook{
			{Name: "sidecar-injector.istio.io", Rules: podCreate, NamespaceSelector: injection},
		}},
		{ObjectMeta: metav1.ObjectMeta{Name: "svc-defaults"}, Webhooks: []admissionregistrationv1.MutatingWebhook{
			{Name: "svc.example.com", Rules: svcCreate},
		}},
		{ObjectMeta: metav1.ObjectMeta{Name: "opt-in"}, Webhooks: []admissionregistrationv1.MutatingWebhook{
			{Name: "vault.example.com", Rules: podCreate, ObjectSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"vault": "inject"}}},
		}},
	}
	mesh := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop", Labels: map[string]string{"istio-injection": "enabled"}}}
	plain := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "batch"}}
	if got := podMutators(configs, mesh, nil); len(got) != 1 || got[0] != "sidecar-injector.istio.io (istio-sidecar-injector)" {
		t.Errorf("injection-enabled namespace: got %v", got)
	}
	if got := podMutators(configs, plain, nil); len(got) != 0 {
		t.Errorf("a namespace without the label and pods without the opt-in: got %v", got)
	}
	if got := podMutators(configs, plain, map[string]string{"vault": "inject"}); len(got) != 1 || got[0] != "vault.example.com (opt-in)" {
		t.Errorf("pods that opt in by label: got %v", got)
	}
}

package certs

import (
	"encoding/base64"
	"fmt"
	"maps"
	"net"
	"net/url"
	"slices"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/pkg/report"
)

// Found is what FromSnapshot extracted from a cluster's objects.
type Found struct {
	Inputs []Input
	// Endpoints are URL webhooks whose served chain can be checked against
	// their caBundle.
	Endpoints []Endpoint
	// Findings about the objects themselves (CSRs, caBundles that cannot be
	// checked, APIServices failing on x509).
	Findings []report.Finding
}

// certKey says whether a Secret or ConfigMap key is read: any value holding a
// PEM certificate, and the conventional certificate keys whatever they hold
// (so a broken tls.crt is reported, not skipped).
func certKey(key string, value []byte) bool {
	if HasPEMCertificate(value) {
		return true
	}
	if len(value) == 0 {
		return false
	}
	switch {
	case key == "tls.crt", key == "ca.crt",
		strings.HasSuffix(key, ".crt"), strings.HasSuffix(key, ".cer"), strings.HasSuffix(key, ".der"):
		return true
	}
	return false
}

func keyRole(key string) string {
	switch key {
	case "ca.crt":
		return RoleAnchor
	case "tls.crt":
		return RoleIssued
	}
	return ""
}

// FromSnapshot extracts every certificate a snapshot's objects hold: Secrets
// and ConfigMaps (any key), webhook, APIService and CRD conversion caBundles,
// and CSRs (issued certificates, and findings for pending or unissued ones).
func FromSnapshot(s *cluster.Snapshot) Found {
	var f Found
	for _, sec := range s.Secrets {
		ref := report.RefFor("Secret", sec).WithSource(s.SourceOf("Secret", sec.Namespace, sec.Name))
		group := "secret/" + sec.Namespace + "/" + sec.Name
		for _, k := range slices.Sorted(maps.Keys(sec.Data)) {
			if certKey(k, sec.Data[k]) {
				f.Inputs = append(f.Inputs, Input{Origin: objOrigin("Secret", sec.Namespace, sec.Name, k), Ref: ref, Data: sec.Data[k], Group: group, Role: keyRole(k)})
			}
		}
		// stringData only exists in manifests (the API folds it into data).
		for _, k := range slices.Sorted(maps.Keys(sec.StringData)) {
			if _, dup := sec.Data[k]; !dup && certKey(k, []byte(sec.StringData[k])) {
				f.Inputs = append(f.Inputs, Input{Origin: objOrigin("Secret", sec.Namespace, sec.Name, k), Ref: ref, Data: []byte(sec.StringData[k]), Group: group, Role: keyRole(k)})
			}
		}
	}
	for _, cm := range s.ConfigMaps {
		ref := report.RefFor("ConfigMap", cm).WithSource(s.SourceOf("ConfigMap", cm.Namespace, cm.Name))
		group := "configmap/" + cm.Namespace + "/" + cm.Name
		for _, k := range slices.Sorted(maps.Keys(cm.Data)) {
			if v := []byte(cm.Data[k]); certKey(k, v) {
				f.Inputs = append(f.Inputs, Input{Origin: objOrigin("ConfigMap", cm.Namespace, cm.Name, k), Ref: ref, Data: v, Group: group, Role: keyRole(k)})
			}
		}
		for _, k := range slices.Sorted(maps.Keys(cm.BinaryData)) {
			if certKey(k, cm.BinaryData[k]) {
				f.Inputs = append(f.Inputs, Input{Origin: objOrigin("ConfigMap", cm.Namespace, cm.Name, k), Ref: ref, Data: cm.BinaryData[k], Group: group, Role: keyRole(k)})
			}
		}
	}
	for _, w := range s.ValidatingWebhooks {
		ref := report.RefFor("ValidatingWebhookConfiguration", w).WithSource(s.SourceOf("ValidatingWebhookConfiguration", "", w.Name))
		var ccs []namedClientConfig
		for _, h := range w.Webhooks {
			ccs = append(ccs, namedClientConfig{h.Name, h.ClientConfig})
		}
		f.webhooks("ValidatingWebhookConfiguration", w.Name, ref, ccs)
	}
	for _, w := range s.MutatingWebhooks {
		ref := report.RefFor("MutatingWebhookConfiguration", w).WithSource(s.SourceOf("MutatingWebhookConfiguration", "", w.Name))
		var ccs []namedClientConfig
		for _, h := range w.Webhooks {
			ccs = append(ccs, namedClientConfig{h.Name, h.ClientConfig})
		}
		f.webhooks("MutatingWebhookConfiguration", w.Name, ref, ccs)
	}
	for _, u := range s.Other {
		switch u.GetKind() {
		case "APIService":
			f.apiService(u)
		case "CustomResourceDefinition":
			f.crd(u)
		}
	}
	for _, csr := range s.CSRs {
		f.csr(csr)
	}
	return f
}

func objOrigin(kind, ns, name, key string) Origin {
	return Origin{Type: OriginObject, Kind: kind, Namespace: ns, Name: name, Key: key}
}

type namedClientConfig struct {
	name string
	cc   admissionregistrationv1.WebhookClientConfig
}

func (f *Found) webhooks(kind, name string, ref report.ObjectRef, hooks []namedClientConfig) {
	var internal []string
	for _, h := range hooks {
		field := "webhooks[" + h.name + "].clientConfig.caBundle"
		if len(h.cc.CABundle) > 0 {
			f.Inputs = append(f.Inputs, Input{Origin: objOrigin(kind, "", name, field), Ref: ref, Data: h.cc.CABundle, Group: strings.ToLower(kind) + "/" + name + "/" + h.name, Role: RoleAnchor})
		}
		switch {
		case h.cc.URL != nil:
			if ep, err := urlEndpoint(*h.cc.URL, h.cc.CABundle, objOrigin(kind, "", name, field), ref); err == nil {
				f.Endpoints = append(f.Endpoints, ep)
			}
		case h.cc.Service != nil:
			internal = append(internal, serviceName(h.cc.Service.Namespace, h.cc.Service.Name, h.cc.Service.Port))
		}
	}
	f.notChecked(ref, kind, name, internal)
}

func (f *Found) notChecked(ref report.ObjectRef, kind, name string, services []string) {
	if len(services) == 0 {
		return
	}
	f.Findings = append(f.Findings, report.Finding{
		RuleID: RuleNotChecked, Severity: report.SeverityInfo, Object: ref,
		Message: fmt.Sprintf("caBundle of %s/%s not compared with the served certificate: Service %s is only reachable inside the cluster", strings.ToLower(kind), name, strings.Join(services, ", ")),
		Fix:     "Check the serving certificate where the webhook mounts it (its Secret is in this report when it holds PEM).",
		Details: map[string]any{"services": services},
	})
}

func serviceName(ns, name string, port *int32) string {
	s := ns + "/" + name
	if port != nil {
		s += fmt.Sprintf(":%d", *port)
	}
	return s
}

// urlEndpoint builds the handshake target of a URL webhook.
func urlEndpoint(raw string, caBundle []byte, o Origin, ref report.ObjectRef) (Endpoint, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Scheme != "https" {
		return Endpoint{}, fmt.Errorf("not an https URL: %q", raw)
	}
	port := u.Port()
	if port == "" {
		port = "443"
	}
	rootsName := "its caBundle"
	if len(caBundle) == 0 {
		rootsName = "the system roots (no caBundle)"
	}
	return Endpoint{
		Origin:       Origin{Type: OriginWebhook, Endpoint: raw, Kind: o.Kind, Name: o.Name, Key: o.Key},
		Ref:          ref,
		Address:      net.JoinHostPort(u.Hostname(), port),
		ServerName:   u.Hostname(),
		Roots:        caBundle,
		RootsName:    rootsName,
		Group:        "webhook/" + raw,
		MismatchRule: RuleCABundleMismatch,
	}, nil
}

func (f *Found) apiService(u *unstructured.Unstructured) {
	ref := report.RefFor("APIService", u)
	name := u.GetName()
	if ca, _, _ := unstructured.NestedString(u.Object, "spec", "caBundle"); ca != "" {
		o := objOrigin("APIService", "", name, "spec.caBundle")
		data, err := base64.StdEncoding.DecodeString(ca)
		f.Inputs = append(f.Inputs, Input{Origin: o, Ref: ref, Data: data, Err: wrapErr("spec.caBundle is not base64", err), Group: "apiservice/" + name, Role: RoleAnchor})
	}
	svcName, _, _ := unstructured.NestedString(u.Object, "spec", "service", "name")
	if svcName == "" {
		return // served by the API server itself
	}
	svcNS, _, _ := unstructured.NestedString(u.Object, "spec", "service", "namespace")
	// The aggregator reports x509 failures in the Available condition: that
	// is the API server's own verdict on the caBundle.
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Available" && m["status"] == "False" {
			if msg, _ := m["message"].(string); strings.Contains(msg, "x509") || strings.Contains(msg, "tls:") {
				f.Findings = append(f.Findings, report.Finding{
					RuleID: RuleCABundleMismatch, Severity: report.SeverityError, Object: ref,
					Message: fmt.Sprintf("apiservice/%s is unavailable because TLS to its Service %s/%s fails: %s", name, svcNS, svcName, msg),
					Fix:     "Put the CA that issued the extension API server's serving certificate in spec.caBundle, and renew that certificate if it expired.",
					Details: map[string]any{"service": svcNS + "/" + svcName, "condition": msg},
				})
				return
			}
		}
	}
	if skip, _, _ := unstructured.NestedBool(u.Object, "spec", "insecureSkipTLSVerify"); skip {
		return
	}
	f.notChecked(ref, "APIService", name, []string{svcNS + "/" + svcName})
}

func (f *Found) crd(u *unstructured.Unstructured) {
	ref := report.RefFor("CustomResourceDefinition", u)
	name := u.GetName()
	cc, found, _ := unstructured.NestedMap(u.Object, "spec", "conversion", "webhook", "clientConfig")
	if !found {
		return
	}
	const field = "spec.conversion.webhook.clientConfig.caBundle"
	var caData []byte
	if ca, _ := cc["caBundle"].(string); ca != "" {
		data, err := base64.StdEncoding.DecodeString(ca)
		caData = data
		f.Inputs = append(f.Inputs, Input{Origin: objOrigin("CustomResourceDefinition", "", name, field), Ref: ref, Data: data, Err: wrapErr("caBundle is not base64", err), Group: "crd/" + name, Role: RoleAnchor})
	}
	if raw, _ := cc["url"].(string); raw != "" {
		if ep, err := urlEndpoint(raw, caData, objOrigin("CustomResourceDefinition", "", name, field), ref); err == nil {
			f.Endpoints = append(f.Endpoints, ep)
		}
		return
	}
	if svc, ok := cc["service"].(map[string]any); ok {
		ns, _ := svc["namespace"].(string)
		n, _ := svc["name"].(string)
		f.notChecked(ref, "CustomResourceDefinition", name, []string{ns + "/" + n})
	}
}

func (f *Found) csr(csr *certificatesv1.CertificateSigningRequest) {
	ref := report.RefFor("CertificateSigningRequest", csr)
	if len(csr.Status.Certificate) > 0 {
		f.Inputs = append(f.Inputs, Input{Origin: objOrigin("CertificateSigningRequest", "", csr.Name, "status.certificate"), Ref: ref, Data: csr.Status.Certificate, Group: "csr/" + csr.Name})
		return
	}
	var approved, closed bool
	for _, c := range csr.Status.Conditions {
		if c.Status != "" && c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case certificatesv1.CertificateApproved:
			approved = true
		case certificatesv1.CertificateDenied, certificatesv1.CertificateFailed:
			closed = true
		}
	}
	details := map[string]any{"signerName": csr.Spec.SignerName, "username": csr.Spec.Username, "created": csr.CreationTimestamp.UTC().Format("2006-01-02T15:04:05Z07:00")}
	switch {
	case closed:
	case approved:
		f.Findings = append(f.Findings, report.Finding{
			RuleID: RuleCSRNotIssued, Severity: report.SeverityWarning, Object: ref,
			Message: fmt.Sprintf("certificatesigningrequest/%s is approved but no certificate was issued (signer %s)", csr.Name, csr.Spec.SignerName),
			Fix:     fmt.Sprintf("Check that a signer serves %s (kube-controller-manager signs the kubernetes.io/* signers when given --cluster-signing-cert-file/--cluster-signing-key-file).", csr.Spec.SignerName),
			Details: details,
		})
	default:
		f.Findings = append(f.Findings, report.Finding{
			RuleID: RuleCSRPending, Severity: report.SeverityWarning, Object: ref,
			Message: fmt.Sprintf("certificatesigningrequest/%s from %s is pending (signer %s)", csr.Name, csr.Spec.Username, csr.Spec.SignerName),
			Fix:     fmt.Sprintf("kubectl certificate approve %s (or deny it); install an approver for %s if such requests keep piling up.", csr.Name, csr.Spec.SignerName),
			Details: details,
		})
	}
}

func wrapErr(msg string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", msg, err)
}

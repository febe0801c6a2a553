package certs

import "github.com/ktriage/ktriage/pkg/report"

// Plugin is the name rules and reports carry.
const Plugin = "cert-expiry"

// Rule IDs. They are a contract: scripts, --ignore and the ktriage.io/ignore
// annotation refer to them.
const (
	RuleExpired          = "CE101"
	RuleExpiresSoon      = "CE102"
	RuleExpiresWithin    = "CE103"
	RuleNotYetValid      = "CE104"
	RuleCAExpiresFirst   = "CE105"
	RuleChainInvalid     = "CE106"
	RuleHostnameMismatch = "CE107"
	RuleWeakKey          = "CE108"
	RuleWeakSignature    = "CE109"
	RuleCABundleMismatch = "CE110"
	RuleCSRPending       = "CE111"
	RuleCSRNotIssued     = "CE112"
	RuleUnreadable       = "CE113"
	RuleNotChecked       = "CE114"
	RuleUnreachable      = "CE115"
	RuleClusterUnread    = "CE116"
)

func init() {
	report.Register(
		report.Rule{ID: RuleExpired, Plugin: Plugin, Severity: report.SeverityError,
			Title:       "certificate expired",
			Description: "The certificate's notAfter is in the past. Every TLS client rejects it: an expired API server, etcd or webhook certificate takes the cluster or the webhook down, an expired client certificate locks its user out.",
			Fix:         "Renew the certificate (kubeadm certs renew, cert-manager renew, or re-issue from its CA) and restart what serves it."},
		report.Rule{ID: RuleExpiresSoon, Plugin: Plugin, Severity: report.SeverityError,
			Title:       "certificate expires within --fail",
			Description: "The certificate expires within the --fail window (default 7 days): too close to wait for the next maintenance window.",
			Fix:         "Renew the certificate now and restart what serves it."},
		report.Rule{ID: RuleExpiresWithin, Plugin: Plugin, Severity: report.SeverityWarning,
			Title:       "certificate expires within --warn",
			Description: "The certificate expires within the --warn window (default 30 days).",
			Fix:         "Plan the renewal; check that automatic rotation (cert-manager, kubelet rotation, kubeadm upgrade) is really in place."},
		report.Rule{ID: RuleNotYetValid, Plugin: Plugin, Severity: report.SeverityError,
			Title:       "certificate not yet valid",
			Description: "The certificate's notBefore is in the future: clients reject it until then. Usually a clock skew between the issuer and this machine, or a certificate issued with a wrong start date.",
			Fix:         "Check the clocks (NTP) of the issuing machine and of this one, or re-issue the certificate with a start date in the past."},
		report.Rule{ID: RuleCAExpiresFirst, Plugin: Plugin, Severity: report.SeverityWarning,
			Title:       "CA expires before a certificate it signed",
			Description: "A CA certificate expires before a certificate it issued: the issued certificate stops verifying when the CA expires, whatever its own notAfter says. A renewal of the CA seen anywhere (same subject and key) that outlives the certificate clears it.",
			Fix:         "Renew the CA first (keeping its key lets issued certificates keep verifying), or re-issue the certificates with a notAfter within the CA's."},
		report.Rule{ID: RuleChainInvalid, Plugin: Plugin, Severity: report.SeverityError,
			Title:       "certificate chain does not verify",
			Description: "The certificate does not verify against the CA it is published with (kubeconfig certificate-authority, ca.crt next to tls.crt, the issuer in the same bundle): wrong CA, wrong order, missing intermediate or a bad signature.",
			Fix:         "Publish the CA that really issued the certificate, and serve the leaf followed by its intermediates."},
		report.Rule{ID: RuleHostnameMismatch, Plugin: Plugin, Severity: report.SeverityError,
			Title:       "served certificate does not match the host",
			Description: "The certificate a server presents does not list the host clients dial in its subject alternative names, so clients reject it.",
			Fix:         "Re-issue the serving certificate with the host name or IP address in its SANs (kubeadm: apiServer.certSANs)."},
		report.Rule{ID: RuleWeakKey, Plugin: Plugin, Severity: report.SeverityWarning,
			Title:       "weak key",
			Description: "The certificate's RSA key is shorter than 2048 bits: it can be factored, and current TLS stacks refuse it.",
			Fix:         "Re-issue the certificate with an RSA 2048+ or ECDSA P-256 key."},
		report.Rule{ID: RuleWeakSignature, Plugin: Plugin, Severity: report.SeverityWarning,
			Title:       "SHA-1 or MD5 signature",
			Description: "The certificate is signed with SHA-1 or MD5. Go clients (kubectl, client-go, the API server) reject such signatures.",
			Fix:         "Re-issue the certificate with a SHA-256 signature."},
		report.Rule{ID: RuleCABundleMismatch, Plugin: Plugin, Severity: report.SeverityError,
			Title:       "caBundle does not verify the served certificate",
			Description: "The caBundle of a webhook, APIService or conversion webhook does not verify the certificate its server presents: the API server's calls to it fail with an x509 error.",
			Fix:         "Put the CA that issued the serving certificate in the caBundle (cert-manager's ca-injector does it from an annotation)."},
		report.Rule{ID: RuleCSRPending, Plugin: Plugin, Severity: report.SeverityWarning,
			Title:       "certificate signing request pending",
			Description: "A CertificateSigningRequest is neither approved nor denied. A kubelet waiting on its serving certificate CSR, for example, serves no TLS until it is approved.",
			Fix:         "Approve or deny it (kubectl certificate approve NAME), or install the approver for its signerName."},
		report.Rule{ID: RuleCSRNotIssued, Plugin: Plugin, Severity: report.SeverityWarning,
			Title:       "approved CSR without a certificate",
			Description: "A CertificateSigningRequest is approved but no signer issued its certificate: no controller serves its signerName.",
			Fix:         "Run a signer for the CSR's signerName, or use a signerName the cluster signs (kubernetes.io/kube-apiserver-client, kubernetes.io/kubelet-serving...)."},
		report.Rule{ID: RuleUnreadable, Plugin: Plugin, Severity: report.SeverityWarning,
			Title:       "unreadable certificate data",
			Description: "A file, key or field meant to hold certificates cannot be read or parsed (broken PEM, not DER, truncated data), so its expiry cannot be checked.",
			Fix:         "Fix or remove the data; check it with openssl x509 -noout -text."},
		report.Rule{ID: RuleNotChecked, Plugin: Plugin, Severity: report.SeverityInfo,
			Title:       "served certificate not checked",
			Description: "A caBundle could not be compared with the certificate its server presents, because that server (usually a Service inside the cluster) is not reachable from here.",
			Fix:         "Run the check from inside the cluster network, or check the webhook's serving certificate where it is mounted."},
		report.Rule{ID: RuleUnreachable, Plugin: Plugin, Severity: report.SeverityWarning,
			Title:       "TLS endpoint unreachable",
			Description: "A TLS handshake with an API server, webhook or kubelet failed, timed out (--dial-timeout, --request-timeout) or was cut short by the run's --deadline, so its served certificates are not in the report.",
			Fix:         "Check that the server runs and that this machine can reach it; raise --dial-timeout on a slow network, or --deadline (or --concurrency) when many servers are slow to answer."},
		report.Rule{ID: RuleClusterUnread, Plugin: Plugin, Severity: report.SeverityError,
			Title:       "cluster not read",
			Description: "The API server could not be read (credentials rejected, server down or not answering, no kubeconfig), so the certificates in Secrets, ConfigMaps, webhooks, APIServices and CSRs, and the kubelets' serving certificates, are missing from a report that still lists what the other sources found. An expired client certificate is a common cause: look for it in the report.",
			Fix:         "Check the kubeconfig's credentials and that the API server answers (kubectl get --raw /readyz), or leave the cluster out with --sources kubeconfig,served,pki."},
	)
}

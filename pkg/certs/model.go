package certs

import (
	"strings"
	"time"

	"github.com/ktriage/ktriage/pkg/report"
)

// Origin types: where a certificate was found.
const (
	OriginKubeconfig = "kubeconfig" // a context's client certificate or CA
	OriginServed     = "served"     // the chain an API server presents
	OriginKubelet    = "kubelet"    // the chain a kubelet presents
	OriginWebhook    = "webhook"    // the chain a URL webhook presents
	OriginPKI        = "pki"        // a file of a PKI directory
	OriginFile       = "file"       // a file given with -f
	OriginObject     = "object"     // a key or field of a Kubernetes object
)

// Origin says where a certificate was found. String() is the report's
// "source".
type Origin struct {
	Type      string `json:"type"`
	Kind      string `json:"kind,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`
	// Key is the data key (Secret, ConfigMap), field (webhooks[0].clientConfig.caBundle)
	// or kubeconfig field (client-certificate, certificate-authority).
	Key  string `json:"key,omitempty"`
	Path string `json:"path,omitempty"`
	// File is the certificate file a kubeconfig names (client-certificate,
	// certificate-authority); Path is then the kubeconfig.
	File     string `json:"file,omitempty"`
	Endpoint string `json:"endpoint,omitempty"`
	Context  string `json:"context,omitempty"`
}

// String renders the origin on one line:
//
//	secret/prod/web-tls:tls.crt
//	kubeconfig/admin@prod:certificate-authority
//	/etc/kubernetes/pki/apiserver.crt
//	/etc/kubernetes/kubelet.conf:user/system:node:cp-1 -> /var/lib/kubelet/pki/kubelet-client-current.pem
//	https://10.0.0.1:6443
func (o Origin) String() string {
	switch o.Type {
	case OriginKubeconfig:
		return "kubeconfig/" + o.Context + ":" + o.Key
	case OriginServed, OriginWebhook:
		return o.Endpoint
	case OriginKubelet:
		return "kubelet/" + o.Name + " " + o.Endpoint
	case OriginPKI, OriginFile:
		s := o.Path
		if o.Key != "" {
			s += ":" + o.Key
		}
		if o.File != "" {
			s += " -> " + o.File
		}
		return s
	}
	var b strings.Builder
	b.WriteString(strings.ToLower(o.Kind))
	b.WriteString("/")
	if o.Namespace != "" {
		b.WriteString(o.Namespace + "/")
	}
	b.WriteString(o.Name)
	if o.Key != "" {
		b.WriteString(":" + o.Key)
	}
	return b.String()
}

// Role of an input's certificates within their group.
const (
	// RoleAnchor marks the CAs a group trusts (ca.crt, certificate-authority).
	RoleAnchor = "anchor"
	// RoleIssued marks certificates that must chain to the group's anchors
	// (tls.crt next to a ca.crt).
	RoleIssued = "issued"
)

// Input is data found somewhere that holds (or should hold) certificates.
type Input struct {
	Origin Origin
	// Ref is what findings are about; for Kubernetes objects build it with
	// report.RefFor so the ktriage.io/ignore annotation applies.
	Ref report.ObjectRef
	// Data is PEM or DER.
	Data []byte
	// Group ties inputs whose certificates may sign each other (the keys of
	// one Secret, one PKI directory, one kubeconfig context).
	Group string
	Role  string
	// Served is set for a chain received in a TLS handshake.
	Served *Served
	// Err is set when the data could not be read at all (unreadable file).
	Err error
}

// Served is what a TLS handshake returned and what it is checked against.
type Served struct {
	// Host is the name or address the client dialed (or tls-server-name).
	Host string
	// Roots are the trust anchors (PEM): the kubeconfig's CA, a caBundle.
	// Empty means the system roots.
	Roots []byte
	// RootsName says what Roots are, for messages ("the kubeconfig CA").
	RootsName string
	// Insecure skips verification (insecure-skip-tls-verify).
	Insecure bool
	// SkipChain skips the chain but not the host name: the trust anchors
	// could not be read.
	SkipChain bool
	// MismatchRule is the rule a verification failure is reported under
	// (RuleChainInvalid, or RuleCABundleMismatch for a caBundle).
	MismatchRule string
}

// Options tune the analysis.
type Options struct {
	Now time.Time
	// Fail and Warn are the windows for error and warning findings.
	Fail time.Duration
	Warn time.Duration
	// Warm, when set, holds certificates parsed and signatures checked
	// while the inputs were read (see Warm).
	Warm *Warm
}

// Certificate is one certificate in the report.
type Certificate struct {
	Source string `json:"source"`
	Origin Origin `json:"origin"`
	// AlsoIn lists the other sources of the same certificate (same SHA-256).
	AlsoIn       []string  `json:"alsoIn,omitempty"`
	Subject      string    `json:"subject"`
	Issuer       string    `json:"issuer"`
	SANs         []string  `json:"sans,omitempty"`
	Serial       string    `json:"serial"`
	NotBefore    time.Time `json:"notBefore"`
	NotAfter     time.Time `json:"notAfter"`
	DaysLeft     int       `json:"daysLeft"`
	SecondsLeft  int64     `json:"secondsLeft"`
	IsCA         bool      `json:"isCA"`
	SelfSigned   bool      `json:"selfSigned"`
	ChainIndex   int       `json:"chainIndex"`
	ChainRole    string    `json:"chainRole"`
	KeyAlgorithm string    `json:"keyAlgorithm"`
	Signature    string    `json:"signatureAlgorithm"`
	SHA256       string    `json:"sha256"`
	// Severity is the highest severity of the findings about this certificate.
	Severity report.Severity `json:"severity"`
	Rules    []string        `json:"rules,omitempty"`
}

// Chain roles.
const (
	ChainLeaf         = "leaf"
	ChainIntermediate = "intermediate"
	ChainRoot         = "root"
)

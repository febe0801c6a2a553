package certs

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/pkg/report"
)

// Source names accepted by --sources.
const (
	SourceKubeconfig = "kubeconfig"
	SourceServed     = "served"
	SourcePKI        = "pki"
	SourceCluster    = "cluster"
	SourceKubelets   = "kubelets"
	SourceFiles      = "files"
)

// AllSources are the sources --sources names, in the order of the help; all
// but the kubelets are searched by default.
var AllSources = []string{SourceKubeconfig, SourceServed, SourcePKI, SourceCluster, SourceKubelets}

// Plan says where a run looks for certificates: decided from the flags alone,
// before any file is read or any server dialed.
type Plan struct {
	// Sources are the places searched.
	Sources map[string]bool
	// Named are the sources given with --sources: a cluster named there that
	// cannot be read stops the run.
	Named map[string]bool
}

// PlanSources turns --sources, whether -f names files and --probe-kubelets
// into a Plan. Without --sources, -f means only the files, and no -f means
// every source but the kubelets.
func PlanSources(sources []string, files, probeKubelets bool) (Plan, error) {
	p := Plan{Sources: map[string]bool{}, Named: map[string]bool{}}
	switch {
	case len(sources) > 0:
		for _, s := range sources {
			s = strings.ToLower(strings.TrimSpace(s))
			if !slices.Contains(AllSources, s) && s != SourceFiles {
				return Plan{}, fmt.Errorf("--sources: unknown source %q: use %s", s, strings.Join(AllSources, ", "))
			}
			p.Sources[s], p.Named[s] = true, true
		}
	case !files:
		for _, s := range AllSources[:4] {
			p.Sources[s] = true
		}
	}
	if files {
		p.Sources[SourceFiles] = true
	} else if p.Sources[SourceFiles] {
		return Plan{}, fmt.Errorf("--sources files needs -f FILE")
	}
	if probeKubelets {
		p.Sources[SourceKubelets] = true
	}
	return p, nil
}

// ReadsKubeconfig says whether the kubeconfig is read: for its own
// certificates, or for the API servers whose served chains are checked.
func (p Plan) ReadsKubeconfig() bool { return p.Sources[SourceKubeconfig] || p.Sources[SourceServed] }

// ReadsCluster says whether the cluster's API is read.
func (p Plan) ReadsCluster() bool { return p.Sources[SourceCluster] || p.Sources[SourceKubelets] }

// ClusterNamed says whether --sources asked for the cluster or the kubelets,
// which makes a cluster that cannot be read fatal.
func (p Plan) ClusterNamed() bool { return p.Named[SourceCluster] || p.Named[SourceKubelets] }

// InputKind is the report's metadata.input: files, cluster or files+cluster.
func (p Plan) InputKind() string {
	s := p.Sources
	files := s[SourceFiles] || s[SourcePKI] || s[SourceKubeconfig]
	live := s[SourceCluster] || s[SourceKubelets] || s[SourceServed]
	switch {
	case files && live:
		return "files+cluster"
	case live:
		return "cluster"
	}
	return "files"
}

// Queries are the LISTs the plan needs from a cluster; namespace "" means
// every namespace and the cluster-scoped objects, a namespace only its
// Secrets and ConfigMaps.
func (p Plan) Queries(namespace string) []cluster.Query {
	var qs []cluster.Query
	if p.Sources[SourceCluster] {
		qs = append(qs,
			// Helm release Secrets are the bulk of most clusters' Secrets and
			// hold gzipped manifests, never a readable certificate.
			cluster.Query{Kind: cluster.KindSecret, Namespace: namespace, Optional: true, FieldSelector: "type!=helm.sh/release.v1"},
			cluster.Query{Kind: cluster.KindConfigMap, Namespace: namespace, Optional: true},
		)
		if namespace == "" {
			qs = append(qs,
				cluster.Query{Kind: cluster.KindValidatingWebhook, Optional: true},
				cluster.Query{Kind: cluster.KindMutatingWebhook, Optional: true},
				cluster.Query{Kind: cluster.KindAPIService, Optional: true},
				cluster.Query{Kind: cluster.KindCRD, Optional: true},
				cluster.Query{Kind: cluster.KindCSR, Optional: true},
			)
		}
	}
	if p.Sources[SourceKubelets] {
		qs = append(qs, cluster.Query{Kind: cluster.KindNode})
	}
	return qs
}

// Dials are the TLS servers a plan handshakes with, in this order: the API
// servers of the kubeconfig, the URL webhooks found in the cluster, the
// kubelets of the nodes. Unaddressed names the nodes that report no address.
type Dials struct {
	Endpoints   []Endpoint
	Unaddressed []string
}

// Dials picks, among what was read, the endpoints the plan's sources
// handshake with.
func (p Plan) Dials(kubeconfig []Endpoint, objects []Endpoint, nodes []*corev1.Node) Dials {
	var d Dials
	if p.Sources[SourceServed] {
		d.Endpoints = append(d.Endpoints, kubeconfig...)
	}
	if p.Sources[SourceCluster] {
		d.Endpoints = append(d.Endpoints, objects...)
	}
	if p.Sources[SourceKubelets] {
		eps, unaddressed := KubeletEndpoints(nodes)
		d.Endpoints = append(d.Endpoints, eps...)
		d.Unaddressed = unaddressed
	}
	return d
}

// Warning says which nodes' kubelets cannot be dialed, or "".
func (d Dials) Warning() string {
	if len(d.Unaddressed) == 0 {
		return ""
	}
	return fmt.Sprintf("--probe-kubelets: node(s) %s report no address; their kubelet serving certificates are not checked", strings.Join(d.Unaddressed, ", "))
}

// KubeletEndpoints are the nodes' kubelet ports. Kubelet serving certificates
// are often self-signed, so their chain and host are not verified: only
// their dates and strength are reported.
func KubeletEndpoints(nodes []*corev1.Node) (out []Endpoint, unaddressed []string) {
	for _, n := range nodes {
		port := n.Status.DaemonEndpoints.KubeletEndpoint.Port
		if port == 0 {
			port = 10250
		}
		addr := kubeletAddress(n)
		if addr == "" {
			unaddressed = append(unaddressed, n.Name)
			continue
		}
		hostport := net.JoinHostPort(addr, strconv.Itoa(int(port)))
		out = append(out, Endpoint{
			Origin:   Origin{Type: OriginKubelet, Name: n.Name, Endpoint: "https://" + hostport},
			Ref:      report.RefFor("Node", n),
			Address:  hostport,
			Insecure: true,
			Group:    "kubelet/" + n.Name,
		})
	}
	return out, unaddressed
}

// kubeletAddress is the address this tool can reach first; DNS names last
// (the API server's own preference starts with Hostname, which often does not
// resolve outside the nodes' network).
func kubeletAddress(n *corev1.Node) string {
	for _, t := range []corev1.NodeAddressType{corev1.NodeInternalIP, corev1.NodeExternalIP, corev1.NodeHostName, corev1.NodeInternalDNS, corev1.NodeExternalDNS} {
		for _, a := range n.Status.Addresses {
			if a.Type == t && a.Address != "" {
				return a.Address
			}
		}
	}
	return ""
}

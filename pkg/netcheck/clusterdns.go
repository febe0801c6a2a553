package netcheck

import (
	"net"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/ktriage/ktriage/pkg/netpolicy"
)

// The cluster DNS as a check sees it: kube-system/kube-dns, its address for
// the pod's resolv.conf, its pods for the source's egress, and the Services
// a name may be.
const (
	clusterDNSNamespace = "kube-system"
	clusterDNSService   = "kube-dns"
)

// clusterDNS returns the kube-dns Service's addresses, the usual kubelet
// clusterDNS, or nil. A Service that may not be read is worth a warning; one
// that does not exist is not (clusters name their DNS differently).
func (c *checker) clusterDNS() ([]string, error) {
	r := serviceRead(clusterDNSNamespace, clusterDNSService)
	s, err := c.objs.getService(r.Namespace, r.Name)
	switch {
	case isMissing(err):
		return nil, err
	case err != nil && !isNotFound(err):
		c.warn("%s: the cluster DNS address is unknown", explain(err, c.objs.verb(r), "services", clusterDNSNamespace))
	}
	if err != nil || s.Spec.ClusterIP == "" || s.Spec.ClusterIP == corev1.ClusterIPNone {
		return nil, nil
	}
	if len(s.Spec.ClusterIPs) > 0 {
		return s.Spec.ClusterIPs, nil
	}
	return []string{s.Spec.ClusterIP}, nil
}

// clusterDNSTargets are the ready cluster DNS pods on the Service's port 53
// (or its first port) of protocol proto; none when they cannot be read.
func (c *checker) clusterDNSTargets(proto corev1.Protocol) ([]Target, error) {
	so, err := c.service(clusterDNSNamespace, clusterDNSService)
	switch {
	case isMissing(err):
		return nil, err
	case err != nil:
		return nil, nil
	}
	svc := so.Service
	a := AnalyzeService(svc, so.Slices, so.Pods, 53, "", proto)
	if a.Port == nil {
		for _, sp := range svc.Spec.Ports {
			if sp.Protocol == proto {
				a = AnalyzeService(svc, so.Slices, so.Pods, 0, sp.Name, proto)
				break
			}
		}
	}
	targets := so.targets(&a, nil, false)
	if len(targets) == 0 {
		return nil, nil
	}
	nsLabels, err := c.namespaceLabels(clusterDNSNamespace)
	if err != nil {
		return nil, err
	}
	for i := range targets {
		targets[i].Endpoint.NamespaceLabels = nsLabels
	}
	return targets, nil
}

// dnsEgress judges the source's egress to the cluster DNS pods on UDP port
// 53, which resolving a name needs. Only the source's own policies count:
// ingress to the DNS pods is not this check's business (and often not
// readable). A TCP-only denial is a warning, not a verdict: only answers
// too large for UDP fail.
func (c *checker) dnsEgress(src *corev1.Pod, srcEP netpolicy.Endpoint, policies []*networkingv1.NetworkPolicy) (*PolicyAnalysis, error) {
	var own []*networkingv1.NetworkPolicy
	for _, np := range policies {
		if np.Namespace == src.Namespace {
			own = append(own, np)
		}
	}
	udpTargets, err := c.clusterDNSTargets(corev1.ProtocolUDP)
	if err != nil {
		return nil, err
	}
	udp := EvaluatePolicies(own, srcEP, udpTargets, corev1.ProtocolUDP)
	if udp == nil || !udp.Egress.Allowed {
		return udp, nil
	}
	tcpTargets, err := c.clusterDNSTargets(corev1.ProtocolTCP)
	if err != nil {
		return nil, err
	}
	if tcp := EvaluatePolicies(own, srcEP, tcpTargets, corev1.ProtocolTCP); tcp != nil && !tcp.Egress.Allowed {
		c.warn("egress policies %s deny the source's DNS queries over TCP port 53: answers too large for UDP will fail", refs(tcp.Egress.IsolatedBy))
	}
	return udp, nil
}

// serviceExists reads the Services the expanded name could be, all at once,
// then answers the DNS analysis's lookups from them.
func (c *checker) serviceExists(name string, rc ResolvConf, domain string) (Lookup, error) {
	type candidate struct {
		query string
		name  ClusterName
	}
	var candidates []candidate
	var reads []Read
	for _, q := range ExpandName(name, rc) {
		if cn, ok := ParseClusterName(q, domain); ok && (cn.Kind == "service" || cn.Kind == "endpoint") {
			candidates = append(candidates, candidate{q, cn})
			reads = append(reads, serviceRead(cn.Namespace, cn.Name))
		}
	}
	if err := c.objs.need(reads...); err != nil {
		return nil, err
	}
	for i, cd := range candidates {
		if _, err := c.objs.getService(cd.name.Namespace, cd.name.Name); err != nil && !isNotFound(err) {
			c.warn("%s: whether %s resolves is unknown", explain(err, c.objs.verb(reads[i]), "services", cd.name.Namespace), cd.query)
		}
	}
	return func(cn ClusterName) Existence {
		switch cn.Kind {
		case "service", "endpoint":
			s, err := c.objs.getService(cn.Namespace, cn.Name)
			switch {
			case isNotFound(err):
				s = nil
			case err != nil:
				// The read failed (forbidden, timed out): not NXDOMAIN.
				return Unknown
			}
			if cn.Kind == "service" {
				return Known(s != nil)
			}
			// A pod's name under a headless Service: answered when that
			// Service exists and is headless; the hostname is not checked.
			return Known(s != nil && s.Spec.ClusterIP == corev1.ClusterIPNone)
		case "pod":
			return Known(net.ParseIP(strings.ReplaceAll(cn.Name, "-", ".")) != nil)
		}
		return Absent
	}, nil
}

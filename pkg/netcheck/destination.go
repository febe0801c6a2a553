package netcheck

import (
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/ktriage/ktriage/pkg/netpolicy"
)

// planDestination resolves the destination into backends, a probe target and
// the Service/DNS analyses.
func (c *checker) planDestination(p *Plan, rc ResolvConf) error {
	switch p.dst.Kind {
	case KindPod:
		return c.planPod(p)
	case KindService:
		ns := p.dst.Namespace
		if ns == "" {
			ns = c.chk.dstNamespace(p.Source)
		}
		if c.chk.Protocol == "dns" {
			return usageErrorf("--protocol dns resolves a name: give DST as %s.%s", p.dst.Name, ns)
		}
		if err := c.planService(p, ns, p.dst.Name); err != nil {
			return err
		}
		if p.svc != nil && p.svc.ExternalName != "" {
			return c.planExternalName(p, rc)
		}
	case KindDNS:
		return c.planName(p, rc)
	case KindIP:
		return c.planAddress(p)
	}
	return nil
}

// planPod: a pod, or one ready pod of a workload.
func (c *checker) planPod(p *Plan) error {
	ns := p.dst.Namespace
	if ns == "" {
		ns = c.chk.dstNamespace(p.Source)
	}
	var pod *corev1.Pod
	var err error
	if p.dst.Workload != "" {
		pod, err = c.workloadPod(ns, p.dst.Workload, p.dst.Name)
	} else {
		pod, err = c.pod(ns, p.dst.Name)
	}
	if err != nil {
		return err
	}
	if pod.Status.PodIP == "" && !c.objs.predicted(pod) {
		return fmt.Errorf("destination pod %s/%s has no IP yet (phase %s)", ns, pod.Name, pod.Status.Phase)
	}
	port, err := podPort(pod, p.port, p.portName, p.l4, c.chk.Protocol)
	if err != nil {
		return err
	}
	nsLabels, err := c.namespaceLabels(ns)
	if err != nil {
		return err
	}
	p.dstPod, p.port, p.portName = pod, port, ""
	p.targets = []Target{{Endpoint: netpolicy.Endpoint{Pod: pod, NamespaceLabels: nsLabels}, Port: port}}
	p.probeHost, p.probePort = pod.Status.PodIP, port
	if c.chk.Protocol == "dns" {
		return usageErrorf("--protocol dns resolves a name: give DST as a DNS name, e.g. web.%s", ns)
	}
	return nil
}

// planName: a DNS name, explained as the source pod resolves it, and as
// the Service it names, if it does.
func (c *checker) planName(p *Plan, rc ResolvConf) error {
	if p.port == 0 && p.portName == "" && c.chk.Protocol != "dns" {
		if p.port = c.chk.schemePort(); p.port == 0 {
			return usageErrorf("DST %s: give a port (HOST:PORT or --port)", p.dst.Host)
		}
	}
	if p.portName != "" {
		return usageErrorf("DST %s: a DNS name needs a numeric port", p.dst.Host)
	}
	exists, err := c.serviceExists(p.dst.Host, rc, p.domain)
	if err != nil {
		return err
	}
	a := AnalyzeDNS(p.dst.Host, rc, p.domain, exists)
	p.dns, p.dnsName = &a, p.dst.Host
	p.probeHost, p.probePort = p.dst.Host, p.port
	if a.Service != nil && c.chk.Protocol != "dns" {
		// The name is a Service: explain the Service too.
		host, port := p.probeHost, p.probePort
		if err := c.planService(p, a.Service.Namespace, a.Service.Name); err != nil {
			return err
		}
		p.probeHost, p.probePort = host, port
	}
	if c.chk.Protocol == "dns" {
		// A lookup needs egress to the cluster DNS pods on UDP 53.
		targets, err := c.clusterDNSTargets(corev1.ProtocolUDP)
		if err != nil {
			return err
		}
		p.targets = append(p.targets, targets...)
	}
	return nil
}

// planAddress: an IP, judged as the Service whose ClusterIP it is, else as
// the pod that has it, else as an address outside the pod network.
func (c *checker) planAddress(p *Plan) error {
	if c.chk.Protocol == "dns" {
		return usageErrorf("--protocol dns resolves a name, not an address")
	}
	if p.port == 0 {
		return usageErrorf("DST %s: give a port (IP:PORT or --port)", p.dst.Host)
	}
	svc, err := c.serviceByClusterIP(p.dst.Host)
	if err != nil {
		return err
	}
	if svc != nil {
		// A ClusterIP: policies apply to the backends after the
		// Service's address translation, as for svc/NAME:PORT.
		if err := c.planService(p, svc.Namespace, svc.Name); err != nil {
			return err
		}
		if p.svc.Port != nil {
			p.probeHost, p.probePort = p.dst.Host, p.port
		}
		return nil
	}
	ep := netpolicy.Endpoint{IP: p.dst.Host}
	pod, err := c.podByIP(p.dst.Host)
	if err != nil {
		return err
	}
	if pod != nil {
		if ep.NamespaceLabels, err = c.namespaceLabels(pod.Namespace); err != nil {
			return err
		}
		ep.Pod, p.dstPod = pod, pod
	}
	p.targets = []Target{{Endpoint: ep, Port: p.port}}
	p.probeHost, p.probePort = p.dst.Host, p.port
	return nil
}

// podPort picks the destination pod's port: the number given, a named port
// resolved on the pod, or its only declared port.
func podPort(pod *corev1.Pod, port int32, name string, l4 corev1.Protocol, protocol string) (int32, error) {
	switch {
	case name != "":
		n, ok := netpolicy.NamedPort(pod, name, l4)
		if !ok {
			return 0, fmt.Errorf("pod %s/%s declares no %s port named %q", pod.Namespace, pod.Name, l4, name)
		}
		return n, nil
	case port != 0:
		return port, nil
	}
	var declared []int32
	for _, cp := range containerPorts(pod) {
		if cp.Protocol == l4 {
			declared = append(declared, cp.ContainerPort)
		}
	}
	if len(declared) == 1 {
		return declared[0], nil
	}
	if protocol == "dns" {
		return 53, nil
	}
	return 0, usageErrorf("pod %s/%s declares %d %s ports: give one with --port or pod/NAME:PORT", pod.Namespace, pod.Name, len(declared), l4)
}

// service reads a Service, its EndpointSlices and the pods its selector
// matches.
func (c *checker) service(ns, name string) (*serviceObjects, error) {
	svc, err := c.objs.getService(ns, name)
	if err != nil {
		return nil, getError(err, c.objs.verb(serviceRead(ns, name)), "services", ns, name)
	}
	reads := []Read{slicesRead(ns, name)}
	if len(svc.Spec.Selector) > 0 {
		reads = append(reads, selectedPodsRead(ns, labels.SelectorFromSet(svc.Spec.Selector)))
	}
	if err := c.objs.need(reads...); err != nil {
		return nil, err
	}
	so := &serviceObjects{Service: svc}
	if so.Slices, err = c.objs.listSlices(ns, name); err != nil {
		return nil, explain(err, "list", "endpointslices", ns)
	}
	if len(svc.Spec.Selector) > 0 {
		if so.Pods, err = c.objs.listPods(ns, labels.SelectorFromSet(svc.Spec.Selector)); err != nil {
			return nil, err
		}
	}
	return so, nil
}

func (c *checker) planService(p *Plan, ns, name string) error {
	so, err := c.service(ns, name)
	if err != nil {
		return err
	}
	svc, pods := so.Service, so.Pods
	a := AnalyzeService(svc, so.Slices, pods, p.port, p.portName, p.l4)
	ApplyInternalTrafficPolicy(&a, svc, p.Source.Spec.NodeName)
	p.svc = &a
	if a.Port == nil {
		return nil // no such port: nothing to probe or evaluate
	}
	p.port, p.portName = a.Port.Port, ""
	p.l4 = corev1.Protocol(a.Port.Protocol)
	if c.chk.Protocol == "udp" && p.l4 != corev1.ProtocolUDP || c.chk.Protocol != "udp" && p.l4 == corev1.ProtocolUDP {
		c.warn("service %s/%s port %d is %s but --protocol is %s", ns, name, a.Port.Port, p.l4, c.chk.Protocol)
	}
	if a.ExternalName != "" {
		return nil // no endpoints: the traffic goes to the aliased name
	}
	nsLabels, err := c.namespaceLabels(ns)
	if err != nil {
		return err
	}
	p.targets = append(p.targets, so.targets(&a, nsLabels, svc.Spec.PublishNotReadyAddresses)...)
	if len(p.targets) == 0 {
		// No ready endpoint: judge the policies against the selected pods,
		// so the report still says whether they would be reachable.
		sort.Slice(pods, func(i, j int) bool { return pods[i].Name < pods[j].Name })
		for _, pod := range pods {
			if port, ok := a.TargetPortOn(pod); ok && pod.Status.PodIP != "" {
				p.targets = append(p.targets, Target{Endpoint: netpolicy.Endpoint{Pod: pod, NamespaceLabels: nsLabels}, Port: port})
			}
		}
	}
	switch {
	case !a.Headless && a.ClusterIP != "":
		p.probeHost, p.probePort = a.ClusterIP, a.Port.Port
	default:
		// Headless: there is no Service address; probe one ready endpoint.
		for _, e := range a.Endpoints {
			if e.Ready {
				p.probeHost, p.probePort = e.IP, e.Port
				break
			}
		}
	}
	return nil
}

// serviceObjects are a Service with its EndpointSlices and selected pods.
type serviceObjects struct {
	Service *corev1.Service
	Slices  []*discoveryv1.EndpointSlice
	Pods    []*corev1.Pod
}

// targets are the endpoints of the analysis traffic may go to: the ready
// ones, and with notReady the others too.
func (so *serviceObjects) targets(a *ServiceAnalysis, nsLabels map[string]string, notReady bool) []Target {
	byName := map[string]*corev1.Pod{}
	for _, pod := range so.Pods {
		byName[pod.Name] = pod
	}
	var targets []Target
	for _, e := range a.Endpoints {
		if !e.Ready && !notReady {
			continue
		}
		targets = append(targets, Target{Endpoint: netpolicy.Endpoint{IP: e.IP, Pod: byName[e.Pod], NamespaceLabels: nsLabels}, Port: e.Port})
	}
	return targets
}

// planExternalName probes an ExternalName Service's aliased name on the
// port, and explains how the source pod resolves that name.
func (c *checker) planExternalName(p *Plan, rc ResolvConf) error {
	name := p.svc.ExternalName
	if p.svc.Port == nil {
		if p.svc.Has(ProblemNoSuchPort) {
			return nil // port-mismatch: the verdict explains it
		}
		if p.port = c.chk.schemePort(); p.port == 0 {
			return usageErrorf("DST svc/%s is an ExternalName alias for %s without ports: give a port (svc/%s:PORT or --port)", p.svc.Name, name, p.svc.Name)
		}
		p.svc.Port = &ServicePort{Port: p.port, Protocol: string(p.l4), TargetPort: strconv.Itoa(int(p.port))}
	}
	exists, err := c.serviceExists(name, rc, p.domain)
	if err != nil {
		return err
	}
	a := AnalyzeDNS(name, rc, p.domain, exists)
	p.dns, p.dnsName = &a, name
	p.probeHost, p.probePort = name, p.port
	return nil
}

// podByIP finds the pod using an IP, if the caller may list pods cluster-wide.
func (c *checker) podByIP(ip string) (*corev1.Pod, error) {
	pods, err := c.objs.podsWithIP(ip)
	if err != nil {
		return nil, c.warnFailed(err, "%s: which pod has IP %s is unknown, so it is treated as an address outside the pod network", explain(err, "list", "pods", ""), ip)
	}
	for _, p := range pods {
		if !p.Spec.HostNetwork && p.Status.Phase == corev1.PodRunning && hasPodIP(p, ip) {
			return p, nil
		}
	}
	return nil, nil
}

// serviceByClusterIP finds the Service whose spec.clusterIPs hold ip. The
// field selector matches the primary ClusterIP only; the IPAddress object
// (networking.k8s.io/v1, named by the address) also finds the second family's
// address of a dual-stack Service where the API serves it.
func (c *checker) serviceByClusterIP(ip string) (*corev1.Service, error) {
	services, err := c.objs.servicesWithClusterIP(ip)
	if err != nil {
		return nil, c.warnFailed(err, "%s: whether %s is a Service's ClusterIP is unknown, so it is judged as a plain address", explain(err, "list", "services", ""), ip)
	}
	for _, s := range services {
		if hasClusterIP(s, ip) {
			return s, nil
		}
	}
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return nil, nil
	}
	ref, err := c.objs.ipAddressParent(addr.Unmap().String())
	if isMissing(err) {
		return nil, err
	}
	if err != nil || ref == nil || ref.Group != "" || ref.Resource != "services" {
		return nil, nil
	}
	s, err := c.objs.getService(ref.Namespace, ref.Name)
	if isMissing(err) {
		return nil, err
	}
	if err != nil || !hasClusterIP(s, ip) {
		return nil, nil
	}
	return s, nil
}

func describeDestination(p *Plan) string {
	switch {
	case p.dst.Kind == KindPod && p.dstPod != nil && p.dst.Workload != "":
		return fmt.Sprintf("%s/%s/%s:%d", p.dst.Workload, p.dstPod.Namespace, p.dst.Name, p.port)
	case p.svc != nil && p.dst.Kind == KindService:
		return fmt.Sprintf("svc/%s/%s:%d", p.svc.Namespace, p.svc.Name, p.port)
	case p.svc != nil && p.dst.Kind == KindIP:
		return fmt.Sprintf("%s (svc/%s/%s)", net.JoinHostPort(p.dst.Host, strconv.Itoa(int(p.port))), p.svc.Namespace, p.svc.Name)
	case p.dst.Kind == KindPod && p.dstPod != nil:
		return fmt.Sprintf("pod/%s/%s:%d", p.dstPod.Namespace, p.dstPod.Name, p.port)
	case p.dst.Kind == KindDNS && p.port != 0:
		return net.JoinHostPort(p.dst.Host, strconv.Itoa(int(p.port)))
	case p.dst.Kind == KindDNS:
		return p.dst.Host
	}
	return net.JoinHostPort(p.dst.Host, strconv.Itoa(int(p.port)))
}

// containerPorts are the ports the pod's containers declare, each with its
// protocol (TCP when left out).
func containerPorts(pod *corev1.Pod) []corev1.ContainerPort {
	var out []corev1.ContainerPort
	for _, c := range pod.Spec.Containers {
		for _, cp := range c.Ports {
			if cp.Protocol == "" {
				cp.Protocol = corev1.ProtocolTCP
			}
			out = append(out, cp)
		}
	}
	return out
}

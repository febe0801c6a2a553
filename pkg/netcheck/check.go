package netcheck

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/ktriage/ktriage/pkg/netpolicy"
	netprobe "github.com/ktriage/ktriage/pkg/probe"
)

// Check is one question netcheck answers: can the pod Src reach Dst on
// Port with Protocol?
type Check struct {
	// Src and Dst are the arguments as given (see the command's help).
	Src, Dst string
	// Port overrides the port in Dst (a number or a port name).
	Port     string
	Protocol string
	// ClusterDomain is --cluster-domain; "" reads it from the probe's
	// resolv.conf, else DefaultClusterDomain.
	ClusterDomain string
	// Namespace is the namespace of names without one; NamespaceExplicit
	// says -n gave it, so it wins over the source pod's namespace for the
	// destination.
	Namespace         string
	NamespaceExplicit bool
	// NoProbe explains from the objects alone.
	NoProbe bool
}

// Validate checks the forms of SRC, DST and the port, before anything is read.
func (c Check) Validate() error {
	if _, _, _, err := parseSource(c.Src); err != nil {
		return err
	}
	if _, err := ParseDestination(c.Dst); err != nil {
		return usageErrorf("DST: %v", err)
	}
	if _, _, err := ParsePort(c.Port); err != nil {
		return usageErrorf("%v", err)
	}
	return nil
}

// dstNamespace is the namespace of a destination named without one: -n when
// given, else the source pod's, as its DNS search list would resolve it.
func (c Check) dstNamespace(src *corev1.Pod) string {
	if c.NamespaceExplicit || src == nil {
		return c.Namespace
	}
	return src.Namespace
}

func (c Check) l4() corev1.Protocol {
	if c.Protocol == "udp" || c.Protocol == "dns" {
		return corev1.ProtocolUDP
	}
	return corev1.ProtocolTCP
}

// schemePort is the port --protocol http or https implies; 0 for the others.
func (c Check) schemePort() int32 {
	switch c.Protocol {
	case "http":
		return 80
	case "https":
		return 443
	}
	return 0
}

// checker answers one check from the objects and collects its warnings.
type checker struct {
	objs     *Objects
	chk      Check
	warnings []string
	nsLabels map[string]map[string]string
}

func newChecker(objs *Objects, chk Check) *checker {
	return &checker{objs: objs, chk: chk, nsLabels: map[string]map[string]string{}}
}

func (c *checker) warn(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	for _, w := range c.warnings {
		if w == msg {
			return // the DNS analysis may run twice over the same names
		}
	}
	c.warnings = append(c.warnings, msg)
}

// warnFailed warns about a read that failed, which the check goes on
// without; a *Missing read is no failure: it is returned for the loader.
func (c *checker) warnFailed(err error, format string, args ...any) error {
	if isMissing(err) {
		return err
	}
	c.warn(format, args...)
	return nil
}

// Plan is a check resolved against the objects up to the probe: the source
// pod, the destination's backends, what a probe would connect to, and the
// Service, DNS and NetworkPolicy analyses. Conclude joins it with the
// probe's outcome into the Result.
type Plan struct {
	c *checker
	// Source is the pod the traffic leaves from (where a probe runs).
	Source *corev1.Pod
	srcEP  netpolicy.Endpoint

	dst       Destination
	input     string // DST as asked
	port      int32  // the port asked for at the destination (Service port for a Service)
	portName  string
	l4        corev1.Protocol
	dstPod    *corev1.Pod
	targets   []Target
	svc       *ServiceAnalysis
	dns       *DNSAnalysis
	dnsName   string // the name the DNS analysis is about
	domain    string
	probeHost string
	probePort int32

	policy    *PolicyAnalysis
	unlisted  []string
	dnsPolicy *PolicyAnalysis
}

// PlanCheck resolves SRC and DST against the objects. Errors mean netcheck
// cannot answer (exit 2); a *Missing error names what is still to be read.
func PlanCheck(objs *Objects, chk Check) (*Plan, error) {
	c := newChecker(objs, chk)
	src, err := c.sourcePod(chk.Src)
	if err != nil {
		return nil, err
	}
	dst, err := ParseDestination(chk.Dst)
	if err != nil {
		return nil, usageErrorf("DST: %v", err)
	}
	return c.plan(src, dst, chk.Dst)
}

// ProbeTarget is what a probe connects to; ok is false when there is
// nothing to connect to (no such Service port, a headless Service without
// ready endpoints): the objects explain it.
func (p *Plan) ProbeTarget() (host string, port int32, ok bool) {
	return p.probeHost, p.probePort, p.probeHost != ""
}

// plan judges the source pod's traffic to dst (asked for as input) on the
// check's port and protocol: the one analysis every mode runs.
func (c *checker) plan(src *corev1.Pod, dst Destination, input string) (*Plan, error) {
	if src.Status.PodIP == "" && !src.Spec.HostNetwork && !c.objs.predicted(src) {
		return nil, fmt.Errorf("pod %s/%s has no IP yet (phase %s): wait until it runs", src.Namespace, src.Name, src.Status.Phase)
	}
	if err := c.objs.need(namespaceRead(src.Namespace), serviceRead(clusterDNSNamespace, clusterDNSService)); err != nil {
		return nil, err
	}
	srcLabels, err := c.namespaceLabels(src.Namespace)
	if err != nil {
		return nil, err
	}
	p := &Plan{c: c, Source: src, srcEP: netpolicy.Endpoint{Pod: src, NamespaceLabels: srcLabels},
		dst: dst, input: input, port: dst.Port, portName: dst.PortName, l4: c.chk.l4()}
	if c.chk.Port != "" {
		p.port, p.portName, _ = ParsePort(c.chk.Port)
	}
	p.domain = c.chk.ClusterDomain
	if p.domain == "" {
		p.domain = DefaultClusterDomain
	}
	nameservers, err := c.clusterDNS()
	if err != nil {
		return nil, err
	}
	if err := c.planDestination(p, PodResolvConf(src, p.domain, nameservers)); err != nil {
		return nil, err
	}
	if err := c.planPolicies(p); err != nil {
		return nil, err
	}
	return p, nil
}

// planPolicies evaluates the NetworkPolicies of the source's and the
// backends' namespaces and, for a name, the source's egress to the cluster
// DNS.
func (c *checker) planPolicies(p *Plan) error {
	namespaces := []string{p.Source.Namespace}
	for _, t := range p.targets {
		if t.Endpoint.Pod != nil {
			namespaces = append(namespaces, t.Endpoint.Pod.Namespace)
		}
	}
	policies, unlisted, err := c.policies(namespaces)
	if err != nil {
		return err
	}
	p.unlisted = unlisted
	p.policy = EvaluatePolicies(policies, p.srcEP, p.targets, p.l4)
	if p.policy != nil {
		p.policy.Unlisted = unlisted
	}
	if p.dnsName != "" && c.chk.Protocol != "dns" {
		// A name is looked up before any connection: the source's egress
		// to the cluster DNS decides first. (--protocol dns judges it as
		// the destination itself.)
		p.dnsPolicy, err = c.dnsEgress(p.Source, p.srcEP, policies)
	}
	return err
}

// Conclude joins the plan with the probe's outcome (nil without a probe)
// into the Result: the verdict, its reason and fix, and the findings.
// Errors mean the probe could not run the check; a *Missing error names
// what is still to be read (the names the pod's real resolv.conf expands to).
func (p *Plan) Conclude(out *netprobe.Outcome) (*Result, error) {
	c := &checker{objs: p.c.objs, chk: p.c.chk, warnings: append([]string(nil), p.c.warnings...), nsLabels: p.c.nsLabels}
	res := &Result{Report: newReport(), Source: podInfo(p.Source), Policy: p.policy, Service: p.svc, DNS: p.dns, DNSPolicy: p.dnsPolicy}
	res.Metadata.Input = "cluster"
	res.Destination = DestinationInfo{Destination: p.dst, Input: p.input, Protocol: c.chk.Protocol}
	res.Destination.Port, res.Destination.PortName = p.port, p.portName
	if res.Destination.Namespace == "" && (p.dst.Kind == KindPod || p.dst.Kind == KindService) {
		res.Destination.Namespace = c.chk.dstNamespace(p.Source)
	}
	if p.dstPod != nil {
		pi := podInfo(p.dstPod)
		res.Destination.Pod = &pi
	}
	switch {
	case c.chk.NoProbe:
	case p.probeHost == "":
		c.warn("nothing to probe for %s: the verdict comes from the cluster's objects", p.input)
	case out != nil:
		if err := probeRejected(out); err != nil {
			return nil, err
		}
		if out.Result.ResolvConf != "" && p.dns != nil {
			// The pod's real resolv.conf beats the rebuilt one.
			real := ParseResolvConf(out.Result.ResolvConf)
			domain := p.domain
			if d := ClusterDomainFrom(real); d != "" && c.chk.ClusterDomain == "" {
				domain = d
			}
			exists, err := c.serviceExists(p.dnsName, real, domain)
			if err != nil {
				return nil, err
			}
			a := AnalyzeDNS(p.dnsName, real, domain, exists)
			res.DNS = &a
		}
		res.Probe = probeInfo(out)
	}
	v := Decide(Inputs{Policy: res.Policy, Service: res.Service, DNS: res.DNS, Probe: probeResult(out), Destination: describeDestination(p),
		PoliciesUnlisted: p.unlisted, DNSPolicy: res.DNSPolicy, Manifests: c.objs.Manifests()})
	res.Verdict, res.Basis, res.Reason, res.Fix, res.Disagreement = v.Verdict, v.Basis, v.Reason, v.Fix, v.Disagreement
	for _, w := range c.warnings {
		res.Warn(w)
	}
	c.addFindings(res, p, out)
	return res, nil
}

func podInfo(p *corev1.Pod) PodInfo {
	return PodInfo{Namespace: p.Namespace, Name: p.Name, Node: p.Spec.NodeName, IP: p.Status.PodIP, HostNetwork: p.Spec.HostNetwork}
}

// sourcePod finds SRC's pod; for a workload, one ready pod of it.
func (c *checker) sourcePod(arg string) (*corev1.Pod, error) {
	ns, kind, name, err := parseSource(arg)
	if err != nil {
		return nil, err
	}
	if ns == "" {
		ns = c.chk.Namespace
	}
	if kind == "pod" {
		return c.pod(ns, name)
	}
	return c.workloadPod(ns, kind, name)
}

func (c *checker) pod(ns, name string) (*corev1.Pod, error) {
	p, err := c.objs.getPod(ns, name)
	if err != nil {
		return nil, getError(err, c.objs.verb(podRead(ns, name)), "pods", ns, name)
	}
	return p, nil
}

// workloadPod picks one ready pod of a workload (by name, the first).
func (c *checker) workloadPod(ns, kind, name string) (*corev1.Pod, error) {
	pods, how, err := c.objs.workloadPods(ns, kind, name)
	if err != nil {
		return nil, err
	}
	var ready *corev1.Pod
	for _, p := range pods {
		if p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil && podReady(p) && (ready == nil || p.Name < ready.Name) {
			ready = p
		}
	}
	if ready == nil {
		return nil, fmt.Errorf("%s/%s in namespace %s has no ready pod (%d pod(s) %s): pick a pod explicitly", kind, name, ns, len(pods), how)
	}
	return ready, nil
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// namespaceLabels reads a namespace's labels for namespaceSelectors; without
// permission only kubernetes.io/metadata.name is assumed.
func (c *checker) namespaceLabels(ns string) (map[string]string, error) {
	if v, ok := c.nsLabels[ns]; ok {
		return v, nil
	}
	n, err := c.objs.getNamespace(ns)
	switch {
	case isMissing(err):
		return nil, err
	case err != nil && c.objs.Manifests() && isNotFound(err):
		c.warn("namespace %s is not in the manifests: namespaceSelectors match it by its name only (add the Namespace with its labels)", ns)
	case err != nil:
		c.warn("%s: namespaceSelectors are matched on namespace %s by its name only", explain(err, "get", "namespaces", ns), ns)
	}
	if err != nil {
		c.nsLabels[ns] = nil
		return nil, nil
	}
	c.nsLabels[ns] = n.Labels
	return n.Labels, nil
}

// policies lists the NetworkPolicies of the namespaces, and names those whose
// list failed, with why ("shop (forbidden)").
func (c *checker) policies(namespaces []string) ([]*networkingv1.NetworkPolicy, []string, error) {
	var reads []Read
	for _, ns := range namespaces {
		reads = append(reads, policiesRead(ns))
	}
	if err := c.objs.need(reads...); err != nil {
		return nil, nil, err
	}
	var out []*networkingv1.NetworkPolicy
	var unlisted []string
	seen := map[string]bool{}
	for _, ns := range namespaces {
		if seen[ns] {
			continue
		}
		seen[ns] = true
		list, err := c.objs.listPolicies(ns)
		if err != nil {
			c.warn("%s: the policy analysis leaves namespace %s out", explain(err, "list", "networkpolicies", ns), ns)
			unlisted = append(unlisted, fmt.Sprintf("%s (%s)", ns, shortErr(err)))
			continue
		}
		out = append(out, list...)
	}
	return out, unlisted, nil
}

package netcheck

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/ktriage/ktriage/pkg/cli"
	nc "github.com/ktriage/ktriage/pkg/netcheck"
	"github.com/ktriage/ktriage/pkg/netpolicy"
	"github.com/ktriage/ktriage/pkg/probe"
	"github.com/ktriage/ktriage/pkg/probe/result"
	"github.com/ktriage/ktriage/pkg/report"
)

// plan is what the objects say about the destination before probing.
type plan struct {
	dst       nc.Destination
	port      int32 // the port asked for at the destination (Service port for a Service)
	portName  string
	l4        corev1.Protocol
	dstPod    *corev1.Pod
	targets   []nc.Target
	svc       *nc.ServiceAnalysis
	dns       *nc.DNSAnalysis
	dnsName   string // the name the DNS analysis is about
	probeHost string
	probePort int32
	srcNode   string // the source pod's node (internalTrafficPolicy: Local)
}

func l4Of(protocol string) corev1.Protocol {
	if protocol == "udp" || protocol == "dns" {
		return corev1.ProtocolUDP
	}
	return corev1.ProtocolTCP
}

// check builds the whole report for SRC and DST; errors mean netcheck could
// not run (exit 2).
func (o *Options) check(ctx context.Context, l *loader) (*Report, error) {
	src, err := l.sourcePod(ctx, o.Src)
	if err != nil {
		return nil, err
	}
	dst, err := nc.ParseDestination(o.Dst)
	if err != nil {
		return nil, cli.UsageErrorf("DST: %v", err)
	}
	return o.checkFrom(ctx, l, src, dst, o.Dst)
}

// checkFrom judges the source pod's traffic to dst (asked for as input) on
// --port and --protocol: the one analysis every mode runs.
func (o *Options) checkFrom(ctx context.Context, l *loader, src *corev1.Pod, dst nc.Destination, input string) (*Report, error) {
	rep := newReport()
	rep.Metadata.Input = "cluster"
	if src.Status.PodIP == "" && !src.Spec.HostNetwork && !l.predicted(src) {
		return nil, fmt.Errorf("pod %s/%s has no IP yet (phase %s): wait until it runs", src.Namespace, src.Name, src.Status.Phase)
	}
	rep.Source = podInfo(src)
	srcEP := netpolicy.Endpoint{Pod: src, NamespaceLabels: l.namespaceLabels(ctx, src.Namespace)}

	p := &plan{dst: dst, port: dst.Port, portName: dst.PortName, l4: l4Of(o.Protocol)}
	if o.Port != "" {
		p.port, p.portName, _ = nc.ParsePort(o.Port)
	}
	domain := o.ClusterDomain
	if domain == "" {
		domain = nc.DefaultClusterDomain
	}
	rc := nc.PodResolvConf(src, domain, l.clusterDNS(ctx))

	if err := o.planDestination(ctx, l, p, src, rc, domain); err != nil {
		return nil, err
	}

	rep.Destination = DestinationInfo{Destination: dst, Input: input, Protocol: o.Protocol}
	rep.Destination.Port, rep.Destination.PortName = p.port, p.portName
	if rep.Destination.Namespace == "" && (dst.Kind == nc.KindPod || dst.Kind == nc.KindService) {
		rep.Destination.Namespace = l.dstNamespace(src)
	}
	if p.dstPod != nil {
		pi := podInfo(p.dstPod)
		rep.Destination.Pod = &pi
	}
	rep.Service, rep.DNS = p.svc, p.dns

	var namespaces []string
	namespaces = append(namespaces, src.Namespace)
	for _, t := range p.targets {
		if t.Endpoint.Pod != nil {
			namespaces = append(namespaces, t.Endpoint.Pod.Namespace)
		}
	}
	policies, unlisted := l.policies(ctx, namespaces)
	rep.Policy = nc.EvaluatePolicies(policies, srcEP, p.targets, p.l4)
	if rep.Policy != nil {
		rep.Policy.Unlisted = unlisted
	}
	if p.dnsName != "" && o.Protocol != "dns" {
		// A name is looked up before any connection: the source's egress
		// to the cluster DNS decides first. (--protocol dns judges it as
		// the destination itself.)
		rep.DNSPolicy = o.dnsEgress(ctx, l, src, srcEP, policies)
	}

	var outcome *probe.Outcome
	switch {
	case o.NoProbe:
	case p.probeHost == "":
		// No such Service port, or a headless Service without ready
		// endpoints: there is nothing to connect to, the objects explain it.
		l.warn("nothing to probe for %s: the verdict comes from the cluster's objects", input)
	default:
		var err error
		outcome, err = o.runProbe(ctx, l, src, p)
		if err != nil {
			return nil, err
		}
		if err := probeRejected(outcome); err != nil {
			return nil, err
		}
		if outcome.Result.ResolvConf != "" && p.dns != nil {
			// The pod's real resolv.conf beats the rebuilt one.
			real := nc.ParseResolvConf(outcome.Result.ResolvConf)
			if d := nc.ClusterDomainFrom(real); d != "" && o.ClusterDomain == "" {
				domain = d
			}
			a := nc.AnalyzeDNS(p.dnsName, real, domain, l.serviceExists(ctx, p.dnsName, real, domain))
			rep.DNS = &a
		}
		rep.Probe = probeInfo(outcome)
	}

	destDesc := describeDestination(p)
	_, manifests := l.objs.(*worldObjects)
	v := nc.Decide(nc.Inputs{Policy: rep.Policy, Service: rep.Service, DNS: rep.DNS, Probe: probeResult(outcome), Destination: destDesc,
		PoliciesUnlisted: unlisted, DNSPolicy: rep.DNSPolicy, Manifests: manifests})
	rep.Verdict, rep.Basis, rep.Reason, rep.Fix, rep.Disagreement = v.Verdict, v.Basis, v.Reason, v.Fix, v.Disagreement
	for _, w := range l.warnings {
		rep.Warn(w)
	}
	addFindings(rep, l, src, p, outcome)
	return rep, nil
}

func podInfo(p *corev1.Pod) PodInfo {
	return PodInfo{Namespace: p.Namespace, Name: p.Name, Node: p.Spec.NodeName, IP: p.Status.PodIP, HostNetwork: p.Spec.HostNetwork}
}

// planDestination resolves the destination into backends, a probe target and
// the Service/DNS analyses.
func (o *Options) planDestination(ctx context.Context, l *loader, p *plan, src *corev1.Pod, rc nc.ResolvConf, domain string) error {
	p.srcNode = src.Spec.NodeName
	switch p.dst.Kind {
	case nc.KindPod:
		ns := p.dst.Namespace
		if ns == "" {
			ns = l.dstNamespace(src)
		}
		var pod *corev1.Pod
		var err error
		if p.dst.Workload != "" {
			pod, err = l.workloadPod(ctx, ns, p.dst.Workload, p.dst.Name)
		} else {
			pod, err = l.pod(ctx, ns, p.dst.Name)
		}
		if err != nil {
			return err
		}
		if pod.Status.PodIP == "" && !l.predicted(pod) {
			return fmt.Errorf("destination pod %s/%s has no IP yet (phase %s)", ns, pod.Name, pod.Status.Phase)
		}
		port, err := podPort(pod, p.port, p.portName, p.l4, o.Protocol)
		if err != nil {
			return err
		}
		p.dstPod, p.port, p.portName = pod, port, ""
		p.targets = []nc.Target{{Endpoint: netpolicy.Endpoint{Pod: pod, NamespaceLabels: l.namespaceLabels(ctx, ns)}, Port: port}}
		p.probeHost, p.probePort = pod.Status.PodIP, port
		if o.Protocol == "dns" {
			return cli.UsageErrorf("--protocol dns resolves a name: give DST as a DNS name, e.g. web.%s", ns)
		}
	case nc.KindService:
		ns := p.dst.Namespace
		if ns == "" {
			ns = l.dstNamespace(src)
		}
		if o.Protocol == "dns" {
			return cli.UsageErrorf("--protocol dns resolves a name: give DST as %s.%s", p.dst.Name, ns)
		}
		if err := o.planService(ctx, l, p, ns, p.dst.Name); err != nil {
			return err
		}
		if p.svc != nil && p.svc.ExternalName != "" {
			return o.planExternalName(ctx, l, p, rc, domain)
		}
	case nc.KindDNS:
		if p.port == 0 && p.portName == "" && o.Protocol != "dns" {
			if o.Protocol == "http" {
				p.port = 80
			} else if o.Protocol == "https" {
				p.port = 443
			} else {
				return cli.UsageErrorf("DST %s: give a port (HOST:PORT or --port)", p.dst.Host)
			}
		}
		if p.portName != "" {
			return cli.UsageErrorf("DST %s: a DNS name needs a numeric port", p.dst.Host)
		}
		a := nc.AnalyzeDNS(p.dst.Host, rc, domain, l.serviceExists(ctx, p.dst.Host, rc, domain))
		p.dns, p.dnsName = &a, p.dst.Host
		p.probeHost, p.probePort = p.dst.Host, p.port
		if a.Service != nil && o.Protocol != "dns" {
			// The name is a Service: explain the Service too.
			host, port := p.probeHost, p.probePort
			if err := o.planService(ctx, l, p, a.Service.Namespace, a.Service.Name); err != nil {
				return err
			}
			p.probeHost, p.probePort = host, port
		}
		if o.Protocol == "dns" {
			o.planClusterDNS(ctx, l, p)
		}
	case nc.KindIP:
		if o.Protocol == "dns" {
			return cli.UsageErrorf("--protocol dns resolves a name, not an address")
		}
		if p.port == 0 {
			return cli.UsageErrorf("DST %s: give a port (IP:PORT or --port)", p.dst.Host)
		}
		if svc := l.serviceByClusterIP(ctx, p.dst.Host); svc != nil {
			// A ClusterIP: policies apply to the backends after the
			// Service's address translation, as for svc/NAME:PORT.
			if err := o.planService(ctx, l, p, svc.Namespace, svc.Name); err != nil {
				return err
			}
			if p.svc.Port != nil {
				p.probeHost, p.probePort = p.dst.Host, p.port
			}
			return nil
		}
		ep := netpolicy.Endpoint{IP: p.dst.Host}
		if pod := l.podByIP(ctx, p.dst.Host); pod != nil {
			ep.Pod, ep.NamespaceLabels = pod, l.namespaceLabels(ctx, pod.Namespace)
			p.dstPod = pod
		}
		p.targets = []nc.Target{{Endpoint: ep, Port: p.port}}
		p.probeHost, p.probePort = p.dst.Host, p.port
	}
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
	for _, c := range pod.Spec.Containers {
		for _, cp := range c.Ports {
			pr := cp.Protocol
			if pr == "" {
				pr = corev1.ProtocolTCP
			}
			if pr == l4 {
				declared = append(declared, cp.ContainerPort)
			}
		}
	}
	if len(declared) == 1 {
		return declared[0], nil
	}
	if protocol == "dns" {
		return 53, nil
	}
	return 0, cli.UsageErrorf("pod %s/%s declares %d %s ports: give one with --port or pod/NAME:PORT", pod.Namespace, pod.Name, len(declared), l4)
}

func (o *Options) planService(ctx context.Context, l *loader, p *plan, ns, name string) error {
	svc, slices, pods, err := l.service(ctx, ns, name)
	if err != nil {
		return err
	}
	a := nc.AnalyzeService(svc, slices, pods, p.port, p.portName, p.l4)
	nc.ApplyInternalTrafficPolicy(&a, svc, p.srcNode)
	p.svc = &a
	if a.Port == nil {
		return nil // no such port: nothing to probe or evaluate
	}
	p.port, p.portName = a.Port.Port, ""
	p.l4 = corev1.Protocol(a.Port.Protocol)
	if o.Protocol == "udp" && p.l4 != corev1.ProtocolUDP || o.Protocol != "udp" && p.l4 == corev1.ProtocolUDP {
		l.warn("service %s/%s port %d is %s but --protocol is %s", ns, name, a.Port.Port, p.l4, o.Protocol)
	}
	if a.ExternalName != "" {
		return nil // no endpoints: the traffic goes to the aliased name
	}
	byName := map[string]*corev1.Pod{}
	for _, pod := range pods {
		byName[pod.Name] = pod
	}
	nsLabels := l.namespaceLabels(ctx, ns)
	for _, e := range a.Endpoints {
		if !e.Ready && !svc.Spec.PublishNotReadyAddresses {
			continue
		}
		ep := netpolicy.Endpoint{IP: e.IP, Pod: byName[e.Pod], NamespaceLabels: nsLabels}
		p.targets = append(p.targets, nc.Target{Endpoint: ep, Port: e.Port})
	}
	if len(p.targets) == 0 {
		// No ready endpoint: judge the policies against the selected pods,
		// so the report still says whether they would be reachable.
		sort.Slice(pods, func(i, j int) bool { return pods[i].Name < pods[j].Name })
		for _, pod := range pods {
			if port, ok := a.TargetPortOn(pod); ok && pod.Status.PodIP != "" {
				p.targets = append(p.targets, nc.Target{Endpoint: netpolicy.Endpoint{Pod: pod, NamespaceLabels: nsLabels}, Port: port})
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

// planExternalName probes an ExternalName Service's aliased name on the
// port, and explains how the source pod resolves that name.
func (o *Options) planExternalName(ctx context.Context, l *loader, p *plan, rc nc.ResolvConf, domain string) error {
	name := p.svc.ExternalName
	if p.svc.Port == nil {
		if p.svc.Has(nc.ProblemNoSuchPort) {
			return nil // port-mismatch: the verdict explains it
		}
		switch o.Protocol {
		case "http":
			p.port = 80
		case "https":
			p.port = 443
		default:
			return cli.UsageErrorf("DST svc/%s is an ExternalName alias for %s without ports: give a port (svc/%s:PORT or --port)", p.svc.Name, name, p.svc.Name)
		}
		p.svc.Port = &nc.ServicePort{Port: p.port, Protocol: string(p.l4), TargetPort: strconv.Itoa(int(p.port))}
	}
	a := nc.AnalyzeDNS(name, rc, domain, l.serviceExists(ctx, name, rc, domain))
	p.dns, p.dnsName = &a, name
	p.probeHost, p.probePort = name, p.port
	return nil
}

// planClusterDNS evaluates egress to the cluster DNS pods on UDP 53, which a
// lookup needs.
func (o *Options) planClusterDNS(ctx context.Context, l *loader, p *plan) {
	p.targets = append(p.targets, clusterDNSTargets(ctx, l, corev1.ProtocolUDP)...)
}

// clusterDNSTargets are the ready cluster DNS pods on the Service's port 53
// (or its first port) of protocol proto.
func clusterDNSTargets(ctx context.Context, l *loader, proto corev1.Protocol) []nc.Target {
	svc, slices, pods, err := l.service(ctx, "kube-system", "kube-dns")
	if err != nil {
		return nil
	}
	a := nc.AnalyzeService(svc, slices, pods, 53, "", proto)
	if a.Port == nil {
		for _, sp := range svc.Spec.Ports {
			if sp.Protocol == proto {
				a = nc.AnalyzeService(svc, slices, pods, 0, sp.Name, proto)
				break
			}
		}
	}
	byName := map[string]*corev1.Pod{}
	for _, pod := range pods {
		byName[pod.Name] = pod
	}
	var targets []nc.Target
	for _, e := range a.Endpoints {
		if e.Ready {
			targets = append(targets, nc.Target{Endpoint: netpolicy.Endpoint{IP: e.IP, Pod: byName[e.Pod], NamespaceLabels: l.namespaceLabels(ctx, "kube-system")}, Port: e.Port})
		}
	}
	return targets
}

// dnsEgress judges the source's egress to the cluster DNS pods on UDP port
// 53, which resolving a name needs. Only the source's own policies count:
// ingress to the DNS pods is not this check's business (and often not
// readable). A TCP-only denial is a warning, not a verdict: only answers
// too large for UDP fail.
func (o *Options) dnsEgress(ctx context.Context, l *loader, src *corev1.Pod, srcEP netpolicy.Endpoint, policies []*networkingv1.NetworkPolicy) *nc.PolicyAnalysis {
	var own []*networkingv1.NetworkPolicy
	for _, np := range policies {
		if np.Namespace == src.Namespace {
			own = append(own, np)
		}
	}
	udp := nc.EvaluatePolicies(own, srcEP, clusterDNSTargets(ctx, l, corev1.ProtocolUDP), corev1.ProtocolUDP)
	if udp == nil {
		return nil
	}
	if udp.Egress.Allowed {
		if tcp := nc.EvaluatePolicies(own, srcEP, clusterDNSTargets(ctx, l, corev1.ProtocolTCP), corev1.ProtocolTCP); tcp != nil && !tcp.Egress.Allowed {
			l.warn("egress policies %s deny the source's DNS queries over TCP port 53: answers too large for UDP will fail", refNames(tcp.Egress.IsolatedBy))
		}
	}
	return udp
}

func refNames(ps []netpolicy.PolicyRef) string {
	var s []string
	for _, p := range ps {
		s = append(s, p.String())
	}
	return strings.Join(s, ", ")
}

// serviceExists prefetches the Services the expanded name could be, then
// answers the pure analysis from that cache.
func (l *loader) serviceExists(ctx context.Context, name string, rc nc.ResolvConf, domain string) nc.Lookup {
	for _, q := range nc.ExpandName(name, rc) {
		if cn, ok := nc.ParseClusterName(q, domain); ok && (cn.Kind == "service" || cn.Kind == "endpoint") {
			if _, err := l.getService(ctx, cn.Namespace, cn.Name); err != nil && !apierrors.IsNotFound(err) {
				l.warn("%s: whether %s resolves is unknown", cli.APIError(err, "get", "services", cn.Namespace), q)
			}
		}
	}
	return func(cn nc.ClusterName) nc.Existence {
		switch cn.Kind {
		case "service", "endpoint":
			key := cn.Namespace + "/" + cn.Name
			s, read := l.services[key]
			if !read {
				// The GET failed (forbidden, timed out): not NXDOMAIN.
				return nc.Unknown
			}
			if cn.Kind == "service" {
				return nc.Known(s != nil)
			}
			// A pod's name under a headless Service: answered when that
			// Service exists and is headless; the hostname is not checked.
			return nc.Known(s != nil && s.Spec.ClusterIP == corev1.ClusterIPNone)
		case "pod":
			return nc.Known(net.ParseIP(strings.ReplaceAll(cn.Name, "-", ".")) != nil)
		}
		return nc.Absent
	}
}

// runProbe adds the probe container and waits for its result.
func (o *Options) runProbe(ctx context.Context, l *loader, src *corev1.Pod, p *plan) (*probe.Outcome, error) {
	check := probe.Check{Protocol: o.Protocol, Host: p.probeHost, Port: p.probePort, Path: o.Path, Timeout: o.Timeout}
	ec := probe.Container(check, probe.Options{Image: o.Image, PullPolicy: corev1.PullPolicy(o.PullPolicy)})
	added := func(name string) {
		o.notify("Added ephemeral container %s to pod %s/%s to run the probe. Ephemeral containers cannot be removed: it stays in the pod (stopped) until the pod is deleted. Use --no-probe to change nothing.", name, src.Namespace, src.Name)
	}
	out, err := probe.Run(ctx, l.cs, src, ec, o.StartTimeout+o.Timeout, added)
	if err != nil {
		if errors.Is(err, probe.ErrForbidden) || errors.Is(err, probe.ErrDisabled) {
			return nil, fmt.Errorf("%w (run with --no-probe for the explanation alone)", err)
		}
		return nil, err
	}
	return out, nil
}

// probeExitUsage is the probe's exit code for arguments it cannot run with.
const probeExitUsage = 2

// probeRejected is the error for a probe that refused its arguments: the
// check never ran, so there is no network outcome to judge.
func probeRejected(o *probe.Outcome) error {
	if o == nil || o.ExitCode != probeExitUsage || o.Result.Result != result.Error {
		return nil
	}
	return fmt.Errorf("the probe in container %s could not run the check: %s (is the image %s a netcheck-probe of this version?)", o.Container, o.Result.Detail, o.Image)
}

func probeResult(o *probe.Outcome) *result.Result {
	if o == nil {
		return nil
	}
	r := o.Result
	return &r
}

func probeInfo(o *probe.Outcome) *ProbeInfo {
	r := o.Result
	return &ProbeInfo{Result: r.Result, LatencyMs: r.LatencyMs, Container: o.Container, Image: o.Image, ExitCode: o.ExitCode,
		Protocol: r.Protocol, Target: r.Target, Address: r.Address, Addresses: r.Addresses, DNSLatencyMs: r.DNSLatencyMs,
		HTTPStatus: r.HTTPStatus, Detail: r.Detail}
}

func describeDestination(p *plan) string {
	switch {
	case p.dst.Kind == nc.KindPod && p.dstPod != nil && p.dst.Workload != "":
		return fmt.Sprintf("%s/%s/%s:%d", p.dst.Workload, p.dstPod.Namespace, p.dst.Name, p.port)
	case p.svc != nil && p.dst.Kind == nc.KindService:
		return fmt.Sprintf("svc/%s/%s:%d", p.svc.Namespace, p.svc.Name, p.port)
	case p.svc != nil && p.dst.Kind == nc.KindIP:
		return fmt.Sprintf("%s (svc/%s/%s)", net.JoinHostPort(p.dst.Host, strconv.Itoa(int(p.port))), p.svc.Namespace, p.svc.Name)
	case p.dst.Kind == nc.KindPod && p.dstPod != nil:
		return fmt.Sprintf("pod/%s/%s:%d", p.dstPod.Namespace, p.dstPod.Name, p.port)
	case p.dst.Kind == nc.KindDNS && p.port != 0:
		return net.JoinHostPort(p.dst.Host, strconv.Itoa(int(p.port)))
	case p.dst.Kind == nc.KindDNS:
		return p.dst.Host
	}
	return net.JoinHostPort(p.dst.Host, strconv.Itoa(int(p.port)))
}

// addFindings turns the verdict and the observations into findings with
// rule IDs, for --fail-on, SARIF and JUnit.
func addFindings(rep *Report, l *loader, src *corev1.Pod, p *plan, out *probe.Outcome) {
	srcRef := l.podRef(src)
	if id, ok := verdictRules[rep.Verdict]; ok {
		obj := srcRef
		switch {
		case rep.Verdict == nc.VerdictBlockedByPolicy && rep.Policy != nil && !rep.Policy.Allowed:
			obj = l.withSource(policyRef(rep.Policy))
		case rep.Verdict == nc.VerdictBlockedByPolicy && rep.DNSPolicy != nil:
			obj = l.withSource(policyRef(rep.DNSPolicy))
		case (rep.Verdict == nc.VerdictNoEndpoints || rep.Verdict == nc.VerdictPortMismatch) && rep.Service != nil:
			obj = l.serviceRef(rep.Service)
		case p.dstPod != nil:
			obj = l.podRef(p.dstPod)
		}
		sev := report.SeverityError
		if rep.Verdict == nc.VerdictUnknown {
			sev = report.SeverityWarning
			if rep.Service != nil {
				obj = l.serviceRef(rep.Service)
			}
		}
		rep.Add(report.Finding{RuleID: id, Severity: sev, Object: obj, Message: rep.Reason, Fix: rep.Fix,
			Details: map[string]any{"verdict": rep.Verdict, "basis": rep.Basis, "source": src.Namespace + "/" + src.Name, "destination": rep.Destination.Input}})
	}
	if rep.Disagreement != "" {
		rep.Add(report.Finding{RuleID: RuleDisagreement, Severity: report.SeverityWarning, Object: srcRef, Message: rep.Disagreement,
			Fix: "check that the network plugin enforces NetworkPolicy, and look for CNI-specific policies"})
	}
	if rep.Service != nil && rep.Service.Has(nc.ProblemTargetNotDeclared) && rep.Verdict != nc.VerdictPortMismatch {
		for _, pr := range rep.Service.Problems {
			if pr.Reason == nc.ProblemTargetNotDeclared {
				rep.Add(report.Finding{RuleID: RuleTargetNotDeclared, Severity: report.SeverityWarning,
					Object: l.serviceRef(rep.Service), Message: pr.Message, Fix: pr.Fix})
			}
		}
	}
	if rep.DNS != nil && rep.DNS.Lookups > 1 && rep.DNS.Hint != "" {
		rep.Add(report.Finding{RuleID: RuleDNSCost, Severity: report.SeverityInfo, Object: srcRef,
			Message: fmt.Sprintf("%q costs %d lookups per record type from this pod (ndots:%d)", rep.DNS.Name, rep.DNS.Lookups, rep.DNS.ResolvConf.Ndots),
			Fix:     rep.DNS.Hint, Details: map[string]any{"queries": rep.DNS.Queries}})
	}
	if rep.DNS != nil && rep.DNS.Musl != "" {
		rep.Add(report.Finding{RuleID: RuleMuslSearch, Severity: report.SeverityWarning, Object: srcRef, Message: rep.DNS.Musl,
			Fix: "use the name that answers, or raise ndots with spec.dnsConfig.options", Details: map[string]any{"queries": rep.DNS.Queries}})
	}
	if rep.Policy != nil {
		for _, t := range rep.Policy.Targets {
			for _, n := range append(append([]string{}, t.Egress.Notes...), t.Ingress.Notes...) {
				rep.Add(report.Finding{RuleID: RuleIPBlockOnPod, Severity: report.SeverityInfo, Object: srcRef, Message: n,
					Fix: "select pods with podSelector/namespaceSelector instead of their IPs"})
			}
		}
	}
	if out != nil && out.Container != "" {
		rep.Add(report.Finding{RuleID: RuleProbeAdded, Severity: report.SeverityInfo, Object: srcRef,
			Message: fmt.Sprintf("ephemeral container %s (image %s) was added to run the probe; it cannot be removed and stays until the pod is deleted", out.Container, out.Image),
			Fix:     "use --no-probe to change nothing"})
	}
}

// policyRef points at the first policy isolating a denied direction.
func policyRef(pa *nc.PolicyAnalysis) report.ObjectRef {
	for _, d := range []netpolicy.DirectionResult{pa.Egress, pa.Ingress} {
		if !d.Allowed && len(d.IsolatedBy) > 0 {
			return report.ObjectRef{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy", Namespace: d.IsolatedBy[0].Namespace, Name: d.IsolatedBy[0].Policy}
		}
	}
	return report.ObjectRef{}
}

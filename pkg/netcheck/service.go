package netcheck

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/ktriage/ktriage/pkg/netpolicy"
)

// Service problems. They are part of the JSON output.
const (
	ProblemNoSuchPort        = "no-such-port"          // the Service has no port matching the request
	ProblemNoSelectorMatch   = "selector-matches-none" // the selector matches no pod
	ProblemNoEndpoints       = "no-endpoints"          // no EndpointSlice endpoint for the port
	ProblemNotReady          = "endpoints-not-ready"   // endpoints exist but none is ready
	ProblemNamedPortMissing  = "named-target-port-missing"
	ProblemTargetNotDeclared = "target-port-not-declared"
	ProblemExternalName      = "external-name"
	ProblemNoLocalEndpoint   = "no-local-endpoint" // internalTrafficPolicy Local and no ready endpoint on the client's node
)

// ServiceAnalysis explains how a Service port leads (or does not lead) to pods.
type ServiceAnalysis struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Type      string `json:"type"`
	ClusterIP string `json:"clusterIP,omitempty"`
	Headless  bool   `json:"headless,omitempty"`
	// ExternalName is the name an ExternalName Service aliases (a DNS CNAME).
	ExternalName string            `json:"externalName,omitempty"`
	Selector     map[string]string `json:"selector,omitempty"`
	Port         *ServicePort      `json:"port,omitempty"`
	// SelectedPods counts pods matching the selector (-1 without selector).
	SelectedPods int `json:"selectedPods"`
	// DeclaredPorts are the container ports the selected pods declare for
	// the Service port's protocol ("8080", "http=8080"), when some do.
	DeclaredPorts []string   `json:"declaredPorts,omitempty"`
	Endpoints     []Endpoint `json:"endpoints"`
	Ready         int        `json:"ready"`
	// Problems are the reasons traffic cannot reach a pod, worst first.
	Problems []Problem `json:"problems,omitempty"`
}

// ApplyInternalTrafficPolicy narrows the analysis to what a client on
// srcNode reaches: with internalTrafficPolicy Local, kube-proxy sends
// in-cluster traffic only to endpoints on the client's own node and drops it
// when there is none there.
func ApplyInternalTrafficPolicy(a *ServiceAnalysis, svc *corev1.Service, srcNode string) {
	itp := svc.Spec.InternalTrafficPolicy
	if itp == nil || *itp != corev1.ServiceInternalTrafficPolicyLocal || a.Headless || a.ExternalName != "" || srcNode == "" || a.Ready == 0 {
		return
	}
	for _, e := range a.Endpoints {
		if e.Ready && e.Node == srcNode {
			return
		}
	}
	a.Problems = append(a.Problems, Problem{ProblemNoLocalEndpoint,
		fmt.Sprintf("service %s/%s has internalTrafficPolicy: Local and none of its %d ready endpoint(s) is on the source's node %s: kube-proxy drops the traffic", a.Namespace, a.Name, a.Ready, srcNode),
		"run a backend on node " + srcNode + " (e.g. a DaemonSet), or set internalTrafficPolicy: Cluster"})
}

// ServicePort is the Service port the request uses and where it leads.
type ServicePort struct {
	Name       string `json:"name,omitempty"`
	Port       int32  `json:"port"`
	Protocol   string `json:"protocol"`
	TargetPort string `json:"targetPort"`
}

// Endpoint is one address of the Service's EndpointSlices for the port.
type Endpoint struct {
	IP          string `json:"ip"`
	Port        int32  `json:"port"`
	Pod         string `json:"pod,omitempty"`
	Node        string `json:"node,omitempty"`
	Ready       bool   `json:"ready"`
	Serving     bool   `json:"serving"`
	Terminating bool   `json:"terminating"`
}

// Problem is one thing wrong with the Service.
type Problem struct {
	Reason  string `json:"reason"`
	Message string `json:"message"`
	Fix     string `json:"fix"`
}

// AnalyzeService explains a Service for a request to port (0: the Service's
// only port; a number matches spec.ports[].port; name matches by name) over
// the L4 protocol proto (empty: any). slices are the Service's
// EndpointSlices; pods are the pods of its namespace (only those matching the
// selector are read).
func AnalyzeService(svc *corev1.Service, slices []*discoveryv1.EndpointSlice, pods []*corev1.Pod, port int32, portName string, proto corev1.Protocol) ServiceAnalysis {
	a := ServiceAnalysis{Namespace: svc.Namespace, Name: svc.Name, Type: string(svc.Spec.Type), ClusterIP: svc.Spec.ClusterIP,
		Headless: svc.Spec.ClusterIP == corev1.ClusterIPNone, Selector: svc.Spec.Selector, SelectedPods: -1, Endpoints: []Endpoint{}}
	if a.Type == "" {
		a.Type = string(corev1.ServiceTypeClusterIP)
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		return analyzeExternalName(svc, a, port, portName, proto)
	}

	var selected []*corev1.Pod
	if len(svc.Spec.Selector) > 0 {
		sel := labels.SelectorFromSet(svc.Spec.Selector)
		for _, p := range pods {
			if p.Namespace == svc.Namespace && sel.Matches(labels.Set(p.Labels)) && p.DeletionTimestamp == nil {
				selected = append(selected, p)
			}
		}
		a.SelectedPods = len(selected)
	}

	sp, err := pickPort(svc, port, portName, proto)
	if err != nil {
		a.Problems = append(a.Problems, Problem{ProblemNoSuchPort, err.Error(),
			fmt.Sprintf("use one of the Service's ports (%s) or add the port to spec.ports", portList(svc))})
		return a
	}
	proto = protocolOf(sp)
	target := sp.TargetPort
	if target.Type == intstr.Int && target.IntVal == 0 && target.StrVal == "" {
		target = intstr.FromInt32(sp.Port) // targetPort defaults to port
	}
	a.Port = &ServicePort{Name: sp.Name, Port: sp.Port, Protocol: string(proto), TargetPort: target.String()}
	a.DeclaredPorts = declaredPorts(selected, proto)

	for _, s := range slices {
		if s.Labels[discoveryv1.LabelServiceName] != svc.Name || s.Namespace != svc.Namespace {
			continue
		}
		epPort, ok := slicePort(s, sp.Name, proto)
		if !ok {
			continue
		}
		for _, e := range s.Endpoints {
			ready := e.Conditions.Ready == nil || *e.Conditions.Ready
			serving := e.Conditions.Serving == nil || *e.Conditions.Serving
			if e.Conditions.Serving == nil {
				serving = ready
			}
			term := e.Conditions.Terminating != nil && *e.Conditions.Terminating
			for _, addr := range e.Addresses {
				ep := Endpoint{IP: addr, Port: epPort, Ready: ready, Serving: serving, Terminating: term}
				if e.TargetRef != nil && e.TargetRef.Kind == "Pod" {
					ep.Pod = e.TargetRef.Name
				}
				if e.NodeName != nil {
					ep.Node = *e.NodeName
				}
				a.Endpoints = append(a.Endpoints, ep)
				if ready {
					a.Ready++
				}
			}
		}
	}
	sort.Slice(a.Endpoints, func(i, j int) bool { return a.Endpoints[i].IP < a.Endpoints[j].IP })

	ref := fmt.Sprintf("service %s/%s", svc.Namespace, svc.Name)
	switch {
	case len(svc.Spec.Selector) > 0 && len(selected) == 0:
		a.Problems = append(a.Problems, Problem{ProblemNoSelectorMatch,
			fmt.Sprintf("%s selects %s but no pod in namespace %s has those labels", ref, labels.Set(svc.Spec.Selector), svc.Namespace),
			"fix spec.selector or the pods' labels (kubectl get pods -n " + svc.Namespace + " --show-labels)"})
	case target.Type == intstr.String && len(selected) > 0 && !anyResolves(selected, target.StrVal, proto):
		a.Problems = append(a.Problems, Problem{ProblemNamedPortMissing,
			fmt.Sprintf("%s port %d targets the named port %q, which no selected pod declares for %s, so no pod becomes an endpoint", ref, sp.Port, target.StrVal, proto),
			fmt.Sprintf("name a container port %q (protocol %s) in the pods or set targetPort to a number", target.StrVal, proto)})
	case target.Type == intstr.Int && len(selected) > 0 && !anyDeclares(selected, target.IntVal, proto):
		a.Problems = append(a.Problems, Problem{ProblemTargetNotDeclared,
			fmt.Sprintf("%s port %d targets port %d, which no selected pod declares (declared: %s)", ref, sp.Port, target.IntVal, portsOrNone(a.DeclaredPorts)),
			"set targetPort to the port the container listens on, or declare it in the container's ports"})
	}
	switch {
	case len(a.Endpoints) == 0:
		a.Problems = append(a.Problems, Problem{ProblemNoEndpoints,
			fmt.Sprintf("%s has no endpoints for port %d", ref, sp.Port),
			"make the selector match running pods (kubectl get endpointslices -n " + svc.Namespace + " -l " + discoveryv1.LabelServiceName + "=" + svc.Name + ")"})
	case a.Ready == 0 && !svc.Spec.PublishNotReadyAddresses && !servingTerminating(a.Endpoints):
		// With no ready endpoint kube-proxy falls back to endpoints that
		// are terminating but still serving (a rolling update's last pods).
		a.Problems = append(a.Problems, Problem{ProblemNotReady,
			fmt.Sprintf("%s has %d endpoint(s) for port %d but none is ready", ref, len(a.Endpoints), sp.Port),
			"check the pods' readiness probes (kubectl describe pod)"})
	}
	return a
}

// servingTerminating: some endpoint is terminating but still serving, which
// kube-proxy uses when none is ready (pkg/proxy CategorizeEndpoints).
func servingTerminating(eps []Endpoint) bool {
	for _, e := range eps {
		if e.Serving && e.Terminating {
			return true
		}
	}
	return false
}

// analyzeExternalName explains an ExternalName Service: the cluster DNS
// answers its name with a CNAME to spec.externalName, so traffic goes to that
// name on the port the client uses; spec.ports only document it.
func analyzeExternalName(svc *corev1.Service, a ServiceAnalysis, port int32, portName string, proto corev1.Protocol) ServiceAnalysis {
	a.ExternalName = svc.Spec.ExternalName
	a.Problems = append(a.Problems, Problem{ProblemExternalName,
		fmt.Sprintf("service %s/%s is an ExternalName alias for %q: it has no endpoints, so the cluster's objects cannot tell whether that name answers; the source's egress policies apply to the address it resolves to", svc.Namespace, svc.Name, svc.Spec.ExternalName),
		fmt.Sprintf("check that %s resolves from the source pod, answers on the port, and that the source's egress policies allow its address (ipBlock)", svc.Spec.ExternalName)})
	if proto == "" {
		proto = corev1.ProtocolTCP
	}
	sp, err := pickPort(svc, port, portName, proto)
	switch {
	case err == nil:
		a.Port = &ServicePort{Name: sp.Name, Port: sp.Port, Protocol: string(protocolOf(sp)), TargetPort: strconv.Itoa(int(sp.Port))}
	case port != 0 && portName == "":
		// The alias does not translate ports: any port number is the
		// external name's port.
		a.Port = &ServicePort{Port: port, Protocol: string(proto), TargetPort: strconv.Itoa(int(port))}
	case portName != "" || len(svc.Spec.Ports) > 0:
		a.Problems = append(a.Problems, Problem{ProblemNoSuchPort, err.Error(),
			fmt.Sprintf("use one of the Service's ports (%s) or give the port number", portList(svc))})
	}
	return a
}

// Blocking says whether a problem means traffic cannot reach any pod. An
// ExternalName alias is not one: its traffic never goes to the Service's pods.
func (a ServiceAnalysis) Blocking() (Problem, bool) {
	for _, p := range a.Problems {
		if p.Reason != ProblemTargetNotDeclared && p.Reason != ProblemExternalName {
			return p, true
		}
	}
	return Problem{}, false
}

// Has reports whether the analysis found a problem with that reason.
func (a ServiceAnalysis) Has(reason string) bool {
	for _, p := range a.Problems {
		if p.Reason == reason {
			return true
		}
	}
	return false
}

// pickPort finds the Service port for the request. A port number may appear
// once per protocol (kube-dns has 53/UDP and 53/TCP), so the number and the
// protocol are matched together; the number alone decides only when a single
// port has it.
func pickPort(svc *corev1.Service, port int32, name string, proto corev1.Protocol) (corev1.ServicePort, error) {
	ports := svc.Spec.Ports
	switch {
	case name != "":
		for _, p := range ports {
			if p.Name == name {
				return p, nil
			}
		}
		return corev1.ServicePort{}, fmt.Errorf("service %s/%s has no port named %q", svc.Namespace, svc.Name, name)
	case port != 0:
		var same []corev1.ServicePort
		for _, p := range ports {
			if p.Port != port {
				continue
			}
			if proto != "" && protocolOf(p) == proto {
				return p, nil
			}
			same = append(same, p)
		}
		switch len(same) {
		case 0:
			return corev1.ServicePort{}, fmt.Errorf("service %s/%s has no port %d (it has %s)", svc.Namespace, svc.Name, port, portList(svc))
		case 1:
			return same[0], nil
		}
		return corev1.ServicePort{}, fmt.Errorf("service %s/%s has port %d for several protocols (%s): choose one with --protocol", svc.Namespace, svc.Name, port, portList(svc))
	case len(ports) == 1:
		return ports[0], nil
	case len(ports) == 0:
		return corev1.ServicePort{}, fmt.Errorf("service %s/%s has no ports", svc.Namespace, svc.Name)
	}
	return corev1.ServicePort{}, fmt.Errorf("service %s/%s has several ports (%s): name one with svc/%s:PORT or --port", svc.Namespace, svc.Name, portList(svc), svc.Name)
}

// protocolOf is the port's protocol; the API defaults it to TCP.
func protocolOf(p corev1.ServicePort) corev1.Protocol {
	if p.Protocol == "" {
		return corev1.ProtocolTCP
	}
	return p.Protocol
}

func portList(svc *corev1.Service) string {
	var s []string
	for _, p := range svc.Spec.Ports {
		v := strconv.Itoa(int(p.Port))
		if p.Name != "" {
			v = p.Name + ":" + v
		}
		if p.Protocol != "" && p.Protocol != corev1.ProtocolTCP {
			v += "/" + string(p.Protocol)
		}
		s = append(s, v)
	}
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// slicePort finds the slice's port for the Service port name and protocol.
func slicePort(s *discoveryv1.EndpointSlice, name string, proto corev1.Protocol) (int32, bool) {
	for _, p := range s.Ports {
		pn := ""
		if p.Name != nil {
			pn = *p.Name
		}
		pp := corev1.ProtocolTCP
		if p.Protocol != nil {
			pp = *p.Protocol
		}
		if pn == name && pp == proto && p.Port != nil {
			return *p.Port, true
		}
	}
	return 0, false
}

func anyResolves(pods []*corev1.Pod, name string, proto corev1.Protocol) bool {
	for _, p := range pods {
		if _, ok := netpolicy.NamedPort(p, name, proto); ok {
			return true
		}
	}
	return false
}

func anyDeclares(pods []*corev1.Pod, port int32, proto corev1.Protocol) bool {
	for _, p := range pods {
		for _, cp := range containerPorts(p) {
			if cp.Protocol == proto && cp.ContainerPort == port {
				return true
			}
		}
	}
	return false
}

// declaredPorts lists the container ports of the protocol the pods declare.
func declaredPorts(pods []*corev1.Pod, proto corev1.Protocol) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range pods {
		for _, cp := range containerPorts(p) {
			if cp.Protocol != proto {
				continue
			}
			v := strconv.Itoa(int(cp.ContainerPort))
			if cp.Name != "" {
				v = cp.Name + "=" + v
			}
			if !seen[v] {
				seen[v] = true
				out = append(out, v)
			}
		}
	}
	sort.Strings(out)
	return out
}

func portsOrNone(ports []string) string {
	if len(ports) == 0 {
		return "none"
	}
	return strings.Join(ports, ", ")
}

// TargetPortOn resolves the Service port's target on one backend pod.
func (a ServiceAnalysis) TargetPortOn(pod *corev1.Pod) (int32, bool) {
	if a.Port == nil {
		return 0, false
	}
	t := intstr.Parse(a.Port.TargetPort)
	if t.Type == intstr.Int {
		return t.IntVal, true
	}
	return netpolicy.NamedPort(pod, t.StrVal, corev1.Protocol(a.Port.Protocol))
}

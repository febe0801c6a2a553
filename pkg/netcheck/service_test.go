package netcheck

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func svc(name string, sel map[string]string, ports ...corev1.ServicePort) *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name},
		Spec: corev1.ServiceSpec{Selector: sel, Ports: ports, ClusterIP: "10.96.1.1", Type: corev1.ServiceTypeClusterIP}}
}

func sport(name string, port int32, target intstr.IntOrString) corev1.ServicePort {
	return corev1.ServicePort{Name: name, Port: port, TargetPort: target, Protocol: corev1.ProtocolTCP}
}

func backend(name, ip string, lbls map[string]string, ports ...corev1.ContainerPort) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name, Labels: lbls},
		Spec:   corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Ports: ports}}},
		Status: corev1.PodStatus{PodIP: ip}}
}

func slice(svcName, portName string, port int32, eps ...discoveryv1.Endpoint) *discoveryv1.EndpointSlice {
	proto := corev1.ProtocolTCP
	return &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: svcName + "-abc", Labels: map[string]string{discoveryv1.LabelServiceName: svcName}},
		Ports:      []discoveryv1.EndpointPort{{Name: &portName, Port: &port, Protocol: &proto}},
		Endpoints:  eps,
	}
}

func endpoint(ip, pod string, ready bool) discoveryv1.Endpoint {
	return discoveryv1.Endpoint{Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: &ready},
		TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: "shop", Name: pod}}
}

func TestAnalyzeService(t *testing.T) {
	app := map[string]string{"app": "web"}
	web := backend("web-1", "10.0.0.5", app, corev1.ContainerPort{Name: "http", ContainerPort: 8080})
	cases := []struct {
		name     string
		svc      *corev1.Service
		slices   []*discoveryv1.EndpointSlice
		pods     []*corev1.Pod
		port     int32
		portName string
		problems []string
		ready    int
	}{
		{"a selector matching a ready pod with a declared target port has no problem",
			svc("web", app, sport("", 80, intstr.FromInt32(8080))), []*discoveryv1.EndpointSlice{slice("web", "", 8080, endpoint("10.0.0.5", "web-1", true))},
			[]*corev1.Pod{web}, 80, "", nil, 1},
		{"a selector matching no pod leaves the Service without endpoints",
			svc("web", map[string]string{"app": "wbe"}, sport("", 80, intstr.FromInt32(8080))), nil,
			[]*corev1.Pod{web}, 0, "", []string{ProblemNoSelectorMatch, ProblemNoEndpoints}, 0},
		{"a port the Service does not have is a no-such-port problem",
			svc("web", app, sport("", 80, intstr.FromInt32(8080))), []*discoveryv1.EndpointSlice{slice("web", "", 8080, endpoint("10.0.0.5", "web-1", true))},
			[]*corev1.Pod{web}, 443, "", []string{ProblemNoSuchPort}, 0},
		{"a named targetPort no selected pod declares leaves the port without endpoints",
			svc("web", app, sport("", 80, intstr.FromString("web"))), []*discoveryv1.EndpointSlice{slice("web", "", 0)},
			[]*corev1.Pod{web}, 80, "", []string{ProblemNamedPortMissing, ProblemNoEndpoints}, 0},
		{"a numeric targetPort no container declares is flagged but not blocking on its own",
			svc("web", app, sport("", 80, intstr.FromInt32(9999))), []*discoveryv1.EndpointSlice{slice("web", "", 9999, endpoint("10.0.0.5", "web-1", true))},
			[]*corev1.Pod{web}, 80, "", []string{ProblemTargetNotDeclared}, 1},
		{"endpoints that exist but are all not ready are reported",
			svc("web", app, sport("", 80, intstr.FromInt32(8080))), []*discoveryv1.EndpointSlice{slice("web", "", 8080, endpoint("10.0.0.5", "web-1", false))},
			[]*corev1.Pod{web}, 80, "", []string{ProblemNotReady}, 0},
		{"a port picked by name finds the slice port of that name",
			svc("web", app, sport("http", 80, intstr.FromString("http")), sport("metrics", 9090, intstr.FromInt32(9090))),
			[]*discoveryv1.EndpointSlice{slice("web", "http", 8080, endpoint("10.0.0.5", "web-1", true))},
			[]*corev1.Pod{web}, 0, "http", nil, 1},
		{"a Service with several ports and no port asked for cannot pick one",
			svc("web", app, sport("http", 80, intstr.FromString("http")), sport("metrics", 9090, intstr.FromInt32(9090))), nil,
			[]*corev1.Pod{web}, 0, "", []string{ProblemNoSuchPort}, 0},
		{"slices of another Service are ignored",
			svc("web", app, sport("", 80, intstr.FromInt32(8080))), []*discoveryv1.EndpointSlice{slice("other", "", 8080, endpoint("10.0.0.5", "web-1", true))},
			[]*corev1.Pod{web}, 80, "", []string{ProblemNoEndpoints}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := AnalyzeService(c.svc, c.slices, c.pods, c.port, c.portName, corev1.ProtocolTCP)
			var got []string
			for _, p := range a.Problems {
				got = append(got, p.Reason)
				if p.Message == "" || p.Fix == "" {
					t.Errorf("problem %s lacks a message or fix", p.Reason)
				}
			}
			if len(got) != len(c.problems) {
				t.Fatalf("problems = %v, want %v", got, c.problems)
			}
			for i := range got {
				if got[i] != c.problems[i] {
					t.Errorf("problems = %v, want %v", got, c.problems)
				}
			}
			if a.Ready != c.ready {
				t.Errorf("ready = %d, want %d", a.Ready, c.ready)
			}
		})
	}
}

func TestTargetPortOnResolvesNamedPortsPerPod(t *testing.T) {
	app := map[string]string{"app": "web"}
	a := AnalyzeService(svc("web", app, sport("", 80, intstr.FromString("http"))), nil, nil, 80, "", corev1.ProtocolTCP)
	p := backend("web-2", "10.0.0.6", app, corev1.ContainerPort{Name: "http", ContainerPort: 8443})
	if port, ok := a.TargetPortOn(p); !ok || port != 8443 {
		t.Errorf("TargetPortOn = %d %v, want 8443 true", port, ok)
	}
}

func TestAnalyzeServicePicksThePortByNumberAndProtocol(t *testing.T) {
	udp := func(name string, port int32) corev1.ServicePort {
		p := sport(name, port, intstr.FromInt32(port))
		p.Protocol = corev1.ProtocolUDP
		return p
	}
	// Like kube-dns: 53 once per protocol, and the UDP port listed first.
	dns := svc("dns", map[string]string{"app": "dns"}, udp("dns", 53), sport("dns-tcp", 53, intstr.FromInt32(53)), sport("metrics", 9153, intstr.FromInt32(9153)))
	cases := []struct {
		name  string
		port  int32
		proto corev1.Protocol
		want  string // the picked port's name, or "" for a no-such-port problem
	}{
		{"TCP to 53 picks the TCP port although the UDP one comes first", 53, corev1.ProtocolTCP, "dns-tcp"},
		{"UDP to 53 picks the UDP port", 53, corev1.ProtocolUDP, "dns"},
		{"a port number held by one port only is picked whatever the protocol", 9153, corev1.ProtocolUDP, "metrics"},
		{"a port number held for two protocols, neither asked for, is ambiguous", 53, corev1.ProtocolSCTP, ""},
		{"a port number held for two protocols without a protocol is ambiguous", 53, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := AnalyzeService(dns, nil, nil, c.port, "", c.proto)
			switch {
			case c.want == "" && (a.Port != nil || !a.Has(ProblemNoSuchPort)):
				t.Errorf("port %+v problems %+v: want a no-such-port problem", a.Port, a.Problems)
			case c.want != "" && (a.Port == nil || a.Port.Name != c.want):
				t.Errorf("port %+v: want %s", a.Port, c.want)
			}
		})
	}
}

func TestAnalyzeServiceOfAnExternalName(t *testing.T) {
	ext := func(ports ...corev1.ServicePort) *corev1.Service {
		s := svc("ext", nil, ports...)
		s.Spec.Type, s.Spec.ExternalName, s.Spec.ClusterIP = corev1.ServiceTypeExternalName, "db.example.com", ""
		return s
	}
	cases := []struct {
		name     string
		svc      *corev1.Service
		port     int32
		portName string
		wantPort int32 // 0: no port picked
		problems []string
	}{
		{"a port number not in spec.ports is the aliased name's port, since a CNAME does not translate ports",
			ext(), 5432, "", 5432, []string{ProblemExternalName}},
		{"a port named in spec.ports is picked by name",
			ext(sport("pg", 5432, intstr.FromInt32(5432))), 0, "pg", 5432, []string{ProblemExternalName}},
		{"the only port in spec.ports is picked when none is asked for",
			ext(sport("pg", 5432, intstr.FromInt32(5432))), 0, "", 5432, []string{ProblemExternalName}},
		{"a port name missing from spec.ports is a no-such-port problem",
			ext(sport("pg", 5432, intstr.FromInt32(5432))), 0, "http", 0, []string{ProblemExternalName, ProblemNoSuchPort}},
		{"no port asked for and none in spec.ports picks nothing and leaves the choice to the caller",
			ext(), 0, "", 0, []string{ProblemExternalName}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := AnalyzeService(c.svc, nil, nil, c.port, c.portName, corev1.ProtocolTCP)
			if a.ExternalName != "db.example.com" {
				t.Errorf("externalName = %q", a.ExternalName)
			}
			switch {
			case c.wantPort == 0 && a.Port != nil:
				t.Errorf("port %+v, want none", a.Port)
			case c.wantPort != 0 && (a.Port == nil || a.Port.Port != c.wantPort):
				t.Errorf("port %+v, want %d", a.Port, c.wantPort)
			}
			var got []string
			for _, p := range a.Problems {
				got = append(got, p.Reason)
			}
			if strings.Join(got, ",") != strings.Join(c.problems, ",") {
				t.Errorf("problems = %v, want %v", got, c.problems)
			}
			if p, blocking := a.Blocking(); blocking != a.Has(ProblemNoSuchPort) {
				t.Errorf("blocking = %v (%s): an ExternalName alias alone does not block", blocking, p.Reason)
			}
		})
	}
}

func TestInternalTrafficPolicyLocalNeedsAnEndpointOnTheClientsNode(t *testing.T) {
	app := map[string]string{"app": "web"}
	web := backend("web-1", "10.0.0.5", app, corev1.ContainerPort{Name: "http", ContainerPort: 8080})
	s := svc("web", app, sport("", 80, intstr.FromInt32(8080)))
	local := corev1.ServiceInternalTrafficPolicyLocal
	s.Spec.InternalTrafficPolicy = &local
	ep := endpoint("10.0.0.5", "web-1", true)
	ep.NodeName = ptrTo("node-a")
	slices := []*discoveryv1.EndpointSlice{slice("web", "", 8080, ep)}

	a := AnalyzeService(s, slices, []*corev1.Pod{web}, 80, "", corev1.ProtocolTCP)
	ApplyInternalTrafficPolicy(&a, s, "node-a")
	if len(a.Problems) != 0 {
		t.Errorf("a client on the backend's node reaches it: %+v", a.Problems)
	}
	a = AnalyzeService(s, slices, []*corev1.Pod{web}, 80, "", corev1.ProtocolTCP)
	ApplyInternalTrafficPolicy(&a, s, "node-b")
	if len(a.Problems) != 1 || a.Problems[0].Reason != ProblemNoLocalEndpoint || !strings.Contains(a.Problems[0].Message, "node-b") {
		t.Errorf("a client on another node is dropped by kube-proxy: %+v", a.Problems)
	}
	if v := Decide(Inputs{Service: &a}); v.Verdict != VerdictNoEndpoints {
		t.Errorf("verdict %s, want %s", v.Verdict, VerdictNoEndpoints)
	}
}

func ptrTo[T any](v T) *T { return &v }

func TestTerminatingButServingEndpointsStillTakeTraffic(t *testing.T) {
	app := map[string]string{"app": "web"}
	web := backend("web-1", "10.0.0.5", app, corev1.ContainerPort{Name: "http", ContainerPort: 8080})
	s := svc("web", app, sport("", 80, intstr.FromInt32(8080)))
	ep := endpoint("10.0.0.5", "web-1", false)
	ep.Conditions.Serving, ep.Conditions.Terminating = ptrTo(true), ptrTo(true)
	a := AnalyzeService(s, []*discoveryv1.EndpointSlice{slice("web", "", 8080, ep)}, []*corev1.Pod{web}, 80, "", corev1.ProtocolTCP)
	if len(a.Problems) != 0 {
		t.Errorf("kube-proxy falls back to serving terminating endpoints when none is ready: %+v", a.Problems)
	}
	ep.Conditions.Serving = ptrTo(false)
	a = AnalyzeService(s, []*discoveryv1.EndpointSlice{slice("web", "", 8080, ep)}, []*corev1.Pod{web}, 80, "", corev1.ProtocolTCP)
	if len(a.Problems) != 1 || a.Problems[0].Reason != ProblemNotReady {
		t.Errorf("terminating and no longer serving: want %s, got %+v", ProblemNotReady, a.Problems)
	}
}

func TestAnUndeclaredTargetPortNamesThePortsTheBackendsDeclare(t *testing.T) {
	app := map[string]string{"app": "web"}
	web := backend("web-1", "10.0.0.5", app, corev1.ContainerPort{Name: "http", ContainerPort: 8081}, corev1.ContainerPort{Name: "dns", ContainerPort: 53, Protocol: corev1.ProtocolUDP})
	a := AnalyzeService(svc("web", app, sport("", 80, intstr.FromInt32(8080))), nil, []*corev1.Pod{web}, 80, "", corev1.ProtocolTCP)
	if !a.Has(ProblemTargetNotDeclared) || len(a.DeclaredPorts) != 1 || a.DeclaredPorts[0] != "http=8081" {
		t.Fatalf("problems %+v, declared ports %v: want target-port-not-declared and the TCP port http=8081 only", a.Problems, a.DeclaredPorts)
	}
	if !strings.Contains(a.Problems[0].Message, "declared: http=8081") {
		t.Errorf("message %q does not name the declared port", a.Problems[0].Message)
	}
	v := Decide(Inputs{Service: &a, Destination: "svc/shop/web:80"})
	if v.Verdict != VerdictPortMismatch || !strings.Contains(v.Reason, "http=8081") {
		t.Errorf("verdict %s (%s): want port-mismatch naming http=8081", v.Verdict, v.Reason)
	}
}

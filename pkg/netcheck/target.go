package netcheck

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/ktriage/ktriage/pkg/cluster"
)

// Destination kinds. They are part of the JSON output.
const (
	KindPod     = "pod"
	KindService = "service"
	KindDNS     = "dns"
	KindIP      = "ip"
)

// Protocols accepted by --protocol.
var Protocols = []string{"tcp", "udp", "http", "https", "dns"}

// Destination is what the user asked to reach.
type Destination struct {
	Kind string `json:"kind"`
	// Namespace and Name name a pod or Service (Namespace empty: the
	// current namespace).
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`
	// Host is a DNS name or an IP address.
	Host string `json:"host,omitempty"`
	// Port is the number given after ":" (0 when absent); PortName a name.
	Port     int32  `json:"port,omitempty"`
	PortName string `json:"portName,omitempty"`
	// Workload is set for TYPE/NAME (deployment/web): Kind is pod, Name
	// the workload's, and the destination is one ready pod of it.
	Workload string `json:"workload,omitempty"`
}

// WorkloadKind reads the TYPE of TYPE/NAME ("deploy", "deployments.apps")
// as kubectl does (cluster.ParseType) and returns the workload kind it names
// (deployment, replicaset, statefulset, daemonset, job, cronjob).
func WorkloadKind(typ string) (string, bool) {
	k, _, ok := cluster.ParseType(typ)
	if !ok || k == cluster.KindPod || k == cluster.KindService || !netcheckType(k) {
		return "", false
	}
	return strings.ToLower(string(k)), true
}

// netcheckType: netcheck reads the pods of every TYPE cluster.ParseType
// knows but ReplicationControllers (its reads and its role leave them out),
// so "rc/NAME" stays NS/NAME for it.
func netcheckType(k cluster.Kind) bool { return k != cluster.KindReplicationController }

// ParseDestination reads DST:
//
//	NAME, NS/NAME, pod/NAME, pod/NAME:PORT   a pod
//	TYPE/NAME, TYPE/NAME:PORT                one pod of a workload (deploy/web)
//	svc/NAME, svc/NAME:PORT                  a Service (service/, services/ too)
//	HOST:PORT, a.b.c (with a dot)            a DNS name
//	IP, IP:PORT, [IPv6]:PORT                 an address
func ParseDestination(s string) (Destination, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Destination{}, fmt.Errorf("empty destination")
	}
	if addr, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		return Destination{Kind: KindIP, Host: addr.String()}, nil
	}
	if typ, rest, ok := strings.Cut(s, "/"); ok {
		switch strings.ToLower(typ) {
		case "svc", "service", "services", "service.v1":
			name, port, err := splitPort(rest)
			if err != nil || name == "" || strings.Contains(name, "/") {
				return Destination{}, fmt.Errorf("invalid service %q: use svc/NAME or svc/NAME:PORT", s)
			}
			d := Destination{Kind: KindService, Name: name}
			if err := setPort(&d, port); err != nil {
				return Destination{}, err
			}
			return d, nil
		case "pod", "pods", "po":
			name, port, err := splitPort(rest)
			if err != nil || name == "" || strings.Contains(name, "/") {
				return Destination{}, fmt.Errorf("invalid pod %q: use pod/NAME or pod/NAME:PORT", s)
			}
			d := Destination{Kind: KindPod, Name: name}
			if err := setPort(&d, port); err != nil {
				return Destination{}, err
			}
			return d, nil
		}
		if kind, ok := WorkloadKind(typ); ok {
			name, port, err := splitPort(rest)
			if err != nil || name == "" || strings.Contains(name, "/") {
				return Destination{}, fmt.Errorf("invalid %s %q: use %s/NAME or %s/NAME:PORT", kind, s, typ, typ)
			}
			d := Destination{Kind: KindPod, Name: name, Workload: kind}
			if err := setPort(&d, port); err != nil {
				return Destination{}, err
			}
			return d, nil
		}
		if strings.Contains(rest, "/") || strings.Contains(s, ".") {
			return Destination{}, fmt.Errorf("invalid destination %q: use NS/NAME, pod/NAME, svc/NAME[:PORT], HOST:PORT or IP:PORT", s)
		}
		name, port, err := splitPort(rest)
		if err != nil {
			return Destination{}, err
		}
		d := Destination{Kind: KindPod, Namespace: typ, Name: name}
		if err := setPort(&d, port); err != nil {
			return Destination{}, err
		}
		return d, nil
	}
	host, port, err := splitPort(s)
	if err != nil {
		return Destination{}, err
	}
	if addr, err := netip.ParseAddr(host); err == nil {
		d := Destination{Kind: KindIP, Host: addr.String()}
		if err := setPort(&d, port); err != nil {
			return Destination{}, err
		}
		return d, nil
	}
	if port == "" && !strings.Contains(host, ".") {
		return Destination{Kind: KindPod, Name: host}, nil
	}
	if !validHostname(host) {
		return Destination{}, fmt.Errorf("invalid host name %q", host)
	}
	d := Destination{Kind: KindDNS, Host: host}
	if err := setPort(&d, port); err != nil {
		return Destination{}, err
	}
	return d, nil
}

func splitPort(s string) (host, port string, err error) {
	if strings.HasPrefix(s, "[") || strings.Count(s, ":") == 1 {
		if !strings.Contains(s, ":") || strings.HasSuffix(s, "]") {
			return strings.Trim(s, "[]"), "", nil
		}
		h, p, err := net.SplitHostPort(s)
		if err != nil {
			return "", "", fmt.Errorf("invalid destination %q: %v", s, err)
		}
		if p == "" {
			return "", "", fmt.Errorf("invalid destination %q: empty port", s)
		}
		return h, p, nil
	}
	return s, "", nil
}

func setPort(d *Destination, p string) error {
	n, name, err := ParsePort(p)
	if err != nil {
		return fmt.Errorf("invalid port %q in the destination", p)
	}
	d.Port, d.PortName = n, name
	return nil
}

func validHostname(h string) bool {
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 {
		return false
	}
	for _, l := range strings.Split(h, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// ParsePort reads --port: a number or a port name.
func ParsePort(s string) (int32, string, error) {
	if s == "" {
		return 0, "", nil
	}
	if strings.Trim(s, "0123456789") == "" {
		n, err := strconv.ParseUint(s, 10, 16)
		if err != nil || n == 0 {
			return 0, "", fmt.Errorf("--port: %s is not a port number (1-65535)", s)
		}
		return int32(n), "", nil
	}
	if strings.ContainsAny(s, " /:") {
		return 0, "", fmt.Errorf("--port: %q is neither a number nor a port name", s)
	}
	return 0, s, nil
}

// parseSource reads SRC: NAME, NS/NAME or TYPE/NAME.
func parseSource(arg string) (ns, kind, name string, err error) {
	first, rest, ok := strings.Cut(arg, "/")
	switch {
	case arg == "" || strings.Count(arg, "/") > 1 || (ok && (first == "" || rest == "")):
		return "", "", "", usageErrorf("SRC %q: use POD, NS/POD or TYPE/NAME", arg)
	case !ok:
		return "", "pod", arg, nil
	}
	// A pod, a workload, or a Service (one ready pod its selector matches).
	if k, _, known := cluster.ParseType(first); known && netcheckType(k) {
		return "", strings.ToLower(string(k)), rest, nil
	}
	return first, "pod", rest, nil
}

// UsageError is an error in what the user asked (SRC, DST, a port or
// protocol that cannot go together): the command says how to use it.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }

func (e *UsageError) Unwrap() error { return e.Err }

func usageErrorf(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

package netcheck

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// DefaultClusterDomain is the kubelet's usual --cluster-domain.
const DefaultClusterDomain = "cluster.local"

// Limits the kubelet applies to a pod's search list (k8s.io/kubernetes
// pkg/apis/core/validation MaxDNSSearchPaths / MaxDNSSearchListChars).
const (
	maxSearchPaths     = 32
	maxSearchListChars = 2048
	maxSearchDomainLen = 253
	defaultNdots       = 1 // the resolver's default when no option sets it
	kubeletNdots       = 5 // the kubelet's option for ClusterFirst pods
)

// ResolvConf is the part of a pod's /etc/resolv.conf that decides which
// names are queried.
type ResolvConf struct {
	Nameservers []string `json:"nameservers,omitempty"`
	Searches    []string `json:"searches,omitempty"`
	Ndots       int      `json:"ndots"`
	Options     []string `json:"options,omitempty"`
	// Source says where this came from: "pod" (read inside the pod by the
	// probe) or "spec" (rebuilt from the pod spec as the kubelet does).
	Source string `json:"source"`
	// NodeSearchesUnknown is set when the kubelet would append the node's own
	// search domains, which the API does not show.
	NodeSearchesUnknown bool `json:"nodeSearchesUnknown,omitempty"`
}

// PodResolvConf rebuilds the resolv.conf the kubelet gives a pod, following
// kubelet's pkg/kubelet/network/dns GetPodDNS: ClusterFirst (and ClusterFirst
// on a host-network pod, which falls back to Default), ClusterFirstWithHostNet,
// Default and None, then spec.dnsConfig appended and the search limits applied.
// clusterDNS may be empty when unknown.
func PodResolvConf(pod *corev1.Pod, clusterDomain string, clusterDNS []string) ResolvConf {
	if clusterDomain == "" {
		clusterDomain = DefaultClusterDomain
	}
	rc := ResolvConf{Source: "spec", Ndots: defaultNdots}
	var options []string
	policy := pod.Spec.DNSPolicy
	if policy == "" {
		policy = corev1.DNSClusterFirst
	}
	if policy == corev1.DNSClusterFirst && pod.Spec.HostNetwork {
		policy = corev1.DNSDefault
	}
	switch policy {
	case corev1.DNSNone:
		// Only spec.dnsConfig counts.
	case corev1.DNSClusterFirst, corev1.DNSClusterFirstWithHostNet:
		rc.Nameservers = append(rc.Nameservers, clusterDNS...)
		rc.Searches = []string{pod.Namespace + ".svc." + clusterDomain, "svc." + clusterDomain, clusterDomain}
		rc.NodeSearchesUnknown = true
		options = []string{"ndots:" + strconv.Itoa(kubeletNdots)}
	default: // Default: the node's resolv.conf, which the API does not show.
		rc.NodeSearchesUnknown = true
	}
	if dc := pod.Spec.DNSConfig; dc != nil {
		rc.Nameservers = appendUnique(rc.Nameservers, dc.Nameservers...)
		rc.Searches = appendUnique(rc.Searches, dc.Searches...)
		for _, o := range dc.Options {
			opt := o.Name
			if o.Value != nil && *o.Value != "" {
				opt += ":" + *o.Value
			}
			options = mergeOption(options, opt)
		}
	}
	rc.Searches = fitSearchLimits(rc.Searches)
	rc.Options = options
	rc.Ndots = ndotsOf(options, defaultNdots)
	return rc
}

// ParseResolvConf reads resolv.conf text as the probe found it in the pod.
// As in glibc, the last search line wins and later options override earlier.
func ParseResolvConf(text string) ResolvConf {
	rc := ResolvConf{Source: "pod", Ndots: defaultNdots}
	var options []string
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexAny(line, "#;"); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "nameserver":
			if len(f) > 1 {
				rc.Nameservers = append(rc.Nameservers, f[1])
			}
		case "search", "domain":
			rc.Searches = append([]string(nil), f[1:]...)
		case "options":
			for _, o := range f[1:] {
				options = mergeOption(options, o)
			}
		}
	}
	rc.Options = options
	rc.Ndots = ndotsOf(options, defaultNdots)
	return rc
}

// ClusterDomainFrom guesses the cluster domain from a ClusterFirst search
// list ("<ns>.svc.<domain> svc.<domain> <domain>").
func ClusterDomainFrom(rc ResolvConf) string {
	for _, s := range rc.Searches {
		if rest, ok := strings.CutPrefix(s, "svc."); ok && rest != "" {
			return rest
		}
	}
	return ""
}

// Query is one name the resolver asks for, in order.
type Query struct {
	Name string `json:"name"`
	// Answer says what the cluster would answer when it is known from the
	// objects: "service", "pod" or "nxdomain"; empty when it cannot be known
	// (names outside the cluster domain, objects that could not be read).
	Answer string `json:"answer,omitempty"`
}

// DNSAnalysis explains how a name is resolved from the source pod.
type DNSAnalysis struct {
	Name       string     `json:"name"`
	ResolvConf ResolvConf `json:"resolvConf"`
	// Queries lists the names tried, in the resolver's order, up to the first
	// one the cluster answers (all of them when none is known to answer).
	Queries []Query `json:"queries"`
	// Lookups is len(Queries) per record type; a resolver asking A and AAAA
	// sends twice as many packets.
	Lookups int `json:"lookups"`
	// Resolves is "yes" when a query is answered by a cluster object, "no"
	// when every query is a cluster name that does not exist, and "unknown"
	// when names outside the cluster domain are involved.
	Resolves string `json:"resolves"`
	// Service is the Service the name resolves to, when it is one.
	Service *NamespacedName `json:"service,omitempty"`
	// Hint suggests a cheaper spelling when the name costs extra lookups.
	Hint string `json:"hint,omitempty"`
	// Unchecked lists the cluster names whose objects could not be read
	// (e.g. a forbidden GET): whether they answer is unknown.
	Unchecked []string `json:"unchecked,omitempty"`
	// Musl is set when the name resolves only through the search list
	// although it has ndots dots or more: musl's resolver (Alpine-based
	// images) then tries it as is only, and fails.
	Musl string `json:"musl,omitempty"`
}

// NamespacedName names an object.
type NamespacedName struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

// ExpandName lists the names glibc's stub resolver (and Go's) tries for
// name: an absolute name (trailing dot) only itself; a name with at least
// ndots dots first as is, then with each search domain; otherwise each
// search domain first and the name as is last. musl tries a name with at
// least ndots dots as is only (see DNSAnalysis.Musl).
func ExpandName(name string, rc ResolvConf) []string {
	if strings.HasSuffix(name, ".") {
		return []string{name}
	}
	var withSearch []string
	for _, s := range rc.Searches {
		if s == "." || s == "" {
			continue
		}
		withSearch = append(withSearch, name+"."+strings.TrimSuffix(s, ".")+".")
	}
	asIs := name + "."
	if strings.Count(name, ".") >= rc.Ndots {
		return append([]string{asIs}, withSearch...)
	}
	return append(withSearch, asIs)
}

// Lookup answers whether a cluster object exists for a fully qualified name;
// the plugin implements it with the objects it loaded.
type Lookup func(q ClusterName) Existence

// Existence is a Lookup's answer. Unknown (the object could not be read) is
// kept apart from Absent: only Absent means the cluster DNS answers NXDOMAIN.
type Existence int

const (
	Absent Existence = iota
	Exists
	Unknown
)

// Known turns a yes/no answer into an Existence.
func Known(exists bool) Existence {
	if exists {
		return Exists
	}
	return Absent
}

// ClusterName is a name inside the cluster domain split into its parts.
type ClusterName struct {
	// Kind is "service" (<svc>.<ns>.svc.<domain>), "endpoint" (a pod under a
	// headless Service: <host>.<svc>.<ns>.svc.<domain>) or "pod"
	// (<a-b-c-d>.<ns>.pod.<domain>).
	Kind      string
	Namespace string
	Name      string
	// Host is the first label of an endpoint name.
	Host string
}

// ParseClusterName splits a fully qualified name inside domain; ok is false
// for names outside it.
func ParseClusterName(fqdn, domain string) (ClusterName, bool) {
	n := strings.TrimSuffix(strings.ToLower(fqdn), ".")
	rest, ok := strings.CutSuffix(n, "."+strings.ToLower(domain))
	if !ok {
		return ClusterName{}, false
	}
	labels := strings.Split(rest, ".")
	switch {
	case len(labels) == 3 && labels[2] == "svc":
		return ClusterName{Kind: "service", Namespace: labels[1], Name: labels[0]}, true
	case len(labels) == 4 && labels[3] == "svc":
		return ClusterName{Kind: "endpoint", Namespace: labels[2], Name: labels[1], Host: labels[0]}, true
	case len(labels) == 3 && labels[2] == "pod":
		return ClusterName{Kind: "pod", Namespace: labels[1], Name: labels[0]}, true
	}
	// Inside the domain but no such record shape: the cluster DNS answers
	// NXDOMAIN.
	return ClusterName{Kind: "invalid"}, true
}

// AnalyzeDNS expands name with rc and, using exists for names inside the
// cluster domain, finds the first query the cluster answers.
func AnalyzeDNS(name string, rc ResolvConf, domain string, exists Lookup) DNSAnalysis {
	if domain == "" {
		domain = DefaultClusterDomain
	}
	a := DNSAnalysis{Name: name, ResolvConf: rc, Resolves: "no"}
	for _, q := range ExpandName(name, rc) {
		cn, inCluster := ParseClusterName(q, domain)
		query := Query{Name: q}
		answer := Absent
		if inCluster && cn.Kind != "invalid" && exists != nil {
			answer = exists(cn)
		}
		switch {
		case !inCluster:
			a.Resolves = "unknown"
		case answer == Unknown:
			a.Resolves = "unknown"
			a.Unchecked = append(a.Unchecked, q)
		case answer == Exists:
			query.Answer = cn.Kind
			if cn.Kind == "service" {
				query.Answer = "service"
				a.Service = &NamespacedName{Namespace: cn.Namespace, Name: cn.Name}
			}
			a.Queries = append(a.Queries, query)
			a.Resolves = "yes"
			a.Lookups = len(a.Queries)
			a.Hint = cheaperHint(name, q, a.Lookups)
			if !strings.HasSuffix(name, ".") && q != name+"." && strings.Count(name, ".") >= rc.Ndots {
				a.Musl = fmt.Sprintf("%q has %d dot(s), at least ndots (%d), and resolves only as %q through the search list: musl-based images (Alpine) try it as is only and fail; use the full name", name, strings.Count(name, "."), rc.Ndots, q)
			}
			return a
		default:
			query.Answer = "nxdomain"
		}
		a.Queries = append(a.Queries, query)
	}
	a.Lookups = len(a.Queries)
	if a.Resolves == "unknown" && a.Lookups > 1 && !strings.HasSuffix(name, ".") {
		a.Hint = fmt.Sprintf("%q costs up to %d lookups per record type before it is tried as is; write it with a trailing dot (%q) or lower ndots with spec.dnsConfig.options", name, a.Lookups, name+".")
	}
	return a
}

func cheaperHint(name, answered string, lookups int) string {
	if lookups <= 1 {
		return ""
	}
	return fmt.Sprintf("%q needs %d lookups per record type; %q needs one", name, lookups, answered)
}

func appendUnique(list []string, more ...string) []string {
	seen := map[string]bool{}
	for _, s := range list {
		seen[s] = true
	}
	for _, s := range more {
		if !seen[s] {
			seen[s] = true
			list = append(list, s)
		}
	}
	return list
}

// mergeOption adds opt, replacing an earlier option of the same name.
func mergeOption(options []string, opt string) []string {
	name, _, _ := strings.Cut(opt, ":")
	for i, o := range options {
		if n, _, _ := strings.Cut(o, ":"); n == name {
			options[i] = opt
			return options
		}
	}
	return append(options, opt)
}

func ndotsOf(options []string, def int) int {
	n := def
	for _, o := range options {
		if v, ok := strings.CutPrefix(o, "ndots:"); ok {
			if i, err := strconv.Atoi(v); err == nil && i >= 0 {
				n = min(i, 15) // glibc caps ndots at 15
			}
		}
	}
	return n
}

// fitSearchLimits drops what the kubelet drops: paths beyond 32, single
// domains over 253 characters, and trailing domains past 2048 characters.
func fitSearchLimits(s []string) []string {
	if len(s) > maxSearchPaths {
		s = s[:maxSearchPaths]
	}
	var out []string
	for _, d := range s {
		if len(d) <= maxSearchDomainLen {
			out = append(out, d)
		}
	}
	for len(out) > 0 && len(strings.Join(out, " ")) > maxSearchListChars {
		out = out[:len(out)-1]
	}
	return out
}

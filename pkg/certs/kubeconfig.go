package certs

import (
	"bytes"
	"fmt"
	"maps"
	"net"
	"net/url"
	"path/filepath"
	"slices"
	"sort"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/ktriage/ktriage/pkg/report"
)

// ReadFunc reads a file a kubeconfig refers to.
type ReadFunc func(path string) ([]byte, error)

// Endpoint is a TLS server to handshake with, and what its chain must verify
// against.
type Endpoint struct {
	Origin Origin
	Ref    report.ObjectRef
	// Address is host:port to dial.
	Address string
	// ServerName is sent as SNI and checked against the served certificate.
	ServerName string
	Roots      []byte
	RootsName  string
	Insecure   bool
	// SkipChain leaves the chain unverified (the host name still is): the
	// trust anchors the client would use could not be read, which is
	// reported on its own.
	SkipChain    bool
	Group        string
	MismatchRule string
}

// Input turns a handshake's chain (leaf first, as PEM) into an Input.
func (e Endpoint) Input(chainPEM []byte) Input {
	return Input{Origin: e.Origin, Ref: e.Ref, Data: chainPEM, Group: e.Group, Served: &Served{
		Host: e.ServerName, Roots: e.Roots, RootsName: e.RootsName, Insecure: e.Insecure, SkipChain: e.SkipChain, MismatchRule: e.MismatchRule,
	}}
}

// IsKubeconfig says whether data looks like a kubeconfig file.
func IsKubeconfig(data []byte) bool {
	if !bytes.Contains(data, []byte("clusters")) && !bytes.Contains(data, []byte("users")) {
		return false
	}
	cfg, err := clientcmd.Load(data)
	return err == nil && (len(cfg.Clusters) > 0 || len(cfg.AuthInfos) > 0)
}

// KubeconfigOptions say which contexts of a kubeconfig to read and how its
// certificates are named.
type KubeconfigOptions struct {
	// Path is the kubeconfig's file: relative certificate paths are resolved
	// against its directory.
	Path string
	// Contexts to read; empty means every context.
	Contexts []string
	// AsFile names certificates after the file (PKI kubeconfigs such as
	// /etc/kubernetes/admin.conf) rather than after the context.
	AsFile bool
	// OriginType overrides the origin type of file-named certificates
	// (OriginPKI or OriginFile).
	OriginType string
	Read       ReadFunc
}

// FromKubeconfig returns the client certificate and CA of each context, and
// each distinct API server to handshake with.
func FromKubeconfig(cfg *clientcmdapi.Config, opts KubeconfigOptions) ([]Input, []Endpoint, error) {
	names := opts.Contexts
	if len(names) == 0 {
		for n := range cfg.Contexts {
			names = append(names, n)
		}
		sort.Strings(names)
	}
	var (
		inputs    []Input
		endpoints []Endpoint
		seenInput = map[string]bool{}
		seenEP    = map[string]bool{}
	)
	for _, name := range names {
		ctx, ok := cfg.Contexts[name]
		if !ok {
			return nil, nil, fmt.Errorf("context %q not found in the kubeconfig", name)
		}
		group := "kubeconfig/" + opts.Path + "/" + name
		cluster := cfg.Clusters[ctx.Cluster]
		var (
			caData     []byte
			caUnusable bool
		)
		if cluster != nil {
			in, ok := fieldInput(opts, name, "certificate-authority", "cluster/"+ctx.Cluster, cluster.CertificateAuthorityData, cluster.CertificateAuthority, group, cluster.LocationOfOrigin)
			if ok {
				in.Role = RoleAnchor
				caData = in.Data
				// A client with an unreadable CA file fails before any
				// handshake; the system roots are not what it trusts.
				caUnusable = in.Err != nil || len(in.Data) == 0
				if key := in.Origin.String(); !seenInput[key] {
					seenInput[key] = true
					inputs = append(inputs, in)
				}
			}
		}
		if user := cfg.AuthInfos[ctx.AuthInfo]; user != nil {
			in, ok := fieldInput(opts, name, "client-certificate", "user/"+ctx.AuthInfo, user.ClientCertificateData, user.ClientCertificate, group, user.LocationOfOrigin)
			if ok {
				if key := in.Origin.String(); !seenInput[key] {
					seenInput[key] = true
					inputs = append(inputs, in)
				}
			}
		}
		if opts.AsFile || cluster == nil || cluster.Server == "" {
			continue
		}
		ep, err := serverEndpoint(name, cluster, caData)
		if err != nil {
			inputs = append(inputs, Input{Origin: Origin{Type: OriginServed, Endpoint: cluster.Server, Context: name}, Err: err})
			continue
		}
		if caUnusable {
			ep.SkipChain = true
			ep.RootsName = fmt.Sprintf("the CA of context %q", name)
		}
		key := fmt.Sprintf("%s|%s|%t|%s", ep.Address, ep.ServerName, ep.SkipChain, caData)
		if seenEP[key] {
			continue
		}
		seenEP[key] = true
		endpoints = append(endpoints, ep)
	}
	if opts.AsFile {
		inputs = append(inputs, unreferenced(cfg, opts, seenInput)...)
	}
	return inputs, endpoints, nil
}

// unreferenced reads the clusters and users of a kubeconfig file that no
// context names: a file checked in CI or kept on a node is used as a whole
// (kubectl --user, --cluster), so their certificates expire all the same.
func unreferenced(cfg *clientcmdapi.Config, opts KubeconfigOptions, seen map[string]bool) []Input {
	clusters, users := map[string]bool{}, map[string]bool{}
	for _, ctx := range cfg.Contexts {
		clusters[ctx.Cluster] = true
		users[ctx.AuthInfo] = true
	}
	var out []Input
	add := func(in Input, ok bool) {
		if key := in.Origin.String(); ok && !seen[key] {
			seen[key] = true
			out = append(out, in)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(cfg.Clusters)) {
		if c := cfg.Clusters[name]; !clusters[name] && c != nil {
			in, ok := fieldInput(opts, "", "certificate-authority", "cluster/"+name, c.CertificateAuthorityData, c.CertificateAuthority,
				"kubeconfig/"+opts.Path+"/cluster/"+name, c.LocationOfOrigin)
			in.Role = RoleAnchor
			add(in, ok)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(cfg.AuthInfos)) {
		if u := cfg.AuthInfos[name]; !users[name] && u != nil {
			add(fieldInput(opts, "", "client-certificate", "user/"+name, u.ClientCertificateData, u.ClientCertificate,
				"kubeconfig/"+opts.Path+"/user/"+name, u.LocationOfOrigin))
		}
	}
	return out
}

func fieldInput(opts KubeconfigOptions, context, field, fileKey string, data []byte, path, group, origin string) (Input, bool) {
	kubeconfig := opts.Path
	if origin != "" {
		kubeconfig = origin
	}
	o := Origin{Type: OriginKubeconfig, Context: context, Key: field, Path: kubeconfig}
	if opts.AsFile {
		typ := opts.OriginType
		if typ == "" {
			typ = OriginPKI
		}
		o = Origin{Type: typ, Path: kubeconfig, Key: fileKey, Context: context}
	}
	in := Input{Origin: o, Group: group}
	switch {
	case len(data) > 0:
		in.Data = data
	case path != "":
		if !filepath.IsAbs(path) {
			path = filepath.Join(filepath.Dir(kubeconfig), path)
		}
		// The source keeps the kubeconfig: which of several kubeconfigs
		// (kubelet.conf, admin.conf) names the file is what needs fixing.
		in.Origin.File = path
		if opts.Read == nil {
			in.Err = fmt.Errorf("cannot read %s", path)
		} else if in.Data, in.Err = opts.Read(path); in.Err != nil {
			in.Err = fmt.Errorf("%s %s: %w", field, path, in.Err)
		}
	default:
		return in, false
	}
	return in, true
}

func serverEndpoint(context string, c *clientcmdapi.Cluster, caData []byte) (Endpoint, error) {
	u, err := url.Parse(c.Server)
	if err != nil || u.Host == "" {
		return Endpoint{}, fmt.Errorf("server %q is not a URL", c.Server)
	}
	if u.Scheme != "https" {
		return Endpoint{}, fmt.Errorf("server %q does not use https: no certificate to check", c.Server)
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "443"
	}
	name := host
	if c.TLSServerName != "" {
		name = c.TLSServerName
	}
	rootsName := "the system roots"
	if len(caData) > 0 {
		rootsName = fmt.Sprintf("the CA of context %q", context)
	}
	return Endpoint{
		Origin:     Origin{Type: OriginServed, Endpoint: c.Server, Context: context},
		Address:    net.JoinHostPort(host, port),
		ServerName: name,
		Roots:      caData,
		RootsName:  rootsName,
		Insecure:   c.InsecureSkipTLSVerify,
		Group:      "served/" + c.Server,
	}, nil
}

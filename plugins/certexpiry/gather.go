package certexpiry

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/ktriage/ktriage/pkg/certs"
	"github.com/ktriage/ktriage/pkg/cli"
	"github.com/ktriage/ktriage/pkg/cluster"
	"github.com/ktriage/ktriage/pkg/report"
)

// gatherer collects the inputs of the analysis from every source; it is the
// only part of the plugin that reads files, dials servers and calls the API.
type gatherer struct {
	o        *Options
	ctx      context.Context
	readFile func(string) ([]byte, error)

	inputs    []certs.Input
	endpoints []certs.Endpoint
	findings  []report.Finding
	warnings  []string
	context   string
	namespace string
	used      []string
	// clusterErr is a configured cluster that could not be read with the
	// default sources: the report of the other sources is printed, then
	// the run ends with this error (exit 2), as for any unreachable cluster.
	clusterErr error
}

func (g *gatherer) gather() error {
	o := g.o
	if o.sources[SourceFiles] {
		if err := g.files(); err != nil {
			return err
		}
		g.used = append(g.used, SourceFiles)
	}
	if o.sources[SourcePKI] {
		g.pki()
	}
	if o.sources[SourceKubeconfig] || o.sources[SourceServed] {
		if err := g.kubeconfig(); err != nil {
			return err
		}
	}
	if o.sources[SourceCluster] || o.sources[SourceKubelets] {
		if err := g.cluster(); err != nil {
			// Only a cluster the user asked for by name is worth stopping
			// for: when it comes with the defaults, an API server that
			// rejects the credentials, is down or has no kubeconfig must not
			// throw away what the files and handshakes found.
			if o.clusterNamed() || cli.IsUsageError(err) || g.ctx.Err() != nil {
				return err
			}
			g.clusterUnread(err)
			// A certificate outage (the server's chain rejected, the
			// client certificate refused) is what this report explains:
			// its findings decide the exit code. A cluster that does not
			// answer ends the run as it does in every plugin, after the
			// report.
			if o.clusterConfigured() && !tlsRejected(err) && !credentialsRejected(err) {
				g.clusterErr = err
			}
		}
	}
	g.handshakes()
	return nil
}

func (g *gatherer) inputKind() string {
	s := g.o.sources
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

func (g *gatherer) sourceNames() []string {
	out := append([]string(nil), g.used...)
	sort.Strings(out)
	return out
}

// --- kubeconfig and served chains

func (g *gatherer) kubeconfig() error {
	loader := g.o.ConfigFlags.ToRawKubeConfigLoader()
	raw, err := loader.RawConfig()
	if err != nil {
		return fmt.Errorf("reading the kubeconfig: %w; set KUBECONFIG or pass --kubeconfig", err)
	}
	if len(raw.Contexts) == 0 {
		g.warnings = append(g.warnings, "the kubeconfig has no context: no kubeconfig or served certificates to check")
		return nil
	}
	var contexts []string
	if c := g.o.ConfigFlags.Context; c != nil && *c != "" {
		if _, ok := raw.Contexts[*c]; !ok {
			return cli.UsageErrorf("--context %q is not in the kubeconfig (kubectl config get-contexts)", *c)
		}
		contexts = []string{*c}
	}
	path := ""
	if f := loader.ConfigAccess().GetExplicitFile(); f != "" {
		path = f
	} else if files := loader.ConfigAccess().GetLoadingPrecedence(); len(files) == 1 {
		path = files[0]
	}
	inputs, endpoints, err := certs.FromKubeconfig(&raw, certs.KubeconfigOptions{Path: path, Contexts: contexts, Read: g.readFile})
	if err != nil {
		return cli.UsageErrorf("%w", err)
	}
	if g.o.sources[SourceKubeconfig] {
		g.inputs = append(g.inputs, inputs...)
		g.used = append(g.used, SourceKubeconfig)
	}
	if g.o.sources[SourceServed] {
		g.endpoints = append(g.endpoints, endpoints...)
		g.used = append(g.used, SourceServed)
	}
	return nil
}

// --- on-disk PKI

func (g *gatherer) pki() {
	o := g.o
	found := false
	if g.readableDir(o.PKIDir, o.pkiDirSet, "--pki-dir") {
		found = true
		g.walkPKI(o.PKIDir, "pki/"+o.PKIDir, func(name string) bool {
			return strings.HasSuffix(name, ".crt") || strings.HasSuffix(name, ".pem")
		})
	}
	if g.readableDir(o.KubernetesDir, o.kubeDirSet, "--kubernetes-dir") {
		found = true
		matches, _ := filepath.Glob(filepath.Join(o.KubernetesDir, "*.conf"))
		sort.Strings(matches)
		for _, path := range matches {
			data, err := g.readFile(path)
			if err != nil {
				g.inputs = append(g.inputs, certs.Input{Origin: certs.Origin{Type: certs.OriginPKI, Path: path}, Err: err})
				continue
			}
			if !certs.IsKubeconfig(data) {
				continue
			}
			g.kubeconfigFile(path, data, certs.OriginPKI)
		}
	}
	if g.readableDir(o.KubeletPKIDir, o.kubeletDirSet, "--kubelet-pki-dir") {
		found = true
		// Rotated kubelet client certificates stay on disk with their date
		// in the name: only the current ones matter.
		g.walkPKI(o.KubeletPKIDir, "kubelet-pki/"+o.KubeletPKIDir, func(name string) bool {
			return strings.HasSuffix(name, ".crt") || strings.HasSuffix(name, "-current.pem")
		})
	}
	if found {
		g.used = append(g.used, SourcePKI)
	}
}

// readableDir says whether a PKI directory is to be read; a default that is
// missing or unreadable is skipped quietly, an explicit one is reported.
func (g *gatherer) readableDir(dir string, explicit bool, flag string) bool {
	if dir == "" {
		return false
	}
	f, err := os.Open(dir)
	if err == nil {
		_, err = f.ReadDir(1)
		f.Close()
		if err == nil || errors.Is(err, io.EOF) {
			return true
		}
	}
	if explicit {
		g.inputs = append(g.inputs, certs.Input{Origin: certs.Origin{Type: certs.OriginPKI, Path: dir}, Err: fmt.Errorf("%s: %w", flag, unwrapPath(err))})
	}
	return false
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func (g *gatherer) walkPKI(root, group string, want func(string) bool) {
	var paths []string
	_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			g.inputs = append(g.inputs, certs.Input{Origin: certs.Origin{Type: certs.OriginPKI, Path: path}, Err: unwrapPath(err)})
			return nil
		}
		if !d.IsDir() && want(d.Name()) {
			paths = append(paths, path)
		}
		return nil
	})
	sort.Strings(paths)
	for _, path := range paths {
		data, err := g.readFile(path)
		in := certs.Input{Origin: certs.Origin{Type: certs.OriginPKI, Path: path}, Data: data, Err: unwrapPath(err), Group: group}
		if strings.HasSuffix(filepath.Base(path), "ca.crt") {
			in.Role = certs.RoleAnchor
		}
		g.inputs = append(g.inputs, in)
	}
}

func (g *gatherer) kubeconfigFile(path string, data []byte, typ string) {
	cfg, err := clientcmd.Load(data)
	if err != nil {
		g.inputs = append(g.inputs, certs.Input{Origin: certs.Origin{Type: typ, Path: path}, Err: fmt.Errorf("not a valid kubeconfig: %w", err)})
		return
	}
	setOrigin(cfg, path)
	inputs, _, err := certs.FromKubeconfig(cfg, certs.KubeconfigOptions{Path: path, AsFile: true, OriginType: typ, Read: g.readFile})
	if err != nil {
		g.inputs = append(g.inputs, certs.Input{Origin: certs.Origin{Type: typ, Path: path}, Err: err})
		return
	}
	g.inputs = append(g.inputs, inputs...)
}

func setOrigin(cfg *clientcmdapi.Config, path string) {
	for _, c := range cfg.Clusters {
		c.LocationOfOrigin = path
	}
	for _, u := range cfg.AuthInfos {
		u.LocationOfOrigin = path
	}
}

// --- files given with -f

func (g *gatherer) files() error {
	stdinRead := false
	for _, name := range g.o.Filenames {
		if name == "-" {
			if stdinRead {
				return cli.UsageErrorf("stdin (-) can be read only once: pass -f - a single time")
			}
			stdinRead = true
			in := g.o.In
			if in == nil {
				in = os.Stdin
			}
			data, err := cluster.ReadAll(cluster.StdinName, in, 0)
			if err != nil {
				return fmt.Errorf("cannot read stdin: %w", err)
			}
			if err := g.file(cluster.StdinName, data, nil, true); err != nil {
				return err
			}
			continue
		}
		info, err := os.Stat(name)
		if err != nil {
			return cli.UsageErrorf("-f %s: %v", name, unwrapPath(err))
		}
		if !info.IsDir() {
			data, err := g.readFile(name)
			if err := g.file(name, data, err, true); err != nil {
				return err
			}
			continue
		}
		var paths []string
		_ = filepath.WalkDir(name, func(path string, d fs.DirEntry, err error) error {
			switch {
			case path != name && strings.HasPrefix(d.Name(), "."):
				// A mounted Secret or ConfigMap keeps its real files under
				// ..data and ..<timestamp>, reached through the links of
				// its keys; other dot-entries are tool state (.git).
				if d.IsDir() {
					return filepath.SkipDir
				}
			case err != nil:
				if knownExtension(path) {
					_ = g.file(path, nil, err, false)
				}
			case d.IsDir() && path != name && !g.o.Recursive:
				return filepath.SkipDir
			case d.IsDir():
			case d.Type().IsRegular() || d.Type()&fs.ModeSymlink != 0:
				paths = append(paths, path)
			}
			return nil
		})
		sort.Strings(paths)
		for _, p := range paths {
			data, err := g.readFile(p)
			if inDirectory(p, data, err) {
				_ = g.file(p, data, err, false)
			}
		}
	}
	return nil
}

// file reads one -f file: a kubeconfig, a manifest (Secrets, ConfigMaps,
// webhooks... anything FromSnapshot reads), or PEM/DER certificates. A file
// that cannot be used at all is an error when it was named (the run cannot
// check what it was asked to: exit 2), and a CE113 finding when it was found
// in a directory, which also holds keys, READMEs and other files.
func (g *gatherer) file(path string, data []byte, err error, named bool) error {
	origin := certs.Origin{Type: certs.OriginFile, Path: path}
	switch {
	case err != nil:
		var se *cluster.SizeError
		if named && errors.As(err, &se) {
			return err
		}
		if named {
			return fmt.Errorf("cannot read %s: %w", path, unwrapPath(err))
		}
		g.inputs = append(g.inputs, certs.Input{Origin: origin, Err: unwrapPath(err)})
	case certs.IsKubeconfig(data):
		g.kubeconfigFile(path, data, certs.OriginFile)
	case isManifest(data):
		snap, err := cluster.LoadFiles(cluster.FileOptions{Filenames: []string{"-"}, Stdin: bytes.NewReader(data)})
		if err != nil {
			err = errors.New(strings.ReplaceAll(err.Error(), cluster.StdinName, path))
			if named {
				return err
			}
			g.inputs = append(g.inputs, certs.Input{Origin: origin, Err: err})
			return nil
		}
		for _, w := range snap.Warnings {
			g.warnings = append(g.warnings, path+": "+strings.ReplaceAll(w, cluster.StdinName, path))
		}
		renameSources(snap, path)
		found := certs.FromSnapshot(snap)
		g.inputs = append(g.inputs, found.Inputs...)
		g.findings = append(g.findings, found.Findings...)
	default:
		if named {
			if err := noCertificate(path, data); err != nil {
				return err
			}
		}
		g.inputs = append(g.inputs, certs.Input{Origin: origin, Data: data, Group: "file/" + path})
	}
	return nil
}

// noCertificate says why a file named with -f holds no certificate at all,
// as FILE:LINE: what is wrong; nil when it holds at least one (unreadable
// blocks beside it are CE113 findings).
func noCertificate(path string, data []byte) error {
	found, err := certs.Parse(data)
	if len(found) > 0 {
		return nil
	}
	line := 1
	if i := bytes.Index(data, []byte("-----BEGIN ")); i >= 0 {
		line += bytes.Count(data[:i], []byte("\n"))
	} else if !utf8.Valid(data) || bytes.IndexByte(data, 0) >= 0 {
		return fmt.Errorf("%s:1: holds no certificate: binary data that is neither DER nor PEM", path)
	} else {
		return fmt.Errorf("%s:1: holds no certificate: neither PEM, DER, a kubeconfig nor a manifest", path)
	}
	return fmt.Errorf("%s:%d: holds no readable certificate: %s", path, line, cli.OneLine(err))
}

// Extensions of files that claim to hold certificates, and of files that may
// be kubeconfigs or manifests.
var (
	certExtensions   = []string{".crt", ".pem", ".cer", ".der"}
	configExtensions = []string{".conf", ".yaml", ".yml", ".json"}
)

func certExtension(path string) bool {
	return slices.Contains(certExtensions, strings.ToLower(filepath.Ext(path)))
}

func configExtension(path string) bool {
	base := strings.ToLower(filepath.Base(path))
	return slices.Contains(configExtensions, filepath.Ext(base)) || strings.Contains(base, "kubeconfig")
}

func knownExtension(path string) bool { return certExtension(path) || configExtension(path) }

// inDirectory says whether a file found while walking a -f directory is read.
// Directories of certificates also hold keys, CSRs, READMEs and Helm values,
// none of which is a certificate that cannot be read; a file named
// explicitly is always read and reported when it holds no certificate.
func inDirectory(path string, data []byte, err error) bool {
	switch {
	case err != nil:
		return knownExtension(path)
	case bytes.Contains(data, []byte("-----BEGIN ")):
		// Only keys, CSRs or CRLs: nothing to check.
		return hasPEMCertificateBlock(data) || isManifest(data)
	case certExtension(path):
		return true
	case isDER(data):
		return true
	case configExtension(path):
		return certs.IsKubeconfig(data) || isManifest(data)
	}
	return false
}

// hasPEMCertificateBlock says whether any PEM block claims to be a
// certificate (CERTIFICATE, or OpenSSL's TRUSTED CERTIFICATE), readable or
// not, as opposed to keys, CSRs and CRLs.
func hasPEMCertificateBlock(data []byte) bool {
	for rest := data; ; {
		i := bytes.Index(rest, []byte("-----BEGIN "))
		if i < 0 {
			return false
		}
		rest = rest[i+len("-----BEGIN "):]
		label := rest
		if j := bytes.Index(label, []byte("-----")); j >= 0 {
			label = label[:j]
		}
		if l := string(label); l == "CERTIFICATE" || strings.HasSuffix(l, " CERTIFICATE") {
			return true
		}
	}
}

func isDER(data []byte) bool {
	_, err := x509.ParseCertificates(data)
	return err == nil && len(data) > 0
}

// renameSources points manifest positions at the real file rather than stdin.
func renameSources(s *cluster.Snapshot, path string) {
	fix := func(kind, ns, name string) {
		if src := s.SourceOf(kind, ns, name); src != nil && src.File == cluster.StdinName {
			c := *src
			c.File = path
			s.SetSource(kind, ns, name, &c)
		}
	}
	for _, x := range s.Secrets {
		fix("Secret", x.Namespace, x.Name)
	}
	for _, x := range s.ConfigMaps {
		fix("ConfigMap", x.Namespace, x.Name)
	}
	for _, x := range s.ValidatingWebhooks {
		fix("ValidatingWebhookConfiguration", "", x.Name)
	}
	for _, x := range s.MutatingWebhooks {
		fix("MutatingWebhookConfiguration", "", x.Name)
	}
}

// isManifest recognises YAML or JSON Kubernetes objects: PEM files start
// with their header, DER is binary, neither names an apiVersion and a kind.
func isManifest(data []byte) bool {
	trimmed := bytes.TrimSpace(data)
	return !bytes.HasPrefix(trimmed, []byte("-----BEGIN")) && bytes.Contains(data, []byte("apiVersion")) && bytes.Contains(data, []byte("kind"))
}

// --- in-cluster objects

func (g *gatherer) cluster() error {
	o := g.o
	cs, cfg, err := o.Clientset()
	if err != nil {
		return err
	}
	g.context = o.CurrentContext()
	ns, explicit, err := o.Namespace()
	if err != nil {
		return err
	}
	if !explicit {
		ns = "" // certificates matter in every namespace unless one is named
	}
	g.namespace = ns
	dc, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("creating the API client: %w", err)
	}
	var queries []cluster.Query
	if o.sources[SourceCluster] {
		queries = append(queries,
			// Helm release Secrets are the bulk of most clusters' Secrets and
			// hold gzipped manifests, never a readable certificate.
			cluster.Query{Kind: cluster.KindSecret, Namespace: ns, Optional: true, FieldSelector: "type!=helm.sh/release.v1"},
			cluster.Query{Kind: cluster.KindConfigMap, Namespace: ns, Optional: true},
		)
		if ns == "" {
			queries = append(queries,
				cluster.Query{Kind: cluster.KindValidatingWebhook, Optional: true},
				cluster.Query{Kind: cluster.KindMutatingWebhook, Optional: true},
				cluster.Query{Kind: cluster.KindAPIService, Optional: true},
				cluster.Query{Kind: cluster.KindCRD, Optional: true},
				cluster.Query{Kind: cluster.KindCSR, Optional: true},
			)
		}
	}
	if o.sources[SourceKubelets] {
		queries = append(queries, cluster.Query{Kind: cluster.KindNode})
	}
	snap, err := cluster.LoadLiveWith(g.ctx, cs, cluster.LiveOptions{Dynamic: dc}, queries...)
	if err != nil {
		// An API server whose certificate clients reject (expired, wrong CA,
		// wrong host) is when this report matters most: even when the cluster
		// was asked for by name, report its served chain and the other
		// sources rather than stop. With the default sources, gather turns
		// any failure into a finding.
		if tlsRejected(err) && len(g.endpoints) > 0 && o.clusterNamed() {
			g.warnings = append(g.warnings, cli.OneLine(err)+"; in-cluster certificates are not in the report")
			return nil
		}
		return err
	}
	g.warnings = append(g.warnings, snap.Warnings...)
	if o.sources[SourceCluster] {
		found := certs.FromSnapshot(snap)
		g.inputs = append(g.inputs, found.Inputs...)
		g.endpoints = append(g.endpoints, found.Endpoints...)
		g.findings = append(g.findings, found.Findings...)
		g.used = append(g.used, SourceCluster)
	}
	if o.sources[SourceKubelets] {
		eps, unaddressed := kubeletEndpoints(snap.Nodes)
		g.endpoints = append(g.endpoints, eps...)
		if len(unaddressed) > 0 {
			g.warnings = append(g.warnings, fmt.Sprintf("--probe-kubelets: node(s) %s report no address; their kubelet serving certificates are not checked", strings.Join(unaddressed, ", ")))
		}
		g.used = append(g.used, SourceKubelets)
	}
	return nil
}

// clusterUnread reports in-cluster sources that could not be read: a warning,
// and an error finding so that the exit code says the report is incomplete.
func (g *gatherer) clusterUnread(err error) {
	var missed []string
	if g.o.sources[SourceCluster] {
		missed = append(missed, "in-cluster certificates")
	}
	if g.o.sources[SourceKubelets] {
		missed = append(missed, "kubelet serving certificates")
	}
	what := strings.Join(missed, " and ")
	msg := cli.OneLine(err)
	g.warnings = append(g.warnings, msg+"; "+what+" are not in the report")
	server := "cluster"
	if cfg, cerr := g.o.RESTConfig(); cerr == nil && cfg.Host != "" {
		server = cfg.Host
	}
	g.findings = append(g.findings, report.Finding{RuleID: certs.RuleClusterUnread, Severity: report.SeverityError,
		Object:  report.ObjectRef{Path: server},
		Message: fmt.Sprintf("the cluster could not be read, so %s are not in the report: %s", what, msg),
		Fix:     "Check the kubeconfig's credentials and that the API server answers (kubectl get --raw /readyz), or leave the cluster out with --sources kubeconfig,served,pki.",
		Details: map[string]any{"server": server, "error": msg}})
}

// tlsRejected recognises an API call that failed because the client rejected
// the server's certificate (cli.APIError keeps the x509 text, not the type).
// credentialsRejected recognises a 401 (an expired or revoked client
// certificate or token) in a cli.APIError message.
func credentialsRejected(err error) bool {
	return strings.Contains(err.Error(), "the cluster rejected the credentials")
}

func tlsRejected(err error) bool {
	var (
		unknown  x509.UnknownAuthorityError
		invalid  x509.CertificateInvalidError
		hostname x509.HostnameError
		verify   *tls.CertificateVerificationError
	)
	if errors.As(err, &unknown) || errors.As(err, &invalid) || errors.As(err, &hostname) || errors.As(err, &verify) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "x509: ") || strings.Contains(msg, "certificate is not trusted")
}

// kubeletEndpoints are the nodes' kubelet ports. Kubelet serving certificates
// are often self-signed, so their chain and host are not verified: only
// their dates and strength are reported.
func kubeletEndpoints(nodes []*corev1.Node) (out []certs.Endpoint, unaddressed []string) {
	for _, n := range nodes {
		port := n.Status.DaemonEndpoints.KubeletEndpoint.Port
		if port == 0 {
			port = 10250
		}
		addr := ""
		// The address this tool can reach first; DNS names last (the API
		// server's own preference starts with Hostname, which often does not
		// resolve outside the nodes' network).
		for _, t := range []corev1.NodeAddressType{corev1.NodeInternalIP, corev1.NodeExternalIP, corev1.NodeHostName, corev1.NodeInternalDNS, corev1.NodeExternalDNS} {
			for _, a := range n.Status.Addresses {
				if a.Type == t && addr == "" {
					addr = a.Address
				}
			}
		}
		ref := report.RefFor("Node", n)
		if addr == "" {
			unaddressed = append(unaddressed, n.Name)
			continue
		}
		hostport := net.JoinHostPort(addr, strconv.Itoa(int(port)))
		out = append(out, certs.Endpoint{
			Origin:   certs.Origin{Type: certs.OriginKubelet, Name: n.Name, Endpoint: "https://" + hostport},
			Ref:      ref,
			Address:  hostport,
			Insecure: true,
			Group:    "kubelet/" + n.Name,
		})
	}
	return out, unaddressed
}

// --- TLS handshakes

const maxParallelHandshakes = 16

func (g *gatherer) handshakes() {
	results := make([]certs.Input, len(g.endpoints))
	errs := make([]error, len(g.endpoints))
	var eg errgroup.Group
	eg.SetLimit(maxParallelHandshakes)
	for i, ep := range g.endpoints {
		eg.Go(func() error {
			chain, err := Handshake(g.ctx, ep.Address, ep.ServerName, g.o.DialTimeout)
			if err != nil {
				errs[i] = err
				return nil
			}
			results[i] = ep.Input(certs.EncodePEM(chain))
			return nil
		})
	}
	_ = eg.Wait()
	for i, ep := range g.endpoints {
		if errs[i] != nil {
			ref := ep.Ref
			if ref.Kind == "" && ref.Path == "" {
				ref.Path = ep.Origin.String()
			}
			msg := fmt.Sprintf("TLS handshake with %s (%s) failed: %s", ep.Origin, ep.Address, cli.OneLine(errs[i]))
			g.findings = append(g.findings, report.Finding{RuleID: certs.RuleUnreachable, Severity: report.SeverityWarning, Object: ref,
				Message: msg, Fix: "Check that the server runs and is reachable from here, or raise --dial-timeout.",
				Details: map[string]any{"endpoint": ep.Origin.Endpoint, "address": ep.Address}})
			continue
		}
		g.inputs = append(g.inputs, results[i])
	}
}

// Handshake connects to addr as openssl s_client does and returns the chain
// the server sends, leaf first. Nothing is verified here: the analysis
// verifies the chain against the right trust anchors and reports why it fails.
func Handshake(ctx context.Context, addr, serverName string, timeout time.Duration) ([]*x509.Certificate, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	d := &tls.Dialer{
		NetDialer: &net.Dialer{Timeout: timeout},
		Config:    &tls.Config{InsecureSkipVerify: true, ServerName: serverName}, //nolint:gosec // verified by the analysis
	}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("no answer within %s", timeout)
		}
		return nil, err
	}
	defer conn.Close()
	chain := conn.(*tls.Conn).ConnectionState().PeerCertificates
	if len(chain) == 0 {
		return nil, errors.New("the server sent no certificate")
	}
	return chain, nil
}

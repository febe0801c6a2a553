package collect

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/ktriage/ktriage/pkg/apierror"
	"github.com/ktriage/ktriage/pkg/certs"
	"github.com/ktriage/ktriage/pkg/cluster"
)

// files reads -f: files named, directories walked (-R: recursively).
func (c *collector) files() error {
	stdinRead := false
	for _, name := range c.cfg.Filenames {
		if name == "-" {
			if stdinRead {
				return usageErrorf("stdin (-) can be read only once: pass -f - a single time")
			}
			stdinRead = true
			in := c.cfg.Stdin
			if in == nil {
				in = os.Stdin
			}
			data, err := cluster.ReadAll(cluster.StdinName, in, 0)
			if err != nil {
				return fmt.Errorf("cannot read stdin: %w", err)
			}
			if err := c.file(cluster.StdinName, data, nil, true); err != nil {
				return err
			}
			continue
		}
		info, err := os.Stat(name)
		if err != nil {
			return usageErrorf("-f %s: %v", name, unwrapPath(err))
		}
		if !info.IsDir() {
			data, err := c.readFile(name)
			if err := c.file(name, data, err, true); err != nil {
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
					_ = c.file(path, nil, err, false)
				}
			case d.IsDir() && path != name && !c.cfg.Recursive:
				return filepath.SkipDir
			case d.IsDir():
			case d.Type().IsRegular() || d.Type()&fs.ModeSymlink != 0:
				paths = append(paths, path)
			}
			return nil
		})
		sort.Strings(paths)
		for _, p := range paths {
			data, err := c.readFile(p)
			if inDirectory(p, data, err) {
				_ = c.file(p, data, err, false)
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
func (c *collector) file(path string, data []byte, err error, named bool) error {
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
		c.input(certs.Input{Origin: origin, Err: unwrapPath(err)})
	case certs.IsKubeconfig(data):
		c.kubeconfigFile(path, data, certs.OriginFile)
	case isManifest(data):
		snap, err := cluster.LoadFiles(cluster.FileOptions{Filenames: []string{"-"}, Stdin: bytes.NewReader(data)})
		if err != nil {
			err = errors.New(strings.ReplaceAll(err.Error(), cluster.StdinName, path))
			if named {
				return err
			}
			c.input(certs.Input{Origin: origin, Err: err})
			return nil
		}
		for _, w := range snap.Warnings {
			c.warn(path + ": " + strings.ReplaceAll(w, cluster.StdinName, path))
		}
		renameSources(snap, path)
		found := certs.FromSnapshot(snap)
		c.out.Inputs = append(c.out.Inputs, found.Inputs...)
		c.out.Findings = append(c.out.Findings, found.Findings...)
	default:
		if named {
			if err := noCertificate(path, data); err != nil {
				return err
			}
		}
		c.input(certs.Input{Origin: origin, Data: data, Group: "file/" + path})
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
	return fmt.Errorf("%s:%d: holds no readable certificate: %s", path, line, apierror.OneLine(err))
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

func usageErrorf(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// unwrapPath drops the operation and path of a file error: the caller names
// the file its own way.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

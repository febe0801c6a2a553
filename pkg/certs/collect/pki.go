package collect

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ktriage/ktriage/pkg/certs"
)

// pki reads the kubeadm PKI, the control plane's kubeconfigs and the
// kubelet's certificates, where they are readable.
func (c *collector) pki() {
	o := c.cfg
	found := false
	if c.readableDir(o.PKIDir, o.PKIDirSet, "--pki-dir") {
		found = true
		c.walkPKI(o.PKIDir, "pki/"+o.PKIDir, func(name string) bool {
			return strings.HasSuffix(name, ".crt") || strings.HasSuffix(name, ".pem")
		})
	}
	if c.readableDir(o.KubernetesDir, o.KubernetesDirSet, "--kubernetes-dir") {
		found = true
		matches, _ := filepath.Glob(filepath.Join(o.KubernetesDir, "*.conf"))
		sort.Strings(matches)
		for _, path := range matches {
			data, err := c.readFile(path)
			if err != nil {
				c.input(certs.Input{Origin: certs.Origin{Type: certs.OriginPKI, Path: path}, Err: err})
				continue
			}
			if !certs.IsKubeconfig(data) {
				continue
			}
			c.kubeconfigFile(path, data, certs.OriginPKI)
		}
	}
	if c.readableDir(o.KubeletPKIDir, o.KubeletPKIDirSet, "--kubelet-pki-dir") {
		found = true
		// Rotated kubelet client certificates stay on disk with their date
		// in the name: only the current ones matter.
		c.walkPKI(o.KubeletPKIDir, "kubelet-pki/"+o.KubeletPKIDir, func(name string) bool {
			return strings.HasSuffix(name, ".crt") || strings.HasSuffix(name, "-current.pem")
		})
	}
	if found {
		c.used(certs.SourcePKI)
	}
}

// readableDir says whether a PKI directory is to be read; a default that is
// missing or unreadable is skipped quietly, an explicit one is reported.
func (c *collector) readableDir(dir string, explicit bool, flag string) bool {
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
		c.input(certs.Input{Origin: certs.Origin{Type: certs.OriginPKI, Path: dir}, Err: fmt.Errorf("%s: %w", flag, unwrapPath(err))})
	}
	return false
}

func (c *collector) walkPKI(root, group string, want func(string) bool) {
	var paths []string
	_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			c.input(certs.Input{Origin: certs.Origin{Type: certs.OriginPKI, Path: path}, Err: unwrapPath(err)})
			return nil
		}
		if !d.IsDir() && want(d.Name()) {
			paths = append(paths, path)
		}
		return nil
	})
	sort.Strings(paths)
	for _, path := range paths {
		data, err := c.readFile(path)
		in := certs.Input{Origin: certs.Origin{Type: certs.OriginPKI, Path: path}, Data: data, Err: unwrapPath(err), Group: group}
		if strings.HasSuffix(filepath.Base(path), "ca.crt") {
			in.Role = certs.RoleAnchor
		}
		c.input(in)
	}
}

package certs

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"
)

var fuzzNow = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

// FuzzParse feeds any bytes to the certificate reader (PEM, DER, both
// broken) and what it finds to the analysis, as cert-expiry -f does with a
// file: no panic, and either certificates or an error saying why there are
// none. Seeds: testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		certs, err := Parse(data)
		if len(certs) == 0 && err == nil {
			t.Fatal("no certificate and no error")
		}
		for i, c := range certs {
			if c == nil {
				t.Fatalf("certificate %d is nil", i)
			}
		}
		res := Analyze([]Input{{Origin: Origin{Type: OriginFile, Path: "/in/cert.pem"}, Data: data, Group: "file"}}, Options{Now: fuzzNow, Fail: 7 * 24 * time.Hour, Warn: 30 * 24 * time.Hour})
		for _, fd := range res.Findings {
			if strings.ContainsAny(fd.Message, "\n\r") {
				t.Fatalf("a finding of more than one line: %q", fd.Message)
			}
		}
	})
}

// FuzzKubeconfig feeds any bytes to the kubeconfig reader, with file the
// content of every certificate file it names, and what it finds to the
// analysis: no panic. Seeds: testdata/fuzz/FuzzKubeconfig.
func FuzzKubeconfig(f *testing.F) {
	f.Fuzz(func(t *testing.T, data, file []byte) {
		IsKubeconfig(data)
		cfg, err := clientcmd.Load(data)
		if err != nil {
			return
		}
		read := func(path string) ([]byte, error) {
			if strings.HasSuffix(path, ".missing") {
				return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
			}
			return file, nil
		}
		inputs, endpoints, err := FromKubeconfig(cfg, KubeconfigOptions{Path: "/in/kubeconfig", Read: read})
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("a missing file must be an input's error, not the reader's: %v", err)
			}
			return
		}
		for _, ep := range endpoints {
			inputs = append(inputs, ep.Input(file))
		}
		Analyze(inputs, Options{Now: fuzzNow, Fail: 7 * 24 * time.Hour, Warn: 30 * 24 * time.Hour})
	})
}

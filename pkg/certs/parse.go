package certs

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"sync"
)

var (
	pemCertHeader = []byte("-----BEGIN CERTIFICATE-----")
	pemAnyHeader  = []byte("-----BEGIN ")
	pemEndPrefix  = []byte("-----END ")
)

// HasPEMCertificate says whether data claims to hold a PEM certificate, which
// is how values of any Secret or ConfigMap key are picked.
func HasPEMCertificate(data []byte) bool { return bytes.Contains(data, pemCertHeader) }

// Parse reads every certificate in data: PEM (any number of blocks, other
// block types such as keys are skipped) or DER (one or several concatenated
// certificates). It returns what it could read and an error describing the
// rest; a block that does not parse does not stop the others.
func Parse(data []byte) ([]*x509.Certificate, error) { return (*pemCache)(nil).parse(data) }

// pemCache holds the certificates parsed from PEM blocks, by the block's
// text: the same CA is published in many places, and every copy then is
// the same *x509.Certificate. A nil cache parses every block. It is safe
// for concurrent use: inputs are parsed on every core.
type pemCache struct {
	mu sync.Mutex
	m  map[string]*x509.Certificate
}

func newPEMCache() *pemCache { return &pemCache{m: map[string]*x509.Certificate{}} }

// get is the certificate parsed from the PEM block seg, if any.
func (pc *pemCache) get(seg []byte) (*x509.Certificate, bool) {
	if pc == nil {
		return nil, false
	}
	pc.mu.Lock()
	defer pc.mu.Unlock()
	c, ok := pc.m[string(seg)]
	return c, ok
}

// put records c as parsed from seg and returns the certificate every copy
// of seg shares: c, or the one another goroutine recorded first.
func (pc *pemCache) put(seg []byte, c *x509.Certificate) *x509.Certificate {
	if pc == nil {
		return c
	}
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if first, ok := pc.m[string(seg)]; ok {
		return first
	}
	pc.m[string(seg)] = c
	return c
}

// parse is Parse through the cache.
func (pc *pemCache) parse(data []byte) ([]*x509.Certificate, error) {
	if bytes.Contains(data, pemAnyHeader) {
		return pc.parsePEM(data)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("empty")
	}
	certs, err := x509.ParseCertificates(data)
	if err != nil {
		return nil, fmt.Errorf("neither PEM nor DER certificate data: %v", err)
	}
	return certs, nil
}

func (pc *pemCache) parsePEM(data []byte) ([]*x509.Certificate, error) {
	var (
		out  []*x509.Certificate
		errs []error
		n    int
	)
	rest := data
	for {
		i := bytes.Index(rest, pemAnyHeader)
		if i < 0 {
			break
		}
		rest = rest[i:]
		// Decode one block at a time: pem.Decode would silently skip a
		// malformed block and return the next one.
		end := bytes.Index(rest, pemEndPrefix)
		if end < 0 {
			n++
			errs = append(errs, fmt.Errorf("PEM block %d has no END line (truncated?)", n))
			break
		}
		lineEnd := bytes.IndexByte(rest[end:], '\n')
		if lineEnd < 0 {
			lineEnd = len(rest) - end
		} else {
			lineEnd++
		}
		segment := rest[:end+lineEnd]
		rest = rest[end+lineEnd:]
		if c, ok := pc.get(segment); ok {
			n++
			out = append(out, c)
			continue
		}
		block, _ := pem.Decode(segment)
		if block == nil {
			n++
			errs = append(errs, fmt.Errorf("PEM block %d is malformed (bad base64 or headers)", n))
			continue
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		n++
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			errs = append(errs, fmt.Errorf("PEM block %d: %v", n, err))
			continue
		}
		out = append(out, pc.put(segment, c))
	}
	if len(out) == 0 && len(errs) == 0 {
		errs = append(errs, errors.New("PEM data holds no CERTIFICATE block"))
	}
	return out, errors.Join(errs...)
}

// EncodePEM renders certificates as PEM, e.g. to pass a served chain on.
func EncodePEM(certs []*x509.Certificate) []byte {
	var b bytes.Buffer
	for _, c := range certs {
		_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return b.Bytes()
}

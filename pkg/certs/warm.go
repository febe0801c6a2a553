package certs

import (
	"bytes"
	"crypto/x509"
	"maps"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Warm parses the certificates of Secrets and checks the signatures within
// each Secret while the cluster is still being read: a LIST leaves cores
// idle while the API server prepares the next page and the other kinds,
// and the signature checks are most of the analysis. Analyze, given it in
// Options.Warm, starts from what it found; every answer is the same with or
// without it (a check is the same function of the same two certificates,
// only done earlier).
type Warm struct {
	pem  *pemCache
	mu   sync.Mutex
	sigs map[signedBy]error
	wg   sync.WaitGroup
}

// NewWarm returns an empty Warm.
func NewWarm() *Warm { return &Warm{pem: newPEMCache(), sigs: map[signedBy]error{}} }

// Page starts on the Secrets among objs (a LIST page, which must not change
// afterwards) on every core and returns at once.
func (w *Warm) Page(objs []runtime.Object) {
	var secrets []*corev1.Secret
	for _, o := range objs {
		if s, ok := o.(*corev1.Secret); ok {
			secrets = append(secrets, s)
		}
	}
	if len(secrets) == 0 {
		return
	}
	w.wg.Go(func() { onEveryCore(len(secrets), func(i int) { w.secret(secrets[i]) }) })
}

// secret parses the certificates of s as FromSnapshot picks them and checks
// each against the issuers it names among them, as checkGroups will.
func (w *Warm) secret(s *corev1.Secret) {
	var certs []*x509.Certificate
	for k, v := range s.Data {
		if certKey(k, v) {
			cs, _ := w.pem.parse(v)
			certs = append(certs, cs...)
		}
	}
	for _, c := range certs {
		// A certificate naming itself may be self-signed, which the
		// analysis settles first.
		if bytes.Equal(c.RawSubject, c.RawIssuer) {
			continue
		}
		for _, iss := range certs {
			if iss != c && !bytes.Equal(iss.Raw, c.Raw) && bytes.Equal(iss.RawSubject, c.RawIssuer) {
				w.check(signedBy{c, iss})
			}
		}
	}
}

// check checks a pair once, however many Secrets publish it.
func (w *Warm) check(k signedBy) {
	w.mu.Lock()
	_, seen := w.sigs[k]
	if !seen {
		w.sigs[k] = nil // being checked: the result replaces it before done
	}
	w.mu.Unlock()
	if seen {
		return
	}
	err := checkSignature(k.child, k.parent)
	w.mu.Lock()
	w.sigs[k] = err
	w.mu.Unlock()
}

// done waits for the work started and returns the parsed certificates and
// the signatures checked.
func (w *Warm) done() (*pemCache, map[signedBy]error) {
	w.wg.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.pem, maps.Clone(w.sigs)
}

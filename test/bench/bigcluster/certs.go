package bigcluster

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	cryptorand "crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"math/rand/v2"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TLSSecrets returns n kubernetes.io/tls Secrets as cert-manager leaves
// them: tls.crt holds the leaf and its intermediate, ca.crt the root, tls.key
// the leaf's key. Five roots sign twenty intermediates that sign the leaves;
// leaves expire from ten days ago to a year ahead of Now, and a few
// intermediates expire before the leaves they signed.
//
// Names, dates, serial numbers and keys come from the seed. ECDSA signatures
// still differ between runs (Go's signer draws its own randomness), which
// changes no size and no cost.
func TLSSecrets(seed uint64, n, namespaces int) []*corev1.Secret {
	r := rand.New(rand.NewPCG(seed, 0x63657274))
	serial := int64(1000)
	issue := func(cn string, notBefore, notAfter time.Time, isCA bool, dns []string, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey, []byte, []byte) {
		key := ecKey(r)
		serial++
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn, Organization: []string{"example"}},
			NotBefore: notBefore, NotAfter: notAfter, DNSNames: dns, BasicConstraintsValid: true, IsCA: isCA,
			KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		}
		if isCA {
			tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
		} else {
			tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		}
		if parent == nil {
			parent, parentKey = tmpl, key
		}
		der, err := x509.CreateCertificate(cryptorand.Reader, tmpl, parent, key.Public(), parentKey)
		if err != nil {
			panic(err)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			panic(err)
		}
		keyDER, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			panic(err)
		}
		return cert, key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	}
	day := 24 * time.Hour
	type ca struct {
		cert *x509.Certificate
		key  *ecdsa.PrivateKey
		pem  []byte
		root *ca
	}
	var roots, inters []*ca
	for i := range 5 {
		c, k, p, _ := issue(fmt.Sprintf("example root CA %d", i), Now.Add(-3*365*day), Now.Add(7*365*day), true, nil, nil, nil)
		roots = append(roots, &ca{cert: c, key: k, pem: p})
	}
	for i := range 20 {
		root := roots[i%len(roots)]
		notAfter := Now.Add(time.Duration(200+r.IntN(600)) * day)
		if i%7 == 3 {
			notAfter = Now.Add(time.Duration(20+r.IntN(40)) * day) // expires before some of its leaves
		}
		c, k, p, _ := issue(fmt.Sprintf("example issuing CA %d", i), Now.Add(-365*day), notAfter, true, nil, root.cert, root.key)
		inters = append(inters, &ca{cert: c, key: k, pem: p, root: root})
	}
	out := make([]*corev1.Secret, 0, n)
	for i := range n {
		ns := nsName(i % max(namespaces, 1))
		name := fmt.Sprintf("svc-%d-tls", i)
		in := inters[r.IntN(len(inters))]
		left := time.Duration(r.IntN(375)-10)*day + time.Duration(r.IntN(86400))*time.Second
		host := fmt.Sprintf("svc-%d.%s.svc", i, ns)
		_, _, leafPEM, keyPEM := issue(host, Now.Add(left-90*day), Now.Add(left), false, []string{host, host + ".cluster.local"}, in.cert, in.key)
		out = append(out, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: uid("secret", ns+"/"+name),
				Annotations: map[string]string{"cert-manager.io/issuer-name": fmt.Sprintf("issuer-%d", r.IntN(20)), "cert-manager.io/common-name": host}},
			Type: corev1.SecretTypeTLS,
			Data: map[string][]byte{"tls.crt": append(append([]byte{}, leafPEM...), in.pem...), "tls.key": keyPEM, "ca.crt": in.root.pem},
		})
	}
	return out
}

// ecKey derives a P-256 key from the generator's stream.
func ecKey(r *rand.Rand) *ecdsa.PrivateKey {
	for {
		var b [32]byte
		for i := 0; i < len(b); i += 8 {
			v := r.Uint64()
			for j := range 8 {
				b[i+j] = byte(v >> (8 * j))
			}
		}
		if k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), b[:]); err == nil {
			return k
		}
	}
}

package certtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"time"
)

// Spec describes one certificate.
type Spec struct {
	CommonName   string
	Organization []string
	// NotBefore and NotAfter are truncated to whole seconds, the precision
	// of X.509 times, so that what a scan reports equals what was asked.
	NotBefore time.Time
	NotAfter  time.Time
	IsCA      bool
	DNSNames  []string
	IPs       []net.IP
	// Server and Client set the extended key usages.
	Server bool
	Client bool
	// RSABits selects an RSA key of that size; 0 means ECDSA P-256.
	RSABits int
	// SignatureAlgorithm overrides the default (e.g. x509.SHA1WithRSA).
	SignatureAlgorithm x509.SignatureAlgorithm
	// Parent signs the certificate; nil means self-signed.
	Parent *Pair
	// Key is the certificate's key, e.g. to renew a CA with the key it
	// already has; nil generates one (RSABits).
	Key crypto.Signer
}

// Pair is a certificate with its private key.
type Pair struct {
	Cert    *x509.Certificate
	Key     crypto.Signer
	CertPEM []byte
	KeyPEM  []byte
}

var serial = big.NewInt(time.Now().UnixNano())

// New creates the certificate a Spec describes.
func New(s Spec) (*Pair, error) {
	key := s.Key
	if key == nil {
		var err error
		if key, err = newKey(s.RSABits); err != nil {
			return nil, err
		}
	}
	serial = new(big.Int).Add(serial, big.NewInt(1))
	tmpl := &x509.Certificate{
		SerialNumber:          new(big.Int).Set(serial),
		Subject:               pkix.Name{CommonName: s.CommonName, Organization: s.Organization},
		NotBefore:             s.NotBefore.UTC().Truncate(time.Second),
		NotAfter:              s.NotAfter.UTC().Truncate(time.Second),
		DNSNames:              s.DNSNames,
		IPAddresses:           s.IPs,
		BasicConstraintsValid: true,
		IsCA:                  s.IsCA,
		SignatureAlgorithm:    s.SignatureAlgorithm,
	}
	if s.IsCA {
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
	} else {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
	}
	if s.Server {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageServerAuth)
	}
	if s.Client {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageClientAuth)
	}
	parent, signer := tmpl, key
	if s.Parent != nil {
		parent, signer = s.Parent.Cert, s.Parent.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), signer)
	if err != nil {
		return nil, fmt.Errorf("creating certificate %q: %w", s.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return &Pair{
		Cert:    cert,
		Key:     key,
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}, nil
}

// Must is New for tests and generators that cannot go on without it.
func Must(s Spec) *Pair {
	p, err := New(s)
	if err != nil {
		panic(err)
	}
	return p
}

func newKey(rsaBits int) (crypto.Signer, error) {
	if rsaBits > 0 {
		return rsa.GenerateKey(rand.Reader, rsaBits)
	}
	return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
}

// Chain concatenates the PEM of several pairs, leaf first, as a server sends
// its chain.
func Chain(pairs ...*Pair) []byte {
	var out []byte
	for _, p := range pairs {
		out = append(out, p.CertPEM...)
	}
	return out
}

// Validity returns NotBefore and NotAfter for a certificate issued `age`
// before now that expires `left` after now (negative for an expired one).
func Validity(now time.Time, age, left time.Duration) (time.Time, time.Time) {
	return now.Add(-age), now.Add(left)
}

// Days is n days as a duration.
func Days(n float64) time.Duration { return time.Duration(n * float64(24*time.Hour)) }

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

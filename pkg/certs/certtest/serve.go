package certtest

import (
	"crypto"
	"crypto/tls"
	"testing"
	"time"
)

// ServeTLS serves chain (leaf first, signed for key) on a loopback port until
// the test ends and answers nothing but the TLS handshake, as a webhook or
// kubelet does for a scan that only reads its certificates. It returns the
// server's host:port.
func ServeTLS(t testing.TB, key crypto.Signer, chain ...*Pair) string {
	t.Helper()
	cert := tls.Certificate{PrivateKey: key}
	for _, p := range chain {
		cert.Certificate = append(cert.Certificate, p.Cert.Raw)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
				_ = conn.(*tls.Conn).Handshake()
				conn.Close()
			}()
		}
	}()
	return ln.Addr().String()
}

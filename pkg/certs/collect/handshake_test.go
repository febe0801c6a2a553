package collect

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/ktriage/ktriage/pkg/certs"
	"github.com/ktriage/ktriage/pkg/certs/certtest"
)

func endpoints(addrs ...string) []certs.Endpoint {
	var out []certs.Endpoint
	for i, a := range addrs {
		out = append(out, certs.Endpoint{Origin: certs.Origin{Type: certs.OriginWebhook, Endpoint: "https://" + a + "/" + string(rune('a'+i))}, Address: a, Insecure: true})
	}
	return out
}

// tlsServer answers handshakes with a certificate.
func tlsServer(t *testing.T) (string, *certtest.Pair) {
	t.Helper()
	now := time.Now()
	pair := certtest.Must(certtest.Spec{CommonName: "answers", Server: true, IPs: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)})
	return certtest.ServeTLS(t, pair.Key, pair), pair
}

// Servers that accept and never answer cost one --dial-timeout each, at most
// --concurrency at a time: the run is as long as the rounds they take, and
// every one is named.
func TestHandshakesWithStalledServersAreBoundedByTheTimeoutAndTheConcurrency(t *testing.T) {
	const concurrency, timeout = 2, 300 * time.Millisecond
	s := certtest.StartStallers(t, 3*concurrency)
	addr, pair := tlsServer(t)
	eps := endpoints(append([]string{addr}, s.Addrs...)...)
	start := time.Now()
	hs := Handshakes(context.Background(), eps, HandshakeOptions{Concurrency: concurrency, Timeout: timeout})
	took := time.Since(start)
	if len(hs) != len(eps) {
		t.Fatalf("%d outcomes for %d endpoints", len(hs), len(eps))
	}
	if hs[0].Err != nil || len(hs[0].Chain) != 1 || !hs[0].Chain[0].Equal(pair.Cert) {
		t.Errorf("the answering server: %+v", hs[0])
	}
	for i, h := range hs[1:] {
		if h.Endpoint.Address != s.Addrs[i] || h.Err == nil || h.Err.Error() != "no answer within 300ms" || h.CutShort {
			t.Errorf("stalled server %s: %+v", s.Addrs[i], h)
		}
	}
	if s.Accepted() != 3*concurrency {
		t.Errorf("%d of %d stalled servers were dialed", s.Accepted(), 3*concurrency)
	}
	// 6 stalled servers, 2 at a time: at least 3 timeouts one after another.
	if took < 3*timeout || took > 3*timeout+5*time.Second {
		t.Errorf("took %s: want 3 rounds of %s", took, timeout)
	}
}

// The run's deadline ends the handshakes under way and starts no other:
// each is cut short, and the run goes on at once to say so.
func TestHandshakesEndWithTheRunsDeadline(t *testing.T) {
	const concurrency = 4
	s := certtest.StartStallers(t, 5*concurrency)
	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	start := time.Now()
	hs := Handshakes(ctx, endpoints(s.Addrs...), HandshakeOptions{Concurrency: concurrency, Timeout: time.Minute})
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %s with a 400ms deadline", took)
	}
	for _, h := range hs {
		if !h.CutShort || h.Err == nil || h.Err.Error() != "no answer before the run's deadline" {
			t.Errorf("%s: %+v", h.Endpoint.Address, h)
		}
	}
	// No handshake ended before the deadline, so no slot was freed: only
	// the first four servers were dialed.
	if got := s.Accepted(); got != concurrency {
		t.Errorf("%d servers dialed, want %d (the concurrency)", got, concurrency)
	}
	// Every connection was closed, none left behind.
	deadline := time.Now().Add(5 * time.Second)
	for s.Open() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if s.Open() != 0 {
		t.Errorf("%d connections left open", s.Open())
	}
	_, _, warning := certs.FromHandshakes(hs)
	if !strings.HasPrefix(warning, "20 TLS handshake(s) did not answer before the run ended: https://"+s.Addrs[0]+"/a, ") {
		t.Errorf("warning %q", warning)
	}
}

func TestHandshakesAfterAnInterrupt(t *testing.T) {
	s := certtest.StartStallers(t, 2)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	hs := Handshakes(ctx, endpoints(s.Addrs...), HandshakeOptions{Concurrency: 1, Timeout: time.Minute})
	for _, h := range hs {
		if !h.CutShort || h.Err.Error() != "no answer before the run was interrupted" {
			t.Errorf("%+v", h)
		}
	}
	if s.Accepted() != 0 {
		t.Errorf("%d servers dialed after the run ended", s.Accepted())
	}
}

func TestHandshakeOfAClosedPortFailsAtOnce(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = Handshake(context.Background(), addr, "", time.Minute)
	var op *net.OpError
	if !errors.As(err, &op) {
		t.Errorf("want the dial's own error, got %v", err)
	}
}

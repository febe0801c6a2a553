package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ktriage/ktriage/pkg/probe/result"
)

func hostPort(t *testing.T, addr net.Addr) (string, int) {
	t.Helper()
	h, p, err := net.SplitHostPort(addr.String())
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(p)
	return h, n
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T, network string) int {
	t.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		_, p := hostPort(t, c.LocalAddr())
		c.Close()
		return p
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, p := hostPort(t, l.Addr())
	l.Close()
	return p
}

func TestTCPConnectIsReachableAndAClosedPortIsRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	h, p := hostPort(t, l.Addr())
	r := run(options{protocol: "tcp", host: h, port: p, timeout: 2 * time.Second})
	if r.Result != result.Reachable || r.Address != "127.0.0.1" || r.LatencyMs <= 0 {
		t.Errorf("open port: %+v", r)
	}
	r = run(options{protocol: "tcp", host: "127.0.0.1", port: closedPort(t, "tcp"), timeout: 2 * time.Second})
	if r.Result != result.Refused {
		t.Errorf("closed port: want refused, got %+v", r)
	}
}

func TestUDPGetsADNSStyleAnswerOrRefusedOrTimeout(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	go func() {
		buf := make([]byte, 512)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			reply := append([]byte{}, buf[:n]...)
			reply[2] |= 0x80 // a response with the query's ID
			_, _ = pc.WriteTo(reply, from)
		}
	}()
	h, p := hostPort(t, pc.LocalAddr())
	if r := run(options{protocol: "udp", host: h, port: p, timeout: 2 * time.Second}); r.Result != result.Reachable {
		t.Errorf("answering server: want reachable, got %+v", r)
	}
	if r := run(options{protocol: "udp", host: "127.0.0.1", port: closedPort(t, "udp"), timeout: 2 * time.Second}); r.Result != result.Refused {
		t.Errorf("closed UDP port (ICMP port unreachable): want refused, got %+v", r)
	}

	silent, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	h, p = hostPort(t, silent.LocalAddr())
	if r := run(options{protocol: "udp", host: h, port: p, timeout: 1500 * time.Millisecond}); r.Result != result.Timeout {
		t.Errorf("silent server: want timeout, got %+v", r)
	}
}

func TestHTTPReportsTheStatus(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.WriteHeader(http.StatusTeapot)
	}))
	defer srv.Close()
	h, p := hostPort(t, srv.Listener.Addr())
	r := run(options{protocol: "http", host: h, port: p, path: "/healthz", timeout: 2 * time.Second})
	if r.Result != result.Reachable || r.HTTPStatus != http.StatusTeapot {
		t.Errorf("want reachable with status 418, got %+v", r)
	}
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer tlsSrv.Close()
	h, p = hostPort(t, tlsSrv.Listener.Addr())
	if r := run(options{protocol: "https", host: h, port: p, path: "/", timeout: 2 * time.Second}); r.Result != result.Reachable || r.HTTPStatus != http.StatusNoContent {
		t.Errorf("https with a self-signed certificate: want reachable 204, got %+v", r)
	}
}

func TestDNSResolvesWithTheLocalResolverAndNamesItsFailure(t *testing.T) {
	r := run(options{protocol: "dns", host: "localhost", timeout: 2 * time.Second})
	if r.Result != result.Reachable || len(r.Addresses) == 0 {
		t.Errorf("localhost (from /etc/hosts): want reachable with addresses, got %+v", r)
	}
	r = run(options{protocol: "tcp", host: "no-such-host.invalid", port: 80, timeout: 2 * time.Second})
	if r.Result != result.DNSFailure || r.Detail == "" {
		t.Errorf("a .invalid name: want dns-failure with the resolver's error, got %+v", r)
	}
}

func TestBadArgumentsAreAnError(t *testing.T) {
	if r := run(options{protocol: "tcp", host: "127.0.0.1", timeout: time.Second}); r.Result != result.Error {
		t.Errorf("missing port: want error, got %+v", r)
	}
	if r := run(options{protocol: "smtp", host: "127.0.0.1", port: 25, timeout: time.Second}); r.Result != result.Error {
		t.Errorf("unknown protocol: want error, got %+v", r)
	}
}

func TestAnApplicationFailureAfterConnectingIsReachableWithADetail(t *testing.T) {
	// A plain-HTTP server: an https check connects, then the TLS handshake fails.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }))
	defer srv.Close()
	h, p := hostPort(t, srv.Listener.Addr())
	r := run(options{protocol: "https", host: h, port: p, path: "/", timeout: 2 * time.Second})
	if r.Result != result.Reachable || r.HTTPStatus != 0 || !strings.Contains(r.Detail, "connected") {
		t.Errorf("TLS against plain HTTP: want reachable without status and a detail, got %+v", r)
	}
	// A server that accepts and closes at once: EOF instead of a response.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	h, p = hostPort(t, l.Addr())
	r = run(options{protocol: "http", host: h, port: p, path: "/", timeout: 2 * time.Second})
	if r.Result != result.Reachable || r.HTTPStatus != 0 || r.Detail == "" {
		t.Errorf("EOF after connecting: want reachable without status and a detail, got %+v", r)
	}
	if r := run(options{protocol: "http", host: "127.0.0.1", port: closedPort(t, "tcp"), timeout: 2 * time.Second}); r.Result != result.Refused {
		t.Errorf("http to a closed port: want refused, got %+v", r)
	}
}

func TestBadArgumentsExitTwo(t *testing.T) {
	for _, o := range []options{
		{protocol: "tcp", host: "127.0.0.1", timeout: time.Second},
		{protocol: "smtp", host: "127.0.0.1", port: 25, timeout: time.Second},
		{protocol: "dns", host: "10.0.0.1", timeout: time.Second},
	} {
		r := run(o)
		if got := exitCode(o, r); r.Result != result.Error || got != exitUsage {
			t.Errorf("%+v: want error exiting %d, got %+v exiting %d", o, exitUsage, r, got)
		}
	}
	o := options{protocol: "tcp", host: "127.0.0.1", port: closedPort(t, "tcp"), timeout: time.Second}
	if got := exitCode(o, run(o)); got != int(result.ExitCodes[result.Refused]) {
		t.Errorf("refused: exit %d", got)
	}
}

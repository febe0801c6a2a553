// Command netcheck-probe runs one connectivity check from inside a pod's
// network namespace (as an ephemeral container added by "kubectl netcheck")
// and reports it as JSON on stdout and in the termination log, with an exit
// code per outcome. It is built static (CGO_ENABLED=0) so names resolve with
// Go's own resolver reading the pod's /etc/resolv.conf.
package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ktriage/ktriage/pkg/probe/result"
)

type options struct {
	protocol       string
	host           string
	port           int
	path           string
	timeout        time.Duration
	terminationLog string
	resolvConf     string
}

func main() {
	var o options
	flag.StringVar(&o.protocol, "protocol", "tcp", "tcp, udp, http, https or dns")
	flag.StringVar(&o.host, "host", "", "host name or IP address to check")
	flag.IntVar(&o.port, "port", 0, "port (not used by dns)")
	flag.StringVar(&o.path, "path", "/", "HTTP path for http and https")
	flag.DurationVar(&o.timeout, "timeout", 5*time.Second, "time allowed for the whole check")
	flag.StringVar(&o.terminationLog, "termination-log", "/dev/termination-log", "file the JSON result is written to")
	flag.StringVar(&o.resolvConf, "resolv-conf", "/etc/resolv.conf", "resolver configuration reported with the result")
	flag.Parse()

	r := run(o)
	if b, err := os.ReadFile(o.resolvConf); err == nil {
		r.ResolvConf = strings.TrimSpace(string(b))
	}
	msg := result.Marshal(r)
	fmt.Println(string(msg))
	if o.terminationLog != "" {
		if err := os.WriteFile(o.terminationLog, msg, 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "netcheck-probe: writing %s: %v\n", o.terminationLog, err)
		}
	}
	os.Exit(exitCode(o, r))
}

// exitUsage is the exit code for arguments the probe cannot run with: the
// check never started, so no network outcome applies.
const exitUsage = 2

func exitCode(o options, r result.Result) int {
	if r.Result == result.Error && validate(o) != "" {
		return exitUsage
	}
	return int(result.ExitCodes[r.Result])
}

// validate says what is wrong with the arguments, or "".
func validate(o options) string {
	switch o.protocol {
	case "tcp", "udp", "http", "https", "dns":
	default:
		return fmt.Sprintf("usage: unknown protocol %q", o.protocol)
	}
	if o.host == "" || (o.protocol != "dns" && (o.port <= 0 || o.port > 65535)) {
		return "usage: --host and --port (1-65535) are required"
	}
	if o.protocol == "dns" && net.ParseIP(o.host) != nil {
		return "usage: dns needs a name, not an address"
	}
	return ""
}

func run(o options) result.Result {
	r := result.Result{Protocol: o.protocol, Target: net.JoinHostPort(o.host, strconv.Itoa(o.port))}
	if o.protocol == "dns" {
		r.Target = o.host
	}
	if msg := validate(o); msg != "" {
		r.Result, r.Detail = result.Error, msg
		return r
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()

	addr := o.host
	if net.ParseIP(o.host) == nil {
		resolver := &net.Resolver{PreferGo: true}
		start := time.Now()
		addrs, err := resolver.LookupHost(ctx, o.host)
		r.DNSLatencyMs = ms(time.Since(start))
		if err != nil {
			r.Result, r.Detail = result.DNSFailure, err.Error()
			return r
		}
		r.Addresses = addrs
		addr = addrs[0]
		if o.protocol == "dns" {
			r.Result, r.LatencyMs = result.Reachable, r.DNSLatencyMs
			return r
		}
	}
	r.Address = addr
	target := net.JoinHostPort(addr, strconv.Itoa(o.port))

	start := time.Now()
	var err error
	connected := false
	switch o.protocol {
	case "tcp":
		var c net.Conn
		c, err = (&net.Dialer{}).DialContext(ctx, "tcp", target)
		if err == nil {
			connected = true
			c.Close()
		}
	case "udp":
		err = udpExchange(ctx, target)
	case "http", "https":
		r.HTTPStatus, connected, err = httpStatus(ctx, o.protocol, o.host, target, o.path)
	}
	r.LatencyMs = ms(time.Since(start))
	if err != nil && connected {
		// The TCP connection was established: the network let the traffic
		// through and the failure is the application's (a TLS handshake
		// against a plain-HTTP port, a closed connection, a bad response).
		// reachable with no HTTP status and a detail records that.
		r.Result, r.Detail = result.Reachable, fmt.Sprintf("connected, but the %s exchange failed: %v", o.protocol, err)
		return r
	}
	if err != nil {
		r.Result, r.Detail = classify(err), err.Error()
		return r
	}
	r.Result = result.Reachable
	return r
}

// udpExchange sends a DNS query (for the root's NS records) and waits for any
// reply: a DNS-style request/response, the only UDP check that needs nothing
// from the server but an answer. An ICMP port unreachable shows as refused.
func udpExchange(ctx context.Context, target string) error {
	c, err := (&net.Dialer{}).DialContext(ctx, "udp", target)
	if err != nil {
		return err
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	var idb [2]byte
	_, _ = rand.Read(idb[:])
	id := binary.BigEndian.Uint16(idb[:])
	q := make([]byte, 0, 17)
	q = binary.BigEndian.AppendUint16(q, id)
	q = append(q, 0x01, 0x00) // recursion desired
	q = append(q, 0, 1, 0, 0, 0, 0, 0, 0)
	q = append(q, 0)    // root name
	q = append(q, 0, 2) // type NS
	q = append(q, 0, 1) // class IN
	buf := make([]byte, 1500)
	for {
		if _, err := c.Write(q); err != nil {
			return err
		}
		_ = c.SetReadDeadline(time.Now().Add(time.Second))
		n, err := c.Read(buf)
		if err == nil && n >= 2 && binary.BigEndian.Uint16(buf[:2]) == id {
			return nil
		}
		if err == nil {
			continue // a stray datagram
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			continue // retry until the overall deadline
		}
		return err
	}
}

// httpStatus returns the response's status, and whether the TCP connection
// was established whatever happened after.
func httpStatus(ctx context.Context, scheme, host, target, path string) (int, bool, error) {
	var connected atomic.Bool
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, target)
			if err == nil {
				connected.Store(true)
			}
			return c, err
		},
		// The check is about reachability, not the certificate.
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, //nolint:gosec
		DisableKeepAlives: true,
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	_, port, _ := net.SplitHostPort(target)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+net.JoinHostPort(host, port)+path, nil)
	if err != nil {
		return 0, false, err
	}
	req.Header.Set("User-Agent", "kubectl-netcheck-probe")
	resp, err := (&http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		return 0, connected.Load(), err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	return resp.StatusCode, true, nil
}

func classify(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET):
		return result.Refused
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return result.Unreachable
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return result.Timeout
	}
	return result.Error
}

func ms(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}

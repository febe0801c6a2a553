package collect

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/ktriage/ktriage/pkg/certs"
	"github.com/ktriage/ktriage/pkg/inflight"
)

// Handshakes dials every endpoint, at most opts.Concurrency at once, each
// bounded by opts.Timeout, and returns the outcomes in the order of the
// endpoints. When ctx ends (the run's deadline, an interrupt) the handshakes
// under way are abandoned and the rest are not started: each is then an
// outcome marked CutShort, so that the report says which servers did not
// answer instead of waiting for them.
func Handshakes(ctx context.Context, eps []certs.Endpoint, opts HandshakeOptions) []certs.Handshake {
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultHandshakeTimeout
	}
	out := make([]certs.Handshake, len(eps))
	slots := make(chan struct{}, opts.Concurrency)
	var wg sync.WaitGroup
	for i, ep := range eps {
		out[i].Endpoint = ep
		if !takeSlot(ctx, slots) {
			for j := i; j < len(eps); j++ {
				out[j] = certs.Handshake{Endpoint: eps[j], Err: ended(ctx), CutShort: true}
			}
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			out[i].Chain, out[i].Err = Handshake(ctx, ep.Address, ep.ServerName, opts.Timeout)
			out[i].CutShort = out[i].Err != nil && ctx.Err() != nil
		}()
	}
	wg.Wait()
	return out
}

// takeSlot waits for a free slot; false when ctx ends first (a slot freed
// as ctx ends is not taken: nothing more is dialed).
func takeSlot(ctx context.Context, slots chan struct{}) bool {
	select {
	case slots <- struct{}{}:
	case <-ctx.Done():
		return false
	}
	if ctx.Err() != nil {
		<-slots
		return false
	}
	return true
}

// ended says why ctx ended, for a handshake it cut short.
func ended(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return errors.New("no answer before the run's deadline")
	}
	return errors.New("no answer before the run was interrupted")
}

// Handshake connects to addr as openssl s_client does and returns the chain
// the server sends, leaf first. Nothing is verified here: the analysis
// verifies the chain against the right trust anchors and reports why it
// fails. timeout bounds the dial and the handshake; ctx may end them sooner.
func Handshake(ctx context.Context, addr, serverName string, timeout time.Duration) ([]*x509.Certificate, error) {
	defer inflight.Begin(ctx, "TLS handshake with "+addr)()
	hctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	d := &tls.Dialer{
		NetDialer: &net.Dialer{Timeout: timeout},
		Config:    &tls.Config{InsecureSkipVerify: true, ServerName: serverName}, //nolint:gosec // verified by the analysis
	}
	conn, err := d.DialContext(hctx, "tcp", addr)
	if err != nil {
		switch {
		case ctx.Err() != nil:
			return nil, ended(ctx)
		case errors.Is(hctx.Err(), context.DeadlineExceeded):
			return nil, fmt.Errorf("no answer within %s", timeout)
		}
		return nil, err
	}
	defer conn.Close()
	chain := conn.(*tls.Conn).ConnectionState().PeerCertificates
	if len(chain) == 0 {
		return nil, errors.New("the server sent no certificate")
	}
	return chain, nil
}

// HandshakeTimeout is the timeout of each handshake: dial (--dial-timeout),
// shortened to requestTimeout (--request-timeout, a pointer as the kubeconfig
// flags hold it) when that is set: no single wait of a run outlasts what the
// user allowed a request. A malformed requestTimeout is left to the cluster's
// client to report.
func HandshakeTimeout(dial time.Duration, requestTimeout *string) time.Duration {
	if t := requestTimeout; t != nil && *t != "" {
		if d, err := clientcmd.ParseTimeout(*t); err == nil && d > 0 {
			return min(dial, d)
		}
	}
	return dial
}

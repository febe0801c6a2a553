package certtest

import (
	"net"
	"sync"
	"testing"
)

// Stallers are TCP servers that accept connections and never answer: the
// TLS handshake a client starts with them never completes, as with a
// kubelet or webhook that is up but wedged, or a half-open firewall. They
// count the connections they accepted and hold.
type Stallers struct {
	// Addrs are the servers' host:port, one per server.
	Addrs []string

	listeners []net.Listener
	mu        sync.Mutex
	conns     map[net.Conn]bool
	accepted  int
	wg        sync.WaitGroup
}

// NewStallers starts n stalling servers on 127.0.0.1.
func NewStallers(n int) (*Stallers, error) {
	s := &Stallers{conns: map[net.Conn]bool{}}
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			s.Close()
			return nil, err
		}
		s.listeners = append(s.listeners, ln)
		s.Addrs = append(s.Addrs, ln.Addr().String())
		s.wg.Add(1)
		go s.serve(ln)
	}
	return s, nil
}

// StartStallers starts n stalling servers for a test and closes them when
// it ends.
func StartStallers(t testing.TB, n int) *Stallers {
	t.Helper()
	s, err := NewStallers(n)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func (s *Stallers) serve(ln net.Listener) {
	defer s.wg.Done()
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns[conn] = true
		s.accepted++
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			// Read what the client sends and never answer, until it gives
			// up and closes (or Close closes the connection).
			buf := make([]byte, 4096)
			for {
				if _, err := conn.Read(buf); err != nil {
					break
				}
			}
			conn.Close()
			s.mu.Lock()
			delete(s.conns, conn)
			s.mu.Unlock()
		}()
	}
}

// Accepted is how many connections the servers accepted in all.
func (s *Stallers) Accepted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepted
}

// Open is how many connections are open now.
func (s *Stallers) Open() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// Close stops the servers and closes the connections they hold.
func (s *Stallers) Close() {
	for _, ln := range s.listeners {
		ln.Close()
	}
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// Package tcpproxy forwards a loopback port to a server, so that a test can
// make a shared server (RabbitMQ, PostgreSQL, a fake API) look dead to one
// client: Stop refuses new connections and cuts open ones without touching
// the server, which other test packages share; Restart brings the same
// address back.
package tcpproxy

import (
	"crypto/tls"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// dialTimeout bounds the connection to the upstream server.
const dialTimeout = 5 * time.Second

// Proxy is one forwarded port. It is closed at the end of the test.
type Proxy struct {
	t        testing.TB
	upstream string
	addr     string      // fixed across Stop and Restart
	tls      *tls.Config // when set, clients speak TLS to the proxy

	mu       sync.Mutex
	listener net.Listener
	conns    map[net.Conn]struct{}
	accepted int
	wg       sync.WaitGroup
}

// Start listens on a free loopback port and forwards to upstream.
func Start(t testing.TB, upstream string) *Proxy {
	t.Helper()
	p := &Proxy{t: t, upstream: upstream, conns: map[net.Conn]struct{}{}}
	p.listen("127.0.0.1:0")
	t.Cleanup(p.Stop)
	return p
}

// StartTLS terminates TLS with the given certificate in front of a plain
// upstream, as a TLS listener of the server would.
func StartTLS(t testing.TB, upstream string, certPEM, keyPEM []byte) *Proxy {
	t.Helper()
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatalf("tcpproxy: key pair: %v", err)
	}
	p := &Proxy{t: t, upstream: upstream, conns: map[net.Conn]struct{}{},
		tls: &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}}
	p.listen("127.0.0.1:0")
	t.Cleanup(p.Stop)
	return p
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.addr }

// Restart listens again on the same address after Stop. The port was the
// proxy's a moment ago; it retries briefly in case the kernel has not
// released it yet.
func (p *Proxy) Restart() {
	p.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := p.tryListen(p.addr)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("tcpproxy: listen again on %s: %v", p.addr, err)
		}
		<-time.After(50 * time.Millisecond)
	}
}

// Stop closes the listener and every forwarded connection, and waits for
// the copying goroutines.
func (p *Proxy) Stop() {
	p.mu.Lock()
	if p.listener != nil {
		_ = p.listener.Close()
		p.listener = nil
	}
	for c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// Accepted is how many client connections the proxy has forwarded.
func (p *Proxy) Accepted() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepted
}

// Open is how many forwarded connections are still open.
func (p *Proxy) Open() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns) / 2
}

func (p *Proxy) listen(addr string) {
	p.t.Helper()
	if err := p.tryListen(addr); err != nil {
		p.t.Fatalf("tcpproxy: listen: %v", err)
	}
}

func (p *Proxy) tryListen(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	if p.tls != nil {
		l = tls.NewListener(l, p.tls)
	}
	p.mu.Lock()
	p.listener, p.addr = l, l.Addr().String()
	p.mu.Unlock()
	p.wg.Add(1)
	go p.serve(l)
	return nil
}

func (p *Proxy) serve(l net.Listener) {
	defer p.wg.Done()
	for {
		down, err := l.Accept()
		if err != nil {
			return
		}
		up, err := net.DialTimeout("tcp", p.upstream, dialTimeout)
		if err != nil {
			_ = down.Close()
			continue
		}
		p.mu.Lock()
		if p.listener != l { // stopped while dialling
			p.mu.Unlock()
			_ = down.Close()
			_ = up.Close()
			return
		}
		p.accepted++
		p.conns[down], p.conns[up] = struct{}{}, struct{}{}
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(down, up)
		go p.pipe(up, down)
	}
}

func (p *Proxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	_, _ = io.Copy(dst, src) // ends when either side closes, as expected on Stop
	_ = dst.Close()
	_ = src.Close()
	p.mu.Lock()
	delete(p.conns, dst)
	delete(p.conns, src)
	p.mu.Unlock()
}

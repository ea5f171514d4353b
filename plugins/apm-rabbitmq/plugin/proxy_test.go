package plugin

import (
	"crypto/tls"
	"io"
	"net"
	"sync"
	"testing"

	"github.com/shoenig/test/must"
)

// tcpProxy forwards a loopback port to an upstream address. Stopping it
// drops every connection and leaves nothing listening, which looks to the
// plugin exactly like a RabbitMQ node going down, without touching the
// shared server that other packages test against.
type tcpProxy struct {
	t        *testing.T
	upstream string
	addr     string
	tls      *tls.Config // when set, clients speak TLS to the proxy

	mu       sync.Mutex
	listener net.Listener
	conns    map[net.Conn]struct{}
	accepted int
	wg       sync.WaitGroup
}

// startProxy listens on a free loopback port.
func startProxy(t *testing.T, upstream string) *tcpProxy {
	t.Helper()
	p := &tcpProxy{t: t, upstream: upstream, conns: map[net.Conn]struct{}{}}
	p.listen("127.0.0.1:0")
	t.Cleanup(p.stop)
	return p
}

// startTLSProxy terminates TLS with the given certificate in front of a
// plain upstream, as a TLS listener of a RabbitMQ node would.
func startTLSProxy(t *testing.T, upstream string, certPEM, keyPEM []byte) *tcpProxy {
	t.Helper()
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	must.NoError(t, err)
	p := &tcpProxy{t: t, upstream: upstream, conns: map[net.Conn]struct{}{},
		tls: &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}}
	p.listen("127.0.0.1:0")
	t.Cleanup(p.stop)
	return p
}

func (p *tcpProxy) listen(addr string) {
	l, err := net.Listen("tcp", addr)
	must.NoError(p.t, err)
	if p.tls != nil {
		l = tls.NewListener(l, p.tls)
	}
	p.mu.Lock()
	p.listener, p.addr = l, l.Addr().String()
	p.mu.Unlock()
	p.wg.Add(1)
	go p.serve(l)
}

// restart listens again on the same port after stop.
func (p *tcpProxy) restart() { p.listen(p.addr) }

func (p *tcpProxy) serve(l net.Listener) {
	defer p.wg.Done()
	for {
		down, err := l.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.upstream)
		if err != nil {
			_ = down.Close()
			continue
		}
		p.mu.Lock()
		p.accepted++
		p.conns[down], p.conns[up] = struct{}{}, struct{}{}
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(down, up)
		go p.pipe(up, down)
	}
}

func (p *tcpProxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	_, _ = io.Copy(dst, src) // ends when either side closes, as expected on stop
	_ = dst.Close()
	_ = src.Close()
	p.mu.Lock()
	delete(p.conns, dst)
	delete(p.conns, src)
	p.mu.Unlock()
}

// stop closes the listener and every forwarded connection, and waits for
// the copying goroutines.
func (p *tcpProxy) stop() {
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

// acceptedConns is how many client connections the proxy has forwarded.
func (p *tcpProxy) acceptedConns() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepted
}

// openConns is how many forwarded connections are still open.
func (p *tcpProxy) openConns() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns) / 2
}

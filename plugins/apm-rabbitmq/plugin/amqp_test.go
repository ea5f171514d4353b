package plugin

import (
	"net"
	"sync"
	"testing"

	"github.com/shoenig/test/must"
)

// TestAMQPNodeThatNeverAnswers accepts TCP connections and stays silent, as
// a hung node does: the query ends at query_timeout, says so, and does not
// blame the credentials.
func TestAMQPNodeThatNeverAnswers(t *testing.T) {
	t.Parallel()
	addr := silentListener(t)

	p := New(testLogger(t))
	t.Cleanup(p.shutdown)
	must.NoError(t, p.SetConfig(map[string]string{
		configKeyAMQPURLs: "amqp://guest:hunter2@" + addr + "/", configKeyQueryTimeout: "300ms",
	}))
	_, err := p.Query("rabbitmq:ready:jobs", now())
	must.ErrorContains(t, err, "no rabbitmq node reachable (tried "+addr+" timed out)")
	mustBeSafeForAgent(t, err, "hunter2")
}

// TestAMQPFailoverPastASilentNode puts a node that never answers first: it
// gets half of the query's time, and the next node is still tried.
func TestAMQPFailoverPastASilentNode(t *testing.T) {
	t.Parallel()
	r := newRabbit(t)
	q := uniqueName("silent")
	r.queue("/", q, 2)
	silent := silentListener(t)

	p := New(testLogger(t))
	t.Cleanup(p.shutdown)
	must.NoError(t, p.SetConfig(map[string]string{
		// 2 s for each node: the second must answer even on a loaded machine.
		configKeyAMQPURLs: r.viaProxy(silent) + "," + r.amqpURL, configKeyQueryTimeout: "4s",
	}))
	must.Eq(t, 2.0, value(t, p, "rabbitmq:ready:"+q))
}

// silentListener accepts TCP connections and never writes, like a hung
// node; it returns its address.
func silentListener(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must.NoError(t, err)
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return l.Addr().String()
}

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

	p := New(testLogger(t))
	t.Cleanup(p.shutdown)
	must.NoError(t, p.SetConfig(map[string]string{
		configKeyAMQPURLs: "amqp://guest:hunter2@" + l.Addr().String() + "/", configKeyQueryTimeout: "300ms",
	}))
	_, err = p.Query("rabbitmq:ready:jobs", now())
	must.ErrorContains(t, err, "no rabbitmq node reachable (tried "+l.Addr().String()+" timed out)")
	mustBeSafeForAgent(t, err, "hunter2")
}

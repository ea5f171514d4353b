package plugin

import (
	"time"

	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/tcpproxy"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/poll"
)

func TestRabbitMQReadyUnackedDepthConsumers(t *testing.T) {
	t.Parallel()
	r := newRabbit(t)
	q := uniqueName("counts")
	r.queue("/", q, 5)
	r.consumeWithoutAck("/", q, 2)
	p := rabbitPlugin(t, r, r.amqpURL)

	// AMQP answers at once and exactly: no polling.
	must.Eq(t, 3.0, value(t, p, "rabbitmq:ready:"+q))
	must.Eq(t, 1.0, value(t, p, "rabbitmq:consumers:"+q))
	// The management API lags by its statistics interval.
	eventually(t, p, "rabbitmq:unacked:"+q, 2)
	eventually(t, p, "rabbitmq:depth:"+q, 5)
	// Rates depend on timing; that they are read without error is what can be asserted.
	eventually(t, p, "rabbitmq:consumers:"+q+"*", 1)
	for _, m := range []string{"publish_rate", "deliver_rate"} {
		_, err := p.Query("rabbitmq:"+m+":"+q, now())
		must.NoError(t, err)
	}
}

func TestRabbitMQGlobSumsMatchingQueues(t *testing.T) {
	t.Parallel()
	r := newRabbit(t)
	prefix := uniqueName("glob")
	r.queue("/", prefix+".a", 1)
	r.queue("/", prefix+".b", 2)
	r.queue("/", prefix+".c", 3)
	r.queue("/", prefix+"-other", 50)
	p := rabbitPlugin(t, r, r.amqpURL)

	eventually(t, p, "rabbitmq:ready:"+prefix+".*", 6)
	eventually(t, p, "rabbitmq:depth:"+prefix+".[ab]", 3)
	_, err := p.Query("rabbitmq:ready:"+prefix+".zz*", now())
	must.ErrorContains(t, err, "matches no queue")
}

func TestRabbitMQNonDefaultVhost(t *testing.T) {
	t.Parallel()
	r := newRabbit(t)
	vhost := uniqueName("vhost")
	r.vhost(vhost)
	q := uniqueName("inside")
	r.queue(vhost, q, 4)
	p := rabbitPlugin(t, r, r.amqpURL)

	must.Eq(t, 4.0, value(t, p, "rabbitmq:ready:"+q+"@"+vhost))
	eventually(t, p, "rabbitmq:depth:"+q+"@"+vhost, 4)
	eventually(t, p, "rabbitmq:ready:apmtest.inside.*@"+vhost, 4)

	// Over AMQP (ready) and over the management API (depth, a glob), a
	// missing queue or vhost is an error naming the query.
	for _, tc := range []struct{ query, wantErr string }{
		{"rabbitmq:ready:" + q, fmt.Sprintf(`queue %q not found in vhost "/"`, q)},
		{"rabbitmq:depth:" + q, fmt.Sprintf(`queue %q not found in vhost "/"`, q)},
		{"rabbitmq:ready:" + q + "@no-such-vhost", `refused the connection to vhost "no-such-vhost": broker error 530: NOT_ALLOWED - vhost no-such-vhost not found`},
		{"rabbitmq:depth:" + q + "@no-such-vhost", `not found in vhost "no-such-vhost"`},
		{"rabbitmq:depth:apmtest.*@no-such-vhost", `vhost "no-such-vhost" not found`},
	} {
		got, err := p.Query(tc.query, now())
		must.ErrorContains(t, err, tc.wantErr)
		must.ErrorContains(t, err, fmt.Sprintf("query %q", tc.query))
		must.Nil(t, got)
		mustBeSafeForAgent(t, err, r.pass)
	}
}

func TestRabbitMQMissingQueueLeavesTheConnectionUsable(t *testing.T) {
	t.Parallel()
	r := newRabbit(t)
	q := uniqueName("present")
	r.queue("/", q, 2)
	proxy := tcpproxy.Start(t, r.hostPort)
	p := rabbitPlugin(t, r, r.viaProxy(proxy.Addr()))

	for range 3 {
		_, err := p.Query("rabbitmq:ready:"+q+".missing", now())
		must.ErrorContains(t, err, "not found")
		must.Eq(t, 2.0, value(t, p, "rabbitmq:ready:"+q))
	}
	// Names AMQP cannot carry are refused before they reach the shared
	// connection, which would otherwise be dropped.
	_, err := p.Query("rabbitmq:ready:"+strings.Repeat("q", 256), now())
	must.ErrorContains(t, err, "AMQP allows at most 255")
	must.Eq(t, 2.0, value(t, p, "rabbitmq:ready:"+q))
	// RabbitMQ would close the connection with a frame error.
	_, err = p.Query("rabbitmq:ready:\xff\xfe", now())
	must.ErrorContains(t, err, "not valid UTF-8")
	must.Eq(t, 2.0, value(t, p, "rabbitmq:ready:"+q))
	must.Eq(t, 1, proxy.Accepted())
}

func TestRabbitMQOneConnectionForConcurrentQueries(t *testing.T) {
	t.Parallel()
	r := newRabbit(t)
	q := uniqueName("concurrent")
	r.queue("/", q, 7)
	proxy := tcpproxy.Start(t, r.hostPort)
	p := rabbitPlugin(t, r, r.viaProxy(proxy.Addr()))

	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for range 40 {
		wg.Go(func() {
			got, err := p.Query("rabbitmq:ready:"+q, now())
			if err == nil && got[0].Value != 7 {
				err = fmt.Errorf("got %v, want 7", got[0].Value)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must.NoError(t, err)
	}
	must.Eq(t, 1, proxy.Accepted())
}

func TestRabbitMQFailsOverToTheNextNode(t *testing.T) {
	t.Parallel()
	r := newRabbit(t)
	q := uniqueName("failover")
	r.queue("/", q, 3)
	dead := closedLoopbackAddr(t)
	p := rabbitPlugin(t, r, r.viaProxy(dead)+","+r.amqpURL)

	must.Eq(t, 3.0, value(t, p, "rabbitmq:ready:"+q))
}

func TestRabbitMQAllNodesDown(t *testing.T) {
	t.Parallel()
	r := newRabbit(t)
	dead1, dead2 := closedLoopbackAddr(t), closedLoopbackAddr(t)
	p := rabbitPlugin(t, r, r.viaProxy(dead1)+","+r.viaProxy(dead2))

	_, err := p.Query("rabbitmq:ready:jobs", now())
	must.ErrorContains(t, err, fmt.Sprintf("no rabbitmq node reachable (tried %s unreachable (nothing listening on the port); %s unreachable", dead1, dead2))
	mustBeSafeForAgent(t, err, r.pass, r.user+":")
}

// TestRabbitMQRecoversAfterANodeRestart stops the proxy in front of the
// shared server (the shared server itself must stay up for other tests):
// the plugin's connection drops and the port refuses, as when a node
// restarts. Queries fail in the plugin's own words meanwhile, and the next
// query or the one after recovers once the node is back.
func TestRabbitMQRecoversAfterANodeRestart(t *testing.T) {
	t.Parallel()
	r := newRabbit(t)
	q := uniqueName("restart")
	r.queue("/", q, 4)
	proxy := tcpproxy.Start(t, r.hostPort)
	p := rabbitPlugin(t, r, r.viaProxy(proxy.Addr()))
	must.Eq(t, 4.0, value(t, p, "rabbitmq:ready:"+q))

	proxy.Stop()
	for range 2 {
		_, err := p.Query("rabbitmq:ready:"+q, now())
		must.ErrorContains(t, err, "no rabbitmq node reachable (tried "+proxy.Addr())
		mustBeSafeForAgent(t, err, r.pass)
	}

	proxy.Restart()
	recoversWithinTwoQueries(t, p, "rabbitmq:ready:"+q, 4, r.pass)
}

// TestRabbitMQBrokerClosesTheConnectionBetweenQueries has the broker close
// the plugin's own connection with CONNECTION_FORCED, the frame every client
// gets when a node restarts or is shut down (the shared server itself must
// stay up for other tests). The next query, or the one after, recovers on a
// new connection.
func TestRabbitMQBrokerClosesTheConnectionBetweenQueries(t *testing.T) {
	t.Parallel()
	r := newRabbit(t)
	q := uniqueName("forced")
	r.queue("/", q, 2)
	p := rabbitPlugin(t, r, r.amqpURL)
	must.Eq(t, 2.0, value(t, p, "rabbitmq:ready:"+q))
	first := pluginConnection(t, p, "/")

	// The management API names a connection "<client addr> -> <server addr>".
	name := first.LocalAddr().String() + " -> " + first.RemoteAddr().String()
	poll.Until(t, 30*time.Second, func() bool {
		return r.managementStatus(http.MethodDelete, "/api/connections/"+url.PathEscape(name)) == http.StatusNoContent
	}, func() string { return "the broker to close connection " + name })
	poll.Until(t, 30*time.Second, first.IsClosed, func() string { return "the plugin's connection to see the close" })

	recoversWithinTwoQueries(t, p, "rabbitmq:ready:"+q, 2, r.pass)
	must.NotEq(t, first.LocalAddr().String(), pluginConnection(t, p, "/").LocalAddr().String())
}

// pluginConnection is the plugin's open AMQP connection to vhost.
func pluginConnection(t *testing.T, p *Plugin, vhost string) *amqp.Connection {
	t.Helper()
	p.mu.RLock()
	c := p.backend.queues.(*amqpClient)
	p.mu.RUnlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	conn := c.conns[vhost]
	must.NotNil(t, conn, must.Sprintf("no open connection to vhost %q", vhost))
	return conn
}

// TestRabbitMQDropsTheConnectionBetweenQueries cuts the established
// connection while the port stays open: the cached connection is dead, and
// the very next query redials.
func TestRabbitMQDropsTheConnectionBetweenQueries(t *testing.T) {
	t.Parallel()
	r := newRabbit(t)
	q := uniqueName("drop")
	r.queue("/", q, 1)
	proxy := tcpproxy.Start(t, r.hostPort)
	p := rabbitPlugin(t, r, r.viaProxy(proxy.Addr()))
	must.Eq(t, 1.0, value(t, p, "rabbitmq:ready:"+q))

	proxy.Stop()
	proxy.Restart()
	recoversWithinTwoQueries(t, p, "rabbitmq:ready:"+q, 1, r.pass)
	must.Eq(t, 2, proxy.Accepted())
}

func TestRabbitMQSetConfigSwapsConnections(t *testing.T) {
	t.Parallel()
	r := newRabbit(t)
	q := uniqueName("reload")
	r.queue("/", q, 2)
	first, second := tcpproxy.Start(t, r.hostPort), tcpproxy.Start(t, r.hostPort)
	p := rabbitPlugin(t, r, r.viaProxy(first.Addr()))
	must.Eq(t, 2.0, value(t, p, "rabbitmq:ready:"+q))

	// The same keys again, as on a SIGHUP without changes: nothing redials.
	same := map[string]string{
		configKeyAMQPURLs: r.viaProxy(first.Addr()), configKeyManagementURLs: r.mgmtURL, configKeyQueryTimeout: "3s",
		"nomad_address": "http://127.0.0.1:4646",
	}
	must.NoError(t, p.SetConfig(same))
	must.Eq(t, 2.0, value(t, p, "rabbitmq:ready:"+q))
	must.Eq(t, 1, first.Accepted())

	// New keys: the new node is used and the old connection is closed.
	must.NoError(t, p.SetConfig(map[string]string{configKeyAMQPURLs: r.viaProxy(second.Addr())}))
	must.Eq(t, 2.0, value(t, p, "rabbitmq:ready:"+q))
	must.Eq(t, 1, second.Accepted())
	poll.Until(t, 30*time.Second, func() bool { return first.Open() == 0 }, func() string { return "the old connection to close" })
}

func TestRabbitMQSetConfigNeverDials(t *testing.T) {
	t.Parallel()
	dead := closedLoopbackAddr(t)
	p := New(testLogger(t))
	t.Cleanup(p.shutdown)
	must.NoError(t, p.SetConfig(map[string]string{
		configKeyAMQPURLs:       "amqp://guest:guest@" + dead + "/",
		configKeyManagementURLs: "http://" + dead,
		configKeyPostgresURL:    "postgres://postgres@" + dead + "/x?sslmode=disable",
	}))
	_, err := p.Query("rabbitmq:ready:q", now())
	must.ErrorContains(t, err, "no rabbitmq node reachable")
}

func TestRabbitMQRefusedLoginStopsAtTheFirstNode(t *testing.T) {
	t.Parallel()
	r := newRabbit(t)
	wrong := strings.Replace(r.amqpURL, r.user+":"+r.pass+"@", r.user+":not-the-password@", 1)
	must.StrContains(t, wrong, "not-the-password")
	// RabbitMQ answers a refused login after a 3 s delay: wait longer.
	p := New(testLogger(t))
	t.Cleanup(p.shutdown)
	must.NoError(t, p.SetConfig(map[string]string{
		configKeyAMQPURLs: wrong + "," + r.viaProxy(closedLoopbackAddr(t)), configKeyQueryTimeout: "10s",
	}))

	_, err := p.Query("rabbitmq:ready:jobs", now())
	must.ErrorContains(t, err, "refused the login: check the user and password in amqp_urls")
	mustBeSafeForAgent(t, err, "not-the-password")
}

// TestRabbitMQOverTLS reaches the shared server through a TLS-terminating
// proxy: amqps:// with tls_ca_file works, and without the CA the error says
// the certificate is not trusted.
func TestRabbitMQOverTLS(t *testing.T) {
	t.Parallel()
	r := newRabbit(t)
	q := uniqueName("tls")
	r.queue("/", q, 3)
	certPEM, keyPEM := selfSignedPEM(t, "rabbit.internal")
	proxy := tcpproxy.StartTLS(t, r.hostPort, certPEM, keyPEM)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	must.NoError(t, os.WriteFile(ca, certPEM, 0o600))
	url := strings.Replace(r.viaProxy(proxy.Addr()), "amqp://", "amqps://", 1)

	cases := []struct {
		name    string
		cfg     map[string]string
		wantErr string
	}{
		{"the CA file and the IP in the certificate", map[string]string{configKeyTLSCAFile: ca}, ""},
		{"the CA file and the name in the certificate", map[string]string{configKeyTLSCAFile: ca, configKeyTLSServerName: "rabbit.internal"}, ""},
		{"a name the certificate does not hold", map[string]string{configKeyTLSCAFile: ca, configKeyTLSServerName: "other.internal"}, "not trusted"},
		{"no CA file", map[string]string{}, "TLS certificate not trusted"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := New(testLogger(t))
			t.Cleanup(p.shutdown)
			tc.cfg[configKeyAMQPURLs] = url
			must.NoError(t, p.SetConfig(tc.cfg))
			got, err := p.Query("rabbitmq:ready:"+q, now())
			if tc.wantErr != "" {
				must.ErrorContains(t, err, tc.wantErr)
				mustBeSafeForAgent(t, err, r.pass)
				return
			}
			must.NoError(t, err)
			must.Eq(t, 3.0, got[0].Value)
		})
	}
}

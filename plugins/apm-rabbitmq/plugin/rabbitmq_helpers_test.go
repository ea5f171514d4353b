package plugin

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/testenv"
	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/poll"
)

// rabbit is the shared RabbitMQ server of scripts/services.sh, seen by a
// test: its addresses and a connection of the test's own to set queues up.
type rabbit struct {
	t        testing.TB
	amqpURL  string
	mgmtURL  string
	hostPort string
	user     string
	pass     string
}

func newRabbit(t testing.TB) *rabbit {
	t.Helper()
	amqpURL, mgmtURL := testenv.RabbitMQ(t)
	uri, err := amqp.ParseURI(amqpURL)
	must.NoError(t, err)
	return &rabbit{t: t, amqpURL: amqpURL, mgmtURL: mgmtURL,
		hostPort: fmt.Sprintf("%s:%d", uri.Host, uri.Port), user: uri.Username, pass: uri.Password}
}

// uniqueName gives every test its own queues, so tests run in parallel with
// each other and with other packages on the same server.
func uniqueName(prefix string) string {
	return fmt.Sprintf("apmtest.%s.%08x", prefix, rand.Uint32())
}

// channel opens a channel on a fresh connection to vhost, closed at cleanup.
func (r *rabbit) channel(vhost string) *amqp.Channel {
	r.t.Helper()
	conn, err := amqp.DialConfig(r.amqpURL, amqp.Config{Vhost: vhost})
	must.NoError(r.t, err)
	r.t.Cleanup(func() { _ = conn.Close() })
	ch, err := conn.Channel()
	must.NoError(r.t, err)
	return ch
}

// queue declares a queue holding n messages, deleted at cleanup.
func (r *rabbit) queue(vhost, name string, n int) {
	r.t.Helper()
	ch := r.channel(vhost)
	_, err := ch.QueueDeclare(name, false, false, false, false, nil)
	must.NoError(r.t, err)
	r.t.Cleanup(func() {
		if c := r.channelOrNil(vhost); c != nil {
			_, _ = c.QueueDelete(name, false, false, false)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := 0; i < n; i++ {
		must.NoError(r.t, ch.PublishWithContext(ctx, "", name, false, false, amqp.Publishing{Body: []byte("job")}))
	}
}

func (r *rabbit) channelOrNil(vhost string) *amqp.Channel {
	conn, err := amqp.DialConfig(r.amqpURL, amqp.Config{Vhost: vhost})
	if err != nil {
		return nil
	}
	r.t.Cleanup(func() { _ = conn.Close() })
	ch, err := conn.Channel()
	if err != nil {
		return nil
	}
	return ch
}

// consumeWithoutAck takes k messages of the queue and keeps them unacked
// until the test ends, as a busy worker does.
func (r *rabbit) consumeWithoutAck(vhost, name string, k int) {
	r.t.Helper()
	ch := r.channel(vhost)
	must.NoError(r.t, ch.Qos(k, 0, false))
	deliveries, err := ch.Consume(name, "", false, false, false, false, nil)
	must.NoError(r.t, err)
	timeout := time.NewTimer(10 * time.Second)
	defer timeout.Stop()
	for i := 0; i < k; i++ {
		select {
		case <-deliveries:
		case <-timeout.C:
			r.t.Fatalf("received %d of %d deliveries from %s", i, k, name)
		}
	}
}

// management calls the management API with the AMQP credentials and fails
// the test unless it succeeds.
func (r *rabbit) management(method, path, body string) {
	r.t.Helper()
	status := r.managementCall(method, path, body)
	must.Less(r.t, 300, status, must.Sprintf("%s %s answered %d", method, path, status))
}

// managementStatus calls the management API and returns the HTTP status.
func (r *rabbit) managementStatus(method, path string) int {
	r.t.Helper()
	return r.managementCall(method, path, "")
}

func (r *rabbit) managementCall(method, path, body string) int {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(r.mgmtURL, "/")+path, bytes.NewBufferString(body))
	must.NoError(r.t, err)
	req.SetBasicAuth(r.user, r.pass)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	must.NoError(r.t, err)
	_ = resp.Body.Close()
	return resp.StatusCode
}

// vhost creates a vhost the AMQP user may use, deleted at cleanup.
func (r *rabbit) vhost(name string) {
	r.t.Helper()
	path := "/api/vhosts/" + url.PathEscape(name)
	r.management(http.MethodPut, path, `{}`)
	r.t.Cleanup(func() { r.management(http.MethodDelete, path, "") })
	r.management(http.MethodPut, "/api/permissions/"+url.PathEscape(name)+"/"+url.PathEscape(r.user),
		`{"configure":".*","write":".*","read":".*"}`)
}

// eventually polls the plugin until the query returns want: the management
// API publishes statistics every few seconds.
func eventually(t testing.TB, p *Plugin, query string, want float64) {
	t.Helper()
	var last string
	poll.Until(t, 30*time.Second, func() bool {
		got, err := p.Query(query, now())
		last = fmt.Sprintf("%s to return %v (last: got %v, err %v)", query, want, got, err)
		return err == nil && len(got) == 1 && got[0].Value == want
	}, func() string { return last })
}

// value runs a query that must succeed with one point.
func value(t testing.TB, p *Plugin, query string) float64 {
	t.Helper()
	got, err := p.Query(query, now())
	must.NoError(t, err)
	must.Len(t, 1, got)
	return got[0].Value
}

// rabbitPlugin configures a plugin on the given AMQP URLs and the real
// management API, closed at cleanup.
func rabbitPlugin(t testing.TB, r *rabbit, amqpURLs string) *Plugin {
	t.Helper()
	p := New(testLogger(t))
	t.Cleanup(p.shutdown)
	must.NoError(t, p.SetConfig(map[string]string{
		configKeyAMQPURLs:       amqpURLs,
		configKeyManagementURLs: r.mgmtURL,
		configKeyQueryTimeout:   "3s",
	}))
	return p
}

// viaProxy is the AMQP URL of the test server with host:port replaced.
func (r *rabbit) viaProxy(addr string) string {
	return strings.Replace(r.amqpURL, r.hostPort, addr, 1)
}

// recoversWithinTwoQueries checks that after an outage the next query, or
// the one after if the first still met the dead connection, returns want;
// a failed first query must be safe to hand to the agent.
func recoversWithinTwoQueries(t *testing.T, p *Plugin, query string, want float64, secrets ...string) {
	t.Helper()
	got, err := p.Query(query, now())
	if err != nil {
		mustBeSafeForAgent(t, err, secrets...)
		got, err = p.Query(query, now())
	}
	must.NoError(t, err, must.Sprint("neither of the two queries after the outage recovered"))
	must.Len(t, 1, got)
	must.Eq(t, want, got[0].Value)
}

package plugin

import (
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/nomad-autoscaler/sdk"
	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/tcpproxy"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/poll"
)

// TestReloadWithRealServers is the agent's SIGHUP against real RabbitMQ and
// PostgreSQL, each reached through two proxies so that the test can see
// which connections are open. The same keys again keep every connection;
// new keys while many policies query move the queries to the new servers
// without a failed query, and the previous connections are all closed once
// idle. Run under -race, it also checks the swap for data races.
func TestReloadWithRealServers(t *testing.T) {
	t.Parallel()
	r := newRabbit(t)
	q := uniqueName("reload")
	r.queue("/", q, 3)
	dsn, conn := requestsDB(t)
	seedMinutes(t, conn)
	pgURL, err := url.Parse(dsn)
	must.NoError(t, err)

	type route struct{ amqp, pg *tcpproxy.Proxy }
	routes := []route{
		{tcpproxy.Start(t, r.hostPort), tcpproxy.Start(t, pgURL.Host)},
		{tcpproxy.Start(t, r.hostPort), tcpproxy.Start(t, pgURL.Host)},
	}
	configFor := func(rt route) map[string]string {
		pg := *pgURL
		pg.Host = rt.pg.Addr()
		return map[string]string{
			configKeyAMQPURLs:     r.viaProxy(rt.amqp.Addr()),
			configKeyPostgresURL:  pg.String(),
			configKeyQueryTimeout: "5s",
			"nomad_address":       "http://127.0.0.1:4646",
		}
	}
	p := New(testLogger(t))
	p.now = func() time.Time { return fixedNow }
	t.Cleanup(p.shutdown)
	must.NoError(t, p.SetConfig(configFor(routes[0])))

	queryBoth := func() error { return readyAndRequests(p, q) }

	// A SIGHUP without a change (the agent's keys may differ): no redial.
	must.NoError(t, queryBoth())
	same := configFor(routes[0])
	same["nomad_address"] = "http://10.0.0.1:4646"
	must.NoError(t, p.SetConfig(same))
	must.NoError(t, queryBoth())
	must.Eq(t, 1, routes[0].amqp.Accepted())
	must.Eq(t, 1, routes[0].pg.Accepted())

	// SIGHUPs with changes while four policies query; the last one chooses
	// routes[0].
	queryWhileReloading(t, queryBoth, 16, func(i int) error { return p.SetConfig(configFor(routes[i%2])) })
	must.Positive(t, routes[1].amqp.Accepted())
	must.Positive(t, routes[1].pg.Accepted())

	// Everything through routes[1] closes once idle.
	must.NoError(t, queryBoth())
	poll.Until(t, 30*time.Second, func() bool { return routes[1].amqp.Open() == 0 && routes[1].pg.Open() == 0 },
		func() string {
			return fmt.Sprintf("the previous connections to close (%d AMQP, %d PostgreSQL still open)",
				routes[1].amqp.Open(), routes[1].pg.Open())
		})
}

// readyAndRequests queries the queue q (3 messages) and the requests of
// seedMinutes, and says what is wrong with either answer.
func readyAndRequests(p *Plugin, q string) error {
	got, err := p.Query("rabbitmq:ready:"+q, now())
	if err != nil {
		return err
	}
	if got[0].Value != 3 {
		return fmt.Errorf("ready %v, want 3", got[0].Value)
	}
	series, err := p.Query("postgres:requests_per_minute", sdk.TimeRange{From: minute(0), To: fixedNow})
	if err != nil {
		return err
	}
	if len(series) != 5 || series[4].Value != 7 {
		return fmt.Errorf("requests per minute %v, want 5 minutes ending with 7", series)
	}
	return nil
}

// queryWhileReloading runs query 20 times in each of four goroutines, and
// calls reload(1) to reload(reloads) in between, each after four more
// answers so that reloads and queries interleave. Every call must succeed.
func queryWhileReloading(t *testing.T, query func() error, reloads int, reload func(i int) error) {
	t.Helper()
	const workers, perWorker = 4, 20
	must.LessEq(t, workers*perWorker, workers*reloads)
	var wg sync.WaitGroup
	errs := make(chan error, workers*perWorker)
	answered := make(chan struct{}, workers*perWorker)
	for range workers {
		wg.Go(func() {
			for range perWorker {
				errs <- query()
				answered <- struct{}{}
			}
		})
	}
	for i := 1; i <= reloads; i++ {
		for range workers {
			<-answered
		}
		must.NoError(t, reload(i))
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must.NoError(t, err)
	}
}

package plugin

import (
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/nomad-autoscaler/sdk"
	"github.com/shoenig/test/must"
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

	type route struct{ amqp, pg *tcpProxy }
	routes := []route{
		{startProxy(t, r.hostPort), startProxy(t, pgURL.Host)},
		{startProxy(t, r.hostPort), startProxy(t, pgURL.Host)},
	}
	configFor := func(rt route) map[string]string {
		pg := *pgURL
		pg.Host = rt.pg.addr
		return map[string]string{
			configKeyAMQPURLs:     r.viaProxy(rt.amqp.addr),
			configKeyPostgresURL:  pg.String(),
			configKeyQueryTimeout: "5s",
			"nomad_address":       "http://127.0.0.1:4646",
		}
	}
	p := New(testLogger(t))
	p.now = func() time.Time { return fixedNow }
	t.Cleanup(p.shutdown)
	must.NoError(t, p.SetConfig(configFor(routes[0])))

	window := sdk.TimeRange{From: minute(0), To: fixedNow}
	queryBoth := func() error {
		got, err := p.Query("rabbitmq:ready:"+q, now())
		if err != nil {
			return err
		}
		if got[0].Value != 3 {
			return fmt.Errorf("ready %v, want 3", got[0].Value)
		}
		series, err := p.Query("postgres:requests_per_minute", window)
		if err != nil {
			return err
		}
		if len(series) != 5 || series[4].Value != 7 {
			return fmt.Errorf("requests per minute %v, want 5 minutes ending with 7", series)
		}
		return nil
	}

	// A SIGHUP without a change (the agent's keys may differ): no redial.
	must.NoError(t, queryBoth())
	same := configFor(routes[0])
	same["nomad_address"] = "http://10.0.0.1:4646"
	must.NoError(t, p.SetConfig(same))
	must.NoError(t, queryBoth())
	must.Eq(t, 1, routes[0].amqp.acceptedConns())
	must.Eq(t, 1, routes[0].pg.acceptedConns())

	// SIGHUPs with changes while four policies query: a reload after every
	// few answered queries, so that both routes serve queries.
	var wg sync.WaitGroup
	errs := make(chan error, 4*20)
	answered := make(chan struct{}, 4*20)
	for range 4 {
		wg.Go(func() {
			for range 20 {
				errs <- queryBoth()
				answered <- struct{}{}
			}
		})
	}
	for i := 1; i <= 16; i++ {
		for range 4 {
			<-answered
		}
		must.NoError(t, p.SetConfig(configFor(routes[i%2])))
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must.NoError(t, err)
	}
	must.Positive(t, routes[1].amqp.acceptedConns())
	must.Positive(t, routes[1].pg.acceptedConns())

	// The last reload chose routes[0]: everything through routes[1] closes.
	must.NoError(t, queryBoth())
	waitFor(t, func() bool { return routes[1].amqp.openConns() == 0 && routes[1].pg.openConns() == 0 },
		func() string {
			return fmt.Sprintf("the previous connections to close (%d AMQP, %d PostgreSQL still open)",
				routes[1].amqp.openConns(), routes[1].pg.openConns())
		})
}

package plugin

import (
	"context"
	"errors"
	"fmt"
	"path"
	"sort"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/nomad-autoscaler/sdk"
)

// backend is one configuration with its connections. SetConfig builds a new
// backend and swaps it in; queries in flight finish on the old one, which is
// closed once they are done.
type backend struct {
	cfg    config
	queues queueStats    // nil without amqp_urls
	mgmt   managementAPI // nil without management_urls
	rates  rateSource    // nil without postgres_url
	now    func() time.Time

	inflight sync.WaitGroup
}

// newBackend creates the clients without contacting any server.
func newBackend(c config, logger hclog.Logger, now func() time.Time) (*backend, error) {
	b := &backend{cfg: c, now: now}
	if len(c.amqpNodes) > 0 {
		b.queues = newAMQPClient(c.amqpNodes, c.tls, logger)
	}
	if len(c.managementURLs) > 0 {
		b.mgmt = newHTTPManagement(c)
	}
	if c.postgres != nil {
		rates, err := newPGRates(c)
		if err != nil {
			return nil, err
		}
		b.rates = newCachedRates(rates, c, now)
	}
	return b, nil
}

// close waits for the queries in flight, then closes the connections.
func (b *backend) close() {
	b.inflight.Wait()
	if b.queues != nil {
		b.queues.Close()
	}
	if b.rates != nil {
		b.rates.Close()
	}
}

// query answers one parsed query. Errors name the source but not the query:
// the caller adds it.
func (b *backend) query(ctx context.Context, q query, r sdk.TimeRange) (sdk.TimestampedMetrics, error) {
	switch q.kind {
	case queryKindQueue:
		return b.queryQueue(ctx, q)
	case queryKindRequestsPerMin:
		if b.rates == nil {
			return nil, fmt.Errorf("postgres queries need %s", configKeyPostgresURL)
		}
		w, err := completeMinutes(r, b.now(), b.cfg.settleDelay)
		if err != nil {
			return nil, err
		}
		return b.rates.RequestsPerMinute(ctx, w, q.filterColumn, q.filterValue)
	case queryKindSQL, queryKindNamed:
		// Both run the same way: q.sql is the policy's for sql:, and the
		// operator's for named:, set by admit.
		if b.rates == nil {
			return nil, fmt.Errorf("postgres queries need %s", configKeyPostgresURL)
		}
		series, err := b.rates.Series(ctx, q.sql, r.From, r.To)
		if err != nil {
			return nil, err
		}
		if len(series) == 0 {
			return nil, errors.New("the query returned no rows for the window")
		}
		sort.Stable(series)
		return series, nil
	}
	return nil, errors.New("unknown query kind")
}

// queryQueue reads ready and consumers of a single queue over AMQP, exact
// and immediate; everything else comes from the management API.
func (b *backend) queryQueue(ctx context.Context, q query) (sdk.TimestampedMetrics, error) {
	vhost := q.vhost
	if vhost == "" {
		vhost = b.cfg.defaultVhost()
	}
	var (
		value float64
		err   error
	)
	switch {
	case b.queues != nil && !q.glob && !q.metric.needsManagement():
		value, err = b.amqpValue(ctx, q.metric, vhost, q.queue)
	case b.mgmt == nil && q.glob:
		return nil, fmt.Errorf("a queue glob needs %s (AMQP cannot list queues)", configKeyManagementURLs)
	case b.mgmt == nil:
		return nil, fmt.Errorf("metric %q needs %s (AMQP only knows ready and consumers)", q.metric, configKeyManagementURLs)
	case q.glob:
		value, err = b.globValue(ctx, q.metric, vhost, q.queue)
	default:
		var info queueInfo
		info, err = b.mgmt.Queue(ctx, vhost, q.queue)
		if err == nil {
			value, err = metricValue(q.metric, info)
		}
	}
	if err != nil {
		return nil, err
	}
	return sdk.TimestampedMetrics{{Timestamp: b.now().UTC(), Value: value}}, nil
}

func (b *backend) amqpValue(ctx context.Context, m queueMetric, vhost, queue string) (float64, error) {
	counts, err := b.queues.QueueCounts(ctx, vhost, queue)
	if err != nil {
		return 0, err
	}
	if m == metricConsumers {
		return float64(counts.consumers), nil
	}
	return float64(counts.ready), nil
}

// globValue sums the metric over the queues of vhost whose names match
// glob. It fails if nothing matches or any matched queue lacks the metric:
// a partial sum would understate the backlog.
func (b *backend) globValue(ctx context.Context, m queueMetric, vhost, glob string) (float64, error) {
	queues, err := b.mgmt.Queues(ctx, vhost)
	if err != nil {
		return 0, err
	}
	return sumMatching(m, queues, glob, vhost)
}

// sumMatching is the pure part of globValue.
func sumMatching(m queueMetric, queues []queueInfo, glob, vhost string) (float64, error) {
	var (
		sum     float64
		matched int
	)
	for _, q := range queues {
		if ok, _ := path.Match(glob, q.Name); !ok {
			continue
		}
		v, err := metricValue(m, q)
		if err != nil {
			return 0, err
		}
		sum += v
		matched++
	}
	if matched == 0 {
		return 0, fmt.Errorf("glob %q matches no queue in vhost %q", glob, vhost)
	}
	return sum, nil
}

// metricValue reads one metric of one queue from the management API's
// answer. Rates are absent until a queue has seen traffic, which means zero;
// counters are absent for a moment after a queue is created, which means
// unknown. A negative value is refused here, per queue, because in a glob
// sum the other queues would hide it.
func metricValue(m queueMetric, q queueInfo) (float64, error) {
	counter := func(name string, v *float64) (float64, error) {
		switch {
		case v == nil:
			return 0, fmt.Errorf("queue %q has no %s statistics yet (the management api publishes them every few seconds)", q.Name, name)
		case *v < 0:
			return 0, fmt.Errorf("queue %q reports %s %v", q.Name, name, *v)
		}
		return *v, nil
	}
	rate := func(name string, v *float64) (float64, error) {
		switch {
		case v == nil:
			return 0, nil
		case *v < 0:
			return 0, fmt.Errorf("queue %q reports %s rate %v", q.Name, name, *v)
		}
		return *v, nil
	}
	switch m {
	case metricReady:
		return counter("messages_ready", q.Ready)
	case metricUnacked:
		return counter("messages_unacknowledged", q.Unacked)
	case metricDepth:
		ready, err := counter("messages_ready", q.Ready)
		if err != nil {
			return 0, err
		}
		unacked, err := counter("messages_unacknowledged", q.Unacked)
		return ready + unacked, err
	case metricConsumers:
		return counter("consumers", q.Consumers)
	case metricPublishRate:
		return rate("publish", q.MessageStats.Publish.Rate)
	case metricDeliverRate:
		return rate("deliver_get", q.MessageStats.DeliverGet.Rate)
	}
	return 0, fmt.Errorf("unknown metric %q", m)
}

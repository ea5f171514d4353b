package plugin

import (
	"context"
	"errors"
	"fmt"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/pluginkit"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	amqp "github.com/rabbitmq/amqp091-go"
)

// queueCounts is what a passive declare tells about a queue.
type queueCounts struct {
	ready     int
	consumers int
}

// queueStats reads exact queue counters over AMQP.
type queueStats interface {
	// QueueCounts returns the ready messages and the consumers of queue in
	// vhost. A missing queue is an error wrapping errNotFound; an
	// unreachable cluster is an error naming every node tried.
	QueueCounts(ctx context.Context, vhost, queue string) (queueCounts, error)
	// Close closes the connections; later calls fail.
	Close()
}

var (
	errNotFound     = errors.New("not found")
	errClientClosed = errors.New("client closed by a configuration reload")
)

const (
	amqpHeartbeat    = 10 * time.Second
	amqpCloseTimeout = 2 * time.Second
	// maxOpenChannels bounds the channels opened at once on one connection
	// when many policies query together.
	maxOpenChannels = 16
)

// amqpClient keeps one long-lived connection per vhost (AMQP binds a
// connection to a vhost) and opens a channel per query, because a passive
// declare of a missing queue closes its channel.
type amqpClient struct {
	nodes  []amqpNode
	tls    tlsSettings
	logger hclog.Logger

	dialSlot chan struct{} // one dial at a time; waiting honours ctx
	channels chan struct{} // semaphore of open channels

	mu     sync.Mutex
	conns  map[string]*amqp.Connection
	closed bool
}

var _ queueStats = (*amqpClient)(nil)

func newAMQPClient(nodes []amqpNode, tls tlsSettings, logger hclog.Logger) *amqpClient {
	return &amqpClient{
		nodes:    nodes,
		tls:      tls,
		logger:   logger,
		dialSlot: make(chan struct{}, 1),
		channels: make(chan struct{}, maxOpenChannels),
		conns:    map[string]*amqp.Connection{},
	}
}

// QueueCounts implements queueStats. When the cached connection turns out to
// be dead (the broker restarted since the last query and the drop was not
// noticed yet), it redials once.
func (c *amqpClient) QueueCounts(ctx context.Context, vhost, queue string) (queueCounts, error) {
	for attempt := 1; ; attempt++ {
		conn, err := c.connection(ctx, vhost)
		if err != nil {
			return queueCounts{}, err
		}
		q, err := c.declare(ctx, conn, queue)
		if err != nil && attempt == 1 && ctx.Err() == nil && connectionLost(conn, err) {
			c.forget(vhost, conn)
			continue
		}
		return countsOrError(q, err, vhost, queue)
	}
}

// connectionLost tells a dead connection from an answer of the broker such
// as a 404 for a missing queue, which only closes the channel.
func connectionLost(conn *amqp.Connection, err error) bool {
	var amqpErr *amqp.Error
	return conn.IsClosed() || errors.Is(err, amqp.ErrClosed) || (errors.As(err, &amqpErr) && !amqpErr.Server)
}

// connection returns the live connection to vhost, dialling one if needed.
func (c *amqpClient) connection(ctx context.Context, vhost string) (*amqp.Connection, error) {
	if conn, err := c.cached(vhost); conn != nil || err != nil {
		return conn, err
	}
	select {
	case c.dialSlot <- struct{}{}:
		defer func() { <-c.dialSlot }()
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting to connect to rabbitmq: %s", describeCause(ctx.Err()))
	}
	// Another query may have connected while this one waited.
	if conn, err := c.cached(vhost); conn != nil || err != nil {
		return conn, err
	}
	conn, err := c.dial(ctx, vhost)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		_ = conn.CloseDeadline(time.Now().Add(amqpCloseTimeout))
		return nil, errClientClosed
	}
	c.conns[vhost] = conn
	go c.watch(vhost, conn)
	return conn, nil
}

func (c *amqpClient) cached(vhost string) (*amqp.Connection, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, errClientClosed
	}
	if conn := c.conns[vhost]; conn != nil && !conn.IsClosed() {
		return conn, nil
	}
	return nil, nil
}

// watch drops the connection from the cache when it closes, so that the
// next query redials instead of failing on a dead connection.
func (c *amqpClient) watch(vhost string, conn *amqp.Connection) {
	reason, lost := <-conn.NotifyClose(make(chan *amqp.Error, 1))
	c.forget(vhost, conn)
	if lost && reason != nil {
		c.logger.Warn("rabbitmq connection lost, redialling at the next query",
			"node", conn.RemoteAddr().String(), "vhost", vhost, "reason", describeAMQP(reason))
	}
}

func (c *amqpClient) forget(vhost string, conn *amqp.Connection) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conns[vhost] == conn {
		delete(c.conns, vhost)
	}
}

// dial tries the nodes in the order of amqp_urls. Each node gets an equal
// share of the time left, so that a node that swallows packets (a host that
// is down rather than a closed port) cannot use up the query's deadline
// before the next node is tried. A node that refuses the login or the vhost
// ends the search: the nodes of a cluster share users and vhosts and would
// answer the same. Any other failure, including a node that is shutting
// down, moves on to the next node.
func (c *amqpClient) dial(ctx context.Context, vhost string) (*amqp.Connection, error) {
	tried := make([]string, 0, len(c.nodes))
	for i, node := range c.nodes {
		nodeCtx, cancel := shareOfDeadline(ctx, len(c.nodes)-i)
		conn, err := c.dialNode(nodeCtx, node, vhost)
		timedOut := pastDeadline(nodeCtx)
		cancel()
		if err == nil {
			c.logger.Info("connected to rabbitmq", "node", node.addr, "vhost", vhost)
			return conn, nil
		}
		if err := refusal(err, node.addr, vhost); err != nil && !timedOut {
			return nil, err
		}
		if timedOut {
			// amqp091 may report a handshake cut by the deadline as bad
			// credentials; it is a node too slow to answer.
			tried = append(tried, node.addr+" timed out")
		} else {
			tried = append(tried, node.addr+" "+describeAMQP(err))
		}
		if pastDeadline(ctx) {
			break
		}
	}
	return nil, fmt.Errorf("no rabbitmq node reachable (tried %s)", strings.Join(tried, "; "))
}

// refusal returns the error to report when a node answered the handshake
// with a refusal, and nil for any other failure.
func refusal(err error, addr, vhost string) error {
	var amqpErr *amqp.Error
	switch {
	case errors.As(err, &amqpErr) && amqpErr.Server && (amqpErr.Code == amqp.NotAllowed || amqpErr.Code == amqp.AccessRefused):
		return fmt.Errorf("rabbitmq node %s refused the connection to vhost %q: %s", addr, vhost, describeAMQP(err))
	case errors.Is(err, amqp.ErrCredentials):
		return fmt.Errorf("rabbitmq node %s refused the login: check the user and password in %s", addr, configKeyAMQPURLs)
	case errors.Is(err, amqp.ErrVhost):
		return fmt.Errorf("rabbitmq vhost %q %w or not allowed for the user (node %s)", vhost, errNotFound, addr)
	}
	return nil
}

// shareOfDeadline gives one of n remaining attempts an equal part of the
// time left before ctx's deadline.
func shareOfDeadline(ctx context.Context, n int) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok || n <= 1 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, time.Until(deadline)/time.Duration(n))
}

func (c *amqpClient) dialNode(ctx context.Context, node amqpNode, vhost string) (*amqp.Connection, error) {
	props := amqp.NewConnectionProperties()
	props.SetClientConnectionName(fmt.Sprintf("%s pid %d", PluginName, os.Getpid()))
	cfg := amqp.Config{
		Vhost:      vhost,
		Heartbeat:  amqpHeartbeat,
		Properties: props,
		Dial: func(network, addr string) (net.Conn, error) {
			var d net.Dialer
			conn, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			// Bound the TLS and AMQP handshakes by the query's deadline;
			// amqp091 clears the deadline once the connection is open.
			if deadline, ok := ctx.Deadline(); ok {
				_ = conn.SetDeadline(deadline)
			}
			return conn, nil
		},
	}
	if node.tls {
		host, _, _ := net.SplitHostPort(node.addr)
		cfg.TLSClientConfig = c.tls.forHost(host)
	}
	return amqp.DialConfig(node.url, cfg)
}

// declare runs a passive declare on a fresh channel. amqp091 has no context
// on these calls, so they run aside and the query stops waiting at its
// deadline; a broker that does not answer in time gets its connection
// closed, and the next query redials.
func (c *amqpClient) declare(ctx context.Context, conn *amqp.Connection, queue string) (amqp.Queue, error) {
	select {
	case c.channels <- struct{}{}:
	case <-ctx.Done():
		return amqp.Queue{}, fmt.Errorf("waiting for a free rabbitmq channel: %s", describeCause(ctx.Err()))
	}
	type result struct {
		q   amqp.Queue
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer func() { <-c.channels }()
		ch, err := conn.Channel()
		if err != nil {
			done <- result{err: err}
			return
		}
		q, err := ch.QueueDeclarePassive(queue, false, false, false, false, nil)
		_ = ch.Close() // already closed by the broker after a 404
		done <- result{q: q, err: err}
	}()
	select {
	case r := <-done:
		return r.q, r.err
	case <-ctx.Done():
		go func() { _ = conn.CloseDeadline(time.Now().Add(amqpCloseTimeout)) }()
		return amqp.Queue{}, fmt.Errorf("rabbitmq node %s did not answer in time", conn.RemoteAddr())
	}
}

func countsOrError(q amqp.Queue, err error, vhost, queue string) (queueCounts, error) {
	var amqpErr *amqp.Error
	switch {
	case err == nil:
		return queueCounts{ready: q.Messages, consumers: q.Consumers}, nil
	case errors.As(err, &amqpErr) && amqpErr.Code == amqp.NotFound:
		return queueCounts{}, fmt.Errorf("queue %q %w in vhost %q", queue, errNotFound, vhost)
	}
	return queueCounts{}, fmt.Errorf("rabbitmq passive declare of queue %q in vhost %q: %s", queue, vhost, describeAMQP(err))
}

// Close implements queueStats.
func (c *amqpClient) Close() {
	c.mu.Lock()
	conns := c.conns
	c.conns, c.closed = map[string]*amqp.Connection{}, true
	c.mu.Unlock()
	for _, conn := range conns {
		_ = conn.CloseDeadline(time.Now().Add(amqpCloseTimeout))
	}
}

// pastDeadline reports whether ctx is done or its deadline has passed: the
// socket deadline set from it can fire a moment before ctx's own timer.
func pastDeadline(ctx context.Context) bool {
	d, ok := ctx.Deadline()
	return ctx.Err() != nil || (ok && !time.Now().Before(d))
}

// describeAMQP puts an amqp091 error into words. A connection lost on an
// I/O error arrives as an amqp.Error whose reason is the Go error text
// ("EOF"), which must not reach the agent.
func describeAMQP(err error) string {
	var amqpErr *amqp.Error
	if !errors.As(err, &amqpErr) {
		return describeCause(err)
	}
	if !amqpErr.Server {
		switch {
		case strings.Contains(amqpErr.Reason, "EOF") || strings.Contains(amqpErr.Reason, "reset by peer"):
			return "closed the connection unexpectedly"
		case strings.Contains(amqpErr.Reason, "i/o timeout"):
			return "timed out"
		}
		return pluginkit.Scrub(amqpErr.Reason)
	}
	return fmt.Sprintf("broker error %d: %s", amqpErr.Code, pluginkit.Scrub(amqpErr.Reason))
}

package soak

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/loadgen"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/workersim"
)

// requestID names a sampled request: its model and its created_at row
// time, which the load generator gives every request of a model a
// distinct value of, and which its job carries (Batch 1: FirstAt).
func requestID(j loadgen.Job) string {
	return j.Model + "@" + strconv.FormatInt(j.FirstAt.UnixNano(), 10)
}

// ledger counts, per sampled request, its confirmed publications and its
// consumptions, and when it was first consumed (real time).
type ledger struct {
	mu        sync.Mutex
	published map[string]int
	consumed  map[string]int
	nPub      atomic.Int64
	nCons     atomic.Int64
}

func newLedger() *ledger {
	return &ledger{published: map[string]int{}, consumed: map[string]int{}}
}

func (l *ledger) publishedJob(j loadgen.Job) {
	l.mu.Lock()
	defer l.mu.Unlock()
	id := requestID(j)
	if l.published[id] == 0 {
		l.nPub.Add(1)
	}
	l.published[id]++
}

// Served implements workersim.Recorder.
func (l *ledger) Served(j loadgen.Job, _ time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	id := requestID(j)
	if l.consumed[id] == 0 {
		l.nCons.Add(1)
	}
	l.consumed[id]++
}

// ledgerCounts is the end-of-run tally.
type ledgerCounts struct {
	Published int64 `json:"published"`
	Consumed  int64 `json:"consumed"`
	Lost      int64 `json:"lost"`
	// Redeliveries are consumptions beyond the first of a request: a job
	// served again after RabbitMQ redelivered it (its ack was lost with a
	// node or a connection) or after the publisher sent it again.
	Redeliveries int64 `json:"redeliveries"`
	// Republished are publications beyond the first (a batch whose
	// confirms were lost with a node is sent again).
	Republished int64 `json:"republished"`
	// Unknown are consumed requests never confirmed as published.
	Unknown int64 `json:"consumed_unpublished"`
}

func (l *ledger) counts() ledgerCounts {
	l.mu.Lock()
	defer l.mu.Unlock()
	var c ledgerCounts
	c.Published = int64(len(l.published))
	for id, n := range l.published {
		c.Republished += int64(n - 1)
		if l.consumed[id] == 0 {
			c.Lost++
		}
	}
	for id, n := range l.consumed {
		c.Consumed++
		c.Redeliveries += int64(n - 1)
		if l.published[id] == 0 {
			c.Unknown++
		}
	}
	return c
}

// clusterSink publishes jobs with publisher confirms to one RabbitMQ node
// at a time and, when a publish fails (its node died), reconnects to the
// next node and publishes the batch again, until its deadline: a job is in
// the ledger once the broker confirmed it.
type clusterSink struct {
	urls   []string
	queues []string
	ledger *ledger

	mu         sync.Mutex
	next       int
	conn       *amqp.Connection
	ch         *amqp.Channel
	failovers  atomic.Int64
	lastErrMsg atomic.Value
}

// publishDeadline bounds one batch's publication, failovers included.
const publishDeadline = 2 * time.Minute

// PublishJobs implements loadgen.JobSink.
func (s *clusterSink) PublishJobs(ctx context.Context, jobs []loadgen.QueuedJob) error {
	ctx, cancel := context.WithTimeout(ctx, publishDeadline)
	defer cancel()
	s.mu.Lock()
	defer s.mu.Unlock()
	for attempt := 0; ; attempt++ {
		err := s.publishOnce(ctx, jobs)
		if err == nil {
			for _, j := range jobs {
				s.ledger.publishedJob(j.Job)
			}
			return nil
		}
		s.lastErrMsg.Store(err.Error())
		s.dropLocked()
		s.failovers.Add(1)
		backoff := min(time.Duration(1<<min(attempt, 5))*50*time.Millisecond, time.Second)
		select {
		case <-ctx.Done():
			return fmt.Errorf("publish %d jobs: gave up after %d attempts: %w", len(jobs), attempt+1, err)
		case <-time.After(backoff):
		}
	}
}

func (s *clusterSink) publishOnce(ctx context.Context, jobs []loadgen.QueuedJob) error {
	if s.ch == nil {
		if err := s.connectLocked(); err != nil {
			return err
		}
	}
	confirms := make([]*amqp.DeferredConfirmation, 0, len(jobs))
	for _, j := range jobs {
		c, err := s.ch.PublishWithDeferredConfirmWithContext(ctx, "", j.Queue, false, false, amqp.Publishing{
			ContentType: "application/json", DeliveryMode: amqp.Persistent, MessageId: requestID(j.Job),
			Timestamp: j.Job.EnqueuedAt, Body: j.Job.Encode(),
		})
		if err != nil {
			return fmt.Errorf("publish to %q: %w", j.Queue, err)
		}
		confirms = append(confirms, c)
	}
	for _, c := range confirms {
		ok, err := c.WaitContext(ctx)
		if err != nil {
			return fmt.Errorf("wait for a confirm: %w", err)
		}
		if !ok {
			return errors.New("the broker refused a job")
		}
	}
	return nil
}

func (s *clusterSink) connectLocked() error {
	u := s.urls[s.next%len(s.urls)]
	s.next++
	conn, err := amqp.DialConfig(u, amqp.Config{Dial: amqp.DefaultDial(5 * time.Second), Heartbeat: 5 * time.Second})
	if err != nil {
		return fmt.Errorf("dial RabbitMQ at %s: %w", loadgen.RedactURL(u), err)
	}
	ch, err := conn.Channel()
	if err == nil {
		for _, q := range s.queues {
			if _, err = ch.QueueDeclare(q, true, false, false, false, nil); err != nil {
				break
			}
		}
	}
	if err == nil {
		err = ch.Confirm(false)
	}
	if err != nil {
		conn.Close()
		return fmt.Errorf("prepare the publisher's channel on %s: %w", loadgen.RedactURL(u), err)
	}
	s.conn, s.ch = conn, ch
	return nil
}

func (s *clusterSink) dropLocked() {
	if s.conn != nil {
		_ = s.conn.Close()
	}
	s.conn, s.ch = nil, nil
}

func (s *clusterSink) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropLocked()
}

// retryingRows inserts the sampled request rows, retrying through a
// PostgreSQL restart until its deadline (the pool reconnects by itself).
type retryingRows struct {
	sink    *loadgen.PostgresSink
	retries atomic.Int64
}

func (r *retryingRows) InsertRequests(ctx context.Context, rows []loadgen.Request) error {
	ctx, cancel := context.WithTimeout(ctx, publishDeadline)
	defer cancel()
	for attempt := 0; ; attempt++ {
		err := r.sink.InsertRequests(ctx, rows)
		if err == nil {
			return nil
		}
		r.retries.Add(1)
		select {
		case <-ctx.Done():
			return fmt.Errorf("insert %d rows: gave up after %d attempts: %w", len(rows), attempt+1, err)
		case <-time.After(min(time.Duration(attempt+1)*100*time.Millisecond, time.Second)):
		}
	}
}

// workers runs the worker simulator, and a new one on the next RabbitMQ
// node whenever one fails (its node died, its connection was cut): what a
// failed simulator had not acknowledged, RabbitMQ redelivers.
type workers struct {
	urls     []string
	cfg      workersim.Config
	fleet    workersim.Fleet
	restarts atomic.Int64
	lastErr  atomic.Value
}

func (w *workers) run(ctx context.Context) {
	for i := 0; ctx.Err() == nil; i++ {
		cfg := w.cfg
		cfg.AMQPURL = w.urls[(i+1)%len(w.urls)]
		sim, err := workersim.New(cfg, w.fleet)
		if err == nil {
			err = sim.Run(ctx)
		}
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			w.lastErr.Store(err.Error())
		}
		w.restarts.Add(1)
		select {
		case <-ctx.Done():
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}

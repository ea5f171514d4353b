// Package workersim simulates the GPU workers: it takes jobs from the model
// queues at capacity_per_worker requests per minute for every worker that is
// ready and not draining, so that scaling the MIGs really drains the queue.
//
// Jobs are consumed with a prefetch of one per consumer and acknowledged
// only once served, when the fleet has earned the time to serve them, as the
// real workers do (deploy/ml-worker.nomad.hcl): a job is unacknowledged only
// while it is being served (at most a few per queue), so the queue's ready
// count is the backlog, and a job whose worker dies is redelivered.
//
// Stop is the worker's graceful stop on SIGTERM: every consumer is
// cancelled, the jobs in flight are served and acknowledged, then Run
// returns. Cancelling Run's context is the hard stop: what is in flight
// stays unacknowledged and RabbitMQ redelivers it.
package workersim

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/loadgen"
	amqp "github.com/rabbitmq/amqp091-go"
)

// Fleet reports how many workers can take jobs now: nodes that are ready,
// eligible and not draining.
type Fleet interface {
	Workers(ctx context.Context) (int, error)
}

// Config drives the simulator.
type Config struct {
	// AMQPURL is the broker; Queues the model queues to serve.
	AMQPURL string
	Queues  []string
	// CapacityPerWorker is requests per simulated minute one worker serves.
	CapacityPerWorker float64
	// Compression is simulated seconds per real second (1 without compression).
	Compression float64
	// PollInterval is how often the fleet is read (real time).
	PollInterval time.Duration
	// Now is the real clock; nil means time.Now.
	Now func() time.Time
	// Recorder, when set, is told of every job served, as a real worker
	// reports each request's outcome; nil records nothing.
	Recorder Recorder
}

// Recorder learns of every job served: the job and when it was
// acknowledged (real time). Served is called from the consumers'
// goroutines and must not block: a slow recorder would slow the fleet.
type Recorder interface {
	Served(job loadgen.Job, done time.Time)
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	if c.AMQPURL == "" {
		errs = append(errs, errors.New("amqp url: must be set"))
	}
	if len(c.Queues) == 0 {
		errs = append(errs, errors.New("queues: at least one queue is needed"))
	}
	if !(c.CapacityPerWorker > 0) {
		errs = append(errs, fmt.Errorf("capacity per worker %v: must be positive", c.CapacityPerWorker))
	}
	if !(c.Compression > 0) {
		errs = append(errs, fmt.Errorf("compression %v: must be positive", c.Compression))
	}
	if c.PollInterval <= 0 {
		errs = append(errs, fmt.Errorf("poll interval %s: must be positive", c.PollInterval))
	}
	return errors.Join(errs...)
}

// Stats is a snapshot of the simulator.
type Stats struct {
	Workers int
	// Jobs and Requests count what was served and acknowledged.
	Jobs     int64
	Requests int64
	Rejected int64
	// InFlight is the jobs received and not yet acknowledged; Abandoned
	// the jobs left unacknowledged by a hard stop (RabbitMQ redelivers them).
	InFlight  int64
	Abandoned int64
}

// Sim is the worker simulator.
type Sim struct {
	cfg   Config
	fleet Fleet

	mu     sync.Mutex
	bucket bucket
	waits  Waits

	// stopping is closed by Stop.
	stopping chan struct{}
	stopOnce sync.Once

	workers   atomic.Int64
	jobs      atomic.Int64
	requests  atomic.Int64
	rejected  atomic.Int64
	inFlight  atomic.Int64
	abandoned atomic.Int64
}

// New validates cfg.
func New(cfg Config, fleet Fleet) (*Sim, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Sim{cfg: cfg, fleet: fleet, stopping: make(chan struct{})}, nil
}

// Stats returns the counters; safe while Run runs.
func (s *Sim) Stats() Stats {
	return Stats{
		Workers: int(s.workers.Load()), Jobs: s.jobs.Load(), Requests: s.requests.Load(), Rejected: s.rejected.Load(),
		InFlight: s.inFlight.Load(), Abandoned: s.abandoned.Load(),
	}
}

// Stop begins the graceful stop of a worker on SIGTERM: every consumer is
// cancelled, so RabbitMQ sends no more jobs; the jobs already received are
// served and acknowledged; then Run returns nil. It does not wait: bound the
// stop by cancelling Run's context, which leaves what is still in flight
// unacknowledged for RabbitMQ to redeliver. Safe to call more than once and
// from any goroutine.
func (s *Sim) Stop() {
	s.stopOnce.Do(func() { close(s.stopping) })
}

// Waits returns a copy of the queue waits recorded so far.
func (s *Sim) Waits() Waits {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.waits.clone()
}

// Run serves jobs until ctx ends or a Stop has finished (returning nil), or
// the broker connection fails. The fleet is polled in the background; a failed poll keeps the
// last known count, as a worker pool would.
func (s *Sim) Run(ctx context.Context) error {
	conn, err := amqp.DialConfig(s.cfg.AMQPURL, amqp.Config{Dial: amqp.DefaultDial(10 * time.Second)})
	if err != nil {
		return fmt.Errorf("dial RabbitMQ at %s: %w", loadgen.RedactURL(s.cfg.AMQPURL), err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return fmt.Errorf("open channel: %w", err)
	}
	defer ch.Close()
	for _, q := range s.cfg.Queues {
		if _, err := ch.QueueDeclare(q, true, false, false, false, nil); err != nil {
			return fmt.Errorf("declare queue %q: %w", q, err)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.pollOnce(ctx)
	go s.pollFleet(ctx)
	err = s.serve(ctx, conn)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

func (s *Sim) pollFleet(ctx context.Context) {
	t := time.NewTicker(s.cfg.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.pollOnce(ctx)
		}
	}
}

func (s *Sim) pollOnce(ctx context.Context) {
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	n, err := s.fleet.Workers(pctx)
	if err != nil {
		return
	}
	s.workers.Store(int64(n))
	perSecond := float64(n) * s.cfg.CapacityPerWorker * s.cfg.Compression / 60
	s.mu.Lock()
	// An idle fleet banks at most a quarter of a second of work, so a
	// backlog is served at the fleet's rate, not in one burst.
	s.bucket.setRate(perSecond, perSecond/4, s.cfg.Now())
	s.mu.Unlock()
}

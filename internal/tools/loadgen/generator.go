// Package loadgen replays a per-minute request trace with time compression:
// every tick it writes one row per request into PostgreSQL (the table the
// apm-rabbitmq plugin's rate queries read) and publishes the same requests as
// batched jobs on the models' RabbitMQ queues (the backlog the workers drain).
package loadgen

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// Model is one ML model: its queue and its share of the traffic.
type Model struct {
	Name  string
	Queue string
	Share float64
}

// Request is one API request row.
type Request struct {
	At    time.Time
	Model string
}

// QueuedJob is a job and the queue it goes to.
type QueuedJob struct {
	Queue string
	Job   Job
}

// RequestSink stores request rows (PostgreSQL in production).
type RequestSink interface {
	InsertRequests(ctx context.Context, rows []Request) error
}

// JobSink publishes jobs (RabbitMQ in production).
type JobSink interface {
	PublishJobs(ctx context.Context, jobs []QueuedJob) error
}

// Config drives a replay.
type Config struct {
	// Minutes is the trace to replay, already windowed and scaled.
	Minutes []Minute
	// History are the minutes just before Minutes. Run first writes their
	// requests to the RequestSink only, back-dated, so that a rate query
	// over the past sees traffic from the first second, as it would in a
	// service that was already running.
	History []Minute
	// Compression is simulated seconds per real second (300 replays a day in 4.8 minutes).
	Compression float64
	// Tick is the real interval between two batches of inserts and publishes.
	Tick time.Duration
	// Batch is the number of requests per published job.
	Batch int
	// Models share the traffic; shares are normalised.
	Models []Model
	// Now is the real clock; nil means time.Now.
	Now func() time.Time
}

// Validate reports every problem of the config at once.
func (c Config) Validate() error {
	var errs []error
	if len(c.Minutes) == 0 {
		errs = append(errs, errors.New("trace: no minutes to replay"))
	}
	if !(c.Compression > 0) {
		errs = append(errs, fmt.Errorf("compression %v: must be positive", c.Compression))
	}
	if c.Tick <= 0 {
		errs = append(errs, fmt.Errorf("tick %s: must be positive", c.Tick))
	}
	if c.Batch < 1 {
		errs = append(errs, fmt.Errorf("batch %d: must be at least 1", c.Batch))
	}
	if len(c.Models) == 0 {
		errs = append(errs, errors.New("models: at least one model is needed"))
	}
	for _, m := range c.Models {
		if m.Name == "" || m.Queue == "" || !(m.Share > 0) {
			errs = append(errs, fmt.Errorf("model %q (queue %q, share %v): needs a name, a queue and a positive share", m.Name, m.Queue, m.Share))
		}
	}
	return errors.Join(errs...)
}

// Stats is a snapshot of a replay's progress.
type Stats struct {
	SimTime  time.Time
	Requests int64
	Jobs     int64
	Done     bool
}

// Generator replays a trace into its sinks.
type Generator struct {
	cfg   Config
	rows  RequestSink
	jobs  JobSink
	plan  *planner
	clock Clock

	simNanos atomic.Int64
	requests atomic.Int64
	jobCount atomic.Int64
	done     atomic.Bool
}

// New validates cfg and returns a generator writing to rows and jobs
// (either may be nil to skip that side).
func New(cfg Config, rows RequestSink, jobs JobSink) (*Generator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	g := &Generator{cfg: cfg, rows: rows, jobs: jobs, plan: newPlanner(cfg)}
	g.simNanos.Store(cfg.Minutes[0].Start.UnixNano())
	return g, nil
}

// Clock returns the mapping between real and simulated time; it is set when
// Run starts.
func (g *Generator) Clock() Clock { return g.clock }

// Stats returns the progress so far; safe to call while Run runs.
func (g *Generator) Stats() Stats {
	return Stats{
		SimTime:  time.Unix(0, g.simNanos.Load()).UTC(),
		Requests: g.requests.Load(),
		Jobs:     g.jobCount.Load(),
		Done:     g.done.Load(),
	}
}

// Run replays the whole trace and returns when it is done, when ctx ends
// (with ctx's error) or when a sink fails.
func (g *Generator) Run(ctx context.Context) error {
	g.clock = Clock{RealStart: g.cfg.Now(), SimStart: g.plan.start, Compression: g.cfg.Compression}
	if err := g.writeHistory(ctx); err != nil {
		return err
	}
	prevReal, prevSim := g.clock.RealStart, g.plan.start
	timer := time.NewTimer(g.cfg.Tick)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
		}
		realNow := g.cfg.Now()
		simNow := earlier(g.clock.Sim(realNow), g.plan.end)
		last := !simNow.Before(g.plan.end)
		// Every tick publishes what arrived in it, so a job waits in the
		// queue, not in the generator.
		rows, jobs := g.plan.step(prevSim, simNow, prevReal, realNow, true)
		if err := g.emit(ctx, rows, jobs); err != nil {
			return err
		}
		g.simNanos.Store(simNow.UnixNano())
		if last {
			g.done.Store(true)
			return nil
		}
		prevReal, prevSim = realNow, simNow
		timer.Reset(g.cfg.Tick)
	}
}

func (g *Generator) writeHistory(ctx context.Context) error {
	if len(g.cfg.History) == 0 || g.rows == nil {
		return nil
	}
	var c carry
	var rows []Request
	for _, m := range g.cfg.History {
		k := c.Take(m.Requests)
		for j := 0; j < k; j++ {
			sim := m.Start.Add(time.Duration((float64(j) + 0.5) / float64(k) * float64(time.Minute)))
			rows = append(rows, Request{At: g.clock.Real(sim), Model: g.cfg.Models[j%len(g.cfg.Models)].Name})
		}
	}
	if err := g.rows.InsertRequests(ctx, rows); err != nil {
		return fmt.Errorf("insert %d history requests: %w", len(rows), err)
	}
	return nil
}

func (g *Generator) emit(ctx context.Context, rows []Request, jobs []QueuedJob) error {
	if g.rows != nil && len(rows) > 0 {
		if err := g.rows.InsertRequests(ctx, rows); err != nil {
			return fmt.Errorf("insert %d requests: %w", len(rows), err)
		}
	}
	g.requests.Add(int64(len(rows)))
	if g.jobs != nil && len(jobs) > 0 {
		if err := g.jobs.PublishJobs(ctx, jobs); err != nil {
			return fmt.Errorf("publish %d jobs: %w", len(jobs), err)
		}
	}
	g.jobCount.Add(int64(len(jobs)))
	return nil
}

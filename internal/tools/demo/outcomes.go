package demo

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/loadgen"
)

// outcomeFlushEvery is how often the served jobs are written to the
// requests table: one statement per flush keeps the workers off the
// database's critical path.
const outcomeFlushEvery = 200 * time.Millisecond

// outcomeWriteTimeout bounds each write of outcomes.
const outcomeWriteTimeout = 10 * time.Second

// outcomeRecorder is the demo's workers reporting what they served, as the
// API does in production: it sets status and latency_ms on the request rows
// the load generator wrote. Latency is simulated time: the service time
// plus the job's wait in the queue. A request that waited longer than the
// request timeout was timed out by the API: status 504, latency_ms the
// timeout.
type outcomeRecorder struct {
	pool        *pgxpool.Pool
	compression float64
	rule        slaRule

	mu      sync.Mutex
	pending []servedJob
	err     error // the first failed write
	closed  bool
}

type servedJob struct {
	job  loadgen.Job
	done time.Time
}

func newOutcomeRecorder(ctx context.Context, dsn string, compression float64, rule slaRule) (*outcomeRecorder, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, errors.New("parse the demo database's DSN: invalid (value not shown)")
	}
	cfg.MaxConns = 2
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL at %s:%d: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, err)
	}
	return &outcomeRecorder{pool: pool, compression: compression, rule: rule}, nil
}

// Served implements workersim.Recorder.
func (r *outcomeRecorder) Served(job loadgen.Job, done time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.closed && !job.FirstAt.IsZero() {
		r.pending = append(r.pending, servedJob{job, done})
	}
}

// run flushes every outcomeFlushEvery until ctx ends.
func (r *outcomeRecorder) run(ctx context.Context) {
	t := time.NewTicker(outcomeFlushEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.flush(ctx)
		}
	}
}

// failure is the first write that failed, nil if none did.
func (r *outcomeRecorder) failure() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// close writes what is pending and releases the pool; it returns the first
// write that failed.
func (r *outcomeRecorder) close(ctx context.Context) error {
	r.flush(ctx)
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.pool.Close()
	return r.failure()
}

// flush writes the pending outcomes in one statement. Each job's rows are
// the oldest unanswered rows of its model between its first and last
// created_at.
func (r *outcomeRecorder) flush(ctx context.Context) {
	r.mu.Lock()
	batch := r.pending
	r.pending = nil
	r.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	n := len(batch)
	models, counts := make([]string, n), make([]int32, n)
	first, last, waitMs := make([]time.Time, n), make([]time.Time, n), make([]int64, n)
	for i, b := range batch {
		models[i], counts[i] = b.job.Model, int32(b.job.Requests)
		first[i], last[i] = b.job.FirstAt, b.job.LastAt
		waitMs[i] = time.Duration(float64(b.done.Sub(b.job.EnqueuedAt)) * r.compression).Milliseconds()
	}
	ctx, cancel := context.WithTimeout(ctx, outcomeWriteTimeout)
	defer cancel()
	_, err := r.pool.Exec(ctx, recordOutcomesSQL, models, first, last, counts, waitMs,
		r.rule.serviceTime.Milliseconds(), r.rule.requestTimeout.Milliseconds())
	if err != nil && ctx.Err() == nil {
		r.mu.Lock()
		if r.err == nil {
			r.err = fmt.Errorf("record the outcome of %d served jobs in %s: %w", n, loadgen.DefaultTable.Table, err)
		}
		r.mu.Unlock()
	}
}

// recordOutcomesSQL answers the rows of the jobs $1..$5 (model, first and
// last created_at, requests, queue wait in ms): status 200 and latency $6 +
// wait, or 504 and latency $7 when the wait exceeded the request timeout.
const recordOutcomesSQL = `UPDATE api_requests AS r
SET status = CASE WHEN s.wait_ms > $7 THEN 504 ELSE 200 END,
    latency_ms = CASE WHEN s.wait_ms > $7 THEN $7 ELSE $6 + s.wait_ms END
FROM (
	SELECT x.id, j.wait_ms
	FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[], $4::int4[], $5::int8[]) AS j(model, first_at, last_at, n, wait_ms)
	CROSS JOIN LATERAL (
		SELECT id FROM api_requests
		WHERE model = j.model AND created_at BETWEEN j.first_at AND j.last_at AND status IS NULL
		ORDER BY created_at, id LIMIT j.n
	) AS x
) AS s
WHERE r.id = s.id`

// timeOutUnanswered records what the API does with a request nobody served
// within the request timeout: the rows of the replay (created_at from
// since) still without a status and older than the timeout (in real time,
// at this compression) get 504 and the timeout as latency. It returns how
// many rows it answered.
func timeOutUnanswered(ctx context.Context, dsn string, since time.Time, compression float64, rule slaRule) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, outcomeWriteTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return 0, fmt.Errorf("connect to the demo database: %w", err)
	}
	defer conn.Close(ctx)
	realTimeout := time.Duration(float64(rule.requestTimeout) / compression)
	tag, err := conn.Exec(ctx, `UPDATE api_requests SET status = 504, latency_ms = $3
		WHERE status IS NULL AND created_at >= $1 AND created_at < $2`,
		since, time.Now().Add(-realTimeout), rule.requestTimeout.Milliseconds())
	if err != nil {
		return 0, fmt.Errorf("time out the unanswered requests: %w", err)
	}
	return tag.RowsAffected(), nil
}

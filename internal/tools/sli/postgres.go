package sli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// statementGrace is how much longer than -timeout the client waits, so
// that PostgreSQL's statement_timeout fires first, with a clear error, and
// the connection is not cut mid-statement.
const statementGrace = 30 * time.Second

// closeTimeout bounds the rollback and the goodbye to the server.
const closeTimeout = 5 * time.Second

// applicationName is what the read shows as in pg_stat_activity.
const applicationName = "fleetslope-sli"

// readResult is what PostgreSQL returns for a plan.
type readResult struct {
	buckets []Counts // parallel to plan.bounds
	p95ms   []int64  // per reported day, -1 when it has no successful business requests or the p95 has no latency
}

// reader reads the requests table. Errors name the server (host:port and
// database) and the table, never the DSN.
type reader struct {
	cfg   Config
	where string // "table X in database D at host:port", safe to show
}

func newReader(cfg Config) *reader {
	pc := cfg.Postgres
	addr := net.JoinHostPort(pc.Host, strconv.Itoa(int(pc.Port)))
	return &reader{cfg: cfg, where: fmt.Sprintf("table %s in database %q at %s", cfg.Table.Sanitize(), pc.Database, addr)}
}

// read runs the plan in one READ ONLY transaction under a statement timeout,
// after checking that the table and its columns exist.
func (r *reader) read(ctx context.Context, p plan) (readResult, error) {
	return r.readWith(ctx, p, r.aggregate)
}

// readCounts is read without the p95: the counts of each bucket only
// (countsSQL), as watch mode needs them every minute.
func (r *reader) readCounts(ctx context.Context, p plan) (readResult, error) {
	return r.readWith(ctx, p, r.aggregateCounts)
}

// readWith connects, opens the READ ONLY transaction, checks the table and
// runs aggregate in it.
func (r *reader) readWith(ctx context.Context, p plan, aggregate func(context.Context, pgx.Tx, plan) (readResult, error)) (readResult, error) {
	pc := r.cfg.Postgres.Copy()
	if pc.ConnectTimeout == 0 || pc.ConnectTimeout > r.cfg.ConnectTimeout {
		pc.ConnectTimeout = r.cfg.ConnectTimeout
	}
	if _, ok := pc.RuntimeParams["application_name"]; !ok {
		pc.RuntimeParams["application_name"] = applicationName
	}
	connectCtx, cancel := context.WithTimeout(ctx, r.cfg.ConnectTimeout)
	conn, err := pgx.ConnectConfig(connectCtx, pc)
	cancel()
	if err != nil {
		cause := describeCause(err)
		if cause == "timed out" {
			cause = fmt.Sprintf("timed out after -%s %s", flagConnectTimeout, r.cfg.ConnectTimeout)
		}
		return readResult{}, fmt.Errorf("connect to PostgreSQL for %s: %s", r.where, cause)
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeTimeout)
		defer cancel()
		_ = conn.Close(closeCtx)
	}()

	ctx, cancel = context.WithTimeout(ctx, r.cfg.Timeout+statementGrace)
	defer cancel()
	// BEGIN and the SET LOCAL go in one round trip. JIT is left to the
	// server's settings: compiling took 0.1 to 0.8 s on the benchmark
	// machine, which matters to a short read only.
	begin := fmt.Sprintf("BEGIN READ ONLY; SET LOCAL statement_timeout = %d", r.cfg.Timeout.Milliseconds())
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{BeginQuery: begin})
	if err != nil {
		return readResult{}, r.translate(err)
	}
	defer func() {
		// The rollback gets its own deadline: after a timeout or an
		// interrupt the read's context is spent.
		rbCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeTimeout)
		defer cancel()
		_ = tx.Rollback(rbCtx)
	}()
	if err := r.check(ctx, tx); err != nil {
		return readResult{}, err
	}
	res, err := aggregate(ctx, tx, p)
	if err != nil {
		return readResult{}, r.translate(err)
	}
	return res, nil
}

// aggregateCounts runs countsSQL and sorts its rows into buckets.
func (r *reader) aggregateCounts(ctx context.Context, tx pgx.Tx, p plan) (readResult, error) {
	res := readResult{buckets: make([]Counts, len(p.bounds))}
	if len(p.bounds) == 0 {
		return res, nil
	}
	rows, _ := tx.Query(ctx, countsSQL(r.cfg.Table), p.bounds, p.scanStart, p.scanEnd, r.cfg.SLO.Latency.Milliseconds())
	var (
		key int64
		c   Counts
	)
	_, err := pgx.ForEachRow(rows, []any{&key, &c.Requests, &c.Unrecorded, &c.Errors, &c.Timed, &c.WithinSLO}, func() error {
		if key < 1 || int(key) > len(res.buckets) {
			return fmt.Errorf("unexpected bucket %d of %d", key, len(res.buckets))
		}
		res.buckets[key-1] = c
		return nil
	})
	return res, err
}

// check fails, naming what is missing, when the table, one of its columns
// or the right to read it is missing, or a column has a type the
// definitions cannot use.
func (r *reader) check(ctx context.Context, tx pgx.Tx) error {
	want := map[string]string{columnTime: "timestamptz", columnStatus: "an integer", columnLatency: "an integer"}
	ok := map[string][]string{
		columnTime:    {"timestamp with time zone"},
		columnStatus:  {"smallint", "integer", "bigint"},
		columnLatency: {"smallint", "integer", "bigint"},
	}
	rows, _ := tx.Query(ctx, checkSQL, r.cfg.Table.Sanitize(), []string{columnTime, columnStatus, columnLatency})
	var (
		name       *string
		canSelect  *bool
		col, typ   *string
		found      = map[string]string{}
		tableFound bool
		allowed    bool
	)
	_, err := pgx.ForEachRow(rows, []any{&name, &canSelect, &col, &typ}, func() error {
		tableFound = name != nil
		allowed = canSelect != nil && *canSelect
		if col != nil && typ != nil {
			found[*col] = *typ
		}
		return nil
	})
	if err != nil {
		return r.translate(err)
	}
	if !tableFound {
		return fmt.Errorf("%s: no such table or view (-%s)", r.where, flagRequestsTable)
	}
	var errs []error
	for _, c := range []string{columnTime, columnStatus, columnLatency} {
		typ, has := found[c]
		switch {
		case !has:
			errs = append(errs, fmt.Errorf("%s: no column %q (want %s, as in scripts/schema.sql)", r.where, c, want[c]))
		case !slices.Contains(ok[c], typ):
			errs = append(errs, fmt.Errorf("%s: column %q is %s, want %s", r.where, c, typ, want[c]))
		}
	}
	if !allowed {
		errs = append(errs, fmt.Errorf("%s: this user may not SELECT from it", r.where))
	}
	return errors.Join(errs...)
}

// aggregate runs readSQL and sorts its rows into buckets and days.
func (r *reader) aggregate(ctx context.Context, tx pgx.Tx, p plan) (readResult, error) {
	res := readResult{buckets: make([]Counts, len(p.bounds)), p95ms: make([]int64, len(p.days))}
	for i := range res.p95ms {
		res.p95ms[i] = -1
	}
	if len(p.bounds) == 0 {
		return res, nil // the period has not started
	}
	rows, _ := tx.Query(ctx, readSQL(r.cfg.Table), p.bounds, p.scanStart, p.scanEnd, p.businessDays(), r.cfg.SLO.Latency.Milliseconds())
	var (
		kind string
		key  int64
		c    Counts
		p95  *int64
	)
	_, err := pgx.ForEachRow(rows, []any{&kind, &key, &c.Requests, &c.Unrecorded, &c.Errors, &c.Timed, &c.WithinSLO, &p95}, func() error {
		switch {
		case kind == "bucket" && key >= 1 && int(key) <= len(res.buckets):
			res.buckets[key-1] = c
		case kind == "p95" && key >= 1 && int(key) <= len(res.p95ms):
			if p95 != nil { // NULL: the rank fell on a request without a latency
				res.p95ms[key-1] = *p95
			}
		default:
			return fmt.Errorf("unexpected row (%s, %d) for %d buckets and %d days", kind, key, len(res.buckets), len(res.p95ms))
		}
		return nil
	})
	return res, err
}

// translate puts a pgx error into words that name the table and the
// server, never the DSN.
func (r *reader) translate(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "57014": // query_canceled: by the statement timeout, or by pgx on an interrupt
			if !strings.Contains(pgErr.Message, "statement timeout") {
				return fmt.Errorf("read %s: interrupted", r.where)
			}
			return fmt.Errorf("read %s: still running after -%s %s (statement_timeout); raise -%s, or see the README's index advice", r.where, flagTimeout, r.cfg.Timeout, flagTimeout)
		case "42501": // insufficient_privilege
			return fmt.Errorf("read %s: %s", r.where, pgErr.Message)
		}
		return fmt.Errorf("read %s: PostgreSQL error %s: %s", r.where, pgErr.Code, pgErr.Message)
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("read %s: interrupted", r.where)
	}
	return fmt.Errorf("read %s: %s", r.where, describeCause(err))
}

// describeCause is a connection-level error without pgconn's
// "failed to connect to `user=... database=...`" prefix.
func describeCause(err error) string {
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) && ce.Unwrap() != nil {
		err = ce.Unwrap()
	}
	if errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err) {
		return "timed out"
	}
	// pgconn joins one error per address tried, one per line.
	return strings.ReplaceAll(err.Error(), "\n", "; ")
}

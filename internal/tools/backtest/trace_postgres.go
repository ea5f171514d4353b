package backtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Defaults of the PostgreSQL trace source: the same table options and
// defaults as the apm-rabbitmq plugin, so one table serves both.
const (
	DefaultRequestsTable      = "api_requests"
	DefaultRequestsTimeColumn = "created_at"
	DefaultPostgresTimeout    = 5 * time.Minute
)

// PostgresSource reads the history straight from the requests table: one
// row per request, counted per minute.
type PostgresSource struct {
	DSN                string
	RequestsTable      string // possibly schema-qualified
	RequestsTimeColumn string
	From, To           time.Time     // zero: the table's first minute / last complete minute
	Timeout            time.Duration // for the whole read
}

// ReadPostgresTrace counts the requests table per minute over [From, To),
// with zero for minutes without rows, in a READ ONLY transaction under a
// deadline. Errors name the host and the table, never the DSN.
func ReadPostgresTrace(ctx context.Context, src PostgresSource) (Trace, error) {
	table, col, err := src.identifiers()
	if err != nil {
		return Trace{}, err
	}
	cfg, err := pgx.ParseConfig(src.DSN)
	if err != nil {
		return Trace{}, fmt.Errorf("-postgres: the DSN (not shown) does not parse: %s", parseCause(err))
	}
	addr := net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port)))
	timeout := src.Timeout
	if timeout <= 0 {
		timeout = DefaultPostgresTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return Trace{}, fmt.Errorf("connect to PostgreSQL at %s: %s", addr, connectCause(err))
	}
	defer conn.Close(context.Background())
	var tr Trace
	err = pgx.BeginTxFunc(ctx, conn, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		from, to, err := src.window(ctx, tx, table, col)
		if err != nil {
			return err
		}
		tr, err = countPerMinute(ctx, tx, table, col, from, to)
		return err
	})
	if err != nil {
		return Trace{}, fmt.Errorf("read table %s (time column %s) at %s: %w", table.Sanitize(), col.Sanitize(), addr, err)
	}
	return tr, nil
}

func (src PostgresSource) identifiers() (pgx.Identifier, pgx.Identifier, error) {
	var errs []error
	table, col := src.RequestsTable, src.RequestsTimeColumn
	if table == "" {
		table = DefaultRequestsTable
	}
	if col == "" {
		col = DefaultRequestsTimeColumn
	}
	tparts := strings.Split(table, ".")
	if len(tparts) > 2 || slicesHasEmpty(tparts) {
		errs = append(errs, fmt.Errorf("-requests-table %q: want table or schema.table", table))
	}
	if strings.Contains(col, ".") || col == "" {
		errs = append(errs, fmt.Errorf("-requests-time-column %q: want a column name", col))
	}
	if !src.From.IsZero() && !src.To.IsZero() && !src.From.Before(src.To) {
		errs = append(errs, fmt.Errorf("-from %q is not before -to %q", src.From.Format(time.RFC3339), src.To.Format(time.RFC3339)))
	}
	return pgx.Identifier(tparts), pgx.Identifier{col}, errors.Join(errs...)
}

func slicesHasEmpty(parts []string) bool {
	for _, p := range parts {
		if p == "" {
			return true
		}
	}
	return false
}

// window resolves the zero bounds from the table: from its first minute to
// its last complete one (a minute still in progress looks like a drop).
func (src PostgresSource) window(ctx context.Context, tx pgx.Tx, table, col pgx.Identifier) (time.Time, time.Time, error) {
	from, to := src.From.UTC().Truncate(time.Minute), src.To.UTC().Truncate(time.Minute)
	if from.IsZero() || to.IsZero() {
		var lo, hi *time.Time
		q := "SELECT min(" + col.Sanitize() + "), max(" + col.Sanitize() + ") FROM " + table.Sanitize()
		if err := tx.QueryRow(ctx, q).Scan(&lo, &hi); err != nil {
			return time.Time{}, time.Time{}, err
		}
		if lo == nil || hi == nil {
			return time.Time{}, time.Time{}, errors.New("the table has no rows")
		}
		if from.IsZero() {
			from = lo.UTC().Truncate(time.Minute)
		}
		if to.IsZero() {
			to = hi.UTC().Truncate(time.Minute).Add(time.Minute)
		}
	}
	// A minute still in progress, or a -to in the future, would look like a
	// drop in traffic: stop at the last complete minute.
	if now := time.Now().UTC().Truncate(time.Minute); now.Before(to) {
		to = now
	}
	if !from.Before(to) {
		return time.Time{}, time.Time{}, fmt.Errorf("no complete minute between %s and %s", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	return from, to, nil
}

// countPerMinute is the same per-minute count as the apm-rabbitmq plugin's
// requests_per_minute query, over the whole history.
func countPerMinute(ctx context.Context, tx pgx.Tx, table, col pgx.Identifier, from, to time.Time) (Trace, error) {
	t := col.Sanitize()
	q := `SELECT m.minute, COALESCE(c.n, 0)
FROM generate_series($1::timestamptz, $2::timestamptz - interval '1 minute', interval '1 minute') AS m(minute)
LEFT JOIN (
	SELECT date_trunc('minute', ` + t + `) AS minute, count(*) AS n
	FROM ` + table.Sanitize() + `
	WHERE ` + t + ` >= $1 AND ` + t + ` < $2
	GROUP BY 1
) AS c USING (minute)
ORDER BY m.minute`
	rows, _ := tx.Query(ctx, q, from, to)
	tr := Trace{Start: from, Counts: make([]float64, 0, int(to.Sub(from)/time.Minute))}
	var minute time.Time
	var n int64
	_, err := pgx.ForEachRow(rows, []any{&minute, &n}, func() error {
		if want := tr.MinuteStart(len(tr.Counts)); !minute.Equal(want) {
			return fmt.Errorf("minute %s returned where %s was expected", minute.UTC().Format(time.RFC3339), want.Format(time.RFC3339))
		}
		tr.Counts = append(tr.Counts, float64(n))
		return nil
	})
	return tr, err
}

// connectCause drops pgconn's "failed to connect to `user=... database=...`"
// prefix, which names the user, and keeps the cause.
func connectCause(err error) string {
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) && ce.Unwrap() != nil {
		// pgconn joins one error per address tried, one per line.
		return strings.ReplaceAll(ce.Unwrap().Error(), "\n", "; ")
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timed out"
	}
	return err.Error()
}

func parseCause(err error) string {
	var pe *pgconn.ParseConfigError
	if errors.As(err, &pe) && pe.Unwrap() != nil {
		return pe.Unwrap().Error()
	}
	return "invalid connection string"
}

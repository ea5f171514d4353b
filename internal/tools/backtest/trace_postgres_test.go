package backtest

import (
	"context"
	"testing"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/testenv"
	"github.com/jackc/pgx/v5"
	"github.com/shoenig/test/must"
)

// seedRequests creates a requests table and inserts one row per request.
func seedRequests(t *testing.T, dsn, ddl string, rows map[time.Time]int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	must.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, ddl)
	must.NoError(t, err)
	for ts, n := range rows {
		for range n {
			_, err := conn.Exec(ctx, `INSERT INTO reqs.calls (at) VALUES ($1)`, ts)
			must.NoError(t, err)
		}
	}
}

func TestReadPostgresTraceCountsPerMinuteWithZeroes(t *testing.T) {
	t.Parallel()
	dsn := testenv.FreshDatabase(t)
	base := time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
	seedRequests(t, dsn, `CREATE SCHEMA reqs; CREATE TABLE reqs.calls (id bigserial, at timestamptz NOT NULL)`, map[time.Time]int{
		base.Add(10 * time.Second):              2,
		base.Add(59 * time.Second):              1,
		base.Add(3*time.Minute + 5*time.Second): 4,
	})
	src := PostgresSource{DSN: dsn, RequestsTable: "reqs.calls", RequestsTimeColumn: "at", Timeout: 20 * time.Second}
	tr, err := ReadPostgresTrace(context.Background(), src)
	must.NoError(t, err)
	must.Eq(t, base, tr.Start)
	must.Eq(t, []float64{3, 0, 0, 4}, tr.Counts)

	src.From, src.To = base.Add(time.Minute), base.Add(6*time.Minute)
	tr, err = ReadPostgresTrace(context.Background(), src)
	must.NoError(t, err)
	must.Eq(t, base.Add(time.Minute), tr.Start)
	must.Eq(t, []float64{0, 0, 4, 0, 0}, tr.Counts)
}

func TestReadPostgresTraceStopsAtTheLastCompleteMinuteWhenToIsInTheFuture(t *testing.T) {
	t.Parallel()
	dsn := testenv.FreshDatabase(t)
	from := time.Now().UTC().Truncate(time.Minute).Add(-5 * time.Minute)
	seedRequests(t, dsn, `CREATE SCHEMA reqs; CREATE TABLE reqs.calls (id bigserial, at timestamptz NOT NULL)`,
		map[time.Time]int{from.Add(time.Minute): 3})
	src := PostgresSource{DSN: dsn, RequestsTable: "reqs.calls", RequestsTimeColumn: "at", Timeout: 20 * time.Second,
		From: from, To: from.Add(24 * time.Hour)}
	tr, err := ReadPostgresTrace(context.Background(), src)
	must.NoError(t, err)
	must.Eq(t, from, tr.Start)
	must.Eq(t, 3.0, tr.Counts[1])
	// No zero-filled minutes from the future, nor the minute in progress.
	must.False(t, tr.MinuteStart(tr.Len()).After(time.Now()), must.Sprintf("trace of %d minutes ends in the future", tr.Len()))
	must.Between(t, 5, tr.Len(), 6)
}

func TestReadPostgresTraceErrorsNameTheTableNotTheDSN(t *testing.T) {
	t.Parallel()
	dsn := testenv.FreshDatabase(t)
	src := PostgresSource{DSN: dsn, RequestsTable: "missing", Timeout: 20 * time.Second}
	_, err := ReadPostgresTrace(context.Background(), src)
	must.ErrorContains(t, err, `read table "missing" (time column "created_at")`)
	must.StrNotContains(t, err.Error(), dsn)
}

func TestReadPostgresTraceReportsAnUnreachableServerWithoutCredentials(t *testing.T) {
	t.Parallel()
	src := PostgresSource{DSN: "postgres://admin:s3cret@127.0.0.1:1/db?connect_timeout=2", Timeout: 5 * time.Second}
	_, err := ReadPostgresTrace(context.Background(), src)
	must.ErrorContains(t, err, "connect to PostgreSQL at 127.0.0.1:1")
	must.StrNotContains(t, err.Error(), "s3cret")
	must.StrNotContains(t, err.Error(), "admin")
}

func TestPostgresSourceValidatesItsOptionsTogether(t *testing.T) {
	t.Parallel()
	src := PostgresSource{RequestsTable: "a.b.c", RequestsTimeColumn: "x.y",
		From: time.Unix(100, 0), To: time.Unix(50, 0)}
	_, _, err := src.identifiers()
	must.ErrorContains(t, err, `-requests-table "a.b.c"`)
	must.ErrorContains(t, err, `-requests-time-column "x.y"`)
	must.ErrorContains(t, err, "is not before -to")
}

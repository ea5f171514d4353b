package plugin

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/testenv"
	"github.com/hashicorp/nomad-autoscaler/sdk"
	"github.com/jackc/pgx/v5"
	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/tcpproxy"
)

// schemaFile is the recommended table, shared with the load generator.
const schemaFile = "../../../scripts/schema.sql"

// fixedNow is 30 s into the 10:05 minute, so the 10:05 rows are a partial
// minute that must be left out.
var fixedNow = time.Date(2026, 11, 27, 10, 5, 30, 0, time.UTC)

func minute(m int) time.Time { return time.Date(2026, 11, 27, 10, m, 0, 0, time.UTC) }

// requestsDB is a fresh database with scripts/schema.sql applied.
func requestsDB(t *testing.T) (dsn string, conn *pgx.Conn) {
	t.Helper()
	dsn = testenv.FreshDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	must.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	schema, err := os.ReadFile(schemaFile)
	must.NoError(t, err)
	_, err = conn.Exec(ctx, string(schema))
	must.NoError(t, err)
	return dsn, conn
}

// insertRequests adds n rows one second apart from at.
func insertRequests(t *testing.T, conn *pgx.Conn, at time.Time, n int, model string, status int) {
	t.Helper()
	_, err := conn.Exec(context.Background(),
		`INSERT INTO api_requests (created_at, model, status)
		 SELECT $1::timestamptz + i * interval '1 second', $2, $3 FROM generate_series(0, $4 - 1) AS i`,
		at, model, status, n)
	must.NoError(t, err)
}

// seedMinutes writes a known traffic pattern around fixedNow.
func seedMinutes(t *testing.T, conn *pgx.Conn) {
	t.Helper()
	insertRequests(t, conn, minute(59).Add(-time.Hour), 9, "ocr", 200) // 09:59, before the window
	insertRequests(t, conn, minute(0), 3, "ocr", 200)
	insertRequests(t, conn, minute(0).Add(20*time.Second), 1, "facematch", 500)
	// 10:01 and 10:03 have no rows and must read 0.
	insertRequests(t, conn, minute(2), 2, "ocr", 200)
	insertRequests(t, conn, minute(4), 5, "ocr", 200)
	insertRequests(t, conn, minute(4).Add(30*time.Second), 2, "facematch", 500)
	insertRequests(t, conn, minute(5), 7, "ocr", 200) // the minute in progress at fixedNow
}

// allowInlineSQL is the config key the tests of inline sql: queries add.
var allowInlineSQL = map[string]string{configKeyAllowInlineSQL: "true"}

func postgresPlugin(t *testing.T, dsn string, extra map[string]string) *Plugin {
	t.Helper()
	p := New(testLogger(t))
	p.now = func() time.Time { return fixedNow }
	t.Cleanup(p.shutdown)
	cfg := map[string]string{configKeyPostgresURL: dsn, configKeyQueryTimeout: "2s"}
	for k, v := range extra {
		cfg[k] = v
	}
	must.NoError(t, p.SetConfig(cfg))
	return p
}

func seriesOf(start time.Time, values ...float64) sdk.TimestampedMetrics {
	var s sdk.TimestampedMetrics
	for i, v := range values {
		s = append(s, sdk.TimestampedMetric{Timestamp: start.Add(time.Duration(i) * time.Minute), Value: v})
	}
	return s
}

func TestRequestsPerMinute(t *testing.T) {
	t.Parallel()
	dsn, conn := requestsDB(t)
	seedMinutes(t, conn)
	p := postgresPlugin(t, dsn, map[string]string{configKeyFilterColumns: "model,status"})
	window := sdk.TimeRange{From: minute(0), To: fixedNow}
	cases := []struct {
		name  string
		query string
		want  sdk.TimestampedMetrics
	}{
		{"every complete minute, zero-filled, without the partial one", "postgres:requests_per_minute",
			seriesOf(minute(0), 4, 0, 2, 0, 7)},
		{"filtered on a text column", "postgres:requests_per_minute:model=ocr",
			seriesOf(minute(0), 3, 0, 2, 0, 5)},
		{"filtered on an integer column", "postgres:requests_per_minute:status=500",
			seriesOf(minute(0), 1, 0, 0, 0, 2)},
		{"a filter value is bound, never spliced into the SQL", "postgres:requests_per_minute:model=ocr' OR '1'='1",
			seriesOf(minute(0), 0, 0, 0, 0, 0)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := p.Query(tc.query, window)
			must.NoError(t, err)
			must.Eq(t, tc.want, got)
		})
	}
}

func TestRequestsPerMinuteRefuses(t *testing.T) {
	t.Parallel()
	dsn, conn := requestsDB(t)
	seedMinutes(t, conn)
	p := postgresPlugin(t, dsn, map[string]string{configKeyFilterColumns: `model,status" OR true --`})
	cases := []struct {
		name    string
		query   string
		window  sdk.TimeRange
		wantErr string
	}{
		{"an instant window", "postgres:requests_per_minute", sdk.TimeRange{From: fixedNow, To: fixedNow}, `query_window = "instant"`},
		{"a filter column that is not listed in filter_columns, though it exists", "postgres:requests_per_minute:customer=acme",
			sdk.TimeRange{From: minute(0), To: fixedNow}, `filter column "customer" is refused: it is not listed in filter_columns`},
		{"a listed filter column that does not exist, quoted as an identifier", `postgres:requests_per_minute:status" OR true --=1`,
			sdk.TimeRange{From: minute(0), To: fixedNow}, `column "status" OR true --" does not exist`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := p.Query(tc.query, tc.window)
			must.ErrorContains(t, err, tc.wantErr)
			must.ErrorContains(t, err, fmt.Sprintf("query %q", tc.query))
		})
	}
}

// TestRequestsPerMinuteErrorsNameTheKeysNotTheirValues configures a table
// and a time column that do not exist, named like passwords: PostgreSQL's
// errors quote them, the plugin's name the keys instead.
func TestRequestsPerMinuteErrorsNameTheKeysNotTheirValues(t *testing.T) {
	t.Parallel()
	dsn, _ := requestsDB(t)
	const secret = "s3cr3t-P@ssw0rd_Zq9"
	cases := []struct {
		name    string
		cfg     map[string]string
		wantErr string
	}{
		{"a table that does not exist", map[string]string{configKeyRequestsTable: secret},
			"postgresql error 42P01: the table named by requests_table does not exist"},
		{"a schema that does not exist", map[string]string{configKeyRequestsTable: secret + ".api_requests"},
			"postgresql error 42P01: the table named by requests_table does not exist"},
		{"a time column that does not exist", map[string]string{configKeyRequestsTimeColumn: secret},
			"postgresql error 42703: the column named by requests_time_column does not exist"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := postgresPlugin(t, dsn, tc.cfg).Query("postgres:requests_per_minute", sdk.TimeRange{From: minute(0), To: fixedNow})
			must.ErrorContains(t, err, tc.wantErr)
			mustBeSafeForAgent(t, err, secret)
		})
	}
}

func TestRequestsPerMinuteOnAConfiguredTable(t *testing.T) {
	t.Parallel()
	dsn, conn := requestsDB(t)
	_, err := conn.Exec(context.Background(), `CREATE SCHEMA edge; CREATE TABLE edge."Odd Requests" ("When" timestamptz NOT NULL)`)
	must.NoError(t, err)
	_, err = conn.Exec(context.Background(),
		`INSERT INTO edge."Odd Requests" SELECT $1::timestamptz + i * interval '20 seconds' FROM generate_series(0, 5) AS i`, minute(1))
	must.NoError(t, err)

	p := postgresPlugin(t, dsn, map[string]string{configKeyRequestsTable: "edge.Odd Requests", configKeyRequestsTimeColumn: "When"})
	got, err := p.Query("postgres:requests_per_minute", sdk.TimeRange{From: minute(0), To: minute(4)})
	must.NoError(t, err)
	must.Eq(t, seriesOf(minute(0), 0, 3, 3, 0), got)
}

// TestRequestsPerMinuteOnATimestampWithoutTimeZone is a table whose time
// column holds UTC in a timestamp without time zone, read by a session
// whose TimeZone is not UTC: the README's advice, timezone=UTC in the DSN,
// gives the right minutes, and without it they are shifted.
func TestRequestsPerMinuteOnATimestampWithoutTimeZone(t *testing.T) {
	t.Parallel()
	dsn, conn := requestsDB(t)
	_, err := conn.Exec(context.Background(), `CREATE TABLE utc_requests (at timestamp NOT NULL)`)
	must.NoError(t, err)
	_, err = conn.Exec(context.Background(),
		`INSERT INTO utc_requests SELECT $1::timestamp + i * interval '20 seconds' FROM generate_series(0, 5) AS i`,
		minute(1).Format("2006-01-02 15:04:05"))
	must.NoError(t, err)
	window := sdk.TimeRange{From: minute(0), To: minute(4)}
	cfg := map[string]string{configKeyRequestsTable: "utc_requests", configKeyRequestsTimeColumn: "at"}
	u, err := url.Parse(dsn)
	must.NoError(t, err)
	withZone := func(zone string) string {
		v := u.Query()
		v.Set("timezone", zone)
		z := *u
		z.RawQuery = v.Encode()
		return z.String()
	}

	got, err := postgresPlugin(t, withZone("UTC"), cfg).Query("postgres:requests_per_minute", window)
	must.NoError(t, err)
	must.Eq(t, seriesOf(minute(0), 0, 3, 3, 0), got)

	got, err = postgresPlugin(t, withZone("Asia/Kolkata"), cfg).Query("postgres:requests_per_minute", window)
	must.NoError(t, err)
	must.Eq(t, seriesOf(minute(0), 0, 0, 0, 0), got)
}

func TestSQLQueries(t *testing.T) {
	t.Parallel()
	dsn, conn := requestsDB(t)
	seedMinutes(t, conn)
	p := postgresPlugin(t, dsn, allowInlineSQL)
	window := sdk.TimeRange{From: minute(0), To: minute(5)}

	got, err := p.Query(`postgres:sql:SELECT date_trunc('minute', created_at), count(*) FROM api_requests
		WHERE created_at >= $1 AND created_at < $2 GROUP BY 1 ORDER BY 1 DESC`, window)
	must.NoError(t, err)
	must.Eq(t, sdk.TimestampedMetrics{
		{Timestamp: minute(0), Value: 4}, {Timestamp: minute(2), Value: 2}, {Timestamp: minute(4), Value: 7},
	}, got)

	// The README's example.
	got, err = p.Query(`postgres:sql:SELECT date_bin('1 minute', created_at, $1::timestamptz), count(*) FILTER (WHERE status >= 500) FROM api_requests WHERE created_at >= $1 AND created_at < $2 GROUP BY 1`, window)
	must.NoError(t, err)
	must.Eq(t, sdk.TimestampedMetrics{
		{Timestamp: minute(0), Value: 1}, {Timestamp: minute(2), Value: 0}, {Timestamp: minute(4), Value: 2},
	}, got)

	got, err = p.Query(`postgres:sql:SELECT $2::timestamptz, avg(status)::numeric(10,2) FROM api_requests WHERE created_at >= $1`, window)
	must.NoError(t, err)
	must.Eq(t, sdk.TimestampedMetrics{{Timestamp: minute(5), Value: 245}}, got)

	cases := []struct {
		name    string
		sql     string
		wantErr string
	}{
		{"a NaN value", `SELECT $1::timestamptz, 'NaN'::float8 WHERE $2::timestamptz IS NOT NULL`, "not a number"},
		{"a negative value", `SELECT $1::timestamptz, -3 WHERE $2::timestamptz IS NOT NULL`, "negative (-3)"},
		{"a text value", `SELECT $1::timestamptz, 'many' WHERE $2::timestamptz IS NOT NULL`, "second column is string, want a number"},
		{"a NULL value", `SELECT $1::timestamptz, NULL::int WHERE $2::timestamptz IS NOT NULL`, "second column is NULL"},
		{"three columns", `SELECT $1::timestamptz, 1, 2 WHERE $2::timestamptz IS NOT NULL`, "returns 3 columns, want 2"},
		{"no rows", `SELECT $1::timestamptz, 1 WHERE $2::timestamptz IS NULL`, "returned no rows"},
		{"a syntax error", `SELEKT $1, $2`, `postgresql error 42601: syntax error at or near "SELEKT"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			query := "postgres:sql:" + tc.sql
			got, err := p.Query(query, window)
			must.ErrorContains(t, err, tc.wantErr)
			must.ErrorContains(t, err, fmt.Sprintf("query %q", query))
			must.Nil(t, got)
		})
	}
}

func TestSQLQueriesCannotWrite(t *testing.T) {
	t.Parallel()
	dsn, conn := requestsDB(t)
	seedMinutes(t, conn)
	p := postgresPlugin(t, dsn, allowInlineSQL)
	window := sdk.TimeRange{From: minute(0), To: minute(5)}
	fingerprint := func() string {
		var n, sum int64
		must.NoError(t, conn.QueryRow(context.Background(), `SELECT count(*), sum(status) FROM api_requests`).Scan(&n, &sum))
		return fmt.Sprintf("%d rows, status sum %d", n, sum)
	}
	before := fingerprint()
	cases := []struct {
		name    string
		sql     string
		wantErr string
	}{
		{"an UPDATE", `UPDATE api_requests SET status = 0 WHERE created_at BETWEEN $1 AND $2 RETURNING created_at, status`, "READ ONLY"},
		{"a DELETE", `DELETE FROM api_requests WHERE created_at BETWEEN $1 AND $2 RETURNING created_at, 1`, "READ ONLY"},
		{"a DELETE hidden in a CTE", `WITH d AS (DELETE FROM api_requests RETURNING 1) SELECT $1::timestamptz, count(*) FROM d WHERE $2::timestamptz IS NOT NULL`, "READ ONLY"},
		{"an INSERT", `INSERT INTO api_requests (created_at) VALUES ($1) RETURNING created_at, extract(epoch FROM $2::timestamptz)`, "READ ONLY"},
		{"a second statement", `SELECT $1::timestamptz, 1 WHERE $2::timestamptz IS NOT NULL; DELETE FROM api_requests`, "multiple commands"},
		{"leaving read-only mode", `SELECT $1::timestamptz, 1 FROM set_config('transaction_read_only', 'off', true) WHERE $2::timestamptz IS NOT NULL`, "read-write"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := p.Query("postgres:sql:"+tc.sql, window)
			t.Log(err)
			must.ErrorContains(t, err, tc.wantErr)
			must.Eq(t, before, fingerprint())
		})
	}
}

func TestSQLStatementTimeout(t *testing.T) {
	t.Parallel()
	dsn, _ := requestsDB(t)
	p := postgresPlugin(t, dsn, map[string]string{configKeyQueryTimeout: "3s", configKeyAllowInlineSQL: "true"})
	start := time.Now()
	_, err := p.Query(`postgres:sql:SELECT $1::timestamptz, 1 FROM pg_sleep(60) WHERE $2::timestamptz IS NOT NULL`,
		sdk.TimeRange{From: minute(0), To: minute(5)})
	// The server cancelled the statement: not the client giving up at the
	// query's deadline ("timed out" without "statement").
	must.ErrorContains(t, err, "postgresql statement timed out after ")
	must.ErrorContains(t, err, "(statement_timeout, set from query_timeout)")
	// Not a timing measurement: the query came back long before the sleep
	// would have ended, so it was cut off rather than waited for.
	must.Less(t, 30*time.Second, time.Since(start))
	// The pool is usable afterwards.
	_, err = p.Query("postgres:requests_per_minute", sdk.TimeRange{From: minute(0), To: minute(5)})
	must.NoError(t, err)
}

func TestPostgresDown(t *testing.T) {
	t.Parallel()
	dead := closedLoopbackAddr(t)
	p := postgresPlugin(t, "postgres://app:hunter2@"+dead+"/api?sslmode=disable", nil)
	_, err := p.Query("postgres:requests_per_minute", sdk.TimeRange{From: minute(0), To: minute(5)})
	t.Log(err)
	must.ErrorContains(t, err, "postgresql "+dead+": unreachable")
	mustBeSafeForAgent(t, err, "hunter2", "app:")
}

// TestPostgresGoesDownAndComesBack puts a TCP proxy in front of the shared
// server and stops it once the pool holds a connection: the connection
// drops under the pool, as in a PostgreSQL restart, and the port refuses.
// The errors meanwhile must not make the agent restart its handlers, and
// the query after the server is back, or the one after that, recovers.
func TestPostgresGoesDownAndComesBack(t *testing.T) {
	t.Parallel()
	dsn, conn := requestsDB(t)
	seedMinutes(t, conn)
	u, err := url.Parse(dsn)
	must.NoError(t, err)
	proxy := tcpproxy.Start(t, u.Host)
	u.Host = proxy.Addr()
	clock := &fakeClock{t: at(t, "10:05:40")}
	p := cachingPostgresPlugin(t, u.String(), clock)
	window := sdk.TimeRange{From: minute(0), To: clock.now()}
	got, err := p.Query("postgres:requests_per_minute", window)
	must.NoError(t, err)
	must.Eq(t, seriesOf(minute(0), 4, 0, 2, 0, 7), got)

	// A minute later 10:05 has settled and is not cached yet, so every
	// query reads it from PostgreSQL: the cache cannot answer alone.
	clock.set(at(t, "10:06:40"))
	window.To = clock.now()
	want := seriesOf(minute(0), 4, 0, 2, 0, 7, 7)
	proxy.Stop()
	for range 2 {
		_, err := p.Query("postgres:requests_per_minute", window)
		t.Log(err)
		must.RegexMatch(t, regexp.MustCompile(`^query "postgres:requests_per_minute": postgresql `+regexp.QuoteMeta(proxy.Addr())+
			`: (closed the connection unexpectedly|unreachable \(nothing listening on the port\))`), err.Error())
		mustBeSafeForAgent(t, err)
	}

	proxy.Restart()
	var recovered bool
	for range 2 {
		if got, err := p.Query("postgres:requests_per_minute", window); err == nil {
			must.Eq(t, want, got)
			recovered = true
			break
		}
	}
	must.True(t, recovered, must.Sprint("neither of the two queries after the restart recovered"))
}

func TestPostgresPoolBoundsConcurrentQueries(t *testing.T) {
	t.Parallel()
	dsn, conn := requestsDB(t)
	var db string
	must.NoError(t, conn.QueryRow(context.Background(), "SELECT current_database()").Scan(&db))
	p := postgresPlugin(t, dsn, map[string]string{configKeyPostgresMaxConns: "2", configKeyQueryTimeout: "10s", configKeyAllowInlineSQL: "true"})

	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		maxConns int
		failures []string
		stop     = make(chan struct{})
	)
	sample := func() {
		var n int
		err := conn.QueryRow(context.Background(),
			`SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND application_name = $2`, db, PluginName).Scan(&n)
		must.NoError(t, err)
		maxConns = max(maxConns, n)
	}
	for range 6 {
		wg.Go(func() {
			_, err := p.Query(`postgres:sql:SELECT $1::timestamptz, 1 FROM pg_sleep(0.3) WHERE $2::timestamptz IS NOT NULL`,
				sdk.TimeRange{From: minute(0), To: minute(5)})
			if err != nil {
				mu.Lock()
				failures = append(failures, err.Error())
				mu.Unlock()
			}
		})
	}
	go func() { wg.Wait(); close(stop) }()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for done := false; !done; {
		select {
		case <-stop:
			done = true
		case <-tick.C:
			sample()
		}
	}
	must.Eq(t, "", strings.Join(failures, "; "))
	must.Eq(t, 2, maxConns)
}

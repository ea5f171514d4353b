package sli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/testenv"
	"github.com/jackc/pgx/v5"
	"github.com/shoenig/test/must"
)

// The apm-rabbitmq plugin's benchmark table: 7 days at 2M requests/day,
// made by scripts/seed-requests.sh (400 distinct latencies, 1% status 500).
const (
	apmBenchDatabase = "apm_rabbitmq_bench"
	apmBenchDays     = 7
	apmBenchPerDay   = 2_000_000
)

// BenchmarkReadAPMBenchTable reports every local day (Asia/Kolkata) of the
// 14M-row benchmark table of the apm-rabbitmq plugin: the whole table is
// read, as a month is read from a table that holds a month. It reports
// rows/s, the figure the README extrapolates to 1.8 billion rows.
func BenchmarkReadAPMBenchTable(b *testing.B) {
	dsn := apmBenchTable(b)
	first, last := tableSpan(b, dsn, "api_requests")
	ist := zone(b, "Asia/Kolkata")
	benchRead(b, dsn, "api_requests", localDate(first, ist), localDate(last, ist), "Asia/Kolkata")
}

// The index benchmark's tables: 180 days at 50,000 requests a day, of
// which a 28-day month is read, with latencies spread as real ones are
// (log-normal around 700 ms, capped at 30 s: thousands of distinct
// values, which is what the histogram's size depends on), 1% 5xx and 2%
// 4xx. One table per way of indexing created_at.
const (
	indexBenchDatabase = "sli_bench"
	indexBenchDays     = 180
	indexBenchPerDay   = 50_000
)

var indexBenchTables = []struct{ name, ddl string }{
	// scripts/schema.sql: a plain btree.
	{"requests_btree", "CREATE INDEX ON %s (created_at)"},
	// A BRIN index alone: a few pages for the whole table.
	{"requests_brin", "CREATE INDEX ON %s USING brin (created_at)"},
	// A btree that covers the read: index-only scans once vacuumed.
	{"requests_covering", "CREATE INDEX ON %s (created_at) INCLUDE (status, latency_ms)"},
}

// BenchmarkReadMonthByIndex reads the same 28-day month, and the 84 days
// that start with it, from three copies of a 180-day table that differ
// only in how created_at is indexed. The difference between the two is the
// cost of 56 days of rows without the fixed costs of a read (connecting,
// planning, JIT compilation, the p95 step), which is the rate to
// extrapolate from.
func BenchmarkReadMonthByIndex(b *testing.B) {
	dsn := indexBenchDatabaseDSN(b)
	for _, tb := range indexBenchTables {
		for _, days := range []int{28, 84} {
			b.Run(fmt.Sprintf("%s/%dd", tb.name, days), func(b *testing.B) {
				first, _ := tableSpan(b, dsn, tb.name)
				from := localDate(first, time.UTC).AddDate(0, 0, 76)
				benchRead(b, dsn, tb.name, from, from.AddDate(0, 0, days-1), "UTC")
			})
		}
	}
}

// benchRead runs the report of [from, to] over table b.N times and reports
// the rows it read per second.
func benchRead(b *testing.B, dsn, table string, from, to time.Time, tz string) {
	b.Helper()
	now := time.Now()
	cfg, err := parseFlags([]string{"-postgres", dsn, "-requests-table", table, "-tz", tz,
		"-from", from.Format(time.DateOnly), "-to", to.Format(time.DateOnly)}, noEnv, io.Discard, now)
	must.NoError(b, err)
	b.Logf("plan of the read: %s", explainRead(b, cfg, now))
	var rows int64
	var read time.Duration
	for b.Loop() {
		rep, err := Run(context.Background(), cfg, now)
		if err != nil {
			b.Fatal(err)
		}
		rows, read = rep.RowsRead, read+rep.Elapsed
	}
	b.ReportMetric(float64(rows), "rows")
	b.ReportMetric(float64(rows)*float64(b.N)/read.Seconds(), "rows/s")
}

// scanNode matches the plan lines that read the table or its indexes.
var scanNode = regexp.MustCompile(`(Seq|Index|Index Only|Bitmap Heap|Bitmap Index) Scan`)

// explainRead is the scan nodes of the read's plan: how the rows are
// reached.
func explainRead(b *testing.B, cfg Config, now time.Time) string {
	b.Helper()
	p := newPlan(cfg.From, cfg.To, cfg.Location, cfg.Hours, now)
	ctx := context.Background()
	conn, err := pgx.ConnectConfig(ctx, cfg.Postgres)
	must.NoError(b, err)
	defer conn.Close(ctx)
	rows, _ := conn.Query(ctx, "EXPLAIN "+readSQL(cfg.Table), p.bounds, p.scanStart, p.scanEnd, p.businessDays(), cfg.SLO.Latency.Milliseconds())
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	must.NoError(b, err)
	var scans []string
	for _, l := range lines {
		if scanNode.MatchString(l) {
			scans = append(scans, strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(l), "->")))
		}
	}
	return strings.Join(scans, "; ")
}

// tableSpan is the first and last created_at of a table.
func tableSpan(b *testing.B, dsn, table string) (time.Time, time.Time) {
	b.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	must.NoError(b, err)
	defer conn.Close(ctx)
	var first, last time.Time
	t := pgx.Identifier{table}.Sanitize()
	must.NoError(b, conn.QueryRow(ctx, "SELECT min(created_at), max(created_at) FROM "+t).Scan(&first, &last))
	return first, last
}

func localDate(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// estimatedRows is the planner's row count of a table (exact after VACUUM
// ANALYZE, and instant), 0 when there is no such table.
func estimatedRows(b *testing.B, dsn, table string) float64 {
	b.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	must.NoError(b, err)
	defer conn.Close(ctx)
	var rows float64
	must.NoError(b, conn.QueryRow(ctx, "SELECT coalesce((SELECT reltuples FROM pg_class WHERE oid = to_regclass($1)), 0)", table).Scan(&rows))
	return rows
}

// apmBenchTable returns the DSN of the apm-rabbitmq benchmark database,
// seeding it as that plugin's benchmark does when it is missing or short
// (about two minutes; only under -bench).
func apmBenchTable(b *testing.B) string {
	b.Helper()
	dsn := testenv.KeptDatabase(b, apmBenchDatabase)
	if rows := estimatedRows(b, dsn, "api_requests"); rows >= 0.99*apmBenchDays*apmBenchPerDay {
		return dsn
	}
	b.Logf("seeding %s with %d days x %d requests/day", apmBenchDatabase, apmBenchDays, apmBenchPerDay)
	cmd := exec.Command("bash", "../../../scripts/seed-requests.sh", "--truncate",
		"--days", strconv.Itoa(apmBenchDays), "--per-day", strconv.Itoa(apmBenchPerDay))
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dsn)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	must.NoError(b, cmd.Run())
	return dsn
}

// indexBenchDatabaseDSN returns the DSN of the index benchmark's database,
// building the tables that are missing (a few minutes; only under -bench,
// kept between runs).
func indexBenchDatabaseDSN(b *testing.B) string {
	b.Helper()
	dsn := testenv.KeptDatabase(b, indexBenchDatabase)
	ctx := context.Background()
	for _, tb := range indexBenchTables {
		if estimatedRows(b, dsn, tb.name) >= 0.99*indexBenchDays*indexBenchPerDay {
			continue
		}
		b.Logf("building %s.%s: %d days x %d requests/day", indexBenchDatabase, tb.name, indexBenchDays, indexBenchPerDay)
		conn, err := pgx.Connect(ctx, dsn)
		must.NoError(b, err)
		t := pgx.Identifier{tb.name}.Sanitize()
		// Rows in time order, as the API appends them; pseudo-random but
		// fixed draws from the row number, so every table and every build
		// holds the same data.
		_, err = conn.Exec(ctx, fmt.Sprintf(`DROP TABLE IF EXISTS %[1]s;
CREATE TABLE %[1]s (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now(),
    model      text,
    customer   text,
    status     integer,
    latency_ms integer
);
INSERT INTO %[1]s (created_at, model, customer, status, latency_ms)
SELECT timestamptz '2026-01-01 00:00Z' + i * (interval '1 day' / %[2]d),
       (ARRAY['ekyc.facematch', 'ekyc.ocr', 'ekyc.liveness', 'ekyc.docclass'])[1 + i %% 4],
       'customer-' || (i * 7919 %% 50),
       CASE WHEN i %% 100 = 7 THEN 500 WHEN i %% 50 = 3 THEN 429 ELSE 200 END,
       least(30000, round(exp(ln(700) + 0.5 * sqrt(-2 * ln(u1)) * cos(2 * pi() * u2))))::int
FROM generate_series(0::bigint, %[3]d - 1) AS i,
     LATERAL (SELECT ((i * 2654435761) %% 1000003 + 0.5) / 1000003.0 AS u1,
                     ((i * 40503 + 12345) %% 999983 + 0.5) / 999983.0 AS u2) AS u`, t, indexBenchPerDay, indexBenchDays*indexBenchPerDay))
		must.NoError(b, err)
		_, err = conn.Exec(ctx, fmt.Sprintf(tb.ddl, t))
		must.NoError(b, err)
		// VACUUM cannot share an implicit transaction with the rest.
		_, err = conn.Exec(ctx, "VACUUM (ANALYZE) "+t)
		must.NoError(b, err)
		conn.Close(ctx)
	}
	return dsn
}

// BenchmarkWatchTick is watch mode's cost on the 14M-row benchmark table of
// the apm-rabbitmq plugin (2M requests a day), at 18:00 Kolkata on its last
// whole day: "first" is the first read (today's business window since
// 08:00, ten hours of rows), "steady" a read a minute later (the new minute
// and the five -settle minutes again). It reports the rows each read
// covers.
func BenchmarkWatchTick(b *testing.B) {
	dsn := apmBenchTable(b)
	first, last := tableSpan(b, dsn, "api_requests")
	ist := zone(b, "Asia/Kolkata")
	day := localDate(last, ist).AddDate(0, 0, -1)
	if !day.After(localDate(first, ist)) {
		b.Skip("the benchmark table holds no whole day")
	}
	now := time.Date(day.Year(), day.Month(), day.Day(), 18, 0, 0, 0, ist)
	cfg, err := parseFlags([]string{"-postgres", dsn, "-listen", "127.0.0.1:0", "-tz", "Asia/Kolkata"}, noEnv, io.Discard, now)
	must.NoError(b, err)
	ctx := context.Background()
	b.Run("first", func(b *testing.B) {
		var rows int64
		for b.Loop() {
			_, rows, err = newWatcher(cfg, newReader(cfg).readCounts).tick(ctx, now)
			must.NoError(b, err)
		}
		b.ReportMetric(float64(rows), "rows/read")
	})
	b.Run("steady", func(b *testing.B) {
		w := newWatcher(cfg, newReader(cfg).readCounts)
		_, _, err := w.tick(ctx, now)
		must.NoError(b, err)
		var rows int64
		at := now
		for b.Loop() {
			at = at.Add(time.Minute)
			_, rows, err = w.tick(ctx, at)
			must.NoError(b, err)
		}
		b.ReportMetric(float64(rows), "rows/read")
	})
}

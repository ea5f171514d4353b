package sli

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/poll"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/promtest"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/syncbuf"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/testenv"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/cli"
	"github.com/jackc/pgx/v5"
	"github.com/shoenig/test/must"
)

// request is one row of the requests table; a nil status or latency is
// NULL.
type request struct {
	at      time.Time
	status  *int32
	latency *int32
}

func ok(at time.Time, latencyMs int32) request {
	return request{at: at, status: ptr(int32(200)), latency: ptr(latencyMs)}
}

func withStatus(at time.Time, status, latencyMs int32) request {
	return request{at: at, status: ptr(status), latency: ptr(latencyMs)}
}

func noStatus(at time.Time) request { return request{at: at} }

// repeat is n copies of r.
func repeat(n int, r request) []request {
	out := make([]request, n)
	for i := range out {
		out[i] = r
	}
	return out
}

// requestsDatabase is a fresh database with the requests table of
// scripts/schema.sql holding rows.
func requestsDatabase(t *testing.T, rows []request) string {
	t.Helper()
	dsn := testenv.FreshDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	must.NoError(t, err)
	defer conn.Close(ctx)
	schema, err := os.ReadFile("../../../scripts/schema.sql")
	must.NoError(t, err)
	_, err = conn.Exec(ctx, string(schema))
	must.NoError(t, err)
	_, err = conn.CopyFrom(ctx, pgx.Identifier{"api_requests"}, []string{"created_at", "model", "status", "latency_ms"},
		pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
			return []any{rows[i].at, "ekyc.ocr", rows[i].status, rows[i].latency}, nil
		}))
	must.NoError(t, err)
	return dsn
}

// runFlags parses args (with -postgres dsn) at now and runs the report.
func runFlags(t *testing.T, dsn string, now time.Time, args ...string) (*Report, error) {
	t.Helper()
	cfg, err := parseFlags(append([]string{"-postgres", dsn, "-timeout", "1m"}, args...), noEnv, io.Discard, now)
	must.NoError(t, err)
	return Run(context.Background(), cfg, now)
}

func TestDaysThatMeetMissOnAvailabilityMissOnLatencyAndHaveNoBusinessRequests(t *testing.T) {
	t.Parallel()
	ist := zone(t, "Asia/Kolkata")
	at := func(day, hh, mm, ss int) time.Time { return time.Date(2026, 11, day, hh, mm, ss, 0, ist) }
	var rows []request
	// 2 November meets, exactly at 99%: 396 successes taking 5 ms to
	// 1,980 ms, one 503 and three without a status (the API never wrote
	// an answer: they count as failed), 4 of 400. The nearest-rank p95 of
	// 396 latencies is the 377th: 1,885 ms.
	for i := range 396 {
		rows = append(rows, ok(at(2, 9, 0, i), int32(5*(i+1))))
	}
	rows = append(rows, withStatus(at(2, 12, 0, 0), 503, 30000))
	rows = append(rows, repeat(3, noStatus(at(2, 13, 0, 0)))...)
	// Outside business hours, [08:00, 22:00): a failure a second before
	// the window and one at its end count in requests only.
	rows = append(rows, withStatus(at(2, 7, 59, 59), 500, 10), withStatus(at(2, 22, 0, 0), 500, 10))
	// 3 November misses on availability: 97 of 100.
	rows = append(rows, repeat(97, ok(at(3, 10, 0, 0), 100))...)
	rows = append(rows, repeat(3, withStatus(at(3, 21, 59, 59), 504, 30000))...)
	// 4 November misses on latency: 95th of 100 is 4 s. A 404 is a
	// success: the API answered.
	rows = append(rows, repeat(89, ok(at(4, 8, 0, 0), 1000))...)
	rows = append(rows, withStatus(at(4, 8, 0, 0), 404, 1000))
	rows = append(rows, repeat(10, ok(at(4, 20, 0, 0), 4000))...)
	// 5 November has requests at night only.
	rows = append(rows, ok(at(5, 2, 0, 0), 100), withStatus(at(5, 23, 0, 0), 500, 100))
	// The days around the period are not read.
	rows = append(rows, withStatus(at(1, 23, 59, 59), 500, 1), withStatus(at(6, 0, 0, 0), 500, 1))
	dsn := requestsDatabase(t, rows)

	now := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	rep, err := runFlags(t, dsn, now, "-from", "2026-11-02", "-to", "2026-11-05", "-tz", "Asia/Kolkata",
		"-business-hours", "08:00-22:00", "-latency-slo", "3s", "-availability-slo", "99")
	must.NoError(t, err)

	want := []Day{
		{Date: "2026-11-02", Requests: 402, BusinessRequests: 400, Failed: 4, Unrecorded: 3,
			AvailabilityPct: ptr(99.0), LatencyPct: ptr(100.0), P95S: ptr(1.885), Met: ptr(true), BudgetRemainingPct: ptr(33.333333)},
		{Date: "2026-11-03", Requests: 100, BusinessRequests: 100, Failed: 3,
			AvailabilityPct: ptr(97.0), LatencyPct: ptr(100.0), P95S: ptr(0.1), Met: ptr(false), BudgetRemainingPct: ptr(-16.666667),
			missed: []string{"availability"}},
		{Date: "2026-11-04", Requests: 100, BusinessRequests: 100,
			AvailabilityPct: ptr(100.0), LatencyPct: ptr(90.0), P95S: ptr(4.0), Met: ptr(false), BudgetRemainingPct: ptr(-16.666667),
			missed: []string{"latency"}},
		{Date: "2026-11-05", Requests: 2, BudgetRemainingPct: ptr(-16.666667)},
	}
	must.Eq(t, want, rep.Days)
	// 600 business requests at 99% allow 6 failures; 7 failed: 4 on the
	// 2nd (a third of the budget left), 3 on the 3rd.
	must.Eq(t, ptr(-16.666667), rep.ErrorBudgetRemainingPct)
	must.Eq(t, 1, rep.DaysMet)
	must.Eq(t, 3, rep.DaysScored)
	// The last hour and six hours of 5 November hold no business request.
	must.Nil(t, rep.BurnRate1h)
	must.Nil(t, rep.BurnRate6h)
	must.Eq(t, int64(604), rep.RowsRead)
	must.Eq(t, "2026-11-02T00:00:00+05:30", rep.ReadFrom)
	must.Eq(t, "2026-11-06T00:00:00+05:30", rep.ReadUntil)
}

func TestTodaysBurnRatesAreOverTheBusinessRequestsOfTheLastHourAndSixHours(t *testing.T) {
	t.Parallel()
	ist := zone(t, "Asia/Kolkata")
	at := func(hh, mm int) time.Time { return time.Date(2026, 11, 6, hh, mm, 0, 0, ist) }
	var rows []request
	rows = append(rows, repeat(8, ok(at(9, 0), 200))...)
	rows = append(rows, repeat(2, withStatus(at(9, 0), 500, 200))...)
	rows = append(rows, repeat(3, ok(at(11, 30), 200))...)
	rows = append(rows, withStatus(at(11, 30), 502, 200))
	// Before business hours: in the six hours, not in business.
	rows = append(rows, repeat(5, withStatus(at(7, 0), 500, 200))...)
	// After now: a clock running ahead must not count.
	rows = append(rows, repeat(5, withStatus(at(12, 30), 500, 200))...)
	dsn := requestsDatabase(t, rows)

	now := at(12, 0)
	rep, err := runFlags(t, dsn, now, "-from", "2026-11-06", "-to", "2026-11-06", "-tz", "Asia/Kolkata")
	must.NoError(t, err)
	// Last hour: 1 of 4 failed, 25% against 1% allowed. Six hours: 3 of 14.
	must.Eq(t, ptr(25.0), rep.BurnRate1h)
	must.InDelta(t, 3.0/14/0.01, *rep.BurnRate6h, 1e-6)
	must.Eq(t, "2026-11-06T12:00:00+05:30", rep.ReadUntil)
	must.True(t, rep.Days[0].Partial)
	must.Eq(t, int64(19), rep.Days[0].Requests)
	must.Eq(t, int64(14), rep.Days[0].BusinessRequests)
}

func TestAWindowWrappingPastMidnightBelongsToTheDayItStarts(t *testing.T) {
	t.Parallel()
	at := func(day, hh, mm int) time.Time { return time.Date(2026, 11, day, hh, mm, 0, 0, time.UTC) }
	rows := []request{
		withStatus(at(2, 1, 0), 500, 1), // in 1 November's window: before the period
		ok(at(2, 23, 0), 100),           // 2 November's window
		withStatus(at(3, 5, 59), 503, 1),
		ok(at(3, 6, 0), 100), // between the windows
		ok(at(3, 21, 59), 100),
		ok(at(3, 22, 0), 100), // 3 November's window, which ends on the 4th
		ok(at(4, 5, 0), 200),
		ok(at(4, 6, 0), 100), // after it: not read
	}
	dsn := requestsDatabase(t, rows)
	rep, err := runFlags(t, dsn, time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC),
		"-from", "2026-11-02", "-to", "2026-11-03", "-business-hours", "22:00-06:00", "-latency-slo", "150ms")
	must.NoError(t, err)
	must.Eq(t, "2026-11-04T06:00:00Z", rep.ReadUntil)
	d2, d3 := rep.Days[0], rep.Days[1]
	must.Eq(t, int64(2), d2.Requests) // the calendar day: 01:00 and 23:00
	must.Eq(t, int64(2), d2.BusinessRequests)
	must.Eq(t, int64(1), d2.Failed)
	must.Eq(t, ptr(50.0), d2.AvailabilityPct)
	must.Eq(t, int64(4), d3.Requests)
	must.Eq(t, int64(2), d3.BusinessRequests)
	must.Eq(t, ptr(100.0), d3.AvailabilityPct)
	must.Eq(t, ptr(50.0), d3.LatencyPct) // 100 ms within 150 ms, 200 ms not
	must.Eq(t, ptr(0.2), d3.P95S)
	// The last hour before 06:00 on the 4th: the 05:00 success.
	must.Eq(t, ptr(0.0), rep.BurnRate1h)
}

func TestDaysAndWindowsFollowTheLocalClockAcrossAFallBack(t *testing.T) {
	t.Parallel()
	utc := func(day, hh, mm int) time.Time { return time.Date(2026, 11, day, hh, mm, 0, 0, time.UTC) }
	// New York, Sunday 1 November 2026: 02:00 EDT becomes 01:00 EST. The
	// 00:00-02:00 window lasts three hours and the day 25.
	rows := []request{
		ok(utc(1, 4, 30), 100),                                  // 00:30 EDT
		ok(utc(1, 5, 30), 100),                                  // 01:30 EDT
		withStatus(utc(1, 6, 30), 500, 100),                     // 01:30 EST: the repeated hour is in business hours
		withStatus(utc(1, 7, 30), 500, 100),                     // 02:30 EST: after them
		withStatus(utc(2, 4, 30), 500, 100),                     // 23:30 EST on the 1st: same calendar day
		ok(utc(2, 5, 30), 100),                                  // 00:30 EST on the 2nd
		ok(time.Date(2026, 10, 31, 4, 30, 0, 0, time.UTC), 100), // 00:30 EDT on the 31st
	}
	dsn := requestsDatabase(t, rows)
	rep, err := runFlags(t, dsn, time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC),
		"-from", "2026-10-31", "-to", "2026-11-02", "-tz", "America/New_York", "-business-hours", "00:00-02:00")
	must.NoError(t, err)
	got := make([][3]int64, len(rep.Days))
	for i, d := range rep.Days {
		got[i] = [3]int64{d.Requests, d.BusinessRequests, d.Failed}
	}
	must.Eq(t, [][3]int64{{1, 1, 0}, {5, 3, 1}, {1, 1, 0}}, got)
}

func TestTheP95IsNearestRankAsPercentileDisc(t *testing.T) {
	t.Parallel()
	// One day per sample size, with latencies from a few distinct values
	// (many ties) or many.
	rng := rand.New(rand.NewPCG(1, 2))
	sizes := []int{1, 2, 19, 20, 21, 39, 40, 41, 99, 100, 101, 199, 200, 201, 997, 1000, 1003}
	var rows []request
	for i, n := range sizes {
		day := time.Date(2026, 10, 1+i, 9, 0, 0, 0, time.UTC)
		spread := int32(5)
		if i%2 == 1 {
			spread = 5000
		}
		for range n {
			rows = append(rows, ok(day, 1+rng.Int32N(spread)))
		}
		rows = append(rows, withStatus(day, 500, 99999)) // failures have no say in latency
	}
	dsn := requestsDatabase(t, rows)
	rep, err := runFlags(t, dsn, time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), "-from", "2026-10-01", "-to", "2026-10-17")
	must.NoError(t, err)

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	must.NoError(t, err)
	defer conn.Close(ctx)
	for i, d := range rep.Days {
		var want int64
		must.NoError(t, conn.QueryRow(ctx, `SELECT percentile_disc(0.95) WITHIN GROUP (ORDER BY latency_ms)
			FROM api_requests WHERE created_at::date = $1::date AND status < 500`, d.Date).Scan(&want))
		must.Eq(t, float64(want)/1000, *d.P95S, must.Sprintf("day %s with %d requests", d.Date, sizes[i]))
	}
}

func TestSuccessfulRequestsWithoutALatencyRankAfterEveryLatency(t *testing.T) {
	t.Parallel()
	at := func(day int) time.Time { return time.Date(2026, 11, day, 9, 0, 0, 0, time.UTC) }
	noLatency := func(day int) request { return request{at: at(day), status: ptr(int32(200))} }
	// 2 November: 38 of 40 successful requests took 100 ms, 2 have no
	// latency; rank 38 of 40 is 100 ms. 3 November: 18 of 20, rank 19 is
	// a request without a latency, so the p95 is unknown and the day has
	// not shown it met the latency SLO.
	rows := append(repeat(38, ok(at(2), 100)), repeat(2, noLatency(2))...)
	rows = append(rows, repeat(18, ok(at(3), 100))...)
	rows = append(rows, repeat(2, noLatency(3))...)
	dsn := requestsDatabase(t, rows)
	rep, err := runFlags(t, dsn, time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), "-from", "2026-11-02", "-to", "2026-11-03")
	must.NoError(t, err)
	d2, d3 := rep.Days[0], rep.Days[1]
	must.Eq(t, ptr(95.0), d2.LatencyPct)
	must.Eq(t, ptr(0.1), d2.P95S)
	must.Eq(t, ptr(true), d2.Met)
	must.Eq(t, ptr(90.0), d3.LatencyPct)
	must.Nil(t, d3.P95S)
	must.Eq(t, ptr(false), d3.Met)
	must.Eq(t, []string{"latency"}, d3.missed)
}

func TestAMissingTableOrColumnIsNamed(t *testing.T) {
	t.Parallel()
	dsn := requestsDatabase(t, nil)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	must.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `CREATE SCHEMA ekyc;
		CREATE TABLE ekyc.no_latency (created_at timestamptz, status int);
		CREATE TABLE ekyc.naive_time (created_at timestamp, status text, latency_ms int)`)
	must.NoError(t, err)
	now := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	period := []string{"-from", "2026-11-01", "-to", "2026-11-02"}
	cfg, err := pgx.ParseConfig(dsn)
	must.NoError(t, err)
	server := fmt.Sprintf("in database %q at %s:%d", cfg.Database, cfg.Host, cfg.Port)

	_, err = runFlags(t, dsn, now, append(period, "-requests-table", "requests")...)
	must.EqError(t, err, `table "requests`+`" `+server+`: no such table or view (-requests-table)`)

	_, err = runFlags(t, dsn, now, append(period, "-requests-table", "ekyc.no_latency")...)
	must.ErrorContains(t, err, `table "ekyc"."no_latency" `+server+`: no column "latency_ms" (want an integer, as in scripts/schema.sql)`)

	_, err = runFlags(t, dsn, now, append(period, "-requests-table", "ekyc.naive_time")...)
	must.ErrorContains(t, err, `column "created_at" is timestamp without time zone, want timestamptz`)
	must.ErrorContains(t, err, `column "status" is text, want an integer`)
}

func TestTheReadCannotWrite(t *testing.T) {
	t.Parallel()
	dsn := requestsDatabase(t, []request{ok(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC), 100)})
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	must.NoError(t, err)
	defer conn.Close(ctx)
	// A view whose rows come from a function that writes.
	_, err = conn.Exec(ctx, `CREATE TABLE audit (at timestamptz);
		CREATE FUNCTION audited(t timestamptz) RETURNS timestamptz LANGUAGE plpgsql AS
			$$BEGIN INSERT INTO audit VALUES (t); RETURN t; END$$;
		CREATE VIEW audited_requests AS SELECT audited(created_at) AS created_at, status, latency_ms FROM api_requests`)
	must.NoError(t, err)
	_, err = runFlags(t, dsn, time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC),
		"-from", "2026-11-02", "-to", "2026-11-02", "-requests-table", "audited_requests")
	must.ErrorContains(t, err, "read-only transaction")
	var n int
	must.NoError(t, conn.QueryRow(ctx, "SELECT count(*) FROM audit").Scan(&n))
	must.Zero(t, n)
}

func TestAReadLongerThanTheTimeoutIsCancelledAndSaysWhichFlagToRaise(t *testing.T) {
	t.Parallel()
	dsn := requestsDatabase(t, []request{ok(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC), 100)})
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	must.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `CREATE VIEW slow_requests AS
		SELECT created_at, status, latency_ms FROM api_requests, LATERAL (SELECT pg_sleep(5)) AS s`)
	must.NoError(t, err)
	cfg, err := parseFlags([]string{"-postgres", dsn, "-from", "2026-11-02", "-to", "2026-11-02",
		"-requests-table", "slow_requests", "-timeout", "200ms"}, noEnv, io.Discard, time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC))
	must.NoError(t, err)
	start := time.Now()
	_, err = Run(ctx, cfg, time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC))
	must.ErrorContains(t, err, `read table "slow_requests"`)
	must.ErrorContains(t, err, "still running after -timeout 200ms (statement_timeout); raise -timeout")
	must.Less(t, 5*time.Second, time.Since(start))
}

func TestAnInterruptedReadSaysSo(t *testing.T) {
	t.Parallel()
	dsn := requestsDatabase(t, []request{ok(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC), 100)})
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	must.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `CREATE VIEW slow_requests AS
		SELECT created_at, status, latency_ms FROM api_requests, LATERAL (SELECT pg_sleep(5)) AS s`)
	must.NoError(t, err)
	now := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	cfg, err := parseFlags([]string{"-postgres", dsn, "-from", "2026-11-02", "-to", "2026-11-02", "-requests-table", "slow_requests"}, noEnv, io.Discard, now)
	must.NoError(t, err)
	readCtx, cancel := context.WithTimeout(ctx, 500*time.Millisecond) // as Ctrl-C would, mid-statement
	defer cancel()
	start := time.Now()
	_, err = Run(readCtx, cfg, now)
	must.ErrorContains(t, err, `read table "slow_requests" in database`)
	must.ErrorContains(t, err, "interrupted")
	must.Less(t, 5*time.Second, time.Since(start))
}

func TestAnUnreachableServerIsNamedWithoutCredentials(t *testing.T) {
	t.Parallel()
	cfg, err := parseFlags([]string{"-postgres", "postgres://reader:s3cret@127.0.0.1:1/api", "-from", "2026-11-02", "-to", "2026-11-02",
		"-connect-timeout", "5s"}, noEnv, io.Discard, time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC))
	must.NoError(t, err)
	_, err = Run(context.Background(), cfg, time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC))
	must.ErrorContains(t, err, `connect to PostgreSQL for table "api_requests" in database "api" at 127.0.0.1:1: `)
	must.StrNotContains(t, err.Error(), "s3cret")
	must.StrNotContains(t, err.Error(), "reader")
}

func TestMainPrintsTheTableAndWritesTheFiles(t *testing.T) {
	t.Parallel()
	day := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	dsn := requestsDatabase(t, append(repeat(99, ok(day, 100)), withStatus(day, 500, 100)))
	out := t.TempDir() + "/report"
	var stdout, stderr strings.Builder
	// The DSN from the environment: nothing secret on the command line.
	env := cli.Env{Args: []string{"-from", "2026-11-02", "-to", "2026-11-02", "-out", out},
		Getenv: func(k string) string { return map[string]string{envDSN: dsn}[k] }, Stdout: &stdout, Stderr: &stderr}
	err := mainAt(context.Background(), env, time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC))
	must.NoError(t, err)
	must.StrContains(t, stdout.String(), "  2026-11-02       100       100       1       99.000%   100.000%  0.100s         0.0%  yes\n")
	must.StrContains(t, stdout.String(), "wrote sli.json, sli.csv and sli.png to "+out)
	for _, f := range []string{JSONFile, CSVFile, ChartFile} {
		must.FileExists(t, out+"/"+f)
	}
}

func TestMainPricesEachDayFromPrometheus(t *testing.T) {
	t.Parallel()
	day := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	dsn := requestsDatabase(t, repeat(200, ok(day, 100)))
	f, base := newFakePrometheus(t, func(url.Values) (int, string) { return 200, vector("50") })
	var stdout, stderr strings.Builder
	env := cli.Env{Args: []string{"-from", "2026-11-02", "-to", "2026-11-02", "-prometheus", base.String()},
		Getenv: func(k string) string { return map[string]string{envDSN: dsn}[k] }, Stdout: &stdout, Stderr: &stderr}
	must.NoError(t, mainAt(context.Background(), env, time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)))
	must.Len(t, 1, f.asked)
	must.Eq(t, fmt.Sprint(time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC).Unix()), f.asked[0].Get("time"))
	// $50 for the day's 200 requests: $250 per 1,000.
	must.StrContains(t, stdout.String(), "  100.0%     $50.00   $250.0000  yes\n")
	must.StrContains(t, stdout.String(), "GPU spend over the period: $50.00")
}

func TestMainReportsBadFlagsAsAUsageErrorBeforeConnecting(t *testing.T) {
	t.Parallel()
	var stdout, stderr strings.Builder
	env := cli.Env{Args: []string{"-postgres", "postgres://reader:s3cret@127.0.0.1:1/api", "-from", "2026-11-02", "-to", "2026-11-01"},
		Stdout: &stdout, Stderr: &stderr}
	err := mainAt(context.Background(), env, time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC))
	must.Eq(t, 2, cli.Code(err))
	must.EqError(t, err, `-to "2026-11-01": before -from "2026-11-02"`)
	must.Eq(t, "", stdout.String())

	err = mainAt(context.Background(), cli.Env{Args: []string{"-h"}, Stdout: &stdout, Stderr: &stderr}, time.Now())
	must.Eq(t, 0, cli.Code(err))
	must.StrContains(t, stderr.String(), "-business-hours HH:MM-HH:MM")
}

// Watch mode against PostgreSQL, through Main as an operator runs it: the
// exporter reads the last minutes, serves the burn rates on /metrics, keeps
// serving (and counts the error) when the table cannot be read, and stops
// when its context ends.
func TestWatchServesTheBurnRatesOfTheRequestsTable(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC()
	var rows []request
	for m := 1; m <= 30; m++ { // the last 30 complete minutes: 100 a minute
		at := now.Truncate(time.Minute).Add(-time.Duration(m)*time.Minute + time.Second)
		rows = append(rows, repeat(98, ok(at, 200))...)
		if m <= 5 { // the last five minutes: 2 failures a minute, else 1
			rows = append(rows, repeat(2, withStatus(at, 503, 30000))...)
		} else {
			rows = append(rows, withStatus(at, 503, 30000), ok(at, 4000))
		}
	}
	dsn := requestsDatabase(t, rows)
	addr := testenv.FreeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var stdout, stderr syncbuf.Buffer
	go func() {
		done <- Main(ctx, cli.Env{Args: []string{"-postgres", dsn, "-listen", addr, "-business-hours", "00:00-24:00", "-interval", "10s"},
			Getenv: noEnv, Stdout: &stdout, Stderr: &stderr})
	}()
	var text string
	poll.Until(t, 30*time.Second, func() bool {
		if strings.Contains(stdout.String(), "serving") { // the listener is up
			text = promtest.Scrape(t, addr)
		}
		return strings.Contains(text, `fleetslope_sli_window_business_requests{window="6h"}`)
	}, func() string { return "no read served: " + stderr.String() + text })
	// 5m: 10 failed of 500 = 2%, twice the 1% allowed; 30m: 35 of 3,000.
	must.StrContains(t, text, `fleetslope_sli_burn_rate{slo="availability",window="5m"} 2`+"\n")
	must.StrContains(t, text, `fleetslope_sli_burn_rate{slo="availability",window="30m"} 1.166667`+"\n")
	// 25 slow (4 s) of 2,965 successful in 30 minutes, against 5%.
	must.StrContains(t, text, `fleetslope_sli_burn_rate{slo="latency",window="30m"} 0.168634`+"\n")
	must.StrContains(t, text, `fleetslope_sli_window_business_requests{window="6h"} 3000`+"\n")
	must.StrContains(t, text, "fleetslope_sli_business_hours 1\n")

	cancel()
	select {
	case err := <-done:
		must.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("watch mode did not stop when its context ended")
	}
}

func TestWatchKeepsServingWhenTheTableCannotBeRead(t *testing.T) {
	t.Parallel()
	dsn := requestsDatabase(t, nil)
	addr := testenv.FreeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncbuf.Buffer
	go func() {
		_ = Main(ctx, cli.Env{Args: []string{"-postgres", dsn, "-listen", addr, "-requests-table", "api_requestz", "-interval", "10s"},
			Getenv: noEnv, Stdout: &stdout, Stderr: &stderr})
	}()
	var text string
	poll.Until(t, 30*time.Second, func() bool {
		if strings.Contains(stdout.String(), "serving") {
			text = promtest.Scrape(t, addr)
		}
		return strings.Contains(text, "fleetslope_sli_read_errors_total 1")
	}, func() string { return "no read error counted: " + stderr.String() + text })
	must.StrContains(t, stderr.String(), `table "api_requestz" in database`)
	must.StrContains(t, stderr.String(), "no such table or view (-requests-table)")
	must.StrContains(t, text, "fleetslope_sli_last_read_timestamp_seconds 0\n", must.Sprint("never read: as stale as can be"))
}

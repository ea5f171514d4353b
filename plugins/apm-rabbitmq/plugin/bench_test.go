package plugin

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/testenv"
	"github.com/hashicorp/nomad-autoscaler/sdk"
	"github.com/jackc/pgx/v5"
	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/poll"
)

// BenchmarkQueryReady is rabbitmq:ready over the plugin's persistent AMQP
// connection: a channel open, a passive declare and a channel close per query.
func BenchmarkQueryReady(b *testing.B) {
	r := newRabbit(b)
	q := uniqueName("bench")
	r.queue("/", q, 10)
	p := rabbitPlugin(b, r, r.amqpURL)
	must.Eq(b, 10.0, value(b, p, "rabbitmq:ready:"+q)) // connect outside the loop
	for b.Loop() {
		if _, err := p.Query("rabbitmq:ready:"+q, now()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkQueryDepthGlob is rabbitmq:depth over a glob: one management API
// listing of the vhost per query.
func BenchmarkQueryDepthGlob(b *testing.B) {
	r := newRabbit(b)
	prefix := uniqueName("benchglob")
	for _, s := range []string{".a", ".b", ".c"} {
		r.queue("/", prefix+s, 1)
	}
	p := rabbitPlugin(b, r, r.amqpURL)
	var err error
	poll.Until(b, 30*time.Second, func() bool { _, err = p.Query("rabbitmq:depth:"+prefix+".*", now()); return err == nil },
		func() string { return "the glob's statistics: " + err.Error() })
	for b.Loop() {
		if _, err := p.Query("rabbitmq:depth:"+prefix+".*", now()); err != nil {
			b.Fatal(err)
		}
	}
}

// Benchmark data: 7 days at 2M requests/day, as in issue 3.
const (
	benchDatabaseName = "apm_rabbitmq_bench"
	benchDays         = 7
	benchPerDay       = 2_000_000
)

// BenchmarkRequestsPerMinute is postgres:requests_per_minute over the last
// 60 minutes of a 14M-row table with the recommended schema and index, read
// from PostgreSQL every time: the per-minute cache is emptied before each
// query, so this is the cost of the SQL. The table lives in its own
// database, kept between runs; it is seeded with scripts/seed-requests.sh
// when missing or short (about two minutes), which happens only under
// -bench, never in a plain go test run.
func BenchmarkRequestsPerMinute(b *testing.B) {
	dsn := benchRequestsDatabase(b)
	p := New(testLogger(b))
	b.Cleanup(p.shutdown)
	must.NoError(b, p.SetConfig(map[string]string{configKeyPostgresURL: dsn, configKeyFilterColumns: "model", configKeyAllowInlineSQL: "true"}))

	last := lastRequest(b, dsn)
	// The last hour of data, wherever it lies: the seed may be days old.
	window := sdk.TimeRange{From: last.Add(-60 * time.Minute).Truncate(time.Minute), To: last.Truncate(time.Minute)}

	// The trivial sql: query measures the fixed cost of a PostgreSQL query:
	// pool, READ ONLY transaction, statement and rollback round trips.
	cases := []struct {
		query  string
		points int
	}{
		{"postgres:requests_per_minute", 60},
		{"postgres:requests_per_minute:model=ekyc.ocr", 60},
		{"postgres:sql:SELECT $1::timestamptz, 1 WHERE $2::timestamptz IS NOT NULL", 1},
	}
	for _, tc := range cases {
		query := tc.query
		b.Run(query, func(b *testing.B) {
			got, err := p.Query(query, window)
			must.NoError(b, err)
			must.Len(b, tc.points, got)
			for b.Loop() {
				forgetMinutes(p)
				if _, err := p.Query(query, window); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRequestsPerMinuteEightDays is a 192h (8-day) window ending just
// after the last row of the 14M-row table, as a strategy asks it every
// minute (11,519 complete minutes; the first day holds no rows):
//
//   - warm: the cache holds the window and the clock stands still (10 s into
//     a minute), so no minute has settled since the last query: the whole
//     answer, 11,518 minutes, comes from the cache, without PostgreSQL.
//   - warm-moving: the clock moves a minute per query (40 s into it), so
//     each query reads the one minute that has just settled, adds it to
//     the cache and drops the oldest: the agent's steady state.
//   - cold: the cache is emptied before each query, which reads all 11,519
//     minutes, 6 hours per statement: the first query after a start or a
//     configuration change.
func BenchmarkRequestsPerMinuteEightDays(b *testing.B) {
	dsn := benchRequestsDatabase(b)
	base := lastRequest(b, dsn).Truncate(time.Minute).Add(time.Minute)
	const eightDays = 192 * time.Hour
	for _, query := range []string{"postgres:requests_per_minute", "postgres:requests_per_minute:model=ekyc.ocr"} {
		for _, mode := range []string{"warm", "warm-moving", "cold"} {
			b.Run(mode+"/"+query, func(b *testing.B) {
				clock := &fakeClock{t: base.Add(10 * time.Second)}
				if mode == "warm-moving" {
					clock.set(base.Add(40 * time.Second))
				}
				p := New(testLogger(b))
				p.now = clock.now
				b.Cleanup(p.shutdown)
				// A cold read of 8 days takes seconds on a busy machine;
				// the deadline is not what is measured here.
				must.NoError(b, p.SetConfig(map[string]string{configKeyPostgresURL: dsn, configKeyQueryTimeout: "1m", configKeyFilterColumns: "model"}))
				r := sdk.TimeRange{From: clock.now().Add(-eightDays), To: clock.now()}
				got, err := p.Query(query, r)
				must.NoError(b, err)
				w, err := completeMinutes(r, clock.now(), 30*time.Second) // settle_delay's default
				must.NoError(b, err)
				must.Len(b, w.minutes(), got)
				for b.Loop() {
					switch mode {
					case "warm-moving":
						clock.advance(time.Minute)
					case "cold":
						forgetMinutes(p)
					}
					if _, err := p.Query(query, sdk.TimeRange{From: clock.now().Add(-eightDays), To: clock.now()}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// lastRequest is the time of the newest row of the benchmark table.
func lastRequest(b *testing.B, dsn string) time.Time {
	b.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	must.NoError(b, err)
	defer conn.Close(context.Background())
	var last time.Time
	must.NoError(b, conn.QueryRow(context.Background(), "SELECT max(created_at) FROM api_requests").Scan(&last))
	return last
}

// forgetMinutes empties the plugin's per-minute cache, so that the next
// query reads its whole window from PostgreSQL.
func forgetMinutes(p *Plugin) {
	c := p.backend.rates.(*cachedRates)
	c.cache = newMinuteCache(c.cache.settle)
}

// benchRequestsDatabase returns the DSN of the benchmark database, creating
// and seeding it when needed.
func benchRequestsDatabase(b *testing.B) string {
	b.Helper()
	ctx := context.Background()
	dsn := testenv.KeptDatabase(b, benchDatabaseName)

	bench, err := pgx.Connect(ctx, dsn)
	must.NoError(b, err)
	defer bench.Close(ctx)
	var rows float64 // the planner's estimate: exact after the seed's VACUUM ANALYZE, and instant
	err = bench.QueryRow(ctx, "SELECT coalesce((SELECT reltuples FROM pg_class WHERE oid = to_regclass('api_requests')), 0)").Scan(&rows)
	must.NoError(b, err)
	if rows >= 0.99*benchDays*benchPerDay {
		return dsn
	}
	b.Logf("seeding %s with %d days x %d requests/day (found about %.0f rows)", benchDatabaseName, benchDays, benchPerDay, rows)
	cmd := exec.Command("bash", "../../../scripts/seed-requests.sh", "--truncate",
		"--days", strconv.Itoa(benchDays), "--per-day", strconv.Itoa(benchPerDay))
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dsn)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	must.NoError(b, cmd.Run())
	return dsn
}

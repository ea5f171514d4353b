package plugin

import (
	"context"
	"testing"
	"time"

	"github.com/hashicorp/nomad-autoscaler/sdk"
	"github.com/jackc/pgx/v5"
	"github.com/shoenig/test/must"
)

// cachingPostgresPlugin is the plugin on dsn with a clock the test moves.
func cachingPostgresPlugin(t *testing.T, dsn string, clock *fakeClock) *Plugin {
	t.Helper()
	p := New(testLogger(t))
	p.now = clock.now
	t.Cleanup(p.shutdown)
	must.NoError(t, p.SetConfig(map[string]string{configKeyPostgresURL: dsn, configKeyQueryTimeout: "5s", configKeyFilterColumns: "model,status"}))
	return p
}

// mustAnswerUncached queries p and checks the answer against the same
// window read straight from PostgreSQL, past the cache.
func mustAnswerUncached(t *testing.T, p *Plugin, clock *fakeClock, query string, r sdk.TimeRange) sdk.TimestampedMetrics {
	t.Helper()
	got, err := p.Query(query, r)
	must.NoError(t, err)
	w, err := completeMinutes(r, clock.now(), p.backend.cfg.settleDelay)
	must.NoError(t, err)
	q, err := parseQuery(query)
	must.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	want, err := p.backend.rates.(*cachedRates).rateSource.RequestsPerMinute(ctx, w, q.filterColumn, q.filterValue)
	must.NoError(t, err)
	must.Eq(t, want, got, must.Sprintf("%s over %s at %s", query, r, clock.now().Format(time.TimeOnly)))
	return got
}

// seedIrregular writes 80 minutes of traffic from 09:00: 1 to 5 requests
// a minute, every eleventh minute empty, two models and some 500s.
func seedIrregular(t *testing.T, conn *pgx.Conn) {
	t.Helper()
	_, err := conn.Exec(context.Background(), `
		INSERT INTO api_requests (created_at, model, status)
		SELECT $1::timestamptz + m * interval '1 minute' + k * interval '7 seconds',
		       CASE WHEN (m + k) % 3 = 0 THEN 'facematch' ELSE 'ocr' END,
		       CASE WHEN k = 0 THEN 500 ELSE 200 END
		FROM generate_series(0, 79) AS m, generate_series(0, (m * 7) % 5) AS k
		WHERE m % 11 <> 4`, minute(0).Add(-time.Hour))
	must.NoError(t, err)
}

// TestCachedRequestsPerMinuteEqualsTheUncachedAnswer walks a clock through
// the windows an agent asks (moved by a minute, longer, off the minute, in
// the past), with a row arriving late in a minute not yet settled, and
// checks every answer against PostgreSQL read without the cache.
func TestCachedRequestsPerMinuteEqualsTheUncachedAnswer(t *testing.T) {
	t.Parallel()
	dsn, conn := requestsDB(t)
	seedIrregular(t, conn)
	clock := &fakeClock{t: at(t, "10:05:40")}
	p := cachingPostgresPlugin(t, dsn, clock)
	steps := []struct {
		now      string
		from, to string // empty to: the clock's time
	}{
		{"10:05:40", "09:35:40", ""},
		{"10:06:40", "09:36:40", ""},
		{"10:06:40", "08:56:40", ""},
		{"10:07:10", "08:57:13", ""},
		{"10:07:50", "09:10:30", "09:40:30"},
		{"10:20:05", "08:50:05", ""},
	}
	for _, q := range []string{"postgres:requests_per_minute", "postgres:requests_per_minute:model=ocr", "postgres:requests_per_minute:status=500"} {
		for i, s := range steps {
			clock.set(at(t, s.now))
			r := sdk.TimeRange{From: at(t, s.from), To: clock.now()}
			if s.to != "" {
				r.To = at(t, s.to)
			}
			mustAnswerUncached(t, p, clock, q, r)
			if i == 3 {
				// 10:06 ended 10 s ago: a row committed now is still counted.
				insertRequests(t, conn, at(t, "10:06:59"), 1, "ocr", 500)
			}
		}
	}
}

// TestARowCommittedLateIsCountedBecauseItsMinuteWaitsToSettle follows one
// minute through the settle delay against PostgreSQL. The minute is left
// out of the answer until it ended 30 s ago, so a row committed 20 s after
// its minute ended is counted in the first answer that holds the minute;
// without the delay that answer would have shown the minute short, as a
// drop in traffic. A row committed later than the delay is missed once the
// minute is cached, until the configuration changes, which is why the
// delay is a key: a longer one counts it.
func TestARowCommittedLateIsCountedBecauseItsMinuteWaitsToSettle(t *testing.T) {
	t.Parallel()
	dsn, conn := requestsDB(t)
	insertRequests(t, conn, minute(3), 2, "ocr", 200)
	insertRequests(t, conn, minute(4), 3, "ocr", 200)
	clock := &fakeClock{t: at(t, "10:05:10")}
	p := cachingPostgresPlugin(t, dsn, clock)
	const query = "postgres:requests_per_minute"
	answer := func() sdk.TimestampedMetrics {
		t.Helper()
		return mustAnswerUncached(t, p, clock, query, sdk.TimeRange{From: minute(0), To: clock.now()})
	}

	// 10 s after 10:04 ended, its 3 rows may not be all: it is left out.
	must.Eq(t, seriesOf(minute(0), 0, 0, 0, 2), answer())
	insertRequests(t, conn, at(t, "10:04:59"), 1, "ocr", 200) // committed 20 s after its minute
	clock.set(at(t, "10:05:20"))
	must.Eq(t, seriesOf(minute(0), 0, 0, 0, 2), answer())
	clock.set(at(t, "10:05:30")) // settled: answered, with the late row, and cached
	must.Eq(t, seriesOf(minute(0), 0, 0, 0, 2, 4), answer())

	insertRequests(t, conn, at(t, "10:04:59"), 1, "ocr", 200) // committed 45 s after
	clock.set(at(t, "10:05:45"))
	got, err := p.Query(query, sdk.TimeRange{From: minute(0), To: clock.now()})
	must.NoError(t, err)
	must.Eq(t, seriesOf(minute(0), 0, 0, 0, 2, 4), got)

	// The agent's SIGHUP without a change keeps the cache...
	must.NoError(t, p.SetConfig(map[string]string{configKeyPostgresURL: dsn, configKeyQueryTimeout: "5s", configKeyFilterColumns: "model,status"}))
	got, err = p.Query(query, sdk.TimeRange{From: minute(0), To: clock.now()})
	must.NoError(t, err)
	must.Eq(t, 4.0, got[4].Value)
	// ...and a new configuration starts from an empty one.
	must.NoError(t, p.SetConfig(map[string]string{configKeyPostgresURL: dsn, configKeyQueryTimeout: "4s"}))
	must.Eq(t, 5.0, answer()[4].Value)

	// With settle_delay = "1m", a row committed 45 s after its minute is
	// counted the first time the minute is answered.
	clock.set(at(t, "10:06:45"))
	must.NoError(t, p.SetConfig(map[string]string{configKeyPostgresURL: dsn, configKeyQueryTimeout: "4s", configKeySettleDelay: "1m"}))
	must.Eq(t, seriesOf(minute(0), 0, 0, 0, 2, 5), answer())
	insertRequests(t, conn, at(t, "10:05:30"), 1, "ocr", 200) // 10:05 ended 45 s ago
	clock.set(at(t, "10:07:00"))
	must.Eq(t, seriesOf(minute(0), 0, 0, 0, 2, 5, 1), answer())
}

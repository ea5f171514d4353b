package plugin

import (
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/nomad-autoscaler/sdk"
	"github.com/shoenig/test/must"
)

// cachingPlugin is the plugin with its default config, its cache and src
// in place of PostgreSQL.
func cachingPlugin(t *testing.T, src rateSource, clock *fakeClock) *Plugin {
	t.Helper()
	return cachingPluginWith(t, src, clock, nil)
}

// cachingPluginWith is cachingPlugin with extra config keys.
func cachingPluginWith(t *testing.T, src rateSource, clock *fakeClock, extra map[string]string) *Plugin {
	t.Helper()
	m := map[string]string{configKeyPostgresURL: "postgres://127.0.0.1:1/api", configKeyFilterColumns: "model,customer,status"}
	maps.Copy(m, extra)
	cfg, err := parseConfig(m)
	must.NoError(t, err)
	p := New(testLogger(t))
	p.now = clock.now
	p.backend = &backend{cfg: cfg, rates: newCachedRates(src, cfg, clock.now), now: clock.now}
	t.Cleanup(p.shutdown)
	return p
}

// lastFor is the window of the given length ending at the clock's time.
func lastFor(clock *fakeClock, d time.Duration) sdk.TimeRange {
	n := clock.now()
	return sdk.TimeRange{From: n.Add(-d), To: n}
}

// mustAnswerAsTheDatabase queries p and checks the answer against src's
// uncached one for the same window and clock.
func mustAnswerAsTheDatabase(t *testing.T, p *Plugin, src *fakeRates, clock *fakeClock, query string, r sdk.TimeRange) {
	t.Helper()
	got, err := p.Query(query, r)
	must.NoError(t, err)
	w, err := completeMinutes(r, clock.now(), testSettleDelay)
	must.NoError(t, err)
	q, err := parseQuery(query)
	must.NoError(t, err)
	must.NoError(t, sameSeries(src.answer(w, filterOf(q.filterColumn, q.filterValue)), got))
}

// sameSeries compares two answers point by point and names the first
// difference. must.Eq says the same, but walks 11,520 points slowly.
func sameSeries(want, got sdk.TimestampedMetrics) error {
	if len(want) != len(got) {
		return fmt.Errorf("got %d points, want %d", len(got), len(want))
	}
	for i := range want {
		if !got[i].Timestamp.Equal(want[i].Timestamp) || got[i].Value != want[i].Value {
			return fmt.Errorf("point %d is %v, want %v", i, got[i], want[i])
		}
	}
	return nil
}

// seedEvery counts n requests in every step-th minute of the 10 days
// before end, and nothing in the others.
func seedEvery(src *fakeRates, filter string, end time.Time, step int, n float64) {
	for i := 0; i < 10*24*60; i += step {
		src.add(filter, end.Add(-time.Duration(i+1)*time.Minute), n)
	}
}

// mustReadBackward checks that reads are chunks of at most
// readChunkMinutes that tile w from its end back to its start.
func mustReadBackward(t *testing.T, w minuteWindow, reads []minuteWindow) {
	t.Helper()
	must.SliceNotEmpty(t, reads)
	must.Eq(t, w.end, reads[0].end)
	must.Eq(t, w.start, reads[len(reads)-1].start)
	for i, r := range reads {
		must.LessEq(t, readChunkMinutes, r.minutes())
		if i > 0 {
			must.Eq(t, reads[i-1].start, r.end, must.Sprintf("read %d does not meet read %d", i, i-1))
		}
	}
}

func TestASecondQueryOfAMovedWindowReadsOnlyTheNewMinute(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: at(t, "10:05:40")}
	src := newFakeRates()
	seedEvery(src, "", at(t, "10:05"), 7, 3)
	p := cachingPlugin(t, src, clock)
	const query, eightDays = "postgres:requests_per_minute", 192 * time.Hour

	mustAnswerAsTheDatabase(t, p, src, clock, query, lastFor(clock, eightDays))
	// Cold: the whole window, a chunk at a time, newest first.
	w, _ := completeMinutes(lastFor(clock, eightDays), clock.now(), testSettleDelay)
	mustReadBackward(t, w, src.takeReads())

	clock.advance(time.Minute)
	mustAnswerAsTheDatabase(t, p, src, clock, query, lastFor(clock, eightDays))
	must.Eq(t, []minuteWindow{win(t, "10:05", "10:06")}, src.takeReads())
}

// TestTheNewestMinuteIsAnsweredOnlyOnceSettled follows the newest minute
// of a window through the settle delay: it is left out of the answer until
// it ended 30 s ago, so a row committed late in it is counted, and from then
// on it is served from the cache.
func TestTheNewestMinuteIsAnsweredOnlyOnceSettled(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: at(t, "10:05:10")}
	src := newFakeRates()
	src.add("", at(t, "10:03"), 2)
	src.add("", at(t, "10:04"), 5)
	p := cachingPlugin(t, src, clock)
	const query = "postgres:requests_per_minute"
	window := sdk.TimeRange{From: at(t, "09:55"), To: at(t, "10:05:10")}

	mustAnswerAsTheDatabase(t, p, src, clock, query, window)
	must.Eq(t, []minuteWindow{win(t, "09:55", "10:04")}, src.takeReads())

	src.add("", at(t, "10:04"), 1) // committed late
	cases := []struct {
		name      string
		now       string
		wantLast  sdk.TimestampedMetric
		wantReads []minuteWindow
	}{
		{"20 s after its end the minute is not answered yet, and nothing is read", "10:05:20",
			sdk.TimestampedMetric{Timestamp: at(t, "10:03"), Value: 2}, nil},
		{"30 s after its end it is answered with the late row, read once", "10:05:30",
			sdk.TimestampedMetric{Timestamp: at(t, "10:04"), Value: 6}, []minuteWindow{win(t, "10:04", "10:05")}},
		{"from then on it is served from the cache", "10:05:50",
			sdk.TimestampedMetric{Timestamp: at(t, "10:04"), Value: 6}, nil},
	}
	for _, tc := range cases {
		clock.set(at(t, tc.now))
		window.To = clock.now()
		got, err := p.Query(query, window)
		must.NoError(t, err)
		must.Eq(t, tc.wantLast, got[len(got)-1], must.Sprint(tc.name))
		must.Eq(t, tc.wantReads, src.takeReads(), must.Sprint(tc.name))
	}
}

// TestSettleDelayDecidesTheAnswerAndTheCacheAlike runs the same clock with
// three settle delays: each answer ends at the last minute that ended the
// delay ago, and every minute answered is one the cache keeps, so a second
// query at the same time reads nothing.
func TestSettleDelayDecidesTheAnswerAndTheCacheAlike(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		settle  string
		wantEnd string
	}{
		{"no delay answers the minute just over", "0s", "10:05"},
		{"the default 30 s holds it back for its first 30 s", "30s", "10:04"},
		{"90 s hold back two minutes", "90s", "10:03"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clock := &fakeClock{t: at(t, "10:05:20")}
			src := newFakeRates()
			seedEvery(src, "", at(t, "10:06"), 1, 3)
			p := cachingPluginWith(t, src, clock, map[string]string{configKeySettleDelay: tc.settle})
			r := sdk.TimeRange{From: at(t, "09:50"), To: clock.now()}
			got, err := p.Query("postgres:requests_per_minute", r)
			must.NoError(t, err)
			must.Eq(t, at(t, tc.wantEnd), got[len(got)-1].Timestamp.Add(time.Minute))
			must.Eq(t, []minuteWindow{win(t, "09:50", tc.wantEnd)}, src.takeReads())

			_, err = p.Query("postgres:requests_per_minute", r)
			must.NoError(t, err)
			must.SliceEmpty(t, src.takeReads())
		})
	}
}

func TestALongerWindowReadsOnlyItsOlderMinutes(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: at(t, "10:05:40")}
	src := newFakeRates()
	seedEvery(src, "model=ocr", at(t, "10:05"), 3, 2)
	p := cachingPlugin(t, src, clock)
	const query = "postgres:requests_per_minute:model=ocr"

	mustAnswerAsTheDatabase(t, p, src, clock, query, lastFor(clock, 10*time.Minute))
	must.Eq(t, []minuteWindow{win(t, "09:56", "10:05")}, src.takeReads())
	mustAnswerAsTheDatabase(t, p, src, clock, query, lastFor(clock, time.Hour))
	must.Eq(t, []minuteWindow{win(t, "09:06", "09:56")}, src.takeReads())
	mustAnswerAsTheDatabase(t, p, src, clock, query, sdk.TimeRange{From: at(t, "09:30:15"), To: at(t, "09:58:59")})
	must.SliceEmpty(t, src.takeReads())
}

func TestAFailedReadLeavesNothingWrongInTheCache(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: at(t, "10:05:40")}
	src := newFakeRates()
	seedEvery(src, "model=ocr", at(t, "10:05"), 2, 4)
	p := cachingPlugin(t, src, clock)
	const query = "postgres:requests_per_minute:model=ocr"

	t.Run("a moved window whose new minute fails reads it again next time", func(t *testing.T) {
		mustAnswerAsTheDatabase(t, p, src, clock, query, lastFor(clock, time.Hour))
		src.takeReads()
		clock.advance(time.Minute)
		src.failRead(1)
		_, err := p.Query(query, lastFor(clock, time.Hour))
		must.EqError(t, err, `query "postgres:requests_per_minute:model=ocr": postgresql 10.0.0.20:5432: timed out`)
		mustBeSafeForAgent(t, err)
		must.Eq(t, []minuteWindow{win(t, "10:05", "10:06")}, src.takeReads())

		mustAnswerAsTheDatabase(t, p, src, clock, query, lastFor(clock, time.Hour))
		must.Eq(t, []minuteWindow{win(t, "10:05", "10:06")}, src.takeReads())
	})
	t.Run("a cold window failing in its second chunk keeps the first", func(t *testing.T) {
		const threeDays = 72 * time.Hour
		other := "postgres:requests_per_minute:model=face"
		seedEvery(src, "model=face", clock.now().Truncate(time.Minute), 5, 1)
		src.failRead(2)
		_, err := p.Query(other, lastFor(clock, threeDays))
		must.ErrorContains(t, err, "timed out")
		failed := src.takeReads()
		must.Len(t, 2, failed)

		mustAnswerAsTheDatabase(t, p, src, clock, other, lastFor(clock, threeDays))
		w, _ := completeMinutes(lastFor(clock, threeDays), clock.now(), testSettleDelay)
		again := src.takeReads()
		must.Eq(t, failed[1], again[0])
		mustReadBackward(t, minuteWindow{start: w.start, end: failed[0].start}, again)
	})
}

func TestQueriesWithDifferentFiltersDoNotShareMinutes(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: at(t, "10:05:40")}
	src := newFakeRates()
	seedEvery(src, "", at(t, "10:05"), 1, 10)
	seedEvery(src, "model=ocr", at(t, "10:05"), 2, 3)
	seedEvery(src, "customer=ocr", at(t, "10:05"), 3, 1)
	p := cachingPlugin(t, src, clock)
	queries := []string{"postgres:requests_per_minute", "postgres:requests_per_minute:model=ocr", "postgres:requests_per_minute:customer=ocr"}
	for range 2 {
		for _, q := range queries {
			mustAnswerAsTheDatabase(t, p, src, clock, q, lastFor(clock, 30*time.Minute))
		}
		clock.advance(time.Minute)
	}
}

// TestCachedAnswersEqualUncachedAnswersOnARandomWalk moves the clock by
// random steps while requests keep arriving in the minutes not yet settled,
// and asks random windows (lengths, offsets, seconds off the minute) of
// three queries, some reads failing: every answer must be the database's,
// and the cache must stay within its bounds.
func TestCachedAnswersEqualUncachedAnswersOnARandomWalk(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	clock := &fakeClock{t: at(t, "10:05:40")}
	src := newFakeRates()
	seedEvery(src, "", at(t, "10:05"), 1, 10)
	p := cachingPlugin(t, src, clock)
	cache := p.backend.rates.(*cachedRates).cache
	filters := []string{"", "model=ocr", "status=500"}
	lengths := []time.Duration{3 * time.Minute, 10 * time.Minute, time.Hour, 26 * time.Hour}

	var failures, answered, read int
	for step := range 600 {
		clock.advance(time.Duration(rng.IntN(100)) * time.Second)
		now := clock.now()
		// Rows arrive in every minute that ended less than 30 s ago.
		for m := now.Add(-30 * time.Second).Truncate(time.Minute); !m.After(now); m = m.Add(time.Minute) {
			for _, f := range filters {
				src.add(f, m, float64(rng.IntN(3)))
			}
		}
		filter := filters[rng.IntN(len(filters))]
		query := "postgres:requests_per_minute"
		if filter != "" {
			query += ":" + filter
		}
		// Most windows end now, as without query_window_offset.
		offset := time.Duration(rng.IntN(2)*rng.IntN(90)) * time.Minute
		to := now.Add(-offset - time.Duration(rng.IntN(2)*rng.IntN(60))*time.Second)
		r := sdk.TimeRange{From: to.Add(-lengths[rng.IntN(len(lengths))]), To: to}
		if rng.IntN(20) == 0 {
			src.failRead(1 + rng.IntN(2))
		}
		got, err := p.Query(query, r)
		src.failRead(0)
		for _, w := range src.takeReads() {
			read += w.minutes()
		}
		if err != nil {
			must.ErrorContains(t, err, "timed out", must.Sprintf("step %d", step))
			failures++
			continue
		}
		w, _ := completeMinutes(r, now, testSettleDelay)
		must.NoError(t, sameSeries(src.answer(w, filter), got), must.Sprintf("step %d: %s over %s", step, query, r))
		answered += len(got)
	}
	// The walk did exercise failures, and the cache: most minutes answered
	// were not read.
	must.Positive(t, failures)
	t.Logf("%d minutes read for %d answered, %d queries failed", read, answered, failures)
	must.Less(t, answered/10, read)

	cache.mu.Lock()
	defer cache.mu.Unlock()
	must.MapLen(t, len(filters), cache.entries)
	for k, e := range cache.entries {
		must.LessEq(t, maxCachedMinutes, len(e.run.counts))
		must.False(t, e.run.end().After(clock.now().Add(-30*time.Second)), must.Sprintf("%v holds unsettled minutes", k))
	}
}

// TestConcurrentQueriesKeepTheCacheConsistent runs many policies' queries
// at once, several on the same key with different windows, at each of a
// few clock times. Under -race it checks the locking; every answer must be
// the database's.
func TestConcurrentQueriesKeepTheCacheConsistent(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: at(t, "10:05:40")}
	src := newFakeRates()
	seedEvery(src, "", at(t, "10:05"), 1, 10)
	seedEvery(src, "model=ocr", at(t, "10:05"), 2, 3)
	p := cachingPlugin(t, src, clock)
	queries := []string{"postgres:requests_per_minute", "postgres:requests_per_minute:model=ocr"}
	windows := []time.Duration{10 * time.Minute, time.Hour, 30 * time.Hour}

	for range 5 {
		clock.advance(47 * time.Second)
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			errs []error
		)
		for g := range 8 {
			wg.Go(func() {
				for i := range 10 {
					q, d := queries[(g+i)%len(queries)], windows[(g*i)%len(windows)]
					r := lastFor(clock, d)
					got, err := p.Query(q, r)
					w, _ := completeMinutes(r, clock.now(), testSettleDelay)
					parsed, _ := parseQuery(q)
					want := src.answer(w, filterOf(parsed.filterColumn, parsed.filterValue))
					if err == nil {
						if diff := sameSeries(want, got); diff != nil {
							err = fmt.Errorf("%s over %s: %w", q, d, diff)
						}
					}
					if err != nil {
						mu.Lock()
						errs = append(errs, err)
						mu.Unlock()
					}
				}
			})
		}
		wg.Wait()
		must.NoError(t, errors.Join(errs...))
	}
}

func TestSetConfigWithTheSameKeysKeepsTheCacheAndNewKeysDropIt(t *testing.T) {
	t.Parallel()
	p := New(testLogger(t))
	p.now = func() time.Time { return at(t, "10:05:40") }
	t.Cleanup(p.shutdown)
	keys := map[string]string{configKeyPostgresURL: "postgres://app:hunter2@127.0.0.1:1/api", "nomad_address": "http://127.0.0.1:4646"}
	must.NoError(t, p.SetConfig(keys))
	cacheOf := func() *minuteCache { return p.backend.rates.(*cachedRates).cache }
	first := cacheOf()
	first.keep(keyFor("ocr"), win(t, "10:00", "10:05"), ramp(t, "10:00", 5), p.now())

	// The agent's SIGHUP without a change; its own keys may differ.
	same := map[string]string{configKeyPostgresURL: keys[configKeyPostgresURL], "nomad_address": "http://10.0.0.1:4646"}
	must.NoError(t, p.SetConfig(same))
	must.True(t, first == cacheOf(), must.Sprint("the same keys replaced the cache"))
	must.MapLen(t, 1, cacheOf().entries)

	for _, change := range []map[string]string{
		{configKeyQueryTimeout: "3s"},
		{configKeyQueryTimeout: "3s", configKeyRequestsTable: "edge.requests"},
	} {
		next := map[string]string{configKeyPostgresURL: keys[configKeyPostgresURL]}
		for k, v := range change {
			next[k] = v
		}
		before := cacheOf()
		must.NoError(t, p.SetConfig(next))
		must.False(t, before == cacheOf(), must.Sprintf("%v kept the cache", change))
		must.MapEmpty(t, cacheOf().entries)
		cacheOf().keep(keyFor("ocr"), win(t, "10:00", "10:05"), ramp(t, "10:00", 5), p.now())
	}
}

// testSettleDelay is settle_delay's default (configTable).
const testSettleDelay = 30 * time.Second

package sli

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/promtest"
)

func TestWatchFlagsParseAndRefuseAReportsFlags(t *testing.T) {
	t.Parallel()
	cfg, err := parseFlags([]string{"-postgres", testDSN, "-listen", "127.0.0.1:9464", "-tz", "Asia/Kolkata"}, noEnv, io.Discard, testNow)
	must.NoError(t, err)
	must.Eq(t, "127.0.0.1:9464", cfg.Listen)
	must.Eq(t, DefaultInterval, cfg.Interval)
	must.Eq(t, DefaultSettle, cfg.Settle)
	must.Eq(t, DefaultWatchTimeout, cfg.Timeout, must.Sprint("a stuck read must not hold the figures for the report's 2h"))
	must.True(t, cfg.From.IsZero())
	cfg, err = parseFlags([]string{"-postgres", testDSN, "-listen", ":9464", "-timeout", "20m"}, noEnv, io.Discard, testNow)
	must.NoError(t, err)
	must.Eq(t, 20*time.Minute, cfg.Timeout)

	_, err = parseFlags([]string{"-postgres", testDSN, "-listen", "9464", "-from", "2026-11-01", "-out", "x",
		"-interval", "1s", "-settle", "2h"}, noEnv, io.Discard, testNow)
	for _, want := range []string{
		`-listen "9464": want host:port, such as 127.0.0.1:9464 or :9464`,
		`-from "2026-11-01": not with -listen`,
		`-out "x": not with -listen`,
		`-interval "1s": at least 10s`,
		`-settle "2h0m0s": from 0 to 1h0m0s`,
	} {
		must.ErrorContains(t, err, want)
	}
	must.StrNotContains(t, err.Error(), "s3cret")
}

// fakeTable answers reads from per-minute counts, as readSQL would, and
// records what was read.
type fakeTable struct {
	rows  map[int64]Counts
	reads [][2]time.Time
	fail  error
}

func (f *fakeTable) read(_ context.Context, p plan) (readResult, error) {
	f.reads = append(f.reads, [2]time.Time{p.scanStart, p.scanEnd})
	if f.fail != nil {
		return readResult{}, f.fail
	}
	res := readResult{buckets: make([]Counts, len(p.bounds))}
	for i, b := range p.bounds {
		res.buckets[i] = f.rows[unixMinute(b)]
	}
	return res, nil
}

// at puts n requests in the minute starting at t, failed of them 5xx and
// slow of the rest over the latency SLO.
func (f *fakeTable) at(t time.Time, n, failed, slow int64) {
	f.rows[unixMinute(t)] = Counts{Requests: n, Errors: failed, Timed: n - failed, WithinSLO: n - failed - slow}
}

// steady puts n requests, failed of them 5xx, in each of the minutes from t.
func (f *fakeTable) steady(t time.Time, minutes int, n, failed int64) {
	for m := range minutes {
		f.at(t.Add(time.Duration(m)*time.Minute), n, failed, 0)
	}
}

func watchConfig(t *testing.T, tz, hours string) Config {
	t.Helper()
	h, err := ParseBusinessHours(hours)
	must.NoError(t, err)
	return Config{Location: zone(t, tz), Hours: h, SLO: SLO{AvailabilityPct: 99, Latency: 3 * time.Second}, Settle: 5 * time.Minute}
}

// A steady 100 requests a minute from 08:00 Kolkata, 1% failing and 5% of
// the rest slow: every burn rate is 1 (the budget spent exactly as fast as
// the SLO allows), then a bad five minutes shows in the short windows
// first.
func TestWatchBurnRatesAndTodaysWindow(t *testing.T) {
	t.Parallel()
	cfg := watchConfig(t, "Asia/Kolkata", "08:00-22:00")
	open := time.Date(2026, 12, 7, 8, 0, 0, 0, cfg.Location)
	f := &fakeTable{rows: map[int64]Counts{}}
	f.steady(open.Add(-2*time.Hour), 14*60, 100, 1) // two hours before the window too: not business
	// 5% slow: of 99 successful, 4.95 on average; put 99 x 0.05 x 20 = 99
	// slow requests in every 20 minutes, one whole minute's worth.
	for m := 0; m < 12*60; m += 20 {
		f.at(open.Add(time.Duration(m)*time.Minute), 100, 1, 99)
	}
	w := newWatcher(cfg, f.read)
	now := open.Add(10*time.Hour + 30*time.Second) // 18:00:30
	st, rows, err := w.tick(context.Background(), now)
	must.NoError(t, err)
	must.Eq(t, open.Add(10*time.Hour), st.end)
	must.Eq(t, open, st.todayStart)
	must.True(t, st.business)
	// The first read covers today's window from its start: the longest
	// burn window (6 h) starts later.
	must.Eq(t, [2]time.Time{open, open.Add(10 * time.Hour)}, f.reads[0])
	must.Eq(t, int64(600*100), rows)
	must.Eq(t, int64(600*100), st.todayCounts.Requests)
	for i, bw := range burnWindows {
		a, ok := availabilityBurn(cfg.SLO, st.windows[i])
		must.True(t, ok)
		must.Eq(t, 1.0, a, must.Sprintf("availability burn over %s", bw.name))
	}
	// Over the hour: 3 slow minutes of 99 in 60 x 99 successful = 5%.
	l, ok := latencyBurn(st.windows[2])
	must.True(t, ok)
	must.Eq(t, 1.0, l)

	// 18:00-18:05: half the requests fail.
	for m := 0; m < 5; m++ {
		f.at(open.Add(10*time.Hour+time.Duration(m)*time.Minute), 100, 50, 0)
	}
	st, _, err = w.tick(context.Background(), now.Add(5*time.Minute))
	must.NoError(t, err)
	// Only the new minutes and the settle window were read again.
	must.Eq(t, [2]time.Time{open.Add(10*time.Hour - 5*time.Minute), open.Add(10*time.Hour + 5*time.Minute)}, f.reads[1])
	a5, _ := availabilityBurn(cfg.SLO, st.windows[0])
	a1h, _ := availabilityBurn(cfg.SLO, st.windows[2])
	must.Eq(t, 50.0, a5)
	must.Eq(t, roundMicro((55+5*50)/60.0), a1h) // (55 minutes x 1 failed + 5 x 50) / (1% of 6,000)
	must.Eq(t, int64(605*100), st.todayCounts.Requests)
}

// watchingAllDay is a watcher of an empty table whose business hours are
// the whole UTC day, after its first read at now.
func watchingAllDay(t *testing.T, now time.Time) (*watcher, *fakeTable) {
	t.Helper()
	f := &fakeTable{rows: map[int64]Counts{}}
	w := newWatcher(watchConfig(t, "UTC", "00:00-24:00"), f.read)
	_, _, err := w.tick(context.Background(), now)
	must.NoError(t, err)
	return w, f
}

// Rows written late (a request recorded when answered) are counted when a
// later read takes their minute again; a minute older than -settle is not
// read again.
func TestWatchReadsTheSettleWindowAgain(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 7, 12, 0, 10, 0, time.UTC)
	w, f := watchingAllDay(t, now)
	f.at(now.Add(-3*time.Minute).Truncate(time.Minute), 10, 0, 0) // late, within settle
	f.at(now.Add(-9*time.Minute).Truncate(time.Minute), 10, 0, 0) // late, older than settle
	st, _, err := w.tick(context.Background(), now.Add(time.Minute))
	must.NoError(t, err)
	must.Eq(t, int64(10), st.windows[0].Requests)
	must.Eq(t, int64(10), st.todayCounts.Requests)
}

// A failed read keeps the counts and the next read starts where the last
// good one ended, less the settle window.
func TestWatchAfterAFailedReadCatchesUp(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	w, f := watchingAllDay(t, now)
	f.fail = errors.New("connection refused")
	_, _, err := w.tick(context.Background(), now.Add(10*time.Minute))
	must.ErrorContains(t, err, "connection refused")
	f.fail = nil
	f.at(now.Add(7*time.Minute), 10, 1, 0)
	st, _, err := w.tick(context.Background(), now.Add(20*time.Minute))
	must.NoError(t, err)
	must.Eq(t, [2]time.Time{now.Add(-5 * time.Minute), now.Add(20 * time.Minute)}, f.reads[2])
	must.Eq(t, int64(1), st.windows[1].Failed())
}

// Outside business hours nothing counts; a window that wraps past
// midnight belongs to the day it started, across midnight.
func TestWatchCountsBusinessRequestsOnly(t *testing.T) {
	t.Parallel()
	cfg := watchConfig(t, "America/New_York", "22:00-06:00")
	ny := cfg.Location
	f := &fakeTable{rows: map[int64]Counts{}}
	f.steady(time.Date(2026, 12, 6, 21, 0, 0, 0, ny), 5*60, 10, 0) // 21:00 to 02:00
	w := newWatcher(cfg, f.read)
	st, _, err := w.tick(context.Background(), time.Date(2026, 12, 7, 2, 0, 0, 0, ny))
	must.NoError(t, err)
	must.Eq(t, time.Date(2026, 12, 6, 22, 0, 0, 0, ny), st.todayStart)
	must.Eq(t, int64(4*60*10), st.todayCounts.Requests, must.Sprint("22:00 to 02:00, not 21:00-22:00"))
	must.Eq(t, int64(4*60*10), st.windows[3].Requests, must.Sprint("the 6-hour window holds the business minutes only"))
	must.True(t, st.business)

	st, _, err = w.tick(context.Background(), time.Date(2026, 12, 7, 7, 0, 0, 0, ny))
	must.NoError(t, err)
	must.False(t, st.business)
	must.Eq(t, int64(0), st.windows[0].Requests)
}

func TestWatchMetricsLeaveOutWhatHasNothingToMeasure(t *testing.T) {
	t.Parallel()
	slo := SLO{AvailabilityPct: 99, Latency: 3 * time.Second}
	m := newWatchMetrics(slo)
	st := watchState{end: time.Unix(1_765_000_000, 0), windows: make([]Counts, len(burnWindows))}
	st.windows[2] = Counts{Requests: 200, Errors: 4, Timed: 196, WithinSLO: 186}
	st.todayCounts = st.windows[2]
	m.publish(slo, st, 200, time.Second)
	text := gather(t, m)
	must.StrContains(t, text, `fleetslope_sli_burn_rate{slo="availability",window="1h"} 2`)
	must.StrContains(t, text, `fleetslope_sli_burn_rate{slo="latency",window="1h"} 1.020408`)
	must.StrNotContains(t, text, `fleetslope_sli_burn_rate{slo="availability",window="5m"}`)
	must.StrContains(t, text, "fleetslope_sli_today_availability_ratio 0.98")
	must.StrContains(t, text, "fleetslope_sli_today_error_budget_remaining_ratio -1")
	must.StrContains(t, text, `fleetslope_sli_window_business_requests{window="5m"} 0`)

	// The hour's requests leave the window: its rates go too.
	st.windows[2], st.todayCounts = Counts{}, Counts{}
	m.publish(slo, st, 0, time.Second)
	text = gather(t, m)
	must.StrNotContains(t, text, "fleetslope_sli_burn_rate{")
	must.StrNotContains(t, text, "fleetslope_sli_today_availability_ratio ")
}

// gather is what Prometheus scrapes from m.
func gather(t *testing.T, m *watchMetrics) string {
	t.Helper()
	srv := httptest.NewServer(promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	return promtest.Scrape(t, srv.Listener.Addr().String())
}

// MetricLabels, which the alert rules' tests trust, is what the registry
// exports once every series has a value.
func TestMetricLabelsAreWhatWatchModeExports(t *testing.T) {
	t.Parallel()
	slo := SLO{AvailabilityPct: 99, Latency: 3 * time.Second}
	m := newWatchMetrics(slo)
	st := watchState{end: time.Unix(1_765_000_000, 0), windows: make([]Counts, len(burnWindows))}
	for i := range st.windows {
		st.windows[i] = Counts{Requests: 10, Timed: 10, WithinSLO: 10}
	}
	st.todayCounts = st.windows[0]
	m.publish(slo, st, 10, time.Second)
	families, err := m.reg.Gather()
	must.NoError(t, err)
	got := map[string][]string{}
	for _, f := range families {
		var labels []string
		for _, l := range f.GetMetric()[0].GetLabel() {
			labels = append(labels, l.GetName())
		}
		got[f.GetName()] = labels
	}
	must.Eq(t, MetricLabels(), got)
}

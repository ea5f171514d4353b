package backtest

import (
	"math"
	"testing"
	"time"

	"github.com/shoenig/test/must"
)

func TestWeightedP95IsTheFirstLatencyWhereArrivalsReach95Percent(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		in   []WeightedLatency
		want float64
	}{
		{"twenty equal minutes give the 19th latency", ramp(20), 19},
		{"94 percent fast is not enough", []WeightedLatency{{10, 6}, {1, 94}}, 10},
		{"95 percent fast is enough", []WeightedLatency{{10, 5}, {1, 95}}, 1},
		{"minutes without arrivals do not count", []WeightedLatency{{1, 100}, {99, 0}}, 1},
		{"a day without arrivals has the service time", []WeightedLatency{{50, 0}}, 0.5},
		{"an unbounded wait is infinite", []WeightedLatency{{math.Inf(1), 50}, {1, 50}}, math.Inf(1)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			must.Eq(t, tc.want, WeightedP95(tc.in, 0.5))
		})
	}
}

func ramp(n int) []WeightedLatency {
	out := make([]WeightedLatency, n)
	for i := range out {
		out[i] = WeightedLatency{Seconds: float64(n - i), Weight: 1}
	}
	return out
}

func TestScoreOnATinyTraceWithAKnownAnswer(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC) // a Monday
	arrivals := []float64{10, 20, 0, 0}
	s := &scorer{
		arrivals: arrivals,
		cal:      newCalendar(start, len(arrivals), time.UTC, businessHours{start: 8 * 60, end: 22 * 60}),
		p:        slaParams{capacity: 10, serviceTime: time.Second, requestTimeout: 30 * time.Second, slaP95: 3 * time.Second},
	}
	sc := s.score([]int64{1, 1, 1, 1})
	// Minute 1 leaves 10 requests waiting for one worker serving 10/min: a
	// one-minute wait for the 20 requests of that minute, 2/3 of the day.
	must.Eq(t, 4.0/60, sc.WorkerHours)
	must.Eq(t, 75.0, sc.AvailabilityPct)
	must.Eq(t, 1, sc.Days)
	must.Eq(t, 0, sc.DaysMet)
	must.Eq(t, Seconds(61), sc.WorstDayP95)
	must.Eq(t, []DayScore{{Date: "2026-01-05", P95: 61, Met: false, AvailabilityPct: 75, BusinessMinutes: 4}}, sc.PerDay)

	sc = s.score([]int64{3, 3, 0, 0})
	must.Eq(t, 1, sc.DaysMet)
	must.Eq(t, 100.0, sc.AvailabilityPct)
	must.Eq(t, 6.0/60, sc.WorkerHours)
}

func TestScoreWithoutWorkersForABacklogIsUnavailableAndInfinite(t *testing.T) {
	t.Parallel()
	arrivals := []float64{5, 5}
	s := &scorer{
		arrivals: arrivals,
		cal:      newCalendar(time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC), 2, time.UTC, businessHours{start: 0, end: 24 * 60}),
		p:        slaParams{capacity: 10, serviceTime: time.Second, requestTimeout: 30 * time.Second, slaP95: 3 * time.Second},
	}
	sc := s.score([]int64{0, 0})
	must.Eq(t, 0.0, sc.AvailabilityPct)
	must.True(t, math.IsInf(float64(sc.WorstDayP95), 1))
	must.Eq(t, 0, sc.DaysMet)
}

func TestScoreGroupsBusinessMinutesByLocalDay(t *testing.T) {
	t.Parallel()
	ny, err := time.LoadLocation("America/New_York")
	must.NoError(t, err)
	// 04:00Z is 23:00 the day before in New York (EST, UTC-5); business
	// hours 23:00-01:00 wrap past midnight and belong to two local days.
	start := time.Date(2026, 1, 5, 4, 0, 0, 0, time.UTC)
	n := 180
	arrivals := make([]float64, n)
	workers := make([]int64, n)
	for i := range arrivals {
		arrivals[i], workers[i] = 1, 1
	}
	workers[90] = 0 // 00:30 local on Jan 5: one unavailable business minute
	arrivals[150] = 1000
	workers[150] = 0 // 01:30 local: outside business hours, so not scored for the SLA
	bh, err := parseBusinessHours("23:00-01:00")
	must.NoError(t, err)
	cal := newCalendar(start, n, ny, bh)
	must.Eq(t, []string{"2026-01-04", "2026-01-05"}, cal.days)
	s := &scorer{arrivals: arrivals, cal: cal,
		p: slaParams{capacity: 10, serviceTime: time.Second, requestTimeout: 30 * time.Second, slaP95: 3 * time.Second}}
	sc := s.score(workers)
	must.Eq(t, 2, sc.Days)
	must.Eq(t, 2, sc.DaysMet) // one slow minute of 60 is under 5% of a day's requests
	must.Eq(t, 100*119.0/120, sc.AvailabilityPct)
	// Each local day has its own availability: the unavailable minute is
	// on the second, and the two add up to the total by their minutes.
	must.Eq(t, []float64{100, 100 * 59.0 / 60}, []float64{sc.PerDay[0].AvailabilityPct, sc.PerDay[1].AvailabilityPct})
	must.Eq(t, []int{60, 60}, []int{sc.PerDay[0].BusinessMinutes, sc.PerDay[1].BusinessMinutes})
}

func TestScoreGivesEachDayItsOwnAvailabilityWhateverTheDayBefore(t *testing.T) {
	t.Parallel()
	// Two whole days, business hours 08:00-22:00 UTC: on the first every
	// business minute waits 2 minutes (unavailable with a 1-minute
	// timeout); the second is served at once. A day's count must not
	// leak into the next, nor the minutes outside business hours count.
	n := 2 * 1440
	arrivals := make([]float64, n)
	workers := make([]int64, n)
	for i := range arrivals {
		arrivals[i], workers[i] = 10, 1
	}
	s := &scorer{
		arrivals: arrivals,
		cal:      newCalendar(time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), n, time.UTC, businessHours{start: 8 * 60, end: 22 * 60}),
		p:        slaParams{capacity: 10, serviceTime: time.Second, requestTimeout: time.Minute, slaP95: 3 * time.Second},
	}
	// A backlog of 20 requests before business hours on day one, cleared
	// at 22:00 by a second worker.
	workers[8*60-2], workers[8*60-1] = 0, 0
	for i := 8 * 60; i < 22*60; i++ {
		workers[i] = 1
	}
	for i := 22 * 60; i < 1440; i++ {
		workers[i] = 2
	}
	sc := s.score(workers)
	must.Eq(t, 2, len(sc.PerDay))
	must.Eq(t, 0.0, sc.PerDay[0].AvailabilityPct)
	must.Eq(t, 100.0, sc.PerDay[1].AvailabilityPct)
	must.Eq(t, 840, sc.PerDay[0].BusinessMinutes)
	must.Eq(t, 840, sc.PerDay[1].BusinessMinutes)
	must.Eq(t, 50.0, sc.AvailabilityPct)
}

func TestParseBusinessHoursRejectsMalformedWindows(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"", "8-22", "08:00", "08:00-08:00", "25:00-26:00", "08:60-22:00", "24:00-08:00"} {
		_, err := parseBusinessHours(bad)
		must.Error(t, err, must.Sprint(bad))
	}
	bh, err := parseBusinessHours("00:00-24:00")
	must.NoError(t, err)
	must.True(t, bh.contains(0) && bh.contains(1439))
}

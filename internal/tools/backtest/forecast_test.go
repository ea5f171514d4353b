package backtest

import (
	"math"
	"testing"
	"time"

	"github.com/shoenig/test/must"
)

// monday is a Monday at 00:00 UTC, the start of the forecast tests' traces.
var monday = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

// hourly is days of per-minute arrivals, each minute at level(day, hour).
func hourly(days int, level func(day, hour int) float64) []float64 {
	a := make([]float64, days*1440)
	for i := range a {
		a[i] = level(i/1440, i%1440/60)
	}
	return a
}

// at is the time of day d, hour h, minute m after monday.
func at(d, h, m int) time.Time {
	return monday.Add(time.Duration(d)*24*time.Hour + time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
}

func TestTheForecastAtATimeUsesOnlyTheMinutesBeforeIt(t *testing.T) {
	t.Parallel()
	clean := hourly(10, func(d, h int) float64 { return float64(100 + 10*h + d) })
	const lead = 5 * time.Minute
	want := newCapacitySchedule(monday, clean, 50, lead)
	// Whatever happens from each cut on, every capacity applied before the
	// cut is the same.
	for _, cut := range []int{3*1440 + 7*60 + 13, 5*1440 + 23*60 + 55, 8 * 1440} {
		poisoned := append([]float64(nil), clean...)
		for i := cut; i < len(poisoned); i++ {
			poisoned[i] = 1e6
		}
		got := newCapacitySchedule(monday, poisoned, 50, lead)
		for m := 0; m <= cut; m++ {
			ts := monday.Add(time.Duration(m) * time.Minute)
			must.Eq(t, want.at(ts), got.at(ts), must.Sprintf("cut at minute %d, minute %d", cut, m))
		}
		ts := monday.Add(time.Duration(cut+2*1440) * time.Minute)
		must.NotEq(t, want.at(ts), got.at(ts), must.Sprint("two days after the cut the forecast sees the poison"))
	}
}

func TestTheForecastRepeatsADailyPattern(t *testing.T) {
	t.Parallel()
	level := func(_, h int) float64 { return float64(60 * (1 + h%12)) }
	s := newCapacitySchedule(monday, hourly(5, level), 100, 0)
	for h := range 24 {
		// From the second day on, every hour gets ceil(level / 100).
		want := int64(math.Ceil(level(0, h) / 100))
		must.Eq(t, want, s.at(at(2, h, 30)), must.Sprintf("hour %d", h))
		must.Eq(t, want, s.at(at(4, h, 0)), must.Sprintf("hour %d", h))
	}
}

func TestTheForecastUsesTheWeeklyPatternOnceAWeekExists(t *testing.T) {
	t.Parallel()
	// 1000 a minute on weekdays, 200 at weekends, from a Monday.
	level := func(d, _ int) float64 {
		if d%7 >= 5 {
			return 200
		}
		return 1000
	}
	h := newHourlyLoad(monday, hourly(15, level))
	forecastAt := func(day, hour int) float64 {
		k := day*24 + hour
		issue, ok := h.issueFor(k, 5*time.Minute)
		must.True(t, ok)
		load, ok := h.forecast(k, issue)
		must.True(t, ok)
		return load
	}
	// The first Saturday has no week behind it: the last five days.
	must.Eq(t, 1000.0, forecastAt(5, 12))
	// The second Saturday: the last seven days (two weekend days, five
	// weekdays), averaged half and half with last Saturday.
	must.InDelta(t, ((2*200.0+5*1000)/7+200)/2, forecastAt(12, 12), 1e-9)
	// The third Monday: the last seven days and the two Mondays before.
	must.InDelta(t, ((2*200.0+5*1000)/7+1000)/2, forecastAt(14, 12), 1e-9)
}

func TestTheForecastNeedsADayOfHistoryAndIsRefreshedEverySixHours(t *testing.T) {
	t.Parallel()
	start := monday.Add(90 * time.Minute) // 01:30 UTC; hour 0 is 01:00
	h := newHourlyLoad(start, make([]float64, 3*1440))
	issue, ok := h.issueFor(24, 5*time.Minute) // 01:00 the next day, scheduled at 00:55
	must.Eq(t, at(1, 0, 0), issue)
	must.False(t, ok, must.Sprint("22.5 hours of history at 00:00 the next day"))
	issue, ok = h.issueFor(29, 5*time.Minute) // 06:00, scheduled at 05:55
	must.Eq(t, at(1, 0, 0), issue)
	must.False(t, ok)
	issue, ok = h.issueFor(30, 5*time.Minute) // 07:00, scheduled at 06:55
	must.Eq(t, at(1, 6, 0), issue)
	must.True(t, ok)

	s := newCapacitySchedule(start, hourly(3, func(int, int) float64 { return 500 }), 100, 5*time.Minute)
	must.Eq(t, int64(0), s.at(at(1, 5, 55)), must.Sprint("no forecast yet: predictive is target-value alone"))
	must.Eq(t, int64(5), s.at(at(1, 6, 55)))
}

func TestTheScheduleAppliesEachHoursCapacityLeadBeforeTheHourStarts(t *testing.T) {
	t.Parallel()
	// Hour 10 of every day needs 9 workers at 100 per worker, the others 2.
	level := func(_, h int) float64 {
		if h == 10 {
			return 900
		}
		return 200
	}
	const lead = 7 * time.Minute
	s := newCapacitySchedule(monday, hourly(3, level), 100, lead)
	must.Eq(t, int64(2), s.at(at(2, 9, 52)))
	must.Eq(t, int64(2), s.at(at(2, 9, 53).Add(-time.Second)))
	must.Eq(t, int64(9), s.at(at(2, 9, 53)))
	must.Eq(t, int64(9), s.at(at(2, 10, 52)))
	must.Eq(t, int64(2), s.at(at(2, 10, 53)))
}

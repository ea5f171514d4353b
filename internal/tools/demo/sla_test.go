package demo

import (
	"math"
	"testing"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/backtest"
	"github.com/shoenig/test/must"
)

var testSLA = slaRule{serviceTime: time.Second, requestTimeout: 30 * time.Second, p95: 3 * time.Second, from: 8 * 60, to: 22 * 60}

// The backtest's TestScoreOnATinyTraceWithAKnownAnswer, with the same
// answers.
func TestScoreSLAOnATinyTraceWithAKnownAnswer(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
	arrivals := []float64{10, 20, 0, 0}
	// Minute 1 leaves 10 requests waiting for one worker serving 10/min: a
	// one-minute wait for the 20 requests of that minute, 2/3 of the day.
	sc := scoreSLA(start, time.UTC, arrivals, []float64{1, 1, 1, 1}, 10, testSLA)
	must.Eq(t, SLAScore{
		Days:    []backtest.DayScore{{Date: "2026-01-05", P95: 61, Met: false, AvailabilityPct: 75, BusinessMinutes: 4}},
		DaysMet: 0, AvailabilityPct: 75, WorstDayP95: 61,
	}, sc)

	sc = scoreSLA(start, time.UTC, arrivals, []float64{3, 3, 0, 0}, 10, testSLA)
	must.Eq(t, 1, sc.DaysMet)
	must.Eq(t, 100.0, sc.AvailabilityPct)
	must.Eq(t, backtest.Seconds(1), sc.WorstDayP95)
}

func TestScoreSLATakesTheMeanWorkersOfAMinute(t *testing.T) {
	t.Parallel()
	// 1.5 workers (one all minute, a second for half of it) serve 15 of
	// the 20 requests: 5 wait 5/15 of a minute, 20 s, for 21 s of latency.
	sc := scoreSLA(time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC), time.UTC, []float64{20}, []float64{1.5}, 10, testSLA)
	must.Eq(t, backtest.Seconds(21), sc.WorstDayP95)
	must.Eq(t, 100.0, sc.AvailabilityPct, must.Sprint("20 s is within the 30 s request timeout"))
	must.Eq(t, 0, sc.DaysMet)
}

func TestScoreSLACountsOnlyBusinessMinutesOfEachLocalDay(t *testing.T) {
	t.Parallel()
	edt := time.FixedZone("", -4*3600)
	// 21:00 local for 12 hours: business hours 21:00-22:00 on the 13th and
	// 08:00-09:00 on the 14th; the night between is replayed, not scored.
	start := time.Date(1995, 7, 13, 21, 0, 0, 0, edt)
	n := 12 * 60
	arrivals, workers := make([]float64, n), make([]float64, n)
	for i := range n {
		arrivals[i], workers[i] = 10, 1
	}
	// 02:00 local: a minute nobody serves, out of business hours; a second
	// worker clears its queue the minute after.
	workers[5*60], workers[5*60+1] = 0, 2
	// 08:30 on the 14th: 100 requests more than one worker serves, then
	// two workers clear them in 10 minutes.
	arrivals[11*60+30] = 110
	for i := 11*60 + 31; i < 11*60+41; i++ {
		workers[i] = 2
	}
	sc := scoreSLA(start, edt, arrivals, workers, 10, testSLA)
	must.SliceLen(t, 2, sc.Days)
	must.Eq(t, "1995-07-13", sc.Days[0].Date)
	must.Eq(t, "1995-07-14", sc.Days[1].Date)
	must.Eq(t, []int{60, 60}, []int{sc.Days[0].BusinessMinutes, sc.Days[1].BusinessMinutes})
	must.Eq(t, backtest.DayScore{Date: "1995-07-13", P95: 1, Met: true, AvailabilityPct: 100, BusinessMinutes: 60}, sc.Days[0])
	// On the 14th the 08:30 minute waits 10 minutes (100 requests for one
	// worker), then two workers clear 10 a minute: 4.5, 4, ... 0.5 minutes.
	// Nine minutes wait beyond the 30 s timeout, and their 190 of the day's
	// 700 requests are far above 5%.
	must.False(t, sc.Days[1].Met)
	must.Eq(t, 100*51.0/60, sc.Days[1].AvailabilityPct)
	must.Eq(t, 100*111.0/120, sc.AvailabilityPct)
}

func TestScoreSLAWithoutWorkersForABacklogIsUnbounded(t *testing.T) {
	t.Parallel()
	sc := scoreSLA(time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC), time.UTC, []float64{5, 5}, []float64{0, 0}, 10, testSLA)
	must.Eq(t, 0.0, sc.AvailabilityPct)
	must.True(t, math.IsInf(float64(sc.WorstDayP95), 1))
	must.Eq(t, "unbounded", sc.WorstDayP95.String())
}

func TestTheDemoScoresTheBacktestsDefaultSLA(t *testing.T) {
	t.Parallel()
	must.Eq(t, backtest.DefaultBusinessHours, clock(backtestSLA.from)+"-"+clock(backtestSLA.to))
	must.Eq(t, 3*time.Second, backtestSLA.p95)
	must.Eq(t, time.Second, backtestSLA.serviceTime)
	must.Eq(t, 30*time.Second, backtestSLA.requestTimeout)
}

package validate

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/backtest"
	"github.com/shoenig/test/must"
)

// handMadeResult is a run of four local days in New York whose scored
// minutes start at 03:00 local on the first day (07:00Z, as the NASA
// trace's do) and end at 13:00 local on the fourth, with known per-day
// scores: slope meets days 1, 2 and 4, its day 3 is the slow one. Every
// strategy serves w workers in every minute of local day d (1-based): slope
// d, target-value 2d, predictive 3d and the oracle 1; slope bills one more
// worker than it serves. The arrivals need 1 worker a minute.
func handMadeResult(t *testing.T) *backtest.Result {
	t.Helper()
	ny, err := time.LoadLocation("America/New_York")
	must.NoError(t, err)
	start := time.Date(2026, 3, 2, 3, 0, 0, 0, ny)
	end := time.Date(2026, 3, 5, 13, 0, 0, 0, ny)
	n := int(end.Sub(start) / time.Minute)
	res := &backtest.Result{
		Config:      backtest.Config{TimeZone: "America/New_York"},
		ScoredStart: start.UTC(),
		Arrivals:    make([]float64, n),
		Capacity:    100,
	}
	for i := range res.Arrivals {
		res.Arrivals[i] = 50
	}
	dates := []string{"2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05"}
	day := func(i int) int { return start.Add(time.Duration(i)*time.Minute).In(ny).Day() - 1 } // 1..4
	series := func(perDay func(d int) int64) []int64 {
		w := make([]int64, n)
		for i := range w {
			w[i] = perDay(day(i))
		}
		return w
	}
	perDay := func(p95 [4]backtest.Seconds, avail [4]float64) []backtest.DayScore {
		out := make([]backtest.DayScore, 4)
		for d := range out {
			// Business hours 08:00-22:00; the last day stops at 13:00.
			bm := 840
			if d == 3 {
				bm = 300
			}
			out[d] = backtest.DayScore{Date: dates[d], P95: p95[d], Met: p95[d] <= 3, AvailabilityPct: avail[d], BusinessMinutes: bm}
		}
		return out
	}
	strategy := func(name string, perDayWorkers func(d int) int64, billedExtra int64, days []backtest.DayScore) backtest.StrategyResult {
		s := backtest.StrategyResult{Name: name, Workers: series(perDayWorkers)}
		s.BilledWorkers = series(func(d int) int64 { return perDayWorkers(d) + billedExtra })
		s.PerDay = days
		return s
	}
	all := [4]float64{100, 100, 100, 100}
	res.Strategies = []backtest.StrategyResult{
		strategy(backtest.NameSlope, func(d int) int64 { return int64(d) }, 1,
			perDay([4]backtest.Seconds{1, 2, 9, 1.5}, [4]float64{100, 99.5, 90, 100})),
		strategy(backtest.NameTargetValue, func(d int) int64 { return 2 * int64(d) }, 0,
			perDay([4]backtest.Seconds{1, 1, 1, 1}, all)),
		strategy(backtest.NamePredictive, func(d int) int64 { return 3 * int64(d) }, 0,
			perDay([4]backtest.Seconds{1, 1, 4, 1}, all)),
		strategy(backtest.NameStaticPeak, func(int) int64 { return 5 }, 0, perDay([4]backtest.Seconds{1, 1, 1, 1}, all)),
		strategy(backtest.NameOracle, func(int) int64 { return 1 }, 0, perDay([4]backtest.Seconds{1, 1, 1, 1}, all)),
	}
	return res
}

func TestTheSplitGivesTheFirstDaysToTrainAndTheRestToHeldOut(t *testing.T) {
	t.Parallel()
	res := handMadeResult(t)
	parts, err := splitParts(res, true, 2)
	must.NoError(t, err)
	// Day 1 has 21 scored hours (from 03:00), days 2 and 3 have 24, day 4
	// has 13 (to 13:00).
	must.Eq(t, []part{
		{name: PartAll, firstDay: 0, endDay: 4, from: 0, to: (21 + 24 + 24 + 13) * 60},
		{name: PartTrain, firstDay: 0, endDay: 2, from: 0, to: (21 + 24) * 60},
		{name: PartHeldOut, firstDay: 2, endDay: 4, from: (21 + 24) * 60, to: (21 + 24 + 24 + 13) * 60},
	}, parts)

	train := figures(res, backtest.NameSlope, parts[1])
	must.Eq(t, 2, train.Days)
	must.Eq(t, 2, train.DaysMet)
	must.Eq(t, backtest.Seconds(2), train.WorstDayP95)
	must.Eq(t, (100*840+99.5*840)/1680, train.AvailabilityPct)
	// Slope serves 1 worker on day 1 (21 h) and 2 on day 2 (24 h), and
	// bills one more; the oracle serves 1 all along; the arrivals need 1.
	must.Eq(t, 21.0+2*24, train.WorkerHours)
	must.Eq(t, 2*21.0+3*24, train.BilledWorkerHours)
	must.Eq(t, (21.0+2*24)/45, train.RatioToOracle)
	must.Eq(t, (21.0+2*24)/45, train.RatioToPhysicalLimit)

	held := figures(res, backtest.NameSlope, parts[2])
	must.Eq(t, 2, held.Days)
	must.Eq(t, 1, held.DaysMet)
	must.Eq(t, backtest.Seconds(9), held.WorstDayP95)
	must.Eq(t, (90*840+100*300)/1140.0, held.AvailabilityPct)
	must.Eq(t, 3*24.0+4*13, held.WorkerHours)
	must.Eq(t, (3*24.0+4*13)/37, held.RatioToOracle)

	peer := figures(res, backtest.NamePredictive, parts[2])
	must.Eq(t, 1, peer.DaysMet)
	must.Eq(t, 3*(3*24.0+4*13), peer.BilledWorkerHours)
}

func TestTheSplitWithoutHeldOutDaysLeavesAnEmptyHeldOutPart(t *testing.T) {
	t.Parallel()
	res := handMadeResult(t)
	parts, err := splitParts(res, true, 14)
	must.NoError(t, err)
	n := len(res.Arrivals)
	must.Eq(t, []part{
		{name: PartAll, endDay: 4, to: n},
		{name: PartTrain, endDay: 4, to: n},
		{name: PartHeldOut, firstDay: 4, endDay: 4, from: n, to: n},
	}, parts)
	row := newRow(Scenario{Name: "nasa", Kind: KindNASA, Volume: 2e6, Split: true, Goals: BusinessHoursGoals}, res, parts[2])
	must.Eq(t, "nasa: held out (no days)", row.Label)
	must.Eq(t, "FAIL no days scored", row.Verdict)
	must.False(t, row.Pass)
}

func TestARowWithoutSplitIsTheWholeRun(t *testing.T) {
	t.Parallel()
	res := handMadeResult(t)
	parts, err := splitParts(res, false, 2)
	must.NoError(t, err)
	must.Eq(t, []part{{name: PartAll, endDay: 4, to: len(res.Arrivals)}}, parts)
	row := newRow(Scenario{Name: "business-a", Kind: KindSynthetic, Volume: 6e7, Goals: BusinessHoursGoals}, res, parts[0])
	must.Eq(t, "business-a (synthetic)", row.Label)
	must.Eq(t, "2026-03-02", row.FirstDay)
	must.Eq(t, "2026-03-05", row.LastDay)
	must.Eq(t, 3, row.Slope.DaysMet)
	must.Eq(t, 4, row.TargetValue.DaysMet)
	must.Eq(t, 3, row.Predictive.DaysMet)
	// Day 3 missed; availability (840 x (100 + 99.5 + 90) + 300 x 100) /
	// 2820 minutes; slope serves 21 x 1 + 24 x 2 + 24 x 3 + 13 x 4 = 193
	// worker-hours to the oracle's 82; target-value met every day.
	must.Eq(t, []string{"days 3/4", "availability 96.872<99.9", "cost 2.354>1.12", "behind target-value: 4/4 days"}, row.Failures)
}

// TestTheWholeRunsFiguresAreTheBacktestsTotals replays a real (short) run
// and checks that the figures of all its days, added up from the per-day
// scores and the minute series, are the backtest's own totals.
func TestTheWholeRunsFiguresAreTheBacktestsTotals(t *testing.T) {
	t.Parallel()
	tr := backtest.Trace{Start: time.Date(2026, 1, 5, 5, 0, 0, 0, time.UTC), Counts: make([]float64, 3*1440)}
	for i := range tr.Counts {
		// A daily wave with a sharp morning ramp, so that the policies
		// miss some minutes.
		h := float64(i%1440) / 60
		tr.Counts[i] = 200 + 1800*math.Max(0, math.Sin(math.Pi*(h-3)/14)) + float64(i*37%41)
	}
	cfg := backtest.DefaultConfig()
	cfg.PolicyPath = "../backtest/testdata/target-value.hcl"
	cfg.Capacity = 100
	cfg.TimeZone = "America/New_York"
	res, err := backtest.Run(context.Background(), cfg, tr, "wave")
	must.NoError(t, err)
	parts, err := splitParts(res, true, 1)
	must.NoError(t, err)
	for _, name := range []string{backtest.NameSlope, backtest.NameTargetValue, backtest.NamePredictive} {
		s := res.Strategy(name)
		f := figures(res, name, parts[0])
		must.Eq(t, s.Days, f.Days, must.Sprint(name))
		must.Eq(t, s.DaysMet, f.DaysMet, must.Sprint(name))
		must.Eq(t, s.WorstDayP95, f.WorstDayP95, must.Sprint(name))
		must.Eq(t, roundTo(s.AvailabilityPct, 9), roundTo(f.AvailabilityPct, 9), must.Sprint(name))
		must.Eq(t, roundTo(s.WorkerHours, 9), roundTo(f.WorkerHours, 9), must.Sprint(name))
		must.Eq(t, roundTo(s.BilledWorkerHours, 9), roundTo(f.BilledWorkerHours, 9), must.Sprint(name))
		must.Eq(t, roundTo(res.RatioToOracle(name), 9), roundTo(f.RatioToOracle, 9), must.Sprint(name))
		must.Eq(t, roundTo(res.RatioToPhysicalLimit(name), 9), roundTo(f.RatioToPhysicalLimit, 9), must.Sprint(name))
		// The train and held-out parts add up to the whole.
		train, held := figures(res, name, parts[1]), figures(res, name, parts[2])
		must.Eq(t, f.Days, train.Days+held.Days)
		must.Eq(t, roundTo(f.BilledWorkerHours, 9), roundTo(train.BilledWorkerHours+held.BilledWorkerHours, 9))
	}
}

// The perfect-level reference is shown on every part with the headroom
// chosen on the whole run, and left empty for a run without it.
func TestARowShowsThePerfectLevelOnItsPart(t *testing.T) {
	t.Parallel()
	res := handMadeResult(t)
	parts, err := splitParts(res, true, 2)
	must.NoError(t, err)
	row := newRow(Scenario{Name: "nasa", Kind: KindNASA, Volume: 2e6, Split: true, Goals: BusinessHoursGoals}, res, parts[1])
	must.Eq(t, "", row.perfectLevelCell())

	pl := *res.Strategy(backtest.NameStaticPeak) // 5 workers all along
	pl.Name = backtest.NamePerfectLevel
	res.PerfectLevel = backtest.LevelReference{Headroom: 1.25, StrategyResult: pl}
	row = newRow(Scenario{Name: "nasa", Kind: KindNASA, Volume: 2e6, Split: true, Goals: BusinessHoursGoals}, res, parts[1])
	must.Eq(t, 5.0, row.PerfectLevel.RatioToOracle, must.Sprint("5 workers against the oracle's 1 on the train days"))
	must.Eq(t, "5.000 (x1.25)", row.perfectLevelCell())
	must.Eq(t, 2, row.PerfectLevel.Days)
}

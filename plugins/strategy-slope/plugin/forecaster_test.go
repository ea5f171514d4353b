package plugin

import (
	"math"
	"testing"
	"time"

	"github.com/shoenig/test/must"
)

// line is n points one minute apart, the newest at x = 0, rising by slope
// per minute from start.
func line(n int, start, slope float64) []point {
	pts := make([]point, n)
	for i := range pts {
		pts[i] = point{x: float64(i - (n - 1)), y: start + slope*float64(i)}
	}
	return pts
}

// fridayUnix is the newest point's time in the decision tests: the minute
// before friday noon.
var fridayUnix = float64(friday.Add(-time.Minute).Unix())

func filled(pts []point) *grid {
	g := new(grid)
	g.fill(pts, fridayUnix)
	return g
}

func testParams(t *testing.T, g *grid, kv ...string) forecasterParams {
	t.Helper()
	return newForecasterParams(mustConfig(t, kv...), g)
}

func TestGridPutsEachPointInItsSlotAndMarksGaps(t *testing.T) {
	g := filled([]point{{-4, 10}, {-3, 20}, {-1, 40}, {0, 50}})
	must.Eq(t, 5, g.len())
	must.True(t, math.IsNaN(g.v[2]))
	m, ok := g.mean(0, 5, 0)
	must.True(t, ok)
	must.Eq(t, 30.0, m)
	_, ok = g.mean(2, 3, 0)
	must.False(t, ok, must.Sprint("a range of gaps has no mean"))
	m, _ = g.mean(-10, 2, 1)
	must.Eq(t, 20.0, m, must.Sprint("ranges are clipped to [lo, len)"))
}

func TestGridOfPointsYearsApartStaysBounded(t *testing.T) {
	g := filled([]point{{-1e7, 1}, {-1, 2}, {0, 3}})
	must.LessEq(t, maxGridSlots, g.len())
}

func TestForecasterRecoversAnExactLineAtTheWindowEnds(t *testing.T) {
	g := filled(line(120, 100, 2.5)) // newest 397.5
	fc := forecastNow(g, testParams(t, g, keySeasonal, "false"))
	// up covers minutes lead+1 .. horizon+1 ahead of the newest: the line
	// rises, so its end: 397.5 + 9 x 2.5.
	must.InDelta(t, 420.0, fc.up, 1e-6)
	must.InDelta(t, 420.0, fc.hold, 1e-6)
	must.InDelta(t, 420.0, fc.trend, 1e-6)
	must.InDelta(t, 395.0, fc.recent, 1e-9)
}

func TestForecasterSizesAFallingLineForNowNotForTheHorizon(t *testing.T) {
	g := filled(line(120, 397.5, -2.5)) // newest 100
	fc := forecastNow(g, testParams(t, g, keySeasonal, "false"))
	// The line is lowest at the horizon; the recent minutes are higher.
	must.InDelta(t, 102.5, fc.recent, 1e-9)
	must.InDelta(t, 102.5, fc.up, 1e-6)
	must.InDelta(t, 102.5, fc.hold, 1e-6, must.Sprint("the hold window starts next minute, at 97.5 on the line, so recent wins"))
}

func TestForecasterFollowsAStepAtOnce(t *testing.T) {
	pts := line(120, 1000, 0)
	for i := 117; i < 120; i++ {
		pts[i].y = 3000
	}
	g := filled(pts)
	fc := forecastNow(g, testParams(t, g, keySeasonal, "false"))
	must.Eq(t, 3000.0, fc.recent)
	must.GreaterEq(t, 3000.0, fc.up, must.Sprint("three minutes at 3000 are provisioned for whatever the line says"))
}

// rampDays is a flat 100/min from midnight UTC until 07:49 the next day,
// except that the first day rises to 400/min at 07:56: the decision after
// 07:49 has yesterday's ramp inside its up window (07:55-07:58), where no
// line fitted to today's flat night can see it.
func rampDays(night, ramp float64) []point {
	const n = 24*60 + 7*60 + 50
	pts := make([]point, n)
	for i := range pts {
		v := night
		if i >= 7*60+56 && i < 20*60 {
			v = ramp
		}
		pts[i] = point{x: float64(i - (n - 1)), y: v}
	}
	return pts
}

func TestTheSeasonalViewSizesTheRampYesterdayHadAheadOfTheLine(t *testing.T) {
	g := filled(rampDays(100, 400))
	with := forecastNow(g, testParams(t, g))
	without := forecastNow(g, testParams(t, g, keySeasonal, "false"))
	must.InDelta(t, 100.0, without.up, 1e-9, must.Sprint("the line sees a flat night"))
	// Yesterday's up window widened by 2 minutes each side (07:53-08:00)
	// averaged (3 x 100 + 5 x 400) / 8 = 287.5 against 100 in the quarter
	// hour before: today's 100 times (287.5 + 1) / (100 + 1).
	must.InDelta(t, 100*288.5/101, with.seasonal, 1e-6)
	must.Eq(t, with.seasonal, with.up)
}

func TestTheSeasonalRatioIsCappedAfterAnEmptyNight(t *testing.T) {
	g := filled(rampDays(0, 1000))
	g.v[g.len()-1] = 15 // today's quarter hour averages 1
	g.fill(func() []point {
		pts := rampDays(0, 1000)
		pts[len(pts)-1].y = 15
		return pts
	}(), fridayUnix)
	fc := forecastNow(g, testParams(t, g))
	must.InDelta(t, 1*maxSeasonalRatio, fc.seasonal, 1e-9, must.Sprint("(625 + 1) / (0 + 1) is capped"))
}

func TestNoiseOfAlternatingMinutesIsHalfTheirDifference(t *testing.T) {
	pts := line(200, 1000, 0)
	for i := range pts {
		if i%2 == 1 {
			pts[i].y = 1200
		}
	}
	g := filled(pts)
	fc := forecastNow(g, testParams(t, g, keySeasonal, "false"))
	// Differences of +-200: sigma = sqrt(200^2 / 2) = 141.4.
	must.InDelta(t, 141.42, fc.sigma, 0.01)
}

func TestTheMarginUnitGrowsWithTheForecastButNeverBelowTheMeasuredNoise(t *testing.T) {
	// Poisson-like noise (phi 1) at 10,000/min: sqrt(10000) + 5%.
	must.InDelta(t, 100+500, unit(noiseAt(10000, 50, 1), 10000, 0.05), 1e-9)
	// Measured noise above the Poisson level at a low forecast stays.
	must.InDelta(t, 300+5, unit(noiseAt(100, 300, 1), 100, 0.05), 1e-9)
	// Overdispersed counts: sqrt(phi d).
	must.InDelta(t, math.Sqrt(4*10000)+500, unit(noiseAt(10000, 50, 4), 10000, 0.05), 1e-9)
	must.Eq(t, 0.0, unit(noiseAt(-5, 0, 1), -5, 0.05))
}

func TestStaleSlotsCountTheMinutesTheAPMHeldBack(t *testing.T) {
	g := filled(flat(60, 1))
	must.Eq(t, 0, staleSlots(g, friday), must.Sprint("the newest minute ended at friday"))
	must.Eq(t, 0, staleSlots(g, friday.Add(20*time.Second)))
	must.Eq(t, 1, staleSlots(g, friday.Add(time.Minute)), must.Sprint("a settle delay held the last minute back"))
	must.Eq(t, maxStaleSlots, staleSlots(g, friday.Add(3*time.Hour)))
	must.Eq(t, 0, staleSlots(g, friday.Add(-time.Hour)), must.Sprint("data from the future is not stale"))
}

func TestADecisionOnStaleDataLooksFurtherAhead(t *testing.T) {
	pts := line(60, 1000, 10)
	fresh := testInput(t, 5, pts)
	stale := testInput(t, 5, pts)
	stale.now = friday.Add(time.Minute)
	a, err := decide(fresh)
	must.NoError(t, err)
	b, err := decide(stale)
	must.NoError(t, err)
	must.InDelta(t, 1680.0, a.meta["forecast_up"].(float64), 1e-6)
	must.InDelta(t, 1690.0, b.meta["forecast_up"].(float64), 1e-6, must.Sprint("one minute further along the line"))
	must.Eq[any](t, 1.0, b.meta["stale_minutes"])
}

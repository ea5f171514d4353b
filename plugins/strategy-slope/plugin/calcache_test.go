package plugin

import (
	"math"
	"testing"
	"time"

	"github.com/shoenig/test/must"
)

func TestACachedCalibrationIsWhatAFreshOneGives(t *testing.T) {
	pts := history(2, 1.5, 15*60)
	g := filled(pts)
	c := mustConfig(t)
	p, r := newForecasterParams(c, g), newReplayRules(c, g)
	mc := newMarginCache()
	first := mc.calibratedMargin("k", g, p, r)
	must.Eq(t, first, mc.calibratedMargin("k", g, p, r))
	lo, hi := blockRange(g)
	must.Eq(t, first, calibrate(g, lo, hi, p, r, new(replayBuffers)))
}

func TestTheCalibratedRangeIsWholeBlocks(t *testing.T) {
	// The newest slot 11:59 ends at noon, a block boundary; the oldest
	// slot is 10:01 the day before, so the range starts at 11:00.
	g := filled(flat(26*60-1, 1))
	lo, hi := blockRange(g)
	must.Eq(t, g.len(), hi)
	must.Eq(t, 59, lo)
	// Half an hour later the range still ends at noon.
	g = filled(flat(26*60+29, 1))
	g.newest += 30 * 60
	lo, hi = blockRange(g)
	must.Eq(t, g.len()-30, hi)
	must.Eq(t, 59, lo)
	// A window of a fixed length sliding a minute at a time: the range
	// keeps its length and moves once an hour, by an hour (it was an hour
	// longer in the minute when both ends were aligned, so each hour was
	// calibrated twice).
	starts := map[float64]bool{}
	for m := range 121 {
		g := filled(flat(26*60, 1))
		g.newest += float64(m * 60)
		lo, hi := blockRange(g)
		must.Eq(t, 25*60, hi-lo, must.Sprintf("minute %d", m))
		starts[g.newest-float64(g.len()-1-lo)*60] = true
	}
	must.MapLen(t, 3, starts, must.Sprint("the range moved twice in two hours"))
}

func TestALongerWindowCalibratesInLongerBlocks(t *testing.T) {
	for _, c := range []struct {
		span, block time.Duration
	}{
		{time.Hour, time.Hour}, {192 * time.Hour, time.Hour}, {192*time.Hour + time.Minute, time.Hour},
		{12 * 24 * time.Hour, 2 * time.Hour}, {20 * 24 * time.Hour, 3 * time.Hour}, {672 * time.Hour, 4 * time.Hour},
		{40 * 24 * time.Hour, 6 * time.Hour}, {60 * 24 * time.Hour, 8 * time.Hour},
	} {
		must.Eq(t, c.block, blockOf(c.span), must.Sprintf("a window of %s", c.span))
	}
	// A 28-day window sliding a minute at a time moves its range once in
	// four hours, by four hours, on boundaries of four hours.
	starts := map[float64]bool{}
	for m := 0; m < 8*60; m += 7 {
		g := filled(flat(28*24*60, 1))
		g.newest += float64(m * 60)
		lo, hi := blockRange(g)
		must.Eq(t, 27*24*60+20*60, hi-lo, must.Sprintf("minute %d", m))
		start := g.newest - float64(g.len()-1-lo)*60
		must.Eq(t, 0, math.Mod(start, 4*3600))
		starts[start] = true
	}
	must.MapLen(t, 2, starts, must.Sprint("the range moved once in eight hours"))
}

func TestTheCacheNoticesNewDataAndKeepsChecksApart(t *testing.T) {
	c := mustConfig(t)
	calm, bursty := filled(history(2, 1)), filled(history(2, 1.8, 9*60, 12*60, 15*60))
	mc := newMarginCache()
	a := mc.calibratedMargin("k", calm, newForecasterParams(c, calm), newReplayRules(c, calm))
	b := mc.calibratedMargin("k", bursty, newForecasterParams(c, bursty), newReplayRules(c, bursty))
	must.NotEq(t, a, b, must.Sprint("the same key with other data is calibrated again"))
	must.Eq(t, a, mc.calibratedMargin("other", calm, newForecasterParams(c, calm), newReplayRules(c, calm)))
	for i := range maxCachedCalibrations + 5 {
		mc.calibratedMargin(string(rune('a'+i%26))+string(rune(i)), calm, newForecasterParams(c, calm), newReplayRules(c, calm))
	}
	must.Eq(t, maxCachedCalibrations, mc.order.Len())
	must.Eq(t, maxCachedCalibrations, len(mc.entries))
}

func TestTheCacheNoticesAnOffHoursWaitChange(t *testing.T) {
	g := filled(history(4, 1.8, 2*60, 4*60, 12*60, 15*60))
	sla, relaxed := mustConfig(t), mustConfig(t, keyOffHoursMaxWait, "30s")
	mc := newMarginCache()
	a := mc.calibratedMargin("k", g, newForecasterParams(sla, g), newReplayRules(sla, g))
	b := mc.calibratedMargin("k", g, newForecasterParams(relaxed, g), newReplayRules(relaxed, g))
	must.Eq(t, a.margin, a.offMargin)
	must.Less(t, b.margin, b.offMargin, must.Sprint("the same data under a new config is calibrated again"))
}

func TestTheRangeHashSeesEveryMinuteAndTheWorkerSize(t *testing.T) {
	c := mustConfig(t)
	g := filled(history(1, 1))
	p, r := newForecasterParams(c, g), newReplayRules(c, g)
	lo, hi := 3, 3+4*50+3 // whole lanes and a tail
	base := rangeHash(g, lo, hi, rulesHash(p, r))
	for _, i := range []int{lo, lo + 1, lo + 2, lo + 3, hi - 4, hi - 3, hi - 1} {
		old := g.v[i]
		g.v[i]++
		must.NotEq(t, base, rangeHash(g, lo, hi, rulesHash(p, r)), must.Sprintf("slot %d changed", i))
		g.v[i] = old
	}
	must.Eq(t, base, rangeHash(g, lo, hi, rulesHash(p, r)))
	// Two minutes swapped, in one lane or across two, are other data too.
	for _, j := range []int{lo + 1, lo + 4} {
		must.NotEq(t, g.v[lo], g.v[j])
		g.v[lo], g.v[j] = g.v[j], g.v[lo]
		swapped := rangeHash(g, lo, hi, rulesHash(p, r))
		g.v[lo], g.v[j] = g.v[j], g.v[lo]
		must.NotEq(t, base, swapped, must.Sprintf("slots %d and %d swapped", lo, j))
	}
	r.perWorker *= 2
	must.NotEq(t, base, rangeHash(g, lo, hi, rulesHash(p, r)), must.Sprint("capacity_per_worker decides the replay's count changes"))
	r.perWorker /= 2
	r.worstIn = 0
	must.NotEq(t, base, rangeHash(g, lo, hi, rulesHash(p, r)), must.Sprint("worst_day_in decides how many days may miss"))
}

// windowAt lays pts[from:to] on a grid whose newest slot is hoursBefore
// hours before the tests' friday noon.
func windowAt(pts []point, from, to int, hoursBefore float64) *grid {
	w := make([]point, 0, to-from)
	for i := from; i < to; i++ {
		w = append(w, point{x: float64(i - (to - 1)), y: pts[i].y})
	}
	g := new(grid)
	g.fill(w, fridayUnix-hoursBefore*3600)
	return g
}

// anHourApart is a check's 4-day window and the same window an hour
// later, and the margin a cache gives check "k" for a window.
func anHourApart(t *testing.T) (earlier, later *grid, margin func(*marginCache, *grid) calibration) {
	pts := history(4, 1.6, 10*60, 13*60, 16*60)
	c := mustConfig(t)
	n := len(pts)
	margin = func(mc *marginCache, g *grid) calibration {
		return mc.calibratedMargin("k", g, newForecasterParams(c, g), newReplayRules(c, g))
	}
	return windowAt(pts, 0, n-60, 1), windowAt(pts, 60, n, 0), margin
}

// cacheSpawning is a cache whose background calibrations run in
// goroutines, as the plugin's do, or inline.
func cacheSpawning(background bool) *marginCache {
	mc := newMarginCache()
	if background {
		mc.spawn = func(f func()) { go f() }
	}
	return mc
}

func TestAnHourLaterTheLastCalibrationServesWhileTheNextRuns(t *testing.T) {
	earlier, later, margin := anHourApart(t)
	c := mustConfig(t)
	for _, background := range []bool{false, true} {
		mc := cacheSpawning(background)
		first := margin(mc, earlier)
		must.False(t, first.pending, must.Sprint("a check's first calibration is made at once"))
		meanwhile := margin(mc, later)
		must.True(t, meanwhile.pending)
		meanwhile.pending = false
		must.Eq(t, first, meanwhile, must.Sprint("the evaluation that sees the new hour decides with the last calibration"))
		mc.settle()
		next := margin(mc, later)
		must.False(t, next.pending)
		must.Eq(t, next, margin(mc, later))
		// What the next evaluation takes is the calibration of the new
		// window, started from the last one's brackets.
		lo, hi := blockRange(later)
		lo2, hi2 := blockRange(earlier)
		_, prev := calibrateHinted(earlier, lo2, hi2, newForecasterParams(c, earlier), newReplayRules(c, earlier), new(replayBuffers), searchHints{})
		want, _ := calibrateHinted(later, lo, hi, newForecasterParams(c, later), newReplayRules(c, later), new(replayBuffers), prev)
		must.Eq(t, want, next)
	}
}

func TestDataThatIsNotTheSameWindowLaterIsCalibratedAtOnce(t *testing.T) {
	pts := history(4, 1.6, 10*60, 13*60, 16*60)
	bursty := history(4, 2.5, 9*60, 11*60, 17*60)
	c := mustConfig(t)
	n := len(pts)
	margin := func(mc *marginCache, g *grid, c config) calibration {
		return mc.calibratedMargin("k", g, newForecasterParams(c, g), newReplayRules(c, g))
	}
	cases := []struct {
		name          string
		before, after *grid
		cfg           config
	}{
		{"older data", windowAt(pts, 60, n, 0), windowAt(pts, 0, n-60, 1), c},
		{"a longer query window", windowAt(pts, 60, n-60, 1), windowAt(pts, 0, n, 0), c},
		{"three hours later", windowAt(pts, 0, n-180, 3), windowAt(pts, 180, n, 0), c},
		{"other rules", windowAt(pts, 0, n-60, 1), windowAt(pts, 60, n, 0), mustConfig(t, keySlowShare, "0.04")},
		{"the same time, other data", windowAt(pts, 60, n, 0), windowAt(bursty, 60, n, 0), c},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mc := newMarginCache()
			margin(mc, tc.before, c)
			got := margin(mc, tc.after, tc.cfg)
			must.False(t, got.pending)
			must.Eq(t, margin(newMarginCache(), tc.after, tc.cfg).margin, got.margin)
		})
	}
}

func TestABackgroundCalibrationThatPanicsIsRedoneAtOnce(t *testing.T) {
	earlier, later, margin := anHourApart(t)
	for _, background := range []bool{false, true} {
		mc := cacheSpawning(background)
		margin(mc, earlier)
		// A bug in the calibration: in the background it must not end
		// the plugin; the evaluation decides with the last calibration.
		mc.calibrate = func(*grid, int, int, forecasterParams, replayRules, *replayBuffers, searchHints) (calibration, searchHints) {
			panic("index out of range")
		}
		must.True(t, margin(mc, later).pending)
		mc.settle()
		// The next evaluation calibrates at once (where Run's recovery
		// would report a panic to the agent); here the bug is gone.
		mc.calibrate = calibrateHinted
		got := margin(mc, later)
		must.False(t, got.pending)
		must.Eq(t, margin(newMarginCache(), later).margin, got.margin)
	}
}

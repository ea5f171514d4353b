package plugin

import (
	"testing"

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
	base := rangeHash(g, lo, hi, p, r)
	for _, i := range []int{lo, lo + 1, lo + 2, lo + 3, hi - 4, hi - 3, hi - 1} {
		old := g.v[i]
		g.v[i]++
		must.NotEq(t, base, rangeHash(g, lo, hi, p, r), must.Sprintf("slot %d changed", i))
		g.v[i] = old
	}
	must.Eq(t, base, rangeHash(g, lo, hi, p, r))
	// Two minutes swapped, in one lane or across two, are other data too.
	for _, j := range []int{lo + 1, lo + 4} {
		must.NotEq(t, g.v[lo], g.v[j])
		g.v[lo], g.v[j] = g.v[j], g.v[lo]
		swapped := rangeHash(g, lo, hi, p, r)
		g.v[lo], g.v[j] = g.v[j], g.v[lo]
		must.NotEq(t, base, swapped, must.Sprintf("slots %d and %d swapped", lo, j))
	}
	r.perWorker *= 2
	must.NotEq(t, base, rangeHash(g, lo, hi, p, r), must.Sprint("capacity_per_worker decides the replay's count changes"))
}

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

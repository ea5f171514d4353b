package plugin

import (
	"math/rand/v2"
	"testing"

	"github.com/shoenig/test/must"
)

// thresholdJudge replays as a window whose SLA needs margin need: a
// margin meets from need up.
func thresholdJudge(need float64) (func(float64) calibration, func(calibration) bool) {
	judge := func(m float64) calibration {
		cal := calibration{margin: m, days: 7}
		if m < need {
			cal.share = 1
		}
		return cal
	}
	return judge, func(c calibration) bool { return c.share == 0 }
}

func searchWith(need float64, hint bracket) (calibration, bool, *probes) {
	pr := newProbes(thresholdJudge(need))
	pr.seed(hint, maxMargin)
	cal, ok := search(pr)
	return cal, ok, pr
}

func TestAHintedSearchFindsTheMarginASearchFromNothingFinds(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		need := rng.Float64() * 45 // some beyond maxMargin
		cold, coldOK, coldPr := searchWith(need, bracket{})
		// The last search's bracket, near this one's or anywhere.
		prev, _, prevPr := searchWith(need*(0.8+0.4*rng.Float64()), bracket{})
		_ = prev
		hint := prevPr.found
		if rng.IntN(4) == 0 {
			lo := rng.Float64() * 40
			hint = bracket{low: lo, high: lo + 0.1*rng.Float64(), set: true}
		}
		warm, warmOK, _ := searchWith(need, hint)
		must.Eq(t, coldOK, warmOK, must.Sprintf("need %v hint %+v", need, hint))
		must.Eq(t, cold, warm, must.Sprintf("need %v hint %+v", need, hint))
		if coldOK {
			must.Eq(t, coldPr.found, func() bracket { _, _, p := searchWith(need, hint); return p.found }())
		}
	}
}

func TestASearchFromItsOwnBracketReplaysTwice(t *testing.T) {
	for _, need := range []float64{0.01, 0.7, 2.3, 7.99, 8.5, 23, 39.9} {
		_, _, cold := searchWith(need, bracket{})
		warm := newProbes(thresholdJudge(need))
		warm.seed(cold.found, maxMargin)
		_, ok := search(warm)
		must.True(t, ok)
		want := 2
		if cold.found.low == 0 {
			want = 1 // 0 is never replayed
		}
		must.Eq(t, want, warm.replays, must.Sprintf("need %v: cold search replayed %d times", need, cold.replays))
		must.Greater(t, warm.replays+4, cold.replays)
	}
}

func TestAHintThatMovedCostsAFewReplays(t *testing.T) {
	// The margin rose by 5% since the last calibration.
	_, _, before := searchWith(2.3, bracket{})
	_, _, cold := searchWith(2.3*1.05, bracket{})
	_, _, warm := searchWith(2.3*1.05, before.found)
	t.Logf("replays: from nothing %d, from the last bracket %d (%+v, now %+v)", cold.replays, warm.replays, before.found, warm.found)
	must.Less(t, cold.replays, warm.replays)
}

func TestASearchWhoseLargestMarginMissesSaysSo(t *testing.T) {
	cal, ok, pr := searchWith(41, bracket{low: 39, high: 40, set: true})
	must.False(t, ok)
	must.Eq(t, maxMargin, cal.margin)
	must.Eq(t, 1.0, cal.share)
	must.Eq(t, 1, pr.replays, must.Sprint("40 from the hint; 8 and the gallop above it settled by it"))
}

func TestAnInferredMarginIsReplayedForItsFigures(t *testing.T) {
	// 3 met, so the bisection settles 4 as met without a replay; if the
	// search ends at 4 it must return 4's own replay.
	pr := newProbes(thresholdJudge(2.5))
	must.True(t, pr.verdict(3))
	must.True(t, pr.verdict(4))
	must.Eq(t, 1, pr.replays)
	cal := pr.replayAt(4)
	must.Eq(t, 4.0, cal.margin)
	must.Eq(t, 2, pr.replays)
	must.Eq(t, 3.0, pr.replayAt(3).margin)
	must.Eq(t, 2, pr.replays)
}

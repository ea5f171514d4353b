package backtest

import (
	"testing"
	"time"

	"github.com/shoenig/test/must"
)

func TestReferenceFleets(t *testing.T) {
	t.Parallel()
	arrivals := []float64{50, 250, 100, 0, 0, 120, 90}
	must.Eq(t, int64(3), staticPeak(arrivals, 100))
	// Blocks of 3 minutes: peaks 250, 120 (0, 0, 120), 90.
	must.Eq(t, []int64{3, 3, 3, 2, 2, 2, 1}, oracle(arrivals, 100, 3))
	// ceil per minute: 1+3+1+0+0+2+1 = 8 worker-minutes.
	must.Eq(t, 8.0/60, physicalLimitHours(arrivals, 100))
	ups, downs := countChanges([]int64{3, 3, 2, 2, 4, 1})
	must.Eq(t, 1, ups)
	must.Eq(t, 2, downs)
}

func TestLevelFleetSizesEveryBlockForItsMean(t *testing.T) {
	t.Parallel()
	arrivals := []float64{50, 250, 100, 0, 0, 120, 90}
	// Blocks of 3: means 133.3, 40, 90; x1.5: 200, 60, 135 requests/min.
	must.Eq(t, []int64{2, 2, 2, 1, 1, 1, 2}, levelFleet(arrivals, 100, 3, 1.5))
	must.Eq(t, []int64{2, 2, 2, 1, 1, 1, 1}, levelFleet(arrivals, 100, 3, 1))
}

// The bisection finds what a scan of every headroom finds: the smallest
// that meets as many days as the largest, and, asked for an availability,
// the smallest that is also that available.
func TestPerfectLevelIsTheSmallestHeadroomThatMeetsTheMostDays(t *testing.T) {
	t.Parallel()
	tr := dailyWave(3)
	for d := range 3 { // a short burst of six times the traffic at noon: the days meet the SLA while some of it times out
		for m := 720; m < 725; m++ {
			tr.Counts[d*1440+m] *= 6
		}
	}
	cfg := testConfig()
	_, m, sc, err := prepare(cfg, tr, "wave")
	must.NoError(t, err)
	block := int(oracleBlock / time.Minute)
	at := func(h float64) StrategyResult {
		o := &replayOutcome{workers: levelFleet(sc.arrivals, m.capacity, block, h)}
		return sc.fresh().result(NamePerfectLevel, o, cfg.Price)
	}
	daysOnly := perfectLevel(sc, m.capacity, block, cfg.Price, 0)
	most := perfectLevel(sc, m.capacity, block, cfg.Price, 100) // as available as any headroom up to 4
	must.Greater(t, 1.0, daysOnly.Headroom, must.Sprint("the burst needs headroom: the test must not pass at the grid's floor"))
	must.Greater(t, daysOnly.AvailabilityPct, most.AvailabilityPct, must.Sprint("the availability goal must bind somewhere for this test"))
	goal := (daysOnly.AvailabilityPct + most.AvailabilityPct) / 2
	withGoal := perfectLevel(sc, m.capacity, block, cfg.Price, goal)
	must.Greater(t, daysOnly.Headroom, withGoal.Headroom)
	must.GreaterEq(t, goal, withGoal.AvailabilityPct)
	for _, c := range []struct {
		got  LevelReference
		goal float64
	}{{daysOnly, 0}, {withGoal, goal}, {most, most.AvailabilityPct}} {
		prev := at(c.got.Headroom - levelHeadroomUnit)
		must.True(t, prev.DaysMet < c.got.DaysMet || prev.AvailabilityPct < c.goal,
			must.Sprintf("x%.2f meets %d days at %.3f%%: x%.2f was not the smallest", c.got.Headroom-levelHeadroomUnit, prev.DaysMet, prev.AvailabilityPct, c.got.Headroom))
		must.Eq(t, most.DaysMet, c.got.DaysMet)
		must.Eq(t, at(c.got.Headroom).WorkerHours, c.got.WorkerHours)
	}
}

package backtest

import (
	"testing"

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

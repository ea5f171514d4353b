package backtest

import (
	"testing"

	"github.com/shoenig/test/must"
)

func TestFleetServesAScaleUpOnlyFromItsReadyMinute(t *testing.T) {
	t.Parallel()
	f := newFleet(2)
	f.scaleTo(5, 15)
	must.Eq(t, int64(5), f.target)
	f.advance(14)
	must.Eq(t, int64(2), f.serving)
	must.Eq(t, int64(3), f.bootingCount())
	f.advance(15)
	must.Eq(t, int64(5), f.serving)
	must.Eq(t, int64(0), f.bootingCount())
}

func TestFleetScaleDownCancelsBootingWorkersFirstLatestOrderFirst(t *testing.T) {
	t.Parallel()
	f := newFleet(4)
	f.scaleTo(6, 10) // 2 ready at 10
	f.scaleTo(9, 12) // 3 more ready at 12
	f.scaleTo(5, 0)  // remove 4: the 3 of minute 12, then 1 of minute 10
	must.Eq(t, int64(5), f.target)
	must.Eq(t, int64(4), f.serving)
	must.Eq(t, []cohort{{readyAt: 10, n: 1}}, f.booting)
	f.advance(12)
	must.Eq(t, int64(5), f.serving)
}

func TestFleetScaleDownBelowTheBootingStopsServingWorkersAtOnce(t *testing.T) {
	t.Parallel()
	f := newFleet(4)
	f.scaleTo(6, 10)
	f.scaleTo(1, 0)
	must.Eq(t, int64(1), f.serving)
	must.SliceEmpty(t, f.booting)
	f.scaleTo(0, 0)
	must.Eq(t, int64(0), f.serving)
}

package backtest

import (
	"testing"

	"github.com/shoenig/test/must"
)

func TestFleetServesAScaleUpOnlyFromItsReadyMinute(t *testing.T) {
	t.Parallel()
	f := newFleet(2)
	f.scaleTo(5, 15, 0)
	must.Eq(t, int64(5), f.target)
	f.advance(14)
	must.Eq(t, int64(2), f.serving)
	must.Eq(t, int64(3), f.bootingCount())
	f.advance(15)
	must.Eq(t, int64(5), f.serving)
	must.Eq(t, int64(0), f.bootingCount())
}

func TestFleetScaleInDrainsServingWorkersAndLetsBootingWorkersBoot(t *testing.T) {
	t.Parallel()
	f := newFleet(4)
	f.scaleTo(6, 10, 0) // 2 ready at 10
	f.scaleTo(9, 12, 0) // 3 more ready at 12
	got := f.scaleTo(5, 0, 3)
	// Remove 4: all four serving workers drain; the five booting ones
	// keep booting, as target-gce-gpu deletes only RUNNING instances
	// with a ready node.
	must.Eq(t, int64(5), got)
	must.Eq(t, int64(5), f.target)
	must.Eq(t, int64(0), f.serving)
	must.Eq(t, int64(5), f.bootingCount())
	must.Eq(t, int64(4), f.drainingCount())
	must.Eq(t, int64(9), f.billed())
	f.advance(12)
	must.Eq(t, int64(5), f.serving)
	must.Eq(t, int64(0), f.drainingCount())
}

func TestFleetScaleInRemovesOnlyAsManyAsServeAndKeepsTheRestInTheTarget(t *testing.T) {
	t.Parallel()
	f := newFleet(2)
	f.scaleTo(6, 10, 0)
	got := f.scaleTo(1, 0, 2)
	must.Eq(t, int64(4), got) // only the 2 serving workers could go
	must.Eq(t, int64(0), f.serving)
	must.Eq(t, int64(4), f.bootingCount())
	f.advance(1)
	must.Eq(t, int64(2), f.drainingCount())
	f.advance(2)
	must.Eq(t, int64(0), f.drainingCount())
	must.Eq(t, int64(4), f.billed())
}

func TestFleetScaleInWithNothingServingChangesNothing(t *testing.T) {
	t.Parallel()
	f := newFleet(0)
	f.scaleTo(3, 5, 0)
	must.Eq(t, int64(3), f.scaleTo(0, 0, 1))
	must.Eq(t, int64(0), f.drainingCount())
	must.Eq(t, int64(3), f.billed())
}

package fakehttp_test

import (
	"sync"
	"testing"
	"time"

	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakehttp"
)

func TestAManualClockMovesOnlyByWhatIsAdded(t *testing.T) {
	start := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	c := fakehttp.NewManualClock(start)
	must.Eq(t, start, c.Now())
	must.Eq(t, start, c.Now(), must.Sprint("real time passing does not move it"))

	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() { c.Add(time.Minute) })
	}
	wg.Wait()
	must.Eq(t, start.Add(10*time.Minute), c.Now())
}

package demo

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/backtest"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/loadgen"
)

func TestTheDemoEndsWithTheShapesRankedOnTheReplayedDay(t *testing.T) {
	t.Parallel()
	root := filepath.Join("..", "..", "..")
	var out bytes.Buffer
	o := Options{
		TracePath: filepath.Join(root, loadgen.DefaultTraceFile),
		// Two days after the trace starts: the window is clamped to them.
		Start:    time.Date(1995, 7, 3, 0, 0, 0, 0, time.FixedZone("", -4*3600)),
		Duration: 24 * time.Hour, Daily: 2_000_000,
		Shapes:       filepath.Join(root, "internal", "tools", "backtest", "testdata", "command", "shapes.csv"),
		ShapesPolicy: filepath.Join(root, "policies", "gpu-workers.hcl"),
		Out:          &out,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	must.NoError(t, reportShapes(ctx, o))
	for _, want := range []string{"== capacity planning by VM shape", "one-l4", "two-l4", "one-t4", "per 1M requests", "SLA days met"} {
		must.StrContains(t, out.String(), want)
	}
}

func TestShapesNeedADayOfTrace(t *testing.T) {
	tr := backtest.Trace{Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Counts: make([]float64, 3*24*60)}
	w, err := shapesWindow(tr, tr.Start.Add(-48*time.Hour), tr.Start.Add(36*time.Hour))
	must.NoError(t, err)
	must.Eq(t, tr.Start, w.Start)
	must.Eq(t, 36*60, w.Len())
	_, err = shapesWindow(tr, tr.Start.Add(71*time.Hour), tr.Start.Add(96*time.Hour))
	must.ErrorContains(t, err, "-shapes: the trace holds 60 minutes up to the end of the replayed window, want at least a day")
	must.NoError(t, reportShapes(context.Background(), Options{}), must.Sprint("no -shapes: nothing to do"))
}

func TestAFixedOffsetBecomesItsEtcZone(t *testing.T) {
	must.Eq(t, "Etc/GMT+4", zoneName(time.Date(1995, 7, 13, 0, 0, 0, 0, time.FixedZone("", -4*3600))))
	must.Eq(t, "Etc/GMT-5", zoneName(time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("", 5*3600))))
	kolkata, err := time.LoadLocation("Asia/Kolkata")
	must.NoError(t, err)
	must.Eq(t, "Asia/Kolkata", zoneName(time.Date(2026, 1, 1, 0, 0, 0, 0, kolkata)))
	must.Eq(t, "UTC", zoneName(time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("", 5*3600+1800))))
}

package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/backtest"
)

// shapesHistory is how much trace before the replayed window the capacity
// planning step replays: the production policy's query window (8 days), so
// its calibration has the week it would have in production.
const shapesHistory = 8 * 24 * time.Hour

// reportShapes ends the demo with capacity planning by VM shape: the
// replayed day, with the 8 days before it, through the production policy
// once per shape of o.Shapes (cmd/backtest -shapes), cheapest first. It is a
// backtest, not the live run: the table says so.
func reportShapes(ctx context.Context, o Options) error {
	if o.Shapes == "" {
		return nil
	}
	shapes, err := backtest.ReadShapesFile(o.Shapes)
	if err != nil {
		return err
	}
	tr, err := backtest.ReadTraceFile(o.TracePath)
	if err != nil {
		return err
	}
	window, err := shapesWindow(tr, o.Start.Add(-shapesHistory), o.Start.Add(o.Duration))
	if err != nil {
		return err
	}
	cfg := backtest.DefaultConfig()
	cfg.PolicyPath, cfg.Daily, cfg.TimeZone = o.ShapesPolicy, o.Daily, zoneName(o.Start)
	if err := backtest.PreflightShapes(cfg, shapes); err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "\n== capacity planning by VM shape (%s), a backtest of %s over the replayed day and the 8 days before it\n",
		o.Shapes, o.ShapesPolicy)
	res, err := backtest.RunShapes(ctx, cfg, window, o.TracePath, shapes)
	if err != nil {
		return err
	}
	res.ShapesSource = o.Shapes
	return res.WriteTable(o.Out)
}

// shapesWindow cuts [from, to) out of tr, clamped to the trace.
func shapesWindow(tr backtest.Trace, from, to time.Time) (backtest.Trace, error) {
	i := max(int(from.Sub(tr.Start)/time.Minute), 0)
	j := min(int(to.Sub(tr.Start)/time.Minute), tr.Len())
	if j-i < 24*60 {
		return backtest.Trace{}, fmt.Errorf("-shapes: the trace holds %d minutes up to the end of the replayed window, want at least a day", max(j-i, 0))
	}
	return backtest.Trace{Start: tr.MinuteStart(i), Counts: tr.Counts[i:j]}, nil
}

// zoneName is an IANA name for t's zone: its location's, or for a fixed
// offset from an RFC 3339 -start (which has no name) the Etc/GMT zone of
// that offset, whose sign POSIX inverts.
func zoneName(t time.Time) string {
	if name := t.Location().String(); name != "" {
		if _, err := time.LoadLocation(name); err == nil {
			return name
		}
	}
	_, off := t.Zone()
	if off == 0 || off%3600 != 0 {
		return "UTC"
	}
	return fmt.Sprintf("Etc/GMT%+d", -off/3600)
}

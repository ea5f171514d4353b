package plugin

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/hashicorp/nomad-autoscaler/sdk"
)

// errInstantWindow is returned for a rate query over an instant window.
var errInstantWindow = errors.New(`a per-minute rate needs a time window, but the check uses query_window = "instant" (From == To): set query_window to a few minutes`)

// minuteWindow is a run of complete minutes [start, end), both on minute
// boundaries.
type minuteWindow struct {
	start, end time.Time
}

// completeMinutes returns the whole minutes inside r that ended at least
// settle before now (settle_delay). A minute cut by the window's start is
// left out, and so are the minute in progress and those that ended less
// than settle ago: rows are committed a little after their time, so such a
// count is still short, looks like a drop in traffic and would make a
// strategy scale in.
func completeMinutes(r sdk.TimeRange, now time.Time, settle time.Duration) (minuteWindow, error) {
	switch {
	case r.From.Equal(r.To):
		return minuteWindow{}, errInstantWindow
	case r.To.Before(r.From):
		return minuteWindow{}, fmt.Errorf("window ends (%s) before it starts (%s)", r.To.Format(time.RFC3339), r.From.Format(time.RFC3339))
	}
	end := r.To
	if settled := now.Add(-settle); settled.Before(end) {
		end = settled
	}
	end = end.Truncate(time.Minute)
	start := r.From.Truncate(time.Minute)
	if start.Before(r.From) {
		start = start.Add(time.Minute)
	}
	if !start.Before(end) {
		// The shortest window that always holds a minute: one minute cut
		// by its start, one complete, and the settle delay.
		return minuteWindow{}, fmt.Errorf("window %s to %s holds no complete minute yet (one that ended %s ago or more): use a query_window of at least %s",
			r.From.UTC().Format(time.RFC3339), r.To.UTC().Format(time.RFC3339), configKeySettleDelay, 2*time.Minute+settle)
	}
	return minuteWindow{start: start.UTC(), end: end.UTC()}, nil
}

// checkSeries refuses values a strategy cannot use: an autoscaler fed a NaN
// or a negative backlog would compute nonsense counts.
func checkSeries(series sdk.TimestampedMetrics) error {
	for _, m := range series {
		switch {
		case math.IsNaN(m.Value) || math.IsInf(m.Value, 0):
			return fmt.Errorf("value at %s is %v, not a number", m.Timestamp.UTC().Format(time.RFC3339), m.Value)
		case m.Value < 0:
			return fmt.Errorf("value at %s is negative (%v)", m.Timestamp.UTC().Format(time.RFC3339), m.Value)
		}
	}
	return nil
}

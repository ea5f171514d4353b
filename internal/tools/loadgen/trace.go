package loadgen

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/backtest"
)

// Minute is one bin of a per-minute request trace.
type Minute struct {
	// Start is the beginning of the minute.
	Start time.Time
	// Requests is the number of requests in the minute. It is a float so
	// that a trace scaled by a non-integer factor keeps its exact total.
	Requests float64
}

// ReadTraceFile reads a per-minute trace (CSV, or gzipped CSV when the name
// ends in .gz) with the backtest's reader, so that the replay, the demo and
// the backtest accept exactly the same files.
func ReadTraceFile(path string) ([]Minute, error) {
	t, err := backtest.ReadTraceFile(path)
	if err != nil {
		return nil, err
	}
	out := make([]Minute, t.Len())
	for i, n := range t.Counts {
		out[i] = Minute{Start: t.MinuteStart(i).UTC(), Requests: n}
	}
	return out, nil
}

// Window returns the minutes in [start, start+d). It fails when the trace
// does not cover the whole window, because a replay of a partial day would
// report numbers for a day that never happened.
func Window(trace []Minute, start time.Time, d time.Duration) ([]Minute, error) {
	if len(trace) == 0 {
		return nil, errors.New("empty trace")
	}
	end := start.Add(d)
	first, last := trace[0].Start, trace[len(trace)-1].Start.Add(time.Minute)
	if start.Before(first) || end.After(last) {
		return nil, fmt.Errorf("window %s to %s is outside the trace (%s to %s)",
			start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339),
			first.Format(time.RFC3339), last.Format(time.RFC3339))
	}
	i := int(start.Sub(first) / time.Minute)
	j := int(end.Sub(first) / time.Minute)
	out := make([]Minute, j-i)
	copy(out, trace[i:j])
	return out, nil
}

// ScaleTo multiplies every minute so that the total is total requests. A
// trace without any request cannot be scaled and is returned as is.
func ScaleTo(minutes []Minute, total float64) []Minute {
	var sum float64
	for _, m := range minutes {
		sum += m.Requests
	}
	out := make([]Minute, len(minutes))
	copy(out, minutes)
	if sum == 0 {
		return out
	}
	f := total / sum
	for i := range out {
		out[i].Requests *= f
	}
	return out
}

// Peak returns the largest per-minute request count.
func Peak(minutes []Minute) float64 {
	var p float64
	for _, m := range minutes {
		p = math.Max(p, m.Requests)
	}
	return p
}

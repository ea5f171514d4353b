package plugin

import (
	"cmp"
	"math"
	"slices"
	"sync"

	"github.com/hashicorp/nomad-autoscaler/sdk"
)

// point is a cleaned sample: x is minutes relative to the newest sample
// (so x <= 0) and y the value, finite, non-negative and at most maxRate.
type point struct {
	x, y float64
}

// seriesQuality counts what cleaning changed, for Meta and the Reason.
type seriesQuality struct {
	dropped    int // NaN, Inf or negative values
	duplicates int // extra samples at an already seen timestamp
	clamped    int // values above maxRate
}

// cleanSeries turns the agent's metrics into points sorted by time, written
// into buf's storage (grown when too small) so that a recycled buffer makes
// cleaning allocation-free. NaN, Inf and negative values are dropped (a
// broken scrape is not zero demand); values above maxRate are clamped;
// samples sharing a timestamp collapse to their largest value (sizing for
// the larger reading is the safe side). The metrics are not modified.
// newest is the Unix time in seconds of the newest valid sample.
func cleanSeries(m sdk.TimestampedMetrics, buf []point) (pts []point, q seriesQuality, newest float64) {
	if pts, q, newest, ok := cleanSorted(m, buf); ok {
		return pts, q, newest
	}
	pts = slices.Grow(buf[:0], len(m))
	sorted := true
	for _, s := range m {
		v, ok := q.admit(s.Value)
		if !ok {
			continue
		}
		// Until the series is sorted, x holds the Unix time in seconds.
		// float64 orders and compares every timestamp below 2^53 s (285
		// million years) exactly, and the offsets below were always
		// computed in float64 so that extreme timestamps cannot wrap.
		t := float64(s.Timestamp.Unix())
		if len(pts) > 0 && t < pts[len(pts)-1].x {
			sorted = false
		}
		pts = append(pts, point{x: t, y: v})
	}
	if !sorted {
		slices.SortStableFunc(pts, func(a, b point) int { return cmp.Compare(a.x, b.x) })
	}
	if len(pts) == 0 {
		return pts, q, 0
	}
	// Compact in place: the write index never passes the read index.
	last, prev := pts[len(pts)-1].x, math.NaN()
	out := pts[:0]
	for _, p := range pts {
		if p.x == prev {
			q.duplicates++
			out[len(out)-1].y = math.Max(out[len(out)-1].y, p.y)
			continue
		}
		prev = p.x
		out = append(out, point{x: (p.x - last) / 60, y: p.y})
	}
	return out, q, last
}

// cleanSorted is cleanSeries in one pass for the usual series, already in
// time order: the newest valid sample is found from the end first, so each
// point's offset is known as it is read. It gives up (ok false) at the
// first sample older than the one before it, and cleanSeries sorts. It
// reads every sample of the window on every evaluation (40,000 for four
// weeks of minutes), so the usual sample costs one range test and one
// store.
func cleanSorted(m sdk.TimestampedMetrics, buf []point) (pts []point, q seriesQuality, newest float64, ok bool) {
	k := len(m) - 1
	for k >= 0 && !valid(m[k].Value) {
		k--
	}
	if k < 0 {
		return buf[:0], q, 0, false
	}
	last := float64(m[k].Timestamp.Unix())
	pts = slices.Grow(buf[:0], len(m))[:len(m)]
	n := 0
	prev := math.Inf(-1)
	for i := range m {
		s := &m[i]
		v := s.Value
		// NaN fails both comparisons and +Inf the second: only the
		// unusual value pays for admit.
		if !(v >= 0 && v <= maxRate) {
			var keep bool
			if v, keep = q.admit(v); !keep {
				continue
			}
		}
		t := float64(s.Timestamp.Unix())
		if t <= prev {
			if t < prev {
				return buf[:0], seriesQuality{}, 0, false
			}
			q.duplicates++
			pts[n-1].y = math.Max(pts[n-1].y, v)
			continue
		}
		prev = t
		pts[n] = point{x: (t - last) / 60, y: v}
		n++
	}
	return pts[:n], q, last, true
}

// valid reports whether a metric value is demand: not NaN, Inf or negative.
func valid(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) && v >= 0 }

// admit is a value as cleaning keeps it, clamped to maxRate, and false for
// one it drops; q counts both.
func (q *seriesQuality) admit(v float64) (float64, bool) {
	switch {
	case !valid(v):
		q.dropped++
		return 0, false
	case v > maxRate:
		q.clamped++
		return maxRate, true
	}
	return v, true
}

// maxPooledPoints bounds the buffers kept for reuse (1 MiB each: the
// grid's bound, 45 days of minutes), so that one evaluation of an enormous
// window does not pin its memory for ever. A window longer than that is
// cut to the grid's bound anyway. (At 16,384 points, 11 days, a 28-day
// window allocated and cleared 640 KiB every evaluation: a third of a
// replay's time.)
const maxPooledPoints = maxGridSlots

// pointBuffers recycles cleanSeries buffers between Runs: the agent runs
// every check every evaluation interval, and the points never outlive Run.
var pointBuffers = sync.Pool{New: func() any { return new([]point) }}

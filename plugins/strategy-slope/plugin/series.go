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
	pts = slices.Grow(buf[:0], len(m))
	sorted := true
	for _, s := range m {
		v := s.Value
		switch {
		case math.IsNaN(v) || math.IsInf(v, 0) || v < 0:
			q.dropped++
			continue
		case v > maxRate:
			v = maxRate
			q.clamped++
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

// maxPooledPoints bounds the buffers kept for reuse (256 KiB each), so that
// one evaluation of an enormous window does not pin its memory for ever.
const maxPooledPoints = 16384

// pointBuffers recycles cleanSeries buffers between Runs: the agent runs
// every check every evaluation interval, and the points never outlive Run.
var pointBuffers = sync.Pool{New: func() any { return new([]point) }}

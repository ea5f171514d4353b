package plugin

import (
	"math"
	"sort"
)

// sample is one metric value at a Unix time in seconds.
type sample struct {
	unix  int64
	value float64
}

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

// cleanSeries turns raw samples into points sorted by time. NaN, Inf and
// negative values are dropped (a broken scrape is not zero demand); values
// above maxRate are clamped; samples sharing a timestamp collapse to their
// largest value (sizing for the larger reading is the safe side). It
// reorders and overwrites in, which the caller owns.
func cleanSeries(in []sample) ([]point, seriesQuality) {
	var q seriesQuality
	kept := in[:0]
	sorted := true
	for _, s := range in {
		switch {
		case math.IsNaN(s.value) || math.IsInf(s.value, 0) || s.value < 0:
			q.dropped++
			continue
		case s.value > maxRate:
			s.value = maxRate
			q.clamped++
		}
		if len(kept) > 0 && s.unix < kept[len(kept)-1].unix {
			sorted = false
		}
		kept = append(kept, s)
	}
	if !sorted {
		sort.SliceStable(kept, func(i, j int) bool { return kept[i].unix < kept[j].unix })
	}
	out := make([]point, 0, len(kept))
	if len(kept) == 0 {
		return out, q
	}
	last := kept[len(kept)-1].unix
	for i, s := range kept {
		if i > 0 && s.unix == kept[i-1].unix {
			q.duplicates++
			out[len(out)-1].y = math.Max(out[len(out)-1].y, s.value)
			continue
		}
		// Subtract in float64: int64 subtraction of extreme timestamps could wrap.
		out = append(out, point{x: (float64(s.unix) - float64(last)) / 60, y: s.value})
	}
	return out, q
}

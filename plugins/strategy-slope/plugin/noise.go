package plugin

import (
	"math"
	"sort"
)

// noiseEstimate describes the minute-to-minute noise of the series.
type noiseEstimate struct {
	sigma      float64 // noise standard deviation at the window's mean level
	mean       float64 // mean level of the points the estimate used
	dispersion float64 // sigma^2 / mean, at least 1 (Poisson)
	pairs      int     // number of differences used
}

// madToSigma converts a median absolute deviation to a normal standard deviation.
const madToSigma = 1.4826

// estimateNoise measures noise from first differences of neighbouring
// points: y[i] - y[i-1] cancels the level and, over one step, nearly all of
// any trend or curvature, so a diurnal ramp does not pass for noise as it
// does in the residuals of a straight-line fit. The spread is taken
// robustly (median absolute deviation around the median difference) so a
// single burst does not inflate it, and divided by sqrt(2) because a
// difference carries the noise of two points.
//
// Request counts are overdispersed counts: their variance grows with their
// level. The dispersion phi = sigma^2 / mean lets the margin be computed at
// the predicted level rather than at the window's level (sigma_at(L) =
// sqrt(phi * L)). It is floored at 1, the Poisson variance of a count.
func estimateNoise(pts []point) noiseEstimate {
	if len(pts) < 2 {
		return noiseEstimate{dispersion: 1}
	}
	step := typicalStep(pts)
	diffs := make([]float64, 0, len(pts)-1)
	var sum float64
	for i := 1; i < len(pts); i++ {
		// Skip pairs across a gap: the trend over a long gap is not noise.
		if pts[i].x-pts[i-1].x > 1.5*step {
			continue
		}
		diffs = append(diffs, pts[i].y-pts[i-1].y)
		sum += pts[i].y + pts[i-1].y
	}
	if len(diffs) == 0 {
		return noiseEstimate{dispersion: 1}
	}
	n := noiseEstimate{mean: sum / float64(2*len(diffs)), pairs: len(diffs)}
	med := median(diffs)
	for i, d := range diffs {
		diffs[i] = math.Abs(d - med)
	}
	mad := median(diffs)
	if mad == 0 {
		// More than half the differences equal the median (a flat or
		// integer-valued quiet series): fall back to the mean absolute
		// deviation, which sees the rare moves MAD ignores.
		var s float64
		for _, d := range diffs {
			s += d
		}
		mad = s / float64(len(diffs)) * math.Sqrt(math.Pi/2) / madToSigma
	}
	n.sigma = madToSigma * mad / math.Sqrt2
	n.dispersion = 1
	if n.mean > 0 {
		n.dispersion = math.Max(1, n.sigma*n.sigma/n.mean)
	}
	return n
}

// sigmaAt is the noise standard deviation expected at level L.
func (n noiseEstimate) sigmaAt(level float64) float64 {
	return math.Sqrt(n.dispersion * math.Max(level, 0))
}

// typicalStep is the median spacing of the points in minutes.
func typicalStep(pts []point) float64 {
	steps := make([]float64, 0, len(pts)-1)
	for i := 1; i < len(pts); i++ {
		steps = append(steps, pts[i].x-pts[i-1].x)
	}
	return median(steps)
}

// median sorts v in place and returns its median (0 for an empty slice).
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	sort.Float64s(v)
	m := len(v) / 2
	if len(v)%2 == 1 {
		return v[m]
	}
	return (v[m-1] + v[m]) / 2
}

// normalQuantile is the inverse standard normal CDF.
func normalQuantile(p float64) float64 {
	return math.Sqrt2 * math.Erfinv(2*p-1)
}

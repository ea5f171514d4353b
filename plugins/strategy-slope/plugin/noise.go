package plugin

import (
	"math"
	"sort"
)

// noiseEstimate describes the minute-to-minute noise of the series.
type noiseEstimate struct {
	sigma      float64 // noise standard deviation at the mean level
	mean       float64 // weighted mean level of the points the estimate used
	dispersion float64 // sigma^2 / mean, at least 1 (Poisson)
	pairs      int     // number of differences used
}

// estimateNoise measures the noise from first differences of neighbouring
// points, exponentially weighted with the given half-life (minutes).
//
// A difference y[i] - y[i-1] cancels the level and, over one step, nearly
// all of any trend or curvature, so a diurnal ramp does not pass for noise
// as it does in the residuals of a straight line. Its variance is twice the
// noise variance, hence sigma = sqrt(E[d^2] / 2).
//
// The spread is deliberately not robust (no MAD): bursts are what fills the
// queue, and a robust estimate that ignores them sizes the fleet for the
// quiet minutes only (see README, "What was tried"). The weights let the
// margin follow bursty and calm periods (volatility clusters) instead of
// averaging them over the whole window.
//
// Request counts are overdispersed counts: their variance grows with their
// level. The dispersion phi = sigma^2 / mean (at least 1, the Poisson
// variance of a count) carries the noise to another level, see sigmaAt.
func estimateNoise(pts []point, halfLife float64) noiseEstimate {
	if len(pts) < 2 {
		return noiseEstimate{dispersion: 1}
	}
	step := typicalStep(pts)
	var sw, sdd, sy float64
	n := 0
	weights := newDecay(halfLife)
	for i := 1; i < len(pts); i++ {
		w := weights.at(pts[i].x)
		// Skip pairs across a gap: the trend over a long gap is not noise.
		if pts[i].x-pts[i-1].x > 1.5*step {
			continue
		}
		d := pts[i].y - pts[i-1].y
		sw += w
		sdd += w * d * d
		sy += w * (pts[i].y + pts[i-1].y) / 2
		n++
	}
	if n == 0 || sw == 0 {
		return noiseEstimate{dispersion: 1}
	}
	est := noiseEstimate{sigma: math.Sqrt(sdd / sw / 2), mean: sy / sw, pairs: n, dispersion: 1}
	if est.mean > 0 {
		est.dispersion = math.Max(1, est.sigma*est.sigma/est.mean)
	}
	return est
}

// sigmaAt is the noise standard deviation to provision for at level L:
// sqrt(phi * L) when L is above the level the noise was measured at, and the
// measured sigma otherwise. Scaling only upwards is a hedge on the
// variance-mean law: for counts it is linear (Poisson-like), but bursts of a
// fixed size (one client retrying a batch) do not shrink when the traffic
// does, so a falling forecast keeps the noise it was measured with.
func (n noiseEstimate) sigmaAt(level float64) float64 {
	return math.Max(n.sigma, math.Sqrt(n.dispersion*math.Max(level, 0)))
}

// typicalStep is the median spacing of the points in minutes.
func typicalStep(pts []point) float64 {
	if len(pts) < 2 {
		return 1
	}
	// Fast path for the usual evenly spaced series: when more than half the
	// steps equal the first one, that step is the median.
	first, same := pts[1].x-pts[0].x, 0
	for i := 1; i < len(pts); i++ {
		if pts[i].x-pts[i-1].x == first {
			same++
		}
	}
	if 2*same > len(pts)-1 {
		return first
	}
	steps := make([]float64, 0, len(pts)-1)
	for i := 1; i < len(pts); i++ {
		steps = append(steps, pts[i].x-pts[i-1].x)
	}
	sort.Float64s(steps)
	return steps[len(steps)/2]
}

// normalQuantile is the inverse standard normal CDF.
func normalQuantile(p float64) float64 {
	return math.Sqrt2 * math.Erfinv(2*p-1)
}

// decay computes exponential weights 2^(x/halfLife) for increasing x. For
// evenly spaced points it multiplies by a cached ratio instead of calling
// Exp2 for every point (the relative drift over 10,000 steps is ~1e-12).
type decay struct {
	halfLife     float64
	lastX, lastW float64
	step, ratio  float64
	started      bool
}

func newDecay(halfLife float64) *decay { return &decay{halfLife: halfLife} }

func (d *decay) at(x float64) float64 {
	if d.halfLife <= 0 {
		return 1
	}
	dx := x - d.lastX
	if d.started && dx == d.step && d.lastW > 1e-200 {
		d.lastX, d.lastW = x, d.lastW*d.ratio
		return d.lastW
	}
	// First point, a change of spacing, or weights that underflowed (points
	// far in the past): compute directly.
	if d.started && dx != d.step {
		d.step, d.ratio = dx, math.Exp2(dx/d.halfLife)
	}
	d.started, d.lastX, d.lastW = true, x, math.Exp2(x/d.halfLife)
	return d.lastW
}

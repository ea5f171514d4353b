package plugin

import (
	"fmt"
	"math"
	"sort"
)

// rateForecast is the rate-mode computation, kept whole for Meta and Reason.
type rateForecast struct {
	points     int
	observed   float64 // newest value
	level      float64 // fitted value now
	slope      float64 // per minute
	peakAt     float64 // minutes ahead where the fitted line peaks within the horizon
	peak       float64 // fitted peak within the horizon
	noise      noiseEstimate
	sigma      float64 // noise at the peak level
	persistent float64 // persistent deviation the line has shown lately
	fitSE      float64 // standard error of the fitted peak
	z          float64 // normal quantile of confidence
	margin     float64 // z * sqrt(max(sigma, persistent)^2 + fitSE^2)
	demand     float64 // (peak + margin) * (1 + headroom)
	workers    int64   // ceil(demand / capacity)
	recentPeak float64 // largest value within scale_in_window

	// holdZ is the quantile of the maximum of scale_in_window minutes: the
	// bar a lower count must clear (see decideRate).
	holdZ       float64
	holdDemand  float64
	holdWorkers int64
}

// forecastRate sizes the fleet for the highest demand the fitted line
// expects within the horizon plus a noise margin. The README ("The model")
// gives the formulas.
func forecastRate(pts []point, c config) (rateForecast, error) {
	if len(pts) < c.minPoints {
		return rateForecast{}, fmt.Errorf("rate mode needs at least %d valid points (%s), got %d", c.minPoints, keyMinPoints, len(pts))
	}
	f := rateForecast{points: len(pts), observed: pts[len(pts)-1].y}
	fit := fitLine(recentPoints(pts, c.trendHalfLife.Minutes()), c.trendHalfLife.Minutes())
	f.level, f.slope = fit.level, fit.slope
	if h := c.horizon.Minutes(); fit.at(h) > fit.at(0) {
		f.peakAt = h
	}
	f.peak = math.Min(math.Max(0, fit.at(f.peakAt)), maxRate)

	f.noise = estimateNoise(recentPoints(pts, c.noiseHalfLife.Minutes()), c.noiseHalfLife.Minutes())
	f.sigma = f.noise.sigmaAt(f.peak)
	f.fitSE = f.noise.sigma * math.Sqrt(fit.predictionVarianceFactor(f.peakAt))
	f.persistent = persistentSigma(pts, fit, f.noise, c)
	spread := math.Hypot(math.Max(f.sigma, f.persistent), f.fitSE)

	f.z = normalQuantile(c.confidence)
	f.margin = f.z * spread
	f.demand = math.Min((f.peak+f.margin)*(1+c.headroom), maxRate)
	f.workers = workersFor(f.demand, c.capacity)

	// A count must hold for every minute until a removed worker could be
	// back: size scale-in for the maximum of n minutes, whose quantile at
	// confidence is the per-minute quantile at confidence^(1/n).
	n := math.Max(1, c.scaleInWindow.Minutes())
	f.holdZ = normalQuantile(math.Pow(c.confidence, 1/n))
	// The W-minute maximum of white noise grows with W; a persistent
	// deviation is one deviation, whose maximum over W minutes is itself.
	holdMargin := math.Max(math.Hypot(f.holdZ*f.sigma, f.z*f.fitSE), f.z*math.Hypot(f.persistent, f.fitSE))
	f.holdDemand = math.Min((f.peak+holdMargin)*(1+c.headroom), maxRate)
	f.holdWorkers = workersFor(f.holdDemand, c.capacity)

	window := c.scaleInWindow.Minutes()
	for _, p := range pts {
		if p.x >= -window {
			f.recentPeak = math.Max(f.recentPeak, p.y)
		}
	}
	return f, nil
}

// persistentSigma is the standard deviation of forecast errors that
// persist over persistence_window, measured scale_in_window minutes ahead
// (the time a decision takes to be corrected), after removing what white
// noise (sigma^2 / span) and the uncertainty of the line (se^2 at that
// lead) explain. It needs 2 x trend_half_life points of warm-up (at least
// min_points) before the first replayed forecast.
func persistentSigma(pts []point, fit lineFit, n noiseEstimate, c config) float64 {
	span := int(c.persistenceWindow.Minutes())
	if span < 3 {
		return 0
	}
	k := math.Max(1, c.scaleInWindow.Minutes())
	warmup := max(c.minPoints, int(2*c.trendHalfLife.Minutes()))
	// Replay only as far back as the errors still carry weight, plus warm-up.
	keep := len(recentPoints(pts, c.noiseHalfLife.Minutes())) + warmup + int(k)
	if start := len(pts) - keep; start > 0 {
		pts = pts[start:]
	}
	ms, count := persistentDeviation(pts, c.trendHalfLife.Minutes(), c.noiseHalfLife.Minutes(), k, warmup, span)
	if count == 0 {
		return 0
	}
	white := n.sigma * n.sigma / float64(2*(span/2)+1)
	line := n.sigma * n.sigma * fit.predictionVarianceFactor(k)
	return math.Sqrt(math.Max(0, ms-white-line))
}

// negligibleHalfLives is how many half-lives back a weight stops mattering
// (2^-16 = 1.5e-5 of the newest point's weight).
const negligibleHalfLives = 16

// recentPoints drops points whose exponential weight (half-life hl minutes)
// is negligible, bounding the work on long windows. hl <= 0 keeps all.
func recentPoints(pts []point, hl float64) []point {
	if hl <= 0 || len(pts) == 0 {
		return pts
	}
	cut := -negligibleHalfLives * hl
	i := sort.Search(len(pts), func(i int) bool { return pts[i].x >= cut })
	return pts[i:]
}

// workersFor is ceil(demand / capacity), clamped to [0, maxWorkers].
func workersFor(demand, capacity float64) int64 {
	w := math.Ceil(demand/capacity - 1e-9) // tolerate float noise at exact multiples
	switch {
	case math.IsNaN(w) || w <= 0:
		return 0
	case w >= maxWorkers:
		return maxWorkers
	}
	return int64(w)
}

package plugin

import (
	"fmt"
	"math"
)

// model holds the forecasting choices that are not user configuration.
// They were chosen with the backtest (see README, "The model").
type model struct {
	// halfLife (minutes) of the exponential weights of the line fit.
	halfLife float64
	// levelScaled computes the noise at the predicted level from the
	// dispersion instead of using the window's noise as is.
	levelScaled bool
	// fitError adds the standard error of the extrapolated line.
	fitError bool
	// residualNoise measures noise as the standard deviation of the fit's
	// residuals (the plain method) instead of robust first differences.
	residualNoise bool
}

var defaultModel = model{halfLife: 0, levelScaled: true, fitError: true}

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
	fitSE      float64 // standard error of the fitted peak
	z          float64
	margin     float64
	demand     float64 // (peak + margin) * (1 + headroom)
	workers    int64   // ceil(demand / capacity)
	recentPeak float64 // largest value within scale_in_window
}

// forecastRate sizes the fleet for the highest demand the fitted line
// expects within the horizon plus a noise margin.
func forecastRate(pts []point, c config, m model) (rateForecast, error) {
	if len(pts) < c.minPoints {
		return rateForecast{}, fmt.Errorf("rate mode needs at least %d valid points (%s), got %d", c.minPoints, keyMinPoints, len(pts))
	}
	f := rateForecast{points: len(pts), observed: pts[len(pts)-1].y}
	fit := fitLine(pts, m.halfLife)
	f.level, f.slope = fit.level, fit.slope
	h := c.horizon.Minutes()
	f.peakAt = 0
	if fit.at(h) > fit.at(0) {
		f.peakAt = h
	}
	f.peak = math.Max(0, fit.at(f.peakAt))

	f.noise = estimateNoise(pts)
	if m.residualNoise {
		f.noise = residualNoise(fit)
	}
	f.sigma = f.noise.sigma
	if m.levelScaled {
		f.sigma = f.noise.sigmaAt(f.peak)
	}
	if m.fitError {
		f.fitSE = f.noise.sigma * math.Sqrt(fit.predictionVarianceFactor(f.peakAt))
	}
	f.z = normalQuantile(c.confidence)
	f.margin = f.z * math.Hypot(f.sigma, f.fitSE)
	f.demand = math.Min((f.peak+f.margin)*(1+c.headroom), maxRate)
	f.workers = workersFor(f.demand, c.capacity)

	window := c.scaleInWindow.Minutes()
	for _, p := range pts {
		if p.x >= -window {
			f.recentPeak = math.Max(f.recentPeak, p.y)
		}
	}
	return f, nil
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

// residualNoise is the plain method: the standard deviation of the
// residuals of the line fit. Kept to compare against in the backtest.
func residualNoise(fit lineFit) noiseEstimate {
	var ss, sum float64
	for _, p := range fit.pts {
		r := p.y - fit.at(p.x)
		ss += r * r
		sum += p.y
	}
	n := float64(len(fit.pts))
	est := noiseEstimate{sigma: math.Sqrt(ss / math.Max(n-2, 1)), mean: sum / n, dispersion: 1, pairs: len(fit.pts)}
	if est.mean > 0 {
		est.dispersion = math.Max(1, est.sigma*est.sigma/est.mean)
	}
	return est
}

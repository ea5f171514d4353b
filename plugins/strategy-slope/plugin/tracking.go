package plugin

import "math"

// persistentDeviation replays the trend fit through the window to measure
// what the white-noise model cannot see: deviations from the forecast that
// last for minutes (wiggles of the daily curve, lag of the line at a turn).
// A shortfall that lasts is what a queue cannot absorb.
//
// At every point after warmup it fits the exponentially weighted line to
// the points so far (O(1) per point, by updating weighted sums), predicts
// k minutes ahead, and compares the prediction with the mean of the span
// observations centred on that minute. Averaging span minutes divides white
// noise variance by span and keeps persistent deviations. The squared
// errors are weighted toward recent points (half-life noiseHalfLife).
//
// It returns the weighted mean squared error and the number of errors; the
// caller removes the white-noise and line-uncertainty parts.
func persistentDeviation(pts []point, trendHalfLife, noiseHalfLife, k float64, warmup, span int) (meanSquare float64, n int) {
	half := span / 2
	if len(pts) < warmup+1 || k <= 0 || half < 1 {
		return 0, 0
	}
	prefix := make([]float64, len(pts)+1)
	for i, p := range pts {
		prefix[i+1] = prefix[i] + p.y
	}
	step := typicalStep(pts)
	recent := newDecay(noiseHalfLife)
	lastD, r := math.NaN(), 1.0
	var s0, s1, s2, sy, sxy, sw, see float64
	j := 0
	for i, p := range pts {
		if i > 0 {
			// Move the origin to the new point, then age the old sums.
			d := p.x - pts[i-1].x
			if d != lastD && trendHalfLife > 0 {
				lastD, r = d, math.Exp2(-d/trendHalfLife)
			}
			s2 = r * (s2 - 2*d*s1 + d*d*s0)
			s1 = r * (s1 - d*s0)
			sxy = r * (sxy - d*sy)
			s0, sy = r*s0, r*sy
		}
		s0++
		sy += p.y
		if i+1 < warmup {
			continue
		}
		at := p.x + k
		for j < len(pts) && pts[j].x < at-1e-9 {
			j++
		}
		if j-half < 0 || j+half >= len(pts) || pts[j].x > at+1e-9 ||
			math.Abs(pts[j+half].x-pts[j-half].x-float64(2*half)*step) > 1e-9 {
			continue // beyond the window, or a gap around the predicted minute
		}
		xbar, ybar := s1/s0, sy/s0
		b := 0.0
		if sxx := s2 - s1*s1/s0; sxx > 1e-9 {
			b = (sxy - s1*ybar) / sxx
		}
		predicted := math.Max(ybar+b*(k-xbar), 0)
		observed := (prefix[j+half+1] - prefix[j-half]) / float64(2*half+1)
		w := recent.at(pts[j].x)
		e := observed - predicted
		sw += w
		see += w * e * e
		n++
	}
	if n == 0 || sw == 0 {
		return 0, 0
	}
	return see / sw, n
}

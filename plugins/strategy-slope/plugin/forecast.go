package plugin

// lineFit is a weighted least-squares line y = level + slope*x, with x in
// minutes relative to the newest point (x = 0 is now).
type lineFit struct {
	level float64 // fitted value now
	slope float64 // change per minute
	// xbar, sxx and sw describe the weighted design; with sw2 they give the
	// variance of an extrapolated value (see predictionVarianceFactor).
	xbar, sxx, sw, sw2 float64
	pts                []point
	weights            []float64
}

// fitLine fits a line by weighted least squares. Weights halve every
// halfLife minutes into the past (halfLife <= 0: equal weights) so that the
// fit follows the current trend rather than the average of the window. With
// fewer than two distinct times the slope is zero.
func fitLine(pts []point, halfLife float64) lineFit {
	f := lineFit{pts: pts, weights: make([]float64, len(pts))}
	var sw, swx, swy, sw2 float64
	weights := newDecay(halfLife)
	for i, p := range pts {
		w := weights.at(p.x)
		f.weights[i] = w
		sw += w
		sw2 += w * w
		swx += w * p.x
		swy += w * p.y
	}
	if sw == 0 {
		return f
	}
	f.sw, f.sw2 = sw, sw2
	f.xbar = swx / sw
	ybar := swy / sw
	var sxy float64
	for i, p := range pts {
		dx := p.x - f.xbar
		f.sxx += f.weights[i] * dx * dx
		sxy += f.weights[i] * dx * (p.y - ybar)
	}
	if f.sxx > 1e-12 {
		f.slope = sxy / f.sxx
	}
	f.level = ybar - f.slope*f.xbar
	return f
}

// at is the fitted value h minutes from now.
func (f lineFit) at(h float64) float64 { return f.level + f.slope*h }

// predictionVarianceFactor returns v such that the variance of the fitted
// value h minutes ahead is v * sigma^2 when every point has noise variance
// sigma^2. The fitted value is sum(k_i y_i) with
// k_i = w_i (1/sw + (h - xbar)(x_i - xbar)/sxx), so v = sum(k_i^2); with
// equal weights this is the textbook 1/n + (h - xbar)^2/sxx.
func (f lineFit) predictionVarianceFactor(h float64) float64 {
	if f.sw == 0 {
		return 0
	}
	var v float64
	for i, p := range f.pts {
		k := 1 / f.sw
		if f.sxx > 1e-12 {
			k += (h - f.xbar) * (p.x - f.xbar) / f.sxx
		}
		k *= f.weights[i]
		v += k * k
	}
	return v
}

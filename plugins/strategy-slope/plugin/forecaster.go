package plugin

import "math"

// The point forecast of rate mode. A decision taken before slot i runs (the
// data ends with slot i-1) must cover two windows:
//
//   - up: slots [i+lead, i+horizon], served by workers ordered now;
//   - hold: slots [i, i+horizon], served by the workers kept now when the
//     count goes down (a removed worker takes until i+horizon to replace).
//
// For each window the forecast is the largest of four views, each blind
// where another sees:
//
//   - trend: an exponentially weighted least-squares line (half-life
//     trend_half_life), evaluated at the window's ends;
//   - fast: the same line with a half-life of one lead, which follows a
//     ramp steeper than the trend line turns for (a flash crowd building,
//     a morning that starts early);
//   - recent: the mean of the last recentSlots, so a step up is followed
//     at once, whatever the lines say;
//   - seasonal: today's level times the ratio the same window had to its
//     preceding minutes yesterday and a week ago (averaged), so the
//     morning ramp is sized before a line can see it.
//
// Its errors are not modelled here: calibrate.go sizes the margin by
// replaying these forecasts against what happened.

const (
	// recentSlots is how many of the newest slots "recent" averages.
	recentSlots = 3
	// levelSlots is how many slots the seasonal ratio compares: long
	// enough that the ratio is not one noisy minute over another.
	levelSlots = 15
	// seasonalSpread widens the seasonal reference window on each side:
	// yesterday's ramp did not start at exactly the same minute.
	seasonalSpread = 2
	// maxSeasonalRatio caps the ratio, whose denominator can be a quiet
	// night: a twentyfold ramp is not forecast from one quiet minute.
	maxSeasonalRatio = 5
	// relativeScale is the default part of the margin's unit that grows
	// with the forecast itself (see unit); the calibration picks among
	// relativeScales the one that needs the least capacity.
	relativeScale = 0.05
	// negligibleHalfLives is how many half-lives back a weight stops
	// mattering (2^-16).
	negligibleHalfLives = 16
)

// forecasterParams are a config's durations in slots of one grid.
type forecasterParams struct {
	lead, horizon int
	trendDecay    float64 // weight ratio of one slot to the next newer one
	noiseDecay    float64
	fastDecay     float64 // the fast line's, 0 without one
	lags          []int   // seasonal lags in slots (a day, a week)
	warm          int     // slots of history the state needs
	settle        int     // slots before a cold forecaster's line is trusted
}

func newForecasterParams(c config, g *grid) forecasterParams {
	p := forecasterParams{
		lead:       g.slots(c.lead.Minutes(), 0),
		horizon:    g.slots(c.horizon.Minutes(), 0),
		trendDecay: math.Exp2(-g.step / c.trendHalfLife.Minutes()),
		noiseDecay: math.Exp2(-g.step / c.noiseHalfLife.Minutes()),
	}
	p.horizon = max(p.horizon, p.lead)
	if c.lead > 0 {
		p.fastDecay = math.Exp2(-g.step / c.lead.Minutes())
	}
	if c.seasonal {
		p.lags = []int{g.slots(24*60, 1), g.slots(7*24*60, 1)}
	}
	hl := math.Max(c.trendHalfLife.Minutes(), c.noiseHalfLife.Minutes())
	p.warm = g.slots(negligibleHalfLives*hl, 1)
	p.settle = g.slots(2*c.trendHalfLife.Minutes(), 1)
	return p
}

// forecast is one decision's point forecasts and margin units.
type forecast struct {
	up, hold           float64 // forecast demand per slot in each window
	upScale, holdScale float64 // the margin's unit at that demand (withShare)
	// upNoise and holdNoise are the noise parts of the units: the unit is
	// the noise part plus a share of the forecast.
	upNoise, holdNoise float64
	trend, recent      float64 // the views, for Meta
	seasonal           float64
	fast               float64
	sigma              float64 // minute-to-minute noise at the mean level
}

// forecaster holds the running sums of the trend line and the noise. It
// takes slots in order with push and forecasts before the next with at.
type forecaster struct {
	p forecasterParams
	// Weighted sums of the line fit with the origin at the newest slot:
	// s0 = sum w, s1 = sum w x, s2 = sum w x^2, sy = sum w y, sxy = sum w x y.
	s0, s1, s2, sy, sxy float64
	// The same sums for the fast line (half-life lead).
	f0, f1, f2, fy, fxy float64
	// Weighted sums of squared first differences and of the level.
	nw, ndd, nm float64
	last        float64 // the previous slot's value (NaN when missing)
}

func newForecaster(p forecasterParams) forecaster {
	return forecaster{p: p, last: math.NaN()}
}

// push adds slot value y (NaN when missing) as the newest slot.
func (f *forecaster) push(y float64) {
	r := f.p.trendDecay
	// Move the origin one slot on, then age the old weights.
	f.s2 = r * (f.s2 - 2*f.s1 + f.s0)
	f.s1 = r * (f.s1 - f.s0)
	f.sxy = r * (f.sxy - f.sy)
	f.s0, f.sy = r*f.s0, r*f.sy
	if rf := f.p.fastDecay; rf > 0 {
		f.f2 = rf * (f.f2 - 2*f.f1 + f.f0)
		f.f1 = rf * (f.f1 - f.f0)
		f.fxy = rf * (f.fxy - f.fy)
		f.f0, f.fy = rf*f.f0, rf*f.fy
		if !math.IsNaN(y) {
			f.f0++
			f.fy += y
		}
	}
	rn := f.p.noiseDecay
	f.nw, f.ndd, f.nm = rn*f.nw, rn*f.ndd, rn*f.nm
	if math.IsNaN(y) {
		f.last = y
		return
	}
	f.s0++
	f.sy += y
	if !math.IsNaN(f.last) {
		d := y - f.last
		f.nw++
		f.ndd += d * d
		f.nm += (y + f.last) / 2
	}
	f.last = y
}

// lineAt is the fitted line k slots after the newest one.
func (f *forecaster) lineAt(k float64) float64 { return fitAt(f.s0, f.s1, f.s2, f.sy, f.sxy, k) }

// fitAt is the weighted least-squares line of the sums, k slots after the
// origin.
func fitAt(s0, s1, s2, sy, sxy, k float64) float64 {
	xbar, ybar := s1/s0, sy/s0
	var b float64
	if sxx := s2 - s1*s1/s0; sxx > 1e-9*s0 {
		b = (sxy - s1*ybar) / sxx
	}
	return ybar + b*(k-xbar)
}

// noise is the minute-to-minute noise (first differences / sqrt 2) and
// its dispersion phi = sigma^2 / mean, at least 1 (Poisson).
func (f *forecaster) noise() (sigma, phi float64) {
	if f.nw == 0 {
		return 0, 1
	}
	sigma = math.Sqrt(f.ndd / f.nw / 2)
	phi = 1
	if mean := f.nm / f.nw; mean > 0 {
		phi = math.Max(1, sigma*sigma/mean)
	}
	return sigma, phi
}

// unit is the unit the margin is counted in at forecast demand d, given
// its noise part (noiseAt): the noise, plus a share of d itself, because
// the errors that fill a queue (a ramp the line lags, a batch client's
// burst) grow with the traffic, not with its square root. The calibration
// finds how many units the SLA needs and picks the share (relative) from
// relativeScales.
func unit(noise, d, relative float64) float64 {
	return noise + relative*fmax(d, 0)
}

// noiseAt is the noise part of the unit at forecast demand d: sqrt(phi d)
// but never below the measured sigma (bursts of a fixed size do not shrink
// with the traffic).
func noiseAt(d, sigma, phi float64) float64 {
	return fmax(sigma, math.Sqrt(phi*fmax(d, 0)))
}

// withShare sets the units for the share relative of the forecast.
func (fc *forecast) withShare(relative float64) {
	fc.upScale, fc.holdScale = unit(fc.upNoise, fc.up, relative), unit(fc.holdNoise, fc.hold, relative)
}

// at forecasts for a decision before slot i of g, when every slot before
// i and none after has been pushed. Slots before lo are not read (the
// calibration must depend only on its own range).
func (f *forecaster) at(g *grid, i, lo int) forecast {
	var fc forecast
	L, H := float64(f.p.lead), float64(f.p.horizon)
	if f.s0 > 0 {
		fc.trend = fmax(f.lineAt(L+1), f.lineAt(H+1))
		fc.up, fc.hold = fc.trend, fmax(f.lineAt(1), f.lineAt(H+1))
	}
	if f.f0 > 2 {
		at := func(k float64) float64 { return fitAt(f.f0, f.f1, f.f2, f.fy, f.fxy, k) }
		fast := fmax(at(L+1), at(H+1))
		fc.fast = fast
		fc.up, fc.hold = fmax(fc.up, fast), fmax(fc.hold, fmax(at(1), at(H+1)))
	}
	if rc, ok := g.mean(i-recentSlots, i, lo); ok {
		fc.recent = rc
		fc.up, fc.hold = fmax(fc.up, rc), fmax(fc.hold, rc)
	}
	if level, ok := g.mean(i-levelSlots, i, lo); ok && len(f.p.lags) > 0 {
		var ratioUp, ratioHold float64
		nr := 0
		for _, lag := range f.p.lags {
			j := i - lag
			if j-levelSlots < lo {
				continue
			}
			before, ok1 := g.mean(j-levelSlots, j, lo)
			up, ok2 := g.mean(j+f.p.lead-seasonalSpread, j+f.p.horizon+seasonalSpread+1, lo)
			hold, ok3 := g.mean(j-seasonalSpread, j+f.p.horizon+seasonalSpread+1, lo)
			if !ok1 || !ok2 || !ok3 {
				continue
			}
			// +1 keeps a ratio of empty minutes finite.
			ratioUp += fmin(maxSeasonalRatio, (up+1)/(before+1))
			ratioHold += fmin(maxSeasonalRatio, (hold+1)/(before+1))
			nr++
		}
		if nr > 0 {
			ratioUp, ratioHold = ratioUp/float64(nr), ratioHold/float64(nr)
		}
		if ratioUp > 0 {
			fc.seasonal = level * ratioUp
			fc.up, fc.hold = fmax(fc.up, fc.seasonal), fmax(fc.hold, level*ratioHold)
		}
	}
	fc.up, fc.hold = fmin(fmax(fc.up, 0), maxRate), fmin(fmax(fc.hold, 0), maxRate)
	sigma, phi := f.noise()
	fc.sigma = sigma
	fc.upNoise, fc.holdNoise = noiseAt(fc.up, sigma, phi), noiseAt(fc.hold, sigma, phi)
	fc.withShare(relativeScale)
	return fc
}

// forecastNow is the forecast for the decision after the newest slot. Only
// the last warm slots carry weight, so only they are replayed.
func forecastNow(g *grid, p forecasterParams) forecast {
	f := newForecaster(p)
	n := g.len()
	for i := max(0, n-p.warm); i < n; i++ {
		f.push(g.v[i])
	}
	return f.at(g, n, 0)
}

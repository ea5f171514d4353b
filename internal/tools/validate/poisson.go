package validate

import (
	"errors"
	"math"
	"math/rand/v2"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/backtest"
)

// The nasa~poisson transformation's parameters.
const (
	// SmoothingMinutes is the width of the centred moving average: long
	// enough to average away the minute noise of a small trace, short
	// enough to keep its ramps and bursts (NASA's last tens of minutes).
	SmoothingMinutes = 15
	// PoissonSeed seeds the counts drawn around the smoothed rate.
	PoissonSeed = 1
)

// SmoothPoisson scales a trace to daily requests per day, replaces every
// minute by the centred moving average over window minutes (fewer at the
// ends of the trace, where the window is cut), and draws each minute's
// count from a Poisson distribution around that mean, from a generator
// seeded with seed.
//
// Why: the NASA trace counts about 48 requests a minute. Scaled 874 times
// to 60M requests a day, its minute-to-minute noise is 874 times that of
// the recording, far more than a service that really serves 60M requests a
// day has: the aggregate of many independent clients has Poisson-like
// noise, whose relative size shrinks with the volume. The smoothed trace
// keeps NASA's daily cycle, ramps and bursts longer than the window and
// gives the minutes the noise of the volume. The same trace and seed always
// give the same counts; the total stays that of the scaled trace up to the
// Poisson noise (about its square root) and the cut windows at the ends.
func SmoothPoisson(tr backtest.Trace, daily float64, window int, seed uint64) (backtest.Trace, error) {
	if window < 1 || window%2 == 0 {
		return backtest.Trace{}, errors.New("the smoothing window must be an odd number of minutes")
	}
	scaled, _, err := tr.Scaled(daily)
	if err != nil {
		return backtest.Trace{}, err
	}
	mean := movingAverage(scaled.Counts, window/2)
	r := rand.New(rand.NewPCG(seed, 0))
	out := backtest.Trace{Start: tr.Start, Counts: make([]float64, len(mean))}
	for i, m := range mean {
		out.Counts[i] = float64(poisson(r, m))
	}
	return out, nil
}

// movingAverage is the mean of v over [i-half, i+half] for every i, the
// window cut at both ends of v.
func movingAverage(v []float64, half int) []float64 {
	prefix := make([]float64, len(v)+1)
	for i, x := range v {
		prefix[i+1] = prefix[i] + x
	}
	out := make([]float64, len(v))
	for i := range v {
		lo, hi := max(0, i-half), min(len(v), i+half+1)
		out[i] = max(0, (prefix[hi]-prefix[lo])/float64(hi-lo))
	}
	return out
}

// poisson draws from a Poisson distribution with the given mean: by
// multiplying uniforms for a small mean, and by Hörmann's transformed
// rejection with squeeze (PTRS, "The transformed rejection method for
// generating Poisson random variables", 1993, as NumPy draws) otherwise,
// which is exact and takes about one pair of uniforms at any mean.
func poisson(r *rand.Rand, mean float64) int64 {
	if !(mean > 0) {
		return 0
	}
	if mean < 10 {
		limit := math.Exp(-mean)
		var k int64
		for p := r.Float64(); p > limit; p *= r.Float64() {
			k++
		}
		return k
	}
	slam := math.Sqrt(mean)
	logMean := math.Log(mean)
	b := 0.931 + 2.53*slam
	a := -0.059 + 0.02483*b
	invAlpha := 1.1239 + 1.1328/(b-3.4)
	vr := 0.9277 - 3.6224/(b-2)
	for {
		u := r.Float64() - 0.5
		v := r.Float64()
		us := 0.5 - math.Abs(u)
		k := math.Floor((2*a/us+b)*u + mean + 0.43)
		if us >= 0.07 && v <= vr {
			return int64(k)
		}
		if k < 0 || (us < 0.013 && v > us) {
			continue
		}
		lg, _ := math.Lgamma(k + 1)
		if math.Log(v)+math.Log(invAlpha)-math.Log(a/(us*us)+b) <= -mean+k*logMean-lg {
			return int64(k)
		}
	}
}

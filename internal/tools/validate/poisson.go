package validate

import (
	"errors"
	"math/rand/v2"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/backtest"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/tracegen"
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
		out.Counts[i] = float64(tracegen.Poisson(r, m))
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

package tracegen

import (
	"fmt"
	"math"
	"testing"

	"github.com/shoenig/test/must"
)

// moments returns the mean and variance of n draws.
func moments(n int, draw func() float64) (mean, variance float64) {
	var s, ss float64
	for range n {
		x := draw()
		s += x
		ss += x * x
	}
	mean = s / float64(n)
	return mean, ss/float64(n) - mean*mean
}

func TestPoissonHasItsMeanAsMeanAndVariance(t *testing.T) {
	t.Parallel()
	// Both samplers and the switch between them at 10.
	for _, mean := range []float64{0.3, 3, 9.99, 10, 57, 2500, 4e6} {
		t.Run(fmt.Sprint("mean ", mean), func(t *testing.T) {
			t.Parallel()
			r := newRand(7, streamCounts)
			const n = 200_000
			m, v := moments(n, func() float64 { return float64(Poisson(r, mean)) })
			// Five standard errors of the mean, and 3% of the variance.
			must.Less(t, 5*math.Sqrt(mean/n), math.Abs(m-mean))
			must.Less(t, 0.03, math.Abs(v/mean-1))
		})
	}
}

func TestPoissonOfNothingIsZero(t *testing.T) {
	t.Parallel()
	r := newRand(1, streamCounts)
	for _, mean := range []float64{0, -1, math.NaN()} {
		must.Eq(t, 0, Poisson(r, mean))
		must.Eq(t, 0, drawCount(r, mean, 2))
	}
}

func TestDrawCountVarianceIsTheDispersionTimesTheMean(t *testing.T) {
	t.Parallel()
	cases := []struct {
		rate, dispersion float64
	}{
		{0.5, 2}, {20, 3.2}, {1400, 1.5}, {40_000, 3.5}, {300, 1}, {300, 1.0005},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("rate %g dispersion %g", tc.rate, tc.dispersion), func(t *testing.T) {
			t.Parallel()
			r := newRand(3, streamCounts)
			const n = 200_000
			m, v := moments(n, func() float64 { return float64(drawCount(r, tc.rate, tc.dispersion)) })
			must.Less(t, 5*math.Sqrt(tc.dispersion*tc.rate/n), math.Abs(m-tc.rate))
			must.Less(t, 0.04, math.Abs(v/(tc.dispersion*tc.rate)-1))
		})
	}
}

func TestGammaHasItsShapeAsMeanAndVariance(t *testing.T) {
	t.Parallel()
	for _, shape := range []float64{0.2, 1, 4.5, 1e5} {
		r := newRand(5, streamCounts)
		m, v := moments(200_000, func() float64 { return gamma(r, shape) })
		must.Less(t, 0.02, math.Abs(m/shape-1), must.Sprint(shape))
		must.Less(t, 0.04, math.Abs(v/shape-1), must.Sprint(shape))
	}
}

func TestWiggleLastsTensOfMinutesWithItsStandardDeviation(t *testing.T) {
	t.Parallel()
	const rho, sd = 0.98, 0.05
	w := wiggle(newRand(1, streamWiggle), 500_000, rho, sd)
	logs := make([]float64, len(w))
	var mean float64
	for i, x := range w {
		logs[i] = math.Log(x)
		mean += x / float64(len(w))
	}
	_, variance := moments(len(logs), func() func() float64 {
		i := -1
		return func() float64 { i++; return logs[i] }
	}())
	// Lag-k autocorrelation of the log multiplier is rho^k: a deviation
	// still has a third of its size after 50 minutes.
	autocorr := func(lag int) float64 {
		var m, c float64
		for _, x := range logs {
			m += x / float64(len(logs))
		}
		for i := lag; i < len(logs); i++ {
			c += (logs[i] - m) * (logs[i-lag] - m)
		}
		return c / float64(len(logs)-lag) / variance
	}
	must.Less(t, 0.01, math.Abs(mean-1))
	must.Less(t, 0.1, math.Abs(math.Sqrt(variance)/sd-1))
	must.Less(t, 0.01, math.Abs(autocorr(1)-rho))
	must.Less(t, 0.1, math.Abs(autocorr(50)-math.Pow(rho, 50)))
}

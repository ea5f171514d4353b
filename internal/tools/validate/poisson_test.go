package validate

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/backtest"
	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/tracegen"
)

func loadNASA(t *testing.T) backtest.Trace {
	t.Helper()
	tr, err := backtest.ReadTraceFile("../../../" + DefaultTrace)
	must.NoError(t, err)
	return tr
}

// dayTotals sums a trace per UTC day, whole days only.
func dayTotals(tr backtest.Trace) []float64 {
	var out []float64
	for d := 0; (d+1)*1440 <= tr.Len(); d++ {
		var s float64
		for _, c := range tr.Counts[d*1440 : (d+1)*1440] {
			s += c
		}
		out = append(out, s)
	}
	return out
}

func TestSmoothPoissonKeepsEveryDaysTotalAtTheVolume(t *testing.T) {
	t.Parallel()
	nasa := loadNASA(t)
	for _, daily := range []float64{2e6, 6e7} {
		scaled, _, err := nasa.Scaled(daily)
		must.NoError(t, err)
		got, err := SmoothPoisson(nasa, daily, SmoothingMinutes, PoissonSeed)
		must.NoError(t, err)
		must.Eq(t, nasa.Start, got.Start)
		must.Eq(t, nasa.Len(), got.Len())
		// The mean over the trace is the volume, up to the Poisson noise
		// (its square root: 0.005% of 52M requests at 2M/day).
		must.Less(t, 1e-3, math.Abs(got.Total()/scaled.Total()-1), must.Sprintf("daily %g", daily))
		// Each day keeps its own total: the window moves a few minutes of
		// traffic across midnight at most.
		want, have := dayTotals(scaled), dayTotals(got)
		for d := range want {
			must.Less(t, 5e-3, math.Abs(have[d]/want[d]-1), must.Sprintf("daily %g, day %d", daily, d))
		}
	}
}

func TestSmoothPoissonIsTheSameForASeedAndDiffersForAnother(t *testing.T) {
	t.Parallel()
	nasa := loadNASA(t)
	a, err := SmoothPoisson(nasa, 6e7, SmoothingMinutes, 1)
	must.NoError(t, err)
	b, err := SmoothPoisson(nasa, 6e7, SmoothingMinutes, 1)
	must.NoError(t, err)
	c, err := SmoothPoisson(nasa, 6e7, SmoothingMinutes, 2)
	must.NoError(t, err)
	must.True(t, slices.Equal(a.Counts, b.Counts), must.Sprint("the same seed gives the same counts"))
	must.False(t, slices.Equal(a.Counts, c.Counts), must.Sprint("another seed gives other counts"))
	for _, v := range a.Counts {
		must.Eq(t, math.Round(v), v)
	}
}

// relativeMinuteNoise is the standard deviation of the change from one
// minute to the next over the mean: how jumpy the minutes are.
func relativeMinuteNoise(counts []float64) float64 {
	var mean, ss float64
	for _, c := range counts {
		mean += c
	}
	mean /= float64(len(counts))
	for i := 1; i < len(counts); i++ {
		d := counts[i] - counts[i-1]
		ss += d * d
	}
	return math.Sqrt(ss/float64(len(counts)-1)) / mean
}

func TestSmoothPoissonGivesTheMinutesTheNoiseOfTheirVolume(t *testing.T) {
	t.Parallel()
	nasa := loadNASA(t)
	scaled, _, err := nasa.Scaled(6e7)
	must.NoError(t, err)
	smooth, err := SmoothPoisson(nasa, 6e7, SmoothingMinutes, PoissonSeed)
	must.NoError(t, err)
	// NASA's minutes scaled 874 times jump by about 38% of the mean from
	// one minute to the next. At 41,000 requests a minute Poisson counts
	// jump by under 1%; what remains (about 3%) is the shape, including
	// NASA's noise averaged over 15 minutes.
	before, after := relativeMinuteNoise(scaled.Counts), relativeMinuteNoise(smooth.Counts)
	must.Greater(t, 0.3, before)
	must.Less(t, before/8, after)
}

func TestMovingAverageIsCentredAndCutAtTheEnds(t *testing.T) {
	t.Parallel()
	v := []float64{0, 0, 0, 0, 9, 9, 9, 9}
	// half 1: a window of three minutes, two at either end.
	must.Eq(t, []float64{0, 0, 0, 3, 6, 9, 9, 9}, movingAverage(v, 1))
	must.Eq(t, v, movingAverage(v, 0))
}

func TestSmoothPoissonRefusesAnEvenWindowAndATraceWithoutRequests(t *testing.T) {
	t.Parallel()
	tr := backtest.Trace{Start: time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), Counts: []float64{1, 2, 3}}
	_, err := SmoothPoisson(tr, 1e6, 4, 1)
	must.ErrorContains(t, err, "odd")
	_, err = SmoothPoisson(backtest.Trace{Start: tr.Start, Counts: []float64{0, 0}}, 1e6, 15, 1)
	must.ErrorContains(t, err, "without requests")
}

func TestPoissonDrawsHaveTheMeanAndVarianceOfTheirMean(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(7, 0))
	for _, mean := range []float64{0.5, 3, 40, 41_000} {
		const n = 20_000
		var s, ss float64
		for range n {
			k := float64(tracegen.Poisson(r, mean))
			s += k
			ss += k * k
		}
		m := s / n
		v := ss/n - m*m
		// Five standard errors of the mean; the variance within 10%.
		must.Less(t, 5*math.Sqrt(mean/n), math.Abs(m-mean), must.Sprintf("mean %g", mean))
		must.Less(t, 0.1, math.Abs(v/mean-1), must.Sprintf("variance at mean %g", mean))
	}
	must.Eq(t, int64(0), tracegen.Poisson(r, 0))
}

package plugin

import (
	"math"
	"testing"

	"github.com/shoenig/test/must"
)

func line(n int, start, slope float64) []point {
	pts := make([]point, n)
	for i := range pts {
		x := float64(i - (n - 1))
		pts[i] = point{x: x, y: start + slope*float64(i)}
	}
	return pts
}

func TestFitLineRecoversAnExactLine(t *testing.T) {
	for _, hl := range []float64{0, 30} {
		f := fitLine(line(60, 100, 2.5), hl)
		must.InDelta(t, 2.5, f.slope, 1e-9)
		must.InDelta(t, 100+2.5*59, f.level, 1e-9)
		must.InDelta(t, 100+2.5*59+2.5*25, f.at(25), 1e-9)
	}
}

func TestFitLineOfOnePointIsFlat(t *testing.T) {
	f := fitLine([]point{{0, 42}}, 30)
	must.Eq(t, 0.0, f.slope)
	must.Eq(t, 42.0, f.level)
}

func TestPredictionVarianceMatchesTheTextbookForEqualWeights(t *testing.T) {
	pts := line(60, 0, 1)
	f := fitLine(pts, 0)
	n := float64(len(pts))
	var xbar, sxx float64
	for _, p := range pts {
		xbar += p.x / n
	}
	for _, p := range pts {
		sxx += (p.x - xbar) * (p.x - xbar)
	}
	for _, h := range []float64{0, 6, 25} {
		want := 1/n + (h-xbar)*(h-xbar)/sxx
		must.InDelta(t, want, f.predictionVarianceFactor(h), 1e-12)
	}
}

func TestPredictionVarianceGrowsWithTheHorizon(t *testing.T) {
	f := fitLine(line(180, 0, 1), 30)
	must.Less(t, f.predictionVarianceFactor(25), f.predictionVarianceFactor(0))
	must.Less(t, f.predictionVarianceFactor(60), f.predictionVarianceFactor(25))
}

func TestEstimateNoise(t *testing.T) {
	t.Run("a constant series has no noise and Poisson dispersion", func(t *testing.T) {
		n := estimateNoise(line(30, 500, 0), 60)
		must.Eq(t, 0.0, n.sigma)
		must.InDelta(t, 500.0, n.mean, 1e-9)
		must.Eq(t, 1.0, n.dispersion)
	})
	t.Run("alternating values give sigma = |step| / sqrt(2) of the differences", func(t *testing.T) {
		pts := line(40, 1000, 0)
		for i := range pts {
			if i%2 == 1 {
				pts[i].y += 100
			}
		}
		n := estimateNoise(pts, 0)
		must.InDelta(t, 100/math.Sqrt2, n.sigma, 1e-9)
		must.InDelta(t, n.sigma*n.sigma/1050, n.dispersion, 1e-9)
	})
	t.Run("a steady ramp is not mistaken for noise", func(t *testing.T) {
		n := estimateNoise(line(180, 100, 10), 60)
		must.InDelta(t, 10/math.Sqrt2, n.sigma, 1e-9) // only the one-step rise remains
	})
	t.Run("pairs across a gap are skipped", func(t *testing.T) {
		pts := []point{{-100, 0}, {-99, 0}, {-98, 0}, {-2, 5000}, {-1, 5000}, {0, 5000}}
		n := estimateNoise(pts, 0)
		must.Eq(t, 0.0, n.sigma)
		must.Eq(t, 4, n.pairs)
	})
	t.Run("one point says nothing", func(t *testing.T) {
		must.Eq(t, noiseEstimate{dispersion: 1}, estimateNoise([]point{{0, 3}}, 60))
	})
}

func TestSigmaAtScalesUpButNeverDown(t *testing.T) {
	n := noiseEstimate{sigma: 100, mean: 1000, dispersion: 10}
	must.InDelta(t, 200.0, n.sigmaAt(4000), 1e-9) // sqrt(10 * 4000)
	must.Eq(t, 100.0, n.sigmaAt(250))
	must.Eq(t, 100.0, n.sigmaAt(-5))
}

func TestWorkersFor(t *testing.T) {
	cases := []struct {
		name             string
		demand, capacity float64
		want             int64
	}{
		{"an exact multiple needs no extra worker", 300, 100, 3},
		{"a sliver over needs one more", 300.5, 100, 4},
		{"float noise at a multiple is tolerated", 0.1 + 0.2, 0.1, 3},
		{"no demand needs no worker", 0, 100, 0},
		{"negative demand needs no worker", -5, 100, 0},
		{"NaN demand needs no worker", math.NaN(), 100, 0},
		{"enormous demand is clamped", 1e300, 1e-6, maxWorkers},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			must.Eq(t, tc.want, workersFor(tc.demand, tc.capacity))
		})
	}
}

func TestNormalQuantile(t *testing.T) {
	must.InDelta(t, 0.0, normalQuantile(0.5), 1e-12)
	must.InDelta(t, 1.6449, normalQuantile(0.95), 1e-4)
	must.InDelta(t, 2.3263, normalQuantile(0.99), 1e-4)
}

func TestDecayMatchesExp2(t *testing.T) {
	xs := []float64{-1e6, -1e6 + 1, -200, -199, -198, -100, -50, -49, -48, -47, -1, 0}
	d := newDecay(30)
	for _, x := range xs {
		must.InDelta(t, math.Exp2(x/30), d.at(x), 1e-12*math.Exp2(x/30)+1e-300)
	}
	must.Eq(t, 1.0, newDecay(0).at(-5))
}

func TestPersistentDeviationOfAnExactLineIsZero(t *testing.T) {
	ms, n := persistentDeviation(line(120, 100, 3), 30, 60, 6, 10, 5)
	must.InDelta(t, 0.0, ms, 1e-6)
	must.Eq(t, 103, n) // predictions from point 10 on whose minute +-2 lies in the window
}

func TestPersistentSigma(t *testing.T) {
	c := mustConfig(t)
	t.Run("white noise is not persistent", func(t *testing.T) {
		pts := flat(180, 1000)
		for i := range pts {
			if i%2 == 1 {
				pts[i].y += 200
			}
		}
		fit := fitLine(pts, 30)
		must.Eq(t, 0.0, persistentSigma(pts, fit, estimateNoise(pts, 60), c))
	})
	t.Run("a slow wave the line cannot follow is", func(t *testing.T) {
		pts := flat(180, 1000)
		for i := range pts {
			pts[i].y += 150 * math.Sin(float64(i)*2*math.Pi/40)
		}
		fit := fitLine(pts, 30)
		n := estimateNoise(pts, 60)
		p := persistentSigma(pts, fit, n, c)
		must.Greater(t, 3*n.sigma, p) // the minute-to-minute noise sees almost none of it
	})
	t.Run("too short a window has no replay", func(t *testing.T) {
		pts := flat(40, 1000)
		must.Eq(t, 0.0, persistentSigma(pts, fitLine(pts, 30), estimateNoise(pts, 60), c))
	})
	t.Run("persistence_window 0 disables it", func(t *testing.T) {
		pts := line(180, 1000, 5)
		off := mustConfig(t, keyPersistenceWindow, "0s")
		must.Eq(t, 0.0, persistentSigma(pts, fitLine(pts, 30), estimateNoise(pts, 60), off))
	})
}

func TestRecentPointsDropsOnlyNegligibleWeights(t *testing.T) {
	pts := line(1440, 0, 1)
	must.SliceLen(t, 481, recentPoints(pts, 30)) // 16 half-lives of 30 minutes, and now
	must.SliceLen(t, 1440, recentPoints(pts, 0))
	must.SliceLen(t, 10, recentPoints(line(10, 0, 1), 30))
	// Dropping them changes the fit by less than their weight.
	full, cut := fitLine(pts, 30), fitLine(recentPoints(pts, 30), 30)
	must.InDelta(t, full.level, cut.level, 1e-6)
}

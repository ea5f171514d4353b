package tracegen

import (
	"math"
	"math/rand/v2"
)

// noise is the per-trace draw of the two noise components: the persistent
// wiggle of aggregate traffic and the counting noise around the rate.
type noise struct {
	// rho is the minute-to-minute correlation of the log-scale wiggle:
	// 0.97 to 0.99 makes a deviation last tens of minutes, as it does in
	// real aggregate traffic, so a forecast error does not average out
	// within a minute or two.
	rho float64
	// sd is the stationary standard deviation of the log-scale wiggle.
	sd float64
	// dispersion is the variance of a minute's count over its mean. Real
	// requests arrive in groups (a page and its images, a client's batch),
	// so counts vary more than Poisson: NASA-HTTP's minutes show about 3.2.
	dispersion float64
}

func drawNoise(r *rand.Rand) noise {
	return noise{
		rho:        uniform(r, 0.97, 0.99),
		sd:         uniform(r, 0.03, 0.08),
		dispersion: uniform(r, 1.5, 3.5),
	}
}

// wiggle returns n log-scale AR(1) multipliers with mean 1, starting in the
// stationary distribution so the first hour is not calmer than the rest.
func wiggle(r *rand.Rand, n int, rho, sd float64) []float64 {
	out := make([]float64, n)
	innovation := sd * math.Sqrt(1-rho*rho)
	x := sd * r.NormFloat64()
	for i := range out {
		out[i] = math.Exp(x - sd*sd/2)
		x = rho*x + innovation*r.NormFloat64()
	}
	return out
}

// minExtraDispersion is the extra dispersion below which a count is drawn
// from a plain Poisson: the gamma mixing would change nothing measurable.
const minExtraDispersion = 1e-3

// drawCount draws a minute's count with mean rate and variance
// dispersion x rate. The mixture of a Poisson over a gamma-distributed rate
// (shape rate/(dispersion-1)) keeps the variance proportional to the mean,
// so the relative counting noise shrinks as the volume grows, as it does
// for a service that is really that large.
func drawCount(r *rand.Rand, rate, dispersion float64) int64 {
	if !(rate > 0) {
		return 0
	}
	if extra := dispersion - 1; extra > minExtraDispersion {
		rate = gamma(r, rate/extra) * extra
	}
	return Poisson(r, rate)
}

// Poisson draws from a Poisson distribution: by multiplying uniforms for a
// small mean, and by Hörmann's transformed rejection (PTRS, as in NumPy)
// otherwise, which is exact and takes about one uniform pair per draw at
// any mean.
func Poisson(r *rand.Rand, mean float64) int64 {
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

// gamma draws from a gamma distribution with the given shape and scale 1
// (Marsaglia and Tsang; a shape below 1 is boosted by one and corrected).
func gamma(r *rand.Rand, shape float64) float64 {
	if shape < 1 {
		return gamma(r, shape+1) * math.Pow(r.Float64(), 1/shape)
	}
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := r.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := r.Float64()
		if u < 1-0.0331*x*x*x*x || math.Log(u) < x*x/2+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}

package tracegen

import (
	"math"
	"math/rand/v2"
	"sort"
)

// stream names one component's sequence of random draws. Each component
// draws from its own stream of the seed, so that a change to how one
// component draws (or how many minutes it covers) leaves the others as they
// were.
type stream uint64

const (
	streamShape stream = iota + 1
	streamDays
	streamEvents
	streamWiggle
	streamCounts
)

// newRand returns the generator of one stream of a seed.
func newRand(seed uint64, s stream) *rand.Rand {
	return rand.New(rand.NewPCG(seed, uint64(s)))
}

// uniform draws from [lo, hi).
func uniform(r *rand.Rand, lo, hi float64) float64 {
	return lo + (hi-lo)*r.Float64()
}

// logUniform draws from [lo, hi) uniformly in log scale, so a factor of 4
// is as likely as a factor of 2 times 2.
func logUniform(r *rand.Rand, lo, hi float64) float64 {
	return math.Exp(uniform(r, math.Log(lo), math.Log(hi)))
}

// logNormal draws a multiplier with median about 1 and log-scale standard
// deviation sd, with mean 1 so that it does not shift the level.
func logNormal(r *rand.Rand, sd float64) float64 {
	return math.Exp(sd*r.NormFloat64() - sd*sd/2)
}

// weightedIndex draws an index with probability proportional to its weight
// (weights are non-negative and not all zero).
func weightedIndex(r *rand.Rand, weights []float64) int {
	cum := make([]float64, len(weights))
	var total float64
	for i, w := range weights {
		total += w
		cum[i] = total
	}
	i := sort.SearchFloat64s(cum, r.Float64()*total)
	return min(i, len(weights)-1)
}

func logistic(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// bell is a Gaussian bump of height 1 at center.
func bell(x, center, width float64) float64 {
	d := (x - center) / width
	return math.Exp(-d * d / 2)
}

// smoothstep goes from 0 to 1 over [0, 1] with zero slope at both ends.
func smoothstep(u float64) float64 {
	u = min(max(u, 0), 1)
	return u * u * (3 - 2*u)
}

package tracegen

import (
	"fmt"
	"time"
)

// MinutesPerDay is the number of one-minute rows in a day of trace.
const MinutesPerDay = 1440

// model is a trace before its counts are drawn.
type model struct {
	start time.Time
	// rate is the expected number of requests in each minute.
	rate []float64
	// kickoffs are the minutes at which scheduled matches start
	// (flashcrowd only), for the tests.
	kickoffs []int
	// dispersion is the variance of a minute's count over its mean.
	dispersion float64
}

// Generate returns the per-minute request counts of the trace a profile
// describes and the start of its first minute (in UTC). It is deterministic:
// the same profile gives the same counts on every run. An invalid profile
// is an error listing every problem.
func Generate(p Profile) ([]int64, time.Time, error) {
	m, err := build(p)
	if err != nil {
		return nil, time.Time{}, err
	}
	return m.draw(p.Seed), m.start, nil
}

// draw draws every minute's count around its expected rate.
func (m model) draw(seed uint64) []int64 {
	r := newRand(seed, streamCounts)
	counts := make([]int64, len(m.rate))
	for i, rate := range m.rate {
		counts[i] = drawCount(r, rate, m.dispersion)
	}
	return counts
}

// build computes the expected rate: the profile's shape and events, times
// the persistent wiggle, scaled so that the mean is p.Daily a day.
func build(p Profile) (model, error) {
	if err := p.Validate(); err != nil {
		return model{}, err
	}
	loc, err := time.LoadLocation(p.TimeZone)
	if err != nil {
		return model{}, fmt.Errorf("-%s %q: %w", KeyTimeZone, p.TimeZone, err)
	}
	n := p.Days * MinutesPerDay
	m := model{start: p.Start.UTC()}
	cal := newCalendar(m.start, n, loc)
	switch p.Name {
	case Business:
		m.rate = businessRate(p, cal)
	case Flashcrowd:
		m.rate, m.kickoffs = flashcrowdRate(p, cal)
	}

	r := newRand(p.Seed, streamWiggle)
	nz := drawNoise(r)
	m.dispersion = nz.dispersion
	var total float64
	for i, w := range wiggle(r, n, nz.rho, nz.sd) {
		m.rate[i] *= w
		total += m.rate[i]
	}
	// Scaling the expected rate, rather than the counts, makes the mean
	// exact up to counting noise, whatever the draws of the level and the
	// events, and keeps the counting noise that of the requested volume.
	if !(total > 0) {
		return model{}, fmt.Errorf("profile %s with seed %d has no traffic", p.Name, p.Seed)
	}
	scale := p.Daily * float64(n) / MinutesPerDay / total
	for i := range m.rate {
		m.rate[i] *= scale
	}
	return m, nil
}

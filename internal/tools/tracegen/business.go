package tracegen

import "math/rand/v2"

// business is the per-trace draw of the business profile.
type business struct {
	day workday
	// restRatio is a weekend day's or holiday's requests over a working
	// day's.
	restRatio float64
	// daySD is the log-scale standard deviation of the level from one day
	// to the next.
	daySD float64
	// trend is the change of level from the first minute to the last.
	trend float64
	// burstsPerDay is the mean number of batch-client bursts a day.
	burstsPerDay float64
}

func drawBusiness(r *rand.Rand) business {
	return business{
		day:          drawWorkday(r),
		restRatio:    uniform(r, 0.3, 0.7),
		daySD:        uniform(r, 0.08, 0.12),
		trend:        uniform(r, -0.10, 0.40),
		burstsPerDay: uniform(r, 2, 6),
	}
}

// businessRate returns the expected rate per minute of the business
// profile, in arbitrary units: Generate scales it to the requested volume.
func businessRate(p Profile, cal calendar) []float64 {
	m := drawBusiness(newRand(p.Seed, streamShape))
	core := m.day.restCore(m.restRatio)

	r := newRand(p.Seed, streamDays)
	nd := len(cal.days)
	level, shift, stretch := make([]float64, nd), make([]float64, nd), make([]float64, nd)
	for k := range nd {
		level[k] = logNormal(r, m.daySD)
		shift[k] = uniform(r, -20, 20)
		stretch[k] = uniform(r, 0.85, 1.15)
	}
	holiday := drawHolidays(r, cal.days)

	n := len(cal.minutes)
	shape := make([]float64, n)
	rate := make([]float64, n)
	for i, lm := range cal.minutes {
		s := m.day.at(float64(lm.clock), shift[lm.day], stretch[lm.day])
		if cal.days[lm.day].weekend() || holiday[lm.day] {
			s = m.day.restDay(s, core)
		}
		shape[i] = s
		trend := 1 + m.trend*float64(i)/float64(max(n-1, 1))
		rate[i] = s * atNoon(level, lm.dayPos()) * trend
	}

	fx := newEffects(n)
	ev := newRand(p.Seed, streamEvents)
	addBursts(ev, fx, shape, m.burstsPerDay)
	addIncidents(ev, fx, shape)
	fx.apply(rate)
	return rate
}

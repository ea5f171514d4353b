package tracegen

// flashcrowdRate returns the expected rate per minute of the flashcrowd
// profile, in arbitrary units, and the minutes of the matches' kick-offs.
func flashcrowdRate(p Profile, cal calendar) ([]float64, []int) {
	m := drawFlashcrowd(newRand(p.Seed, streamShape), p.Growth)

	r := newRand(p.Seed, streamDays)
	day := make([]float64, len(cal.days))
	for k, d := range cal.days {
		day[k] = logNormal(r, m.daySD)
		if d.weekend() {
			day[k] *= m.weekend
		}
	}

	n := len(cal.minutes)
	rate := make([]float64, n)
	for i, lm := range cal.minutes {
		t := float64(i) / float64(max(n-1, 1))
		rate[i] = m.level(t) * m.daily(float64(lm.clock)) * atNoon(day, lm.dayPos())
	}

	fx := newEffects(n)
	ev := newRand(p.Seed, streamEvents)
	kickoffs := addMatches(ev, fx, m, cal)
	addCrowds(ev, fx, n, m.crowdsPerWeek)
	fx.apply(rate)
	return rate, kickoffs
}

package tracegen

import (
	"math"
	"math/rand/v2"
)

// flashcrowd is the per-trace draw of the flashcrowd profile, a sports or
// event site like the 1998 World Cup's. Positions in the trace (season,
// growth) are fractions of its length.
type flashcrowd struct {
	// growth is the level at the end of the season over the level at the
	// start of the trace.
	growth float64
	// The level grows as a logistic in log scale centred at growthAt with
	// width growthWidth: slow at first, steep in the middle, flat by the
	// end of the season.
	growthAt, growthWidth float64
	// seasonFrom and seasonTo bound the season of scheduled matches, about
	// the middle 40% of the trace.
	seasonFrom, seasonTo float64
	// decline is the level at the end of the trace relative to the end of
	// the season: interest fades once the tournament is over.
	decline float64
	// night is the traffic at the daily minimum as a fraction of the
	// daily peak.
	night float64
	// peakAt is the daily peak, minutes after local midnight.
	peakAt float64
	// peakedness narrows the busy part of the day.
	peakedness float64
	// weekend is a weekend day's level: a weak weekly pattern.
	weekend float64
	// daySD is the log-scale standard deviation of the level from day to
	// day.
	daySD float64
	// slots are the kick-off times (minutes after local midnight) the
	// matches use.
	slots []int
	// crowdsPerWeek is the mean number of unscheduled flash crowds a week.
	crowdsPerWeek float64
}

func drawFlashcrowd(r *rand.Rand, growth float64) flashcrowd {
	f := flashcrowd{growth: growth}
	f.seasonFrom = uniform(r, 0.28, 0.34)
	f.seasonTo = f.seasonFrom + uniform(r, 0.37, 0.43)
	f.growthAt = f.seasonFrom + uniform(r, 0, 0.10)
	f.growthWidth = uniform(r, 0.05, 0.08)
	f.decline = uniform(r, 0.4, 1.0)
	f.night = uniform(r, 0.10, 0.20)
	f.peakAt = uniform(r, 14*60, 21*60)
	f.peakedness = uniform(r, 1.0, 2.5)
	f.weekend = uniform(r, 0.85, 1.15)
	f.daySD = uniform(r, 0.04, 0.08)
	f.slots = drawSlots(r)
	f.crowdsPerWeek = uniform(r, 2, 5)
	return f
}

// level is the base level at position t (0 to 1) of the trace, 1 at the
// start and growth at the end of the season.
func (f flashcrowd) level(t float64) float64 {
	if t <= f.seasonTo {
		s := func(t float64) float64 { return logistic((t - f.growthAt) / f.growthWidth) }
		u := (s(t) - s(0)) / (s(f.seasonTo) - s(0))
		return math.Pow(f.growth, u)
	}
	return f.growth * math.Pow(f.decline, smoothstep((t-f.seasonTo)/(1-f.seasonTo)))
}

// daily is the daily cycle at a local clock time, 1 at the peak.
func (f flashcrowd) daily(clock float64) float64 {
	c := (1 + math.Cos(2*math.Pi*(clock-f.peakAt)/1440)) / 2
	return f.night + (1-f.night)*math.Pow(c, f.peakedness)
}

package tracegen

import (
	"math"
	"math/rand/v2"
	"slices"
)

// kickoffTimes are the local times (minutes after midnight) matches may
// start at; a trace uses a few of them, every day of its season.
var kickoffTimes = []int{12 * 60, 13*60 + 30, 15 * 60, 16 * 60, 17*60 + 30, 19 * 60, 20 * 60, 21 * 60}

const (
	// maxSlots is the most matches a day.
	maxSlots = 4
	// minSlotGap keeps kick-offs of one day apart; matches still overlap,
	// as the last group matches of a tournament do.
	minSlotGap = 90
)

// drawSlots picks the kick-off times of the trace: up to four, at least
// minSlotGap minutes apart (always at least three, given kickoffTimes).
func drawSlots(r *rand.Rand) []int {
	var slots []int
	for _, j := range r.Perm(len(kickoffTimes)) {
		t := kickoffTimes[j]
		if len(slots) < maxSlots && !slices.ContainsFunc(slots, func(s int) bool { return abs(s-t) < minSlotGap }) {
			slots = append(slots, t)
		}
	}
	slices.Sort(slots)
	return slots
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// addMatches schedules the season's matches, each a flash crowd at a known
// time, and returns their kick-off minutes in order. The group stage (the
// first half of the season) has two to four matches a day, the knockout
// stage one or two.
func addMatches(r *rand.Rand, fx effects, m flashcrowd, cal calendar) []int {
	n := len(cal.minutes)
	var kickoffs []int
	for _, d := range cal.days {
		pos := float64(cal.index(d.at(12*60, cal.loc))) / float64(n)
		if pos < m.seasonFrom || pos > m.seasonTo {
			continue
		}
		count := 2 + r.IntN(3)
		if (pos-m.seasonFrom)/(m.seasonTo-m.seasonFrom) > 0.5 {
			count = 1 + r.IntN(2)
		}
		for _, j := range r.Perm(len(m.slots))[:min(count, len(m.slots))] {
			at := cal.index(d.at(m.slots[j], cal.loc))
			addMatch(r, fx, at)
			if at >= 0 && at < n {
				kickoffs = append(kickoffs, at)
			}
		}
	}
	slices.Sort(kickoffs)
	return kickoffs
}

// addMatch adds one match kicking off at minute at: the traffic climbs to
// 2x to 8x the base within 2 to 10 minutes around kick-off, stays high for
// about 110 minutes (two halves, the break and stoppage time) with a spike
// of 1.3x to 3x for 1 to 3 minutes at each goal, then falls off over 10 to
// 30 minutes as the audience leaves.
func addMatch(r *rand.Rand, fx effects, at int) {
	excess := logUniform(r, 2, 8) - 1
	rise := 2 + r.IntN(9)
	hold := 100 + r.IntN(21)
	fall := 10 + r.IntN(21)
	from := at - rise/2
	for j := range rise {
		fx.add(from+j, excess*float64(j+1)/float64(rise))
	}
	for i := from + rise; i < at+hold; i++ {
		fx.add(i, excess)
	}
	for j := range fall {
		fx.add(at+hold+j, excess*(1-float64(j+1)/float64(fall+1)))
	}
	for range Poisson(r, 2.5) {
		goal := at + 1 + r.IntN(hold-3)
		fx.scale(goal, 1+r.IntN(3), logUniform(r, 1.3, 3))
	}
}

// addCrowds adds the unscheduled flash crowds (news, a link from a big
// site): a few a week at random times, each a jump to 2x to 5x within 1 to
// 2 minutes that decays over 30 to 90 minutes. Nothing in the history
// announces them, so only a fast reaction helps.
func addCrowds(r *rand.Rand, fx effects, n int, perWeek float64) {
	for range Poisson(r, perWeek*float64(n)/(7*1440)) {
		at := r.IntN(n)
		excess := uniform(r, 2, 5) - 1
		rise := 1 + r.IntN(2)
		decay := 30 + r.IntN(61)
		for j := range rise {
			fx.add(at+j, excess*float64(j+1)/float64(rise))
		}
		// An exponential decay shifted to reach zero at the end, so the
		// crowd leaves no step behind.
		tail := math.Exp(-3)
		for j := 1; j <= decay; j++ {
			e := (math.Exp(-3*float64(j)/float64(decay)) - tail) / (1 - tail)
			fx.add(at+rise-1+j, excess*e)
		}
	}
}

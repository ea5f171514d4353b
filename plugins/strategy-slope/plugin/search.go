package plugin

import "math"

// The search for the smallest margin that meets the SLA replays the
// window once per margin it asks about: a week of minutes each time, and
// most of a calibration's cost. Two things make it cheaper:
//
//   - probes: within one calibration, a margin at or above one whose
//     replay met is taken to meet too, and one at or below a margin that
//     missed to miss (more capacity queues no longer), so the bisection
//     replays only margins those verdicts do not settle;
//   - hints: the hourly recalibration of a check first replays the
//     bracket where the last search of the same shape ended, and steps
//     away from it while the verdicts say the margin moved (a week with
//     one more hour needs about what the week before it needed).
//
// The bisection asks the same margins in the same order as a search from
// nothing and returns the replay at the margin it ends on, which met. When
// the verdicts do grow with the margin, that margin is the one a search
// from nothing finds. They do not always: a larger margin can change a
// count a minute earlier, and the agent's pause after it can cost the next
// step (replayDays). Then a search from the last bracket may stop at
// another boundary nearby (on the NASA trace, 50 of 470 hourly
// calibrations at 2M requests/day and 136 of 470 at 60M, the margin's
// capacity -9% to +9% from a search from nothing; make validate's
// worker-hours moved by -0.6% to +0.3%, the same SLA days). Either margin
// met on its own replay.
// From its own brackets and the same window, a calibration finds exactly
// what it found, so a cached answer and a repeated one agree.

// search finds the smallest margin whose replay meets: in [0,
// firstBracket] (most traffic needs a few units), or in [firstBracket,
// maxMargin] when that is not enough. It returns false with the replay at
// maxMargin when even that fails, and false with a replay that judged no
// day (days 0) when the window holds none.
func search(pr *probes) (calibration, bool) {
	low, high := 0.0, firstBracket
	if pr.verdict(firstBracket) {
		if pr.metCal.days == 0 {
			return pr.metCal, false
		}
	} else {
		if !pr.verdict(maxMargin) {
			return pr.missCal, false
		}
		low, high = firstBracket, maxMargin
	}
	return bisect(pr, low, high), true
}

// bisect narrows [low, high], where high meets, to marginResolution or
// marginPrecision of high, whichever is wider, and returns the replay at
// the smallest margin found that meets. It records the final bracket as
// the shape's hint.
func bisect(pr *probes, low, high float64) calibration {
	for high-low > max(marginResolution, marginPrecision*high) {
		mid := (low + high) / 2
		if pr.verdict(mid) {
			high = mid
		} else {
			low = mid
		}
	}
	pr.found = bracket{low: low, high: high, set: true}
	return pr.replayAt(high)
}

// probes are the verdicts known in one search of one calibration.
type probes struct {
	judge func(float64) calibration
	ok    func(calibration) bool
	// met is the smallest margin replayed that met and metCal its replay;
	// missed the largest that missed and missCal its replay.
	met, missed     float64
	metCal, missCal calibration
	// replays counts the replays this search made.
	replays int
	// found is where the search's bisection ended.
	found bracket
}

func newProbes(judge func(float64) calibration, ok func(calibration) bool) *probes {
	return &probes{judge: judge, ok: ok, met: math.Inf(1), missed: math.Inf(-1)}
}

// verdict reports whether margin m meets, replaying it only when the
// verdicts known so far do not settle it.
func (pr *probes) verdict(m float64) bool {
	if m >= pr.met {
		return true
	}
	if m <= pr.missed {
		return false
	}
	cal := pr.judge(m)
	pr.replays++
	if pr.ok(cal) {
		pr.met, pr.metCal = m, cal
		return true
	}
	pr.missed, pr.missCal = m, cal
	return false
}

// replayAt is the replay at margin m, which meets: the one made, or a new
// one when m's verdict was only inferred.
func (pr *probes) replayAt(m float64) calibration {
	if m == pr.met {
		return pr.metCal
	}
	pr.replays++
	return pr.judge(m)
}

// seedProbes bounds the replays a hint may cost beyond its own bracket:
// stepping 1, 2, 4 and 8 brackets away covers a margin that moved by up
// to about 15 times the search's precision; one that moved further is
// left to the bisection.
const seedProbes = 4

// seed replays the margins of hint h, the bracket where the last search of
// this shape ended, and steps away from it, doubling, while the verdicts
// say the margin moved: up to seedProbes more replays, no higher than
// limit (the bracket the search will look in).
func (pr *probes) seed(h bracket, limit float64) {
	if !h.set || h.high > limit || h.high <= h.low {
		return
	}
	w := h.high - h.low
	if pr.verdict(h.high) {
		// The margin may have fallen: h.low, then further down.
		for x, i := h.low, 0; x > 0 && i <= seedProbes && pr.verdict(x); i++ {
			w *= 2
			x = h.high - w
		}
		return
	}
	for x, i := h.high+w, 0; x <= limit && i < seedProbes && !pr.verdict(x); i++ {
		w *= 2
		x = h.high + w
	}
}

// bracket is where a bisection ended: low missed (or was 0) and high met.
type bracket struct {
	low, high float64
	set       bool
}

// searchHints are the brackets of a check's last calibration, one per unit
// shape (relativeScales), and the replays it made.
type searchHints struct {
	shapes  [len(relativeScales)]bracket
	replays int
}

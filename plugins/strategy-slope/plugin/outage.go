package plugin

import "math"

// collapseShare: traffic below this share of the hour before, within
// minutes, is an outage (of the service, the API in front of it or the
// metric), not a drop in demand. Organic demand falls over hours; when an
// outage ends the users come back, often all at once, and the fleet must
// still be there.
const collapseShare = 0.3

// outageSlots is how long the newest slots have been collapsed: all of
// them below collapseShare of the mean of the hour before the collapse
// began. It is 0 when the newest slot is not collapsed, when there was no
// traffic before, or when the collapse is longer than limit slots (then it
// is the new normal).
func outageSlots(g *grid, limit int) int {
	run, _ := outageRun(g, g.len(), limit)
	return run
}

// recentOutage is the length of the newest collapse (as outageSlots
// measures it) that ended within the last within slots, 0 if none. When an
// outage ends, its users come back, often all at once; a fleet cut in the
// first minutes of recovery (the trend sank during the outage, the recent
// minutes still average zeros) meets the catch-up without workers.
//
// A collapse has ended at slot n-s when slot n-s is no longer collapsed by
// its own hour before (which holds the outage's low minutes, so a return
// to a fraction of the old traffic counts) and the slots before it were a
// collapse short enough to be an outage. One too long to be an outage is
// the new normal, and its end is no reason to hold.
func recentOutage(g *grid, limit, within int) int {
	n := g.len()
	for s := 0; s <= within && s < n; s++ {
		run, tooLong := outageRun(g, n-s, limit)
		if tooLong {
			return 0
		}
		if run > 0 {
			return run
		}
	}
	return 0
}

// outageRun is how long the slots before slot n have been collapsed
// (outageSlots for the grid cut off before slot n), and tooLong when they
// have been longer than limit slots: then run is 0.
func outageRun(g *grid, n, limit int) (run int, tooLong bool) {
	hour := g.slots(60, 1)
	runMax, lastRef := 0.0, 0.0
	for r := 1; r <= n; r++ {
		y := g.v[n-r]
		newMax := runMax
		if !math.IsNaN(y) {
			newMax = math.Max(runMax, y)
		}
		ref, ok := g.mean(n-r-hour, n-r, 0)
		if ok && ref > 0 && newMax < collapseShare*ref {
			run, runMax, lastRef = r, newMax, ref
			if run > limit {
				return 0, true
			}
			continue
		}
		// Either slot n-r is before the collapse, or the hour before it is
		// itself collapsed: then the collapse is longer than run + hour.
		if run > 0 && !math.IsNaN(y) && y < collapseShare*lastRef && run+hour > limit {
			return 0, true
		}
		break
	}
	return run, false
}

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
	return outageEndingAt(g, g.len(), limit)
}

// recentOutage is the length of the newest collapse (as outageSlots
// measures it) that ended within the last within slots, 0 if none. When an
// outage ends, its users come back, often all at once; a fleet cut in the
// first minutes of recovery (the trend sank during the outage, the recent
// minutes still average zeros) meets the catch-up without workers.
func recentOutage(g *grid, limit, within int) int {
	n := g.len()
	hour := g.slots(60, 1)
	for s := 0; s <= within && s < n; s++ {
		run := outageEndingAt(g, n-s, limit)
		if run == 0 {
			continue
		}
		if s == 0 {
			return run
		}
		// Only a collapse that ended at n-s counts here; one that goes on
		// past it is measured whole at a smaller s.
		ref, _ := g.mean(n-s-run-hour, n-s-run, 0)
		if y := g.v[n-s]; math.IsNaN(y) || y >= collapseShare*ref {
			return run
		}
	}
	return 0
}

// outageEndingAt is outageSlots for the grid cut off before slot n.
func outageEndingAt(g *grid, n, limit int) int {
	hour := g.slots(60, 1)
	run, runMax, lastRef := 0, 0.0, 0.0
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
				return 0
			}
			continue
		}
		// Either slot n-r is before the collapse, or the hour before it is
		// itself collapsed: then the collapse is longer than run + hour.
		if run > 0 && !math.IsNaN(y) && y < collapseShare*lastRef && run+hour > limit {
			return 0
		}
		break
	}
	return run
}

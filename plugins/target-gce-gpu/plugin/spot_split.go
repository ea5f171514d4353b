package plugin

import "math"

// spotCap is the most of count that may run on Spot: floor(share × count),
// computed as the backtest does (internal/tools/backtest/spot.go), so that
// the share chosen there means the same here. The epsilon keeps 0.6 × 10
// at 6 despite binary floating point.
func spotCap(count int64, share float64) int64 {
	if count <= 0 || share <= 0 {
		return 0
	}
	return min(int64(math.Floor(float64(count)*share+1e-9)), count)
}

// standardFloor is what the standard MIGs always hold of count: the rest
// after Spot's cap, so that one mass preemption never takes more than
// spot_share of the fleet.
func standardFloor(count int64, share float64) int64 { return count - spotCap(count, share) }

// tierState is what tierSplit decides from: the workers each tier holds
// now (leaving workers excluded) and whether the tier can grow.
type tierState struct {
	Standard, Spot int64
	// StandardOK is true when at least one standard MIG is not in
	// stockout; SpotOK when at least one Spot MIG is in neither stockout
	// nor its spot_cooldown after a preemption.
	StandardOK, SpotOK bool
	// Warm is the stopped VMs of the standard MIGs' standby pools that a
	// scale-out can start now (zones not in stockout).
	Warm int64
}

// surgeShare is how large a scale-out must be, against the fleet, to be a
// surge: one that takes the standby pool's stopped standard VMs before
// creating Spot ones. A started VM serves in about 90 s, a new one in
// about 5 minutes, and a surge is a flash crowd or a queue the strategy
// orders for at once. An ordinary ramp adds a few percent of the fleet at
// a time (on the backtest's NASA and flash-crowd replays the median rise
// of the count was 4-8% and 90% of rises were under 22%), and warm starts
// for those would keep the fleet on standard VMs, which cost more than
// Spot ones, with no surge to answer (a pool of 25 serving every
// scale-out made the Spot policy 44% dearer on NASA).
const surgeShare = 0.25

// isSurge reports a scale-out from total to want workers of more than
// surgeShare of total (any scale-out from nothing).
func isSurge(want, total int64) bool {
	return want > total && float64(want-total) > surgeShare*float64(total)
}

// tierSplit decides how many of want workers each tier holds after a
// Scale. The standard tier holds at least standardFloor(want) whenever it
// can grow. A scale-out never shrinks the standard tier: it first fills
// standard up to its floor, then puts the rest on Spot, or on standard
// while Spot cannot grow (Spot then keeps what it has, within its cap). A
// scale-in removes standard workers first, down to the floor, then Spot
// workers; it never grows Spot. Together these make the fleet drift back
// to Spot after a fallback without replacing anyone: the scale-outs after
// Spot returns go to Spot, the scale-ins take the surplus standard
// workers. The one exchange between tiers is a standard tier below its
// floor (it could not grow earlier, or spot_share was lowered): it grows
// to the floor and Spot gives up as many. A surge (isSurge) puts on
// standard, beyond its floor, as many of the new workers as its standby
// pool can start (Warm): they serve minutes before new Spot VMs would, and
// the scale-ins after the surge take them first, back into the pool.
func tierSplit(want int64, t tierState, share float64) (standard, spot int64) {
	want = max(want, 0)
	floor := standardFloor(want, share)
	// When neither tier can grow, plan as if both could: the scale-out
	// then fails naming the stockouts, as without a Spot tier.
	standardGrows := t.StandardOK || !t.SpotOK
	spotGrows := t.SpotOK || !t.StandardOK
	if want >= t.Standard+t.Spot {
		if !standardGrows {
			return t.Standard, want - t.Standard
		}
		standard = max(t.Standard, floor)
		spot = want - standard
		if !spotGrows {
			spot = min(spot, t.Spot)
		} else if warm := t.Warm - (standard - t.Standard); warm > 0 && spot > t.Spot && isSurge(want, t.Standard+t.Spot) {
			spot -= min(warm, spot-t.Spot)
		}
		return want - spot, spot
	}
	if standardGrows {
		standard = max(floor, min(t.Standard, want-t.Spot))
	} else {
		standard = min(t.Standard, max(floor, want-t.Spot))
	}
	return standard, want - standard
}

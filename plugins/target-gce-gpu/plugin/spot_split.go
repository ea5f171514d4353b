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
// to the floor and Spot gives up as many.
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

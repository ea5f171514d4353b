package plugin

import (
	"testing"

	"github.com/shoenig/test/must"
)

func TestSpotCapMatchesTheBacktest(t *testing.T) {
	t.Parallel()
	cases := []struct {
		count int64
		share float64
		want  int64
	}{
		{10, 0.6, 6}, // 0.6 × 10 is 5.999… in binary: the epsilon keeps 6
		{7, 0.6, 4},
		{1, 0.6, 0},
		{0, 0.6, 0},
		{-3, 0.6, 0},
		{9, 0, 0},
		{9, 1, 9},
		{3, 0.8, 2},
	}
	for _, c := range cases {
		must.Eq(t, c.want, spotCap(c.count, c.share), must.Sprintf("%d × %v", c.count, c.share))
		must.Eq(t, c.count-c.want, standardFloor(c.count, c.share))
	}
}

func TestTierSplit(t *testing.T) {
	t.Parallel()
	both := func(std, spot int64) tierState {
		return tierState{Standard: std, Spot: spot, StandardOK: true, SpotOK: true}
	}
	noSpot := func(std, spot int64) tierState { return tierState{Standard: std, Spot: spot, StandardOK: true} }
	noStd := func(std, spot int64) tierState { return tierState{Standard: std, Spot: spot, SpotOK: true} }
	warm := func(std, spot, pool int64) tierState {
		return tierState{Standard: std, Spot: spot, StandardOK: true, SpotOK: true, Warm: pool}
	}
	cases := []struct {
		name      string
		want      int64
		in        tierState
		share     float64
		std, spot int64
	}{
		{"a scale-out from nothing fills the standard floor and puts the rest on Spot", 10, both(0, 0), 0.6, 4, 6},
		{"a scale-out fills standard up to its floor first", 10, both(2, 3), 0.6, 4, 6},
		{"above its floor standard keeps what it has and the growth goes to Spot (drift back)", 10, both(8, 0), 0.6, 8, 2},
		{"while Spot cools down every new worker is standard", 10, noSpot(4, 3), 0.6, 7, 3},
		{"while Spot cools down Spot keeps what it has within its cap", 6, noSpot(0, 5), 0.6, 3, 3},
		{"with standard in stockout the growth goes to Spot", 10, noStd(2, 3), 0.6, 2, 8},
		{"with neither tier able to grow the plan is the normal one, so the stockout is reported", 10, tierState{Standard: 2, Spot: 3}, 0.6, 4, 6},
		{"a scale-in removes standard first down to its floor", 8, both(6, 4), 0.5, 4, 4},
		{"a scale-in after a fallback removes only standard", 8, both(10, 0), 0.6, 8, 0},
		{"a scale-in past the standard floor then removes Spot", 4, both(4, 6), 0.6, 2, 2},
		{"a scale-in never grows Spot", 5, both(1, 5), 0.6, 2, 3},
		{"a standard tier below its floor grows to it while Spot gives up the difference", 8, both(1, 9), 0.5, 4, 4},
		{"a standard tier in stockout is not grown by a scale-in", 8, noStd(1, 9), 0.5, 1, 7},
		{"spot_share 0 keeps everything on standard", 5, both(0, 0), 0, 5, 0},
		{"spot_share 1 puts every new worker on Spot", 5, both(0, 0), 1, 0, 5},
		{"the same count changes nothing", 10, both(4, 6), 0.6, 4, 6},
		{"a surge starts the standby pool's stopped standard VMs before creating Spot ones", 20, warm(8, 6, 5), 0.6, 13, 7},
		{"a surge takes only what the pool holds beyond the floor's own growth", 20, warm(2, 6, 5), 0.6, 8, 12},
		{"a surge takes no more than the growth that was Spot's", 20, warm(4, 6, 50), 0.6, 14, 6},
		{"an ordinary scale-out (a quarter of the fleet or less) leaves the pool to the floor", 12, warm(4, 6, 5), 0.6, 5, 7},
		{"a scale-out from nothing is a surge: the floor first, then the rest of the pool", 10, warm(0, 0, 6), 0.6, 6, 4},
		{"while Spot cools down a surge is standard anyway", 20, tierState{Standard: 4, Spot: 6, StandardOK: true, Warm: 5}, 0.6, 14, 6},
		{"a scale-in after a surge removes the warm standard workers first", 12, both(13, 7), 0.6, 5, 7},
		{"scale to zero", 0, both(4, 6), 0.6, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			std, spot := tierSplit(c.want, c.in, c.share)
			must.Eq(t, [2]int64{c.std, c.spot}, [2]int64{std, spot})
		})
	}
}

// FuzzTierSplit checks tierSplit's invariants on any state: the tiers add
// up to the count, neither is negative, standard holds its floor whenever
// it can grow, a scale-out never shrinks standard and a scale-in never
// grows Spot.
func FuzzTierSplit(f *testing.F) {
	f.Add(int64(10), int64(0), int64(0), true, true, uint8(60), int64(0))
	f.Add(int64(8), int64(1), int64(9), true, false, uint8(50), int64(0))
	f.Add(int64(3), int64(10), int64(0), false, true, uint8(100), int64(0))
	f.Add(int64(20), int64(8), int64(6), true, true, uint8(60), int64(5))
	f.Fuzz(func(t *testing.T, want, std, spot int64, stdOK, spotOK bool, pct uint8, warm int64) {
		bound := func(v int64) int64 { return ((v % 100000) + 100000) % 100000 }
		want, std, spot, warm = bound(want), bound(std), bound(spot), bound(warm)
		share := float64(pct%101) / 100
		in := tierState{Standard: std, Spot: spot, StandardOK: stdOK, SpotOK: spotOK, Warm: warm}
		gotStd, gotSpot := tierSplit(want, in, share)
		must.Eq(t, want, gotStd+gotSpot)
		must.NonNegative(t, gotStd)
		must.NonNegative(t, gotSpot)
		if stdOK || !spotOK {
			must.GreaterEq(t, standardFloor(want, share), gotStd, must.Sprintf("standard below its floor: %+v share %v", in, share))
		}
		if want >= std+spot {
			must.GreaterEq(t, std, gotStd)
			if stdOK && spotOK {
				must.LessEq(t, max(std, standardFloor(want, share), std+warm), gotStd,
					must.Sprintf("standard beyond its floor by more than its pool holds: %+v share %v", in, share))
			}
			if !spotOK && stdOK {
				must.LessEq(t, spot, gotSpot)
			}
		} else {
			must.LessEq(t, spot, gotSpot)
		}
	})
}

package plugin

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/shoenig/test/must"
)

func TestZoneSplit(t *testing.T) {
	t.Parallel()
	u := unlimited
	cases := []struct {
		name         string
		total        int64
		caps         []int64
		want         []int64
		wantUnplaced int64
	}{
		{"zero workers leave every zone empty", 0, []int64{u, u}, []int64{0, 0}, 0},
		{"five workers go odd-even with the extra in the first zone", 5, []int64{u, u}, []int64{3, 2}, 0},
		{"eight workers split evenly", 8, []int64{u, u}, []int64{4, 4}, 0},
		{"three zones take the remainder in order", 7, []int64{u, u, u}, []int64{3, 2, 2}, 0},
		{"one worker goes to the first zone", 1, []int64{u, u, u}, []int64{1, 0, 0}, 0},
		{"a zone in stockout keeps its size and the other zone takes its share", 8, []int64{2, u}, []int64{2, 6}, 0},
		{"a capped zone above its share still gets only its share", 4, []int64{5, u}, []int64{2, 2}, 0},
		{"the share of a capped zone spreads over the rest round-robin", 9, []int64{1, u, u}, []int64{1, 4, 4}, 0},
		{"workers no zone can take are reported", 6, []int64{2, 1}, []int64{2, 1}, 3},
		{"a single zone takes everything", 4, []int64{u}, []int64{4}, 0},
		{"no zones place nothing", 3, []int64{}, []int64{}, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, unplaced := zoneSplit(tc.total, tc.caps)
			must.Eq(t, tc.want, got)
			must.Eq(t, tc.wantUnplaced, unplaced)
		})
	}
}

func TestZoneSplitMatchesRoundRobin(t *testing.T) {
	t.Parallel()
	for zones := 1; zones <= 4; zones++ {
		caps := make([]int64, zones)
		for i := range caps {
			caps[i] = unlimited
		}
		for total := int64(0); total <= 20; total++ {
			want := make([]int64, zones)
			for i := int64(0); i < total; i++ {
				want[i%int64(zones)]++
			}
			got, _ := zoneSplit(total, caps)
			must.Eq(t, want, got, must.Sprintf("total %d over %d zones", total, zones))
		}
	}
}

func FuzzZoneSplit(f *testing.F) {
	f.Add(int64(5), int64(-1), int64(-1), int64(-1))
	f.Add(int64(8), int64(2), int64(-1), int64(0))
	f.Add(int64(100), int64(3), int64(4), int64(5))
	f.Fuzz(func(t *testing.T, total, c0, c1, c2 int64) {
		if total < 0 || total > 1<<20 {
			t.Skip()
		}
		caps := []int64{clampCap(c0), clampCap(c1), clampCap(c2)}
		got, unplaced := zoneSplit(total, caps)
		var sum int64
		for i, v := range got {
			if v < 0 || (caps[i] >= 0 && v > caps[i]) {
				t.Fatalf("zone %d got %d with cap %d", i, v, caps[i])
			}
			sum += v
		}
		if sum+unplaced != total || unplaced < 0 {
			t.Fatalf("placed %d + unplaced %d != %d", sum, unplaced, total)
		}
		// Nothing is left unplaced while a zone still has room.
		for i, v := range got {
			if unplaced > 0 && (caps[i] < 0 || v < caps[i]) {
				t.Fatalf("zone %d has room but %d unplaced", i, unplaced)
			}
		}
		// Uncapped zones differ by at most one.
		var lo, hi int64 = -1, -1
		for i, v := range got {
			if caps[i] >= 0 {
				continue
			}
			if lo < 0 || v < lo {
				lo = v
			}
			if v > hi {
				hi = v
			}
		}
		if hi-lo > 1 {
			t.Fatalf("uncapped zones unbalanced: %v", got)
		}
	})
}

func clampCap(c int64) int64 {
	if c < 0 {
		return unlimited
	}
	return c % 1000
}

func TestZoneSplitWithin(t *testing.T) {
	t.Parallel()
	u := unlimited
	cases := []struct {
		name         string
		total        int64
		lo, hi       []int64
		want         []int64
		wantUnplaced int64
	}{
		{"without bounds it is the round-robin split", 5, []int64{0, 0}, []int64{u, u}, []int64{3, 2}, 0},
		{"growing an odd-even split continues round-robin", 8, []int64{3, 2}, []int64{u, u}, []int64{4, 4}, 0},
		{"a zone above its share keeps what it has and the other zone takes the rest", 10, []int64{2, 6}, []int64{u, u}, []int64{4, 6}, 0},
		{"after a stockout the zone it hit grows first until the spread is even", 12, []int64{2, 6}, []int64{u, u}, []int64{6, 6}, 0},
		{"a zone in stockout keeps its size and the other zone takes its share", 8, []int64{2, 2}, []int64{2, u}, []int64{2, 6}, 0},
		{"an overfull zone is held and the others share the rest round-robin", 7, []int64{0, 0, 3}, []int64{u, u, u}, []int64{2, 2, 3}, 0},
		{"the share of a capped zone spreads over the rest round-robin", 9, []int64{0, 0, 0}, []int64{1, u, u}, []int64{1, 4, 4}, 0},
		{"a shrinking zone with nothing removable keeps its workers", 4, []int64{3, 0}, []int64{3, 3}, []int64{3, 1}, 0},
		{"below the lower bounds every zone keeps its bound", 2, []int64{2, 2}, []int64{4, 4}, []int64{2, 2}, 0},
		{"workers no zone can take are reported", 9, []int64{2, 1}, []int64{2, 1}, []int64{2, 1}, 6},
		{"no zones place nothing", 3, []int64{}, []int64{}, []int64{}, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, unplaced := zoneSplitWithin(tc.total, tc.lo, tc.hi)
			must.Eq(t, tc.want, got)
			must.Eq(t, tc.wantUnplaced, unplaced)
		})
	}
}

// greedyFill is the scale-out rule as one step per worker: each added
// worker goes to the smallest zone with room, the earlier zone on a tie.
// It is an independent formulation of what zoneSplitWithin computes with
// lower bounds (the plugin used it before the split), kept as an oracle.
func greedyFill(floor, caps []int64, total int64) ([]int64, int64) {
	out := slices.Clone(floor)
	var sum int64
	for _, f := range floor {
		sum += f
	}
	for add := total - sum; add > 0; add-- {
		best := -1
		for i := range out {
			if (caps[i] < 0 || out[i] < caps[i]) && (best < 0 || out[i] < out[best]) {
				best = i
			}
		}
		if best < 0 {
			return out, add
		}
		out[best]++
	}
	return out, 0
}

// greedyScaleIn is the scale-in rule as one step per removal: each removal
// comes from the zone with the most workers left that still has a
// candidate; on a tie from the zone whose next candidate is cheapest, then
// from the later zone. It is an independent formulation of scaleInSplit
// (the plugin used it before the split), kept as an oracle.
func greedyScaleIn(sizes []int64, costs [][]int64, want int64) []int64 {
	keep := slices.Clone(sizes)
	removed := make([]int64, len(sizes))
	var sum int64
	for _, s := range sizes {
		sum += s
	}
	for ; sum > want; sum-- {
		best := -1
		for i := range keep {
			if removed[i] >= int64(len(costs[i])) || keep[i] <= 0 {
				continue
			}
			if best < 0 || keep[i] > keep[best] ||
				(keep[i] == keep[best] && costs[i][removed[i]] <= costs[best][removed[best]]) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		keep[best]--
		removed[best]++
	}
	return keep
}

func FuzzZoneSplitWithin(f *testing.F) {
	f.Add(int64(10), int64(2), int64(6), int64(0), int64(-1), int64(-1), int64(-1))
	f.Add(int64(8), int64(2), int64(2), int64(0), int64(2), int64(-1), int64(-1))
	f.Add(int64(3), int64(4), int64(0), int64(1), int64(4), int64(3), int64(9))
	f.Fuzz(func(t *testing.T, total, l0, l1, l2, h0, h1, h2 int64) {
		if total < 0 || total > 1<<12 || l0 < 0 || l1 < 0 || l2 < 0 || l0+l1+l2 > 1<<12 {
			t.Skip()
		}
		lo := []int64{l0, l1, l2}
		hi := []int64{clampCap(h0), clampCap(h1), clampCap(h2)}
		for i := range hi {
			if hi[i] >= 0 && hi[i] < lo[i] {
				hi[i] = lo[i]
			}
		}
		got, unplaced := zoneSplitWithin(total, lo, hi)
		var sum int64
		for i, v := range got {
			if v < lo[i] || (hi[i] >= 0 && v > hi[i]) {
				t.Fatalf("zone %d got %d outside [%d, %d]", i, v, lo[i], hi[i])
			}
			sum += v
		}
		if total >= l0+l1+l2 && sum+unplaced != total {
			t.Fatalf("placed %d + unplaced %d != %d", sum, unplaced, total)
		}
		// Even: no worker could move from a fuller zone to an emptier one
		// without crossing a bound.
		for i := range got {
			for j := range got {
				if got[i] > got[j]+1 && got[i] > lo[i] && (hi[j] < 0 || got[j] < hi[j]) {
					t.Fatalf("zones %d and %d unbalanced: %v (lo %v hi %v)", i, j, got, lo, hi)
				}
			}
		}
		if total >= l0+l1+l2 {
			want, wantUnplaced := greedyFill(lo, hi, total)
			if !slices.Equal(want, got) || wantUnplaced != unplaced {
				t.Fatalf("split %v/%d, one worker at a time %v/%d", got, unplaced, want, wantUnplaced)
			}
		}
	})
}

func TestScaleInSplit(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		sizes     []int64
		removable []int64
		want      int64
		keep      []int64
	}{
		{"eight to five leaves the odd-even split", []int64{4, 4}, []int64{4, 4}, 5, []int64{3, 2}},
		{"after a stockout the fuller zone gives first", []int64{2, 6}, []int64{2, 6}, 6, []int64{2, 4}},
		{"a zone without removable workers keeps them and the other zone gives", []int64{4, 4}, []int64{0, 4}, 6, []int64{4, 2}},
		{"too few removable workers removes what it can", []int64{3, 3}, []int64{1, 1}, 2, []int64{2, 2}},
		{"nothing goes below zero", []int64{1, 0}, []int64{1, 0}, 0, []int64{0, 0}},
		{"removing nothing keeps everything", []int64{2, 2}, []int64{2, 2}, 4, []int64{2, 2}},
		{"three zones shrink to the round-robin split", []int64{3, 3, 3}, []int64{3, 3, 3}, 7, []int64{3, 2, 2}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			must.Eq(t, tc.keep, scaleInSplit(tc.sizes, zeroCosts(tc.removable), tc.want))
		})
	}
}

func TestScaleInSplitPutsTheRemainderWhereRemovalCostsMost(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		sizes []int64
		costs [][]int64
		want  int64
		keep  []int64
	}{
		{"the zone with the idle candidate gives the odd worker", []int64{2, 2}, [][]int64{{0, 5}, {7, 9}}, 3, []int64{1, 2}},
		{"balance wins over cost", []int64{3, 2}, [][]int64{{9}, {0}}, 4, []int64{2, 2}},
		{"equal costs leave the remainder in the first zone", []int64{2, 2}, [][]int64{{1}, {1}}, 3, []int64{2, 1}},
		{"of three zones the two with idle candidates give", []int64{3, 3, 3}, [][]int64{{5, 5}, {0, 5}, {0, 5}}, 7, []int64{3, 2, 2}},
		{"a busy zone keeps the remainder even when it is the last", []int64{3, 3, 3}, [][]int64{{0, 5}, {0, 5}, {5, 5}}, 7, []int64{2, 2, 3}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			must.Eq(t, tc.keep, scaleInSplit(tc.sizes, tc.costs, tc.want))
		})
	}
}

func TestScaleInSplitMatchesRoundRobinWhenEverythingIsRemovable(t *testing.T) {
	t.Parallel()
	for zones := 1; zones <= 4; zones++ {
		caps := make([]int64, zones)
		for i := range caps {
			caps[i] = unlimited
		}
		for from := int64(0); from <= 12; from++ {
			for to := int64(0); to <= from; to++ {
				sizes, _ := zoneSplit(from, caps)
				want, _ := zoneSplit(to, caps)
				must.Eq(t, want, scaleInSplit(sizes, zeroCosts(sizes), to), must.Sprintf("%d -> %d over %d zones", from, to, zones))
			}
		}
	}
}

func FuzzScaleInSplit(f *testing.F) {
	f.Add(int64(4), int64(4), int64(3), []byte{0, 1, 2, 9}, []byte{0, 0, 3}, []byte{5})
	f.Add(int64(2), int64(6), int64(0), []byte{0, 0}, []byte{1, 1, 1, 1, 1, 1}, []byte{})
	f.Fuzz(func(t *testing.T, s0, s1, want int64, c0, c1, c2 []byte) {
		if s0 < 0 || s1 < 0 || want < 0 || s0 > 64 || s1 > 64 {
			t.Skip()
		}
		s2 := int64(len(c2))
		sizes := []int64{s0, s1, s2}
		costs := [][]int64{fuzzCosts(c0, s0), fuzzCosts(c1, s1), fuzzCosts(c2, s2)}
		got := scaleInSplit(sizes, costs, want)
		var sum, lowest int64
		for i, k := range got {
			if k > sizes[i] || k < sizes[i]-int64(len(costs[i])) {
				t.Fatalf("zone %d keeps %d of %d with %d removable", i, k, sizes[i], len(costs[i]))
			}
			sum += k
			lowest += sizes[i] - int64(len(costs[i]))
		}
		if sum < want && sum != s0+s1+s2 {
			t.Fatalf("keeps %d, fewer than %d", sum, want)
		}
		if sum > want && sum != lowest {
			t.Fatalf("keeps %d of %d wanted although more were removable", sum, want)
		}
		if oracle := greedyScaleIn(sizes, costs, want); !slices.Equal(oracle, got) {
			t.Fatalf("split %v, one removal at a time %v", got, oracle)
		}
	})
}

// fuzzCosts turns fuzz bytes into up to size sorted candidate costs.
func fuzzCosts(b []byte, size int64) []int64 {
	out := make([]int64, 0, len(b))
	for _, c := range b[:min(int64(len(b)), size)] {
		out = append(out, int64(c%4))
	}
	slices.Sort(out)
	return out
}

func TestScaleInSplitAgreesWithOneRemovalAtATime(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(11, 17))
	for range 20000 {
		n := 1 + rng.IntN(4)
		sizes := make([]int64, n)
		costs := make([][]int64, n)
		var total int64
		for i := range sizes {
			sizes[i] = rng.Int64N(9)
			total += sizes[i]
			for range rng.Int64N(sizes[i] + 1) {
				costs[i] = append(costs[i], rng.Int64N(5))
			}
			slices.Sort(costs[i])
		}
		want := rng.Int64N(total + 1)
		if oracle, got := greedyScaleIn(sizes, costs, want), scaleInSplit(sizes, costs, want); !slices.Equal(oracle, got) {
			t.Fatalf("sizes %v costs %v want %d: split keeps %v, one removal at a time %v", sizes, costs, want, got, oracle)
		}
	}
}

func TestZoneSplitWithinAgreesWithOneWorkerAtATime(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 23))
	for range 20000 {
		n := 1 + rng.IntN(4)
		floor, caps := make([]int64, n), make([]int64, n)
		var sum int64
		for i := range floor {
			floor[i] = rng.Int64N(9)
			sum += floor[i]
			caps[i] = unlimited
			if rng.IntN(3) == 0 {
				caps[i] = floor[i] + rng.Int64N(3) // in stockout, or nearly full
			}
		}
		total := sum + rng.Int64N(20)
		want, wantUnplaced := greedyFill(floor, caps, total)
		got, unplaced := zoneSplitWithin(total, floor, caps)
		if !slices.Equal(want, got) || wantUnplaced != unplaced {
			t.Fatalf("floor %v caps %v total %d: split %v/%d, one worker at a time %v/%d", floor, caps, total, got, unplaced, want, wantUnplaced)
		}
	}
}

package plugin

import (
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

func TestPlanScaleIn(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		sizes     []int64
		removable []int64
		remove    int64
		want      []int64
	}{
		{"eight to five leaves the odd-even split", []int64{4, 4}, []int64{4, 4}, 3, []int64{1, 2}},
		{"an unbalanced pair is evened out first", []int64{2, 6}, []int64{2, 6}, 2, []int64{0, 2}},
		{"a zone without idle instances is skipped and the other zone gives", []int64{4, 4}, []int64{0, 4}, 2, []int64{0, 2}},
		{"too few removable instances removes what it can", []int64{3, 3}, []int64{1, 1}, 4, []int64{1, 1}},
		{"nothing goes below zero", []int64{1, 0}, []int64{5, 5}, 3, []int64{1, 0}},
		{"removing nothing removes nothing", []int64{2, 2}, []int64{2, 2}, 0, []int64{0, 0}},
		{"three zones shrink to the round-robin split", []int64{3, 3, 3}, []int64{3, 3, 3}, 2, []int64{0, 1, 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			must.Eq(t, tc.want, planScaleIn(tc.sizes, zeroCosts(tc.removable), tc.remove))
		})
	}
}

func TestPlanScaleInMatchesSplitWhenEverythingIsRemovable(t *testing.T) {
	t.Parallel()
	for from := int64(0); from <= 12; from++ {
		for to := int64(0); to <= from; to++ {
			sizes, _ := zoneSplit(from, []int64{unlimited, unlimited})
			removals := planScaleIn(sizes, zeroCosts(sizes), from-to)
			want, _ := zoneSplit(to, []int64{unlimited, unlimited})
			must.Eq(t, want, []int64{sizes[0] - removals[0], sizes[1] - removals[1]}, must.Sprintf("%d -> %d", from, to))
		}
	}
}

func FuzzPlanScaleIn(f *testing.F) {
	f.Add(int64(4), int64(4), int64(3), int64(4), int64(3))
	f.Fuzz(func(t *testing.T, s0, s1, r0, r1, remove int64) {
		if s0 < 0 || s1 < 0 || r0 < 0 || r1 < 0 || remove < 0 || s0+s1 > 1<<16 || remove > 1<<16 || r0+r1 > 1<<16 {
			t.Skip()
		}
		sizes, removable := []int64{s0, s1}, []int64{r0, r1}
		got := planScaleIn(sizes, zeroCosts(removable), remove)
		var sum int64
		for i, v := range got {
			if v < 0 || v > removable[i] || v > sizes[i] {
				t.Fatalf("zone %d removes %d of size %d removable %d", i, v, sizes[i], removable[i])
			}
			sum += v
		}
		if sum > remove {
			t.Fatalf("removes %d, asked %d", sum, remove)
		}
		if sum < remove && sum < min(s0, r0)+min(s1, r1) {
			t.Fatalf("removes %d of %d although more were removable", sum, remove)
		}
	})
}

func TestPlanScaleInBreaksTiesByCost(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		sizes []int64
		costs [][]int64
		want  []int64
	}{
		{"the zone with the idle candidate gives on a tie", []int64{2, 2}, [][]int64{{0, 5}, {7, 9}}, []int64{1, 0}},
		{"balance wins over cost", []int64{3, 2}, [][]int64{{9}, {0}}, []int64{1, 0}},
		{"equal costs fall back to the later zone", []int64{2, 2}, [][]int64{{1}, {1}}, []int64{0, 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			must.Eq(t, tc.want, planScaleIn(tc.sizes, tc.costs, 1))
		})
	}
}

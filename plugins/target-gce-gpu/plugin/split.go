package plugin

// unlimited marks a zone without a cap in zoneSplit.
const unlimited int64 = -1

// zoneSplit spreads total workers across zones round-robin: worker i goes to
// zone i mod n, so two zones are filled odd-even and the first zones carry
// the remainder. caps[i] bounds zone i (unlimited for none); a capped zone's
// share moves to the zones that still have room. It returns the per-zone
// sizes and how many workers no zone could take.
func zoneSplit(total int64, caps []int64) (split []int64, unplaced int64) {
	split = make([]int64, len(caps))
	if total <= 0 {
		return split, 0
	}
	room := func(i int) int64 {
		if caps[i] < 0 {
			return total // more than anyone can ask for
		}
		return max(caps[i]-split[i], 0)
	}
	remaining := total
	for remaining > 0 {
		var open []int
		for i := range caps {
			if room(i) > 0 {
				open = append(open, i)
			}
		}
		if len(open) == 0 {
			break
		}
		share := remaining / int64(len(open))
		if share == 0 {
			// Fewer workers than open zones: the first zones take one each,
			// which is what round-robin does with the last partial round.
			for _, i := range open[:remaining] {
				split[i]++
			}
			remaining = 0
			break
		}
		for _, i := range open {
			give := min(share, room(i))
			split[i] += give
			remaining -= give
		}
	}
	return split, remaining
}

// zeroCosts gives n[i] equally cheap candidates to zone i.
func zeroCosts(n []int64) [][]int64 {
	out := make([][]int64, len(n))
	for i, k := range n {
		out[i] = make([]int64, max(k, 0))
	}
	return out
}

// zoneSplitWithin spreads total workers as zoneSplit does (worker i to
// zone i mod n, the first zones taking the remainder), within per-zone
// bounds: zone i gets at least lo[i] and at most hi[i] (unlimited for no
// cap), lo[i] <= hi[i]. A zone whose round-robin share is below its lower
// bound keeps its lower bound and the other zones share the rest
// round-robin; a zone whose share is above its cap keeps its cap and its
// share goes to the zones that still have room. Below the sum of the lower
// bounds every zone gets its lower bound. It returns the sizes and how many
// workers no zone could take.
func zoneSplitWithin(total int64, lo, hi []int64) (split []int64, unplaced int64) {
	split = make([]int64, len(lo))
	held := make([]bool, len(lo))
	for {
		rest := total
		var free []int
		for i := range lo {
			if held[i] {
				split[i] = lo[i]
				rest -= lo[i]
			} else {
				free = append(free, i)
			}
		}
		caps := make([]int64, len(free))
		for k, i := range free {
			caps[k] = hi[i]
		}
		share, left := zoneSplit(max(rest, 0), caps)
		// Holding a zone at its lower bound only leaves less for the
		// others, so every zone short of its bound now is held at once.
		short := false
		for k, i := range free {
			if share[k] < lo[i] {
				held[i], short = true, true
			}
		}
		if !short {
			for k, i := range free {
				split[i] = share[k]
			}
			return split, left
		}
	}
}

// scaleInSplit decides how many workers each zone keeps when the zones
// shrink to want in total: the round-robin split of want within what each
// zone can give (zoneSplitWithin with lo = size - len(costs[i]) and hi =
// size), so the zones end as even as the removable instances allow.
// costs[i] lists zone i's removable candidates, cheapest first. The one
// choice round-robin leaves open is which zones keep the remainder; a zone
// keeps it when its next candidate is dearer to lose than the last one
// another zone gives, so that at equal balance the cheaper candidates go
// (an idle node before a busy one). On equal costs the first zones keep
// the remainder, as round-robin has it.
func scaleInSplit(sizes []int64, costs [][]int64, want int64) []int64 {
	lo := make([]int64, len(sizes))
	for i, s := range sizes {
		lo[i] = s - min(int64(len(costs[i])), s)
	}
	keep, _ := zoneSplitWithin(max(want, 0), lo, sizes)
	removed := func(i int) int64 { return sizes[i] - keep[i] }
	for {
		// Zone i keeps one more than zone j: removing i's next candidate
		// instead of j's last leaves the same spread. Take the largest
		// saving; on a tie the later zone gives and the earlier keeps.
		bi, bj, best := -1, -1, int64(0)
		for i := range keep {
			for j := range keep {
				if keep[i] != keep[j]+1 || keep[i] <= lo[i] || removed(j) == 0 {
					continue
				}
				if saving := costs[j][removed(j)-1] - costs[i][removed(i)]; saving > best || (saving == best && saving > 0 && i > bi) {
					bi, bj, best = i, j, saving
				}
			}
		}
		if bi < 0 {
			return keep
		}
		keep[bi]--
		keep[bj]++
	}
}

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

// planScaleIn chooses how many workers to remove from each zone so that the
// zones stay as balanced as the round-robin split would leave them: each
// removal comes from the zone with the most workers. On a tie it comes from
// the zone whose next candidate is cheapest to lose, then from the later
// zone (round-robin gives the earlier zones the remainder). costs[i] lists
// zone i's removable candidates, cheapest first, so len(costs[i]) bounds its
// removals. It never removes more than asked, and returns fewer when too
// few are removable.
func planScaleIn(sizes []int64, costs [][]int64, remove int64) []int64 {
	out := make([]int64, len(sizes))
	left := func(i int) int64 { return sizes[i] - out[i] }
	for ; remove > 0; remove-- {
		best := -1
		for i := range sizes {
			if out[i] >= int64(len(costs[i])) || left(i) <= 0 {
				continue
			}
			if best < 0 || left(i) > left(best) ||
				(left(i) == left(best) && costs[i][out[i]] <= costs[best][out[best]]) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		out[best]++
	}
	return out
}

// zeroCosts gives n[i] equally cheap candidates to zone i.
func zeroCosts(n []int64) [][]int64 {
	out := make([][]int64, len(n))
	for i, k := range n {
		out[i] = make([]int64, max(k, 0))
	}
	return out
}

// fillTargets grows zones to a total of total workers without shrinking
// any: zone i keeps at least floor[i], and each added worker goes to the
// zone with the fewest workers that still has room (caps, unlimited for
// none), the earlier zone on a tie. From an odd-even state that continues
// the round-robin order, so 0 -> 5 -> 8 gives [3 2] then [4 4]. It returns
// the sizes and how many workers no zone could take.
func fillTargets(floor, caps []int64, total int64) (out []int64, unplaced int64) {
	out = make([]int64, len(floor))
	copy(out, floor)
	var sum int64
	for _, f := range floor {
		sum += f
	}
	for add := total - sum; add > 0; add-- {
		best := -1
		for i := range out {
			if caps[i] >= 0 && out[i] >= caps[i] {
				continue
			}
			if best < 0 || out[i] < out[best] {
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

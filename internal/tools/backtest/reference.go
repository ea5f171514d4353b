package backtest

import "math"

// workersFor is the fewest workers that serve arrivals within a minute.
func workersFor(arrivals, capacity float64) int64 {
	return int64(math.Ceil(arrivals / capacity))
}

// staticPeak is the fixed fleet that serves the busiest minute of the whole
// trace: what you run without an autoscaler.
func staticPeak(arrivals []float64, capacity float64) int64 {
	var peak float64
	for _, a := range arrivals {
		peak = max(peak, a)
	}
	return workersFor(peak, capacity)
}

// oracle sizes every block of blockMinutes (from the first scored minute)
// for its busiest minute, knowing the future and with no boot time: a lower
// bound no real autoscaler that changes size at most every block can beat.
func oracle(arrivals []float64, capacity float64, blockMinutes int) []int64 {
	out := make([]int64, len(arrivals))
	for b := 0; b < len(arrivals); b += blockMinutes {
		end := min(b+blockMinutes, len(arrivals))
		var peak float64
		for _, a := range arrivals[b:end] {
			peak = max(peak, a)
		}
		n := workersFor(peak, capacity)
		for i := b; i < end; i++ {
			out[i] = n
		}
	}
	return out
}

// physicalLimitHours is the worker-hours of a fleet resized every minute to
// exactly what that minute needs: no scaling policy can use less.
func physicalLimitHours(arrivals []float64, capacity float64) float64 {
	var minutes int64
	for _, a := range arrivals {
		minutes += workersFor(a, capacity)
	}
	return float64(minutes) / 60
}

// countChanges counts the increases and decreases of a worker series.
func countChanges(workers []int64) (ups, downs int) {
	for i := 1; i < len(workers); i++ {
		switch {
		case workers[i] > workers[i-1]:
			ups++
		case workers[i] < workers[i-1]:
			downs++
		}
	}
	return ups, downs
}

// Headrooms the perfect-level reference tries: 1.00 to 4.00 in steps of
// 0.01.
const (
	levelMinHeadroom  = 100
	levelMaxHeadroom  = 400
	levelHeadroomUnit = 0.01
)

// LevelReference is the perfect-level reference: a fleet that knows the
// level of the traffic to come (the mean of every oracle block) but not
// its minute-to-minute variation, sized ceil(Headroom x mean / capacity)
// with the smallest headroom that meets the SLA on as many days as any
// headroom up to 4 does (and, with -peer-availability, is that available,
// as far as any headroom up to 4 is). It prices what no forecast of the
// level can remove: the headroom the variation within 20 minutes needs.
type LevelReference struct {
	Headroom float64
	StrategyResult
}

// levelFleet sizes every block of blockMinutes for headroom times its mean
// arrivals.
func levelFleet(arrivals []float64, capacity float64, blockMinutes int, headroom float64) []int64 {
	out := make([]int64, len(arrivals))
	for b := 0; b < len(arrivals); b += blockMinutes {
		end := min(b+blockMinutes, len(arrivals))
		var total float64
		for _, a := range arrivals[b:end] {
			total += a
		}
		n := workersFor(headroom*total/float64(end-b), capacity)
		for i := b; i < end; i++ {
			out[i] = n
		}
	}
	return out
}

// perfectLevel finds the reference's headroom by bisection: more workers in
// every minute never meet fewer days (properties_test.go), so the days met
// only grow with the headroom.
func perfectLevel(sc *scorer, capacity float64, blockMinutes int, price, availabilityPct float64) LevelReference {
	at := func(units int) LevelReference {
		h := float64(units) * levelHeadroomUnit
		o := &replayOutcome{workers: levelFleet(sc.arrivals, capacity, blockMinutes, h)}
		o.scaleUps, o.scaleDowns = countChanges(o.workers)
		return LevelReference{Headroom: h, StrategyResult: sc.fresh().result(NamePerfectLevel, o, price)}
	}
	best := at(levelMaxHeadroom)
	days, avail := best.DaysMet, min(availabilityPct, best.AvailabilityPct)
	lo, hi := levelMinHeadroom, levelMaxHeadroom // the answer is in [lo, hi]
	for lo < hi {
		mid := (lo + hi) / 2
		if r := at(mid); r.DaysMet >= days && r.AvailabilityPct >= avail {
			hi, best = mid, r
		} else {
			lo = mid + 1
		}
	}
	return best
}

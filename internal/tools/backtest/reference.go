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

package workersim

import (
	"cmp"
	"slices"
	"time"
)

// Waits records how long requests waited in the queue (simulated time),
// weighted by the number of requests of each job.
type Waits struct {
	waits []time.Duration
	reqs  []int
	total int64
}

func (w *Waits) add(d time.Duration, requests int) {
	w.waits = append(w.waits, max(d, 0))
	w.reqs = append(w.reqs, requests)
	w.total += int64(requests)
}

func (w Waits) clone() Waits {
	return Waits{waits: slices.Clone(w.waits), reqs: slices.Clone(w.reqs), total: w.total}
}

// Requests is the number of requests recorded.
func (w Waits) Requests() int64 { return w.total }

// Within returns the fraction of requests that waited at most d (1 when
// nothing was recorded: no request missed the target).
func (w Waits) Within(d time.Duration) float64 {
	if w.total == 0 {
		return 1
	}
	var ok int64
	for i, x := range w.waits {
		if x <= d {
			ok += int64(w.reqs[i])
		}
	}
	return float64(ok) / float64(w.total)
}

// Quantile returns the wait below which a fraction q of requests fall.
func (w Waits) Quantile(q float64) time.Duration {
	if w.total == 0 {
		return 0
	}
	idx := make([]int, len(w.waits))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(w.waits[a], w.waits[b]) })
	target := q * float64(w.total)
	var seen int64
	for _, i := range idx {
		seen += int64(w.reqs[i])
		if float64(seen) >= target {
			return w.waits[i]
		}
	}
	return w.waits[idx[len(idx)-1]]
}

// Max returns the longest wait.
func (w Waits) Max() time.Duration {
	var m time.Duration
	for _, x := range w.waits {
		m = max(m, x)
	}
	return m
}

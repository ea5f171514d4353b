package workersim

import (
	"math"
	"time"
)

// bucket is a token bucket of requests: the fleet earns rate requests per
// second and a job of n requests may start once n tokens are there. It has
// no I/O and no clock of its own, so its arithmetic is table-tested.
type bucket struct {
	tokens float64
	rate   float64 // requests per real second
	burst  float64 // the most tokens an idle fleet keeps
	last   time.Time
}

// setRate changes the earning rate from now on, keeping what was earned.
func (b *bucket) setRate(rate, burst float64, now time.Time) {
	b.refill(now)
	b.rate, b.burst = rate, burst
	b.tokens = math.Min(b.tokens, burst)
}

func (b *bucket) refill(now time.Time) {
	if !b.last.IsZero() && now.After(b.last) {
		b.tokens = math.Min(b.burst, b.tokens+b.rate*now.Sub(b.last).Seconds())
	}
	b.last = now
}

// take spends n tokens and returns 0, or returns how long to wait before
// asking again. With no rate it returns -1: nothing will come until the
// fleet has workers again.
func (b *bucket) take(n float64, now time.Time) time.Duration {
	b.refill(now)
	if b.tokens >= n {
		b.tokens -= n
		return 0
	}
	if b.rate <= 0 {
		return -1
	}
	// A job larger than the burst still runs once the bucket is full, so a
	// tiny fleet is slow but never stuck.
	need := math.Min(n, b.burst) - b.tokens
	if need <= 0 {
		b.tokens -= n
		return 0
	}
	return time.Duration(math.Ceil(need / b.rate * float64(time.Second)))
}

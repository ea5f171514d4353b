package maintenance

import (
	"context"
	"math/rand/v2"
	"time"
)

// backoff spaces retries: base doubled per failed attempt up to max, with
// jitter so that the nodes of a fleet that lost the same server at the same
// moment do not retry in step.
type backoff struct {
	base, max time.Duration
	// rnd returns a number in [0, 1); rand.Float64 when nil.
	rnd func() float64
}

// delay is the wait before retry number attempt (0 for the first retry):
// half of the capped exponential step plus a random part of the other half.
func (b backoff) delay(attempt int) time.Duration {
	d := b.max
	if attempt < 30 {
		d = min(b.base<<attempt, b.max)
	}
	rnd := b.rnd
	if rnd == nil {
		rnd = rand.Float64
	}
	return d/2 + time.Duration(rnd()*float64(d/2))
}

// sleep waits d or until ctx is done; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

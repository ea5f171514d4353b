// Package poll is the one way tests wait for something that happens in the
// background: poll a condition with a deadline, never sleep a fixed time.
// Holds is the other side: what must not happen for a while is checked all
// through that while, not once after a sleep.
package poll

import (
	"testing"
	"time"
)

// Until polls cond until it holds, and fails t when timeout passes first,
// with what() describing what was awaited (called only on failure, so it
// may render the state at that moment). The pause between polls grows with
// the timeout: 5 ms for short waits up to 100 ms for long ones.
func Until(t testing.TB, timeout time.Duration, cond func() bool, what func() string) {
	t.Helper()
	if !Wait(timeout, cond) {
		t.Fatalf("not within %s: %s", timeout, what())
	}
}

// Wait polls cond until it holds (true) or timeout passes (false), for
// callers that decide themselves what a timeout means.
func Wait(timeout time.Duration, cond func() bool) bool {
	gap := gapFor(timeout)
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(gap)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			return cond()
		case <-tick.C:
		}
	}
	return true
}

// Holds checks cond until d has passed, at the pace of Until and once more
// at the end, and fails t the first time it does not hold, with what()
// describing the expectation (called only on failure).
func Holds(t testing.TB, d time.Duration, cond func() bool, what func() string) {
	t.Helper()
	start := time.Now()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	tick := time.NewTicker(gapFor(d))
	defer tick.Stop()
	for {
		if !cond() {
			t.Fatalf("broken %s into %s: %s", time.Since(start).Round(time.Millisecond), d, what())
			return
		}
		select {
		case <-deadline.C:
			if !cond() {
				t.Fatalf("broken at the end of %s: %s", d, what())
			}
			return
		case <-tick.C:
		}
	}
}

// gapFor is the pause between polls: 5 ms for short waits up to 100 ms for
// long ones.
func gapFor(timeout time.Duration) time.Duration {
	return min(max(timeout/200, 5*time.Millisecond), 100*time.Millisecond)
}

// Say is a fixed description for Until.
func Say(what string) func() string { return func() string { return what } }

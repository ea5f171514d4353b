package maintenance

import (
	"testing"
	"time"

	"github.com/shoenig/test/must"
)

func TestTheBackoffDoublesWithJitterUpToItsCap(t *testing.T) {
	low := backoff{base: time.Second, max: 30 * time.Second, rnd: func() float64 { return 0 }}
	high := low
	high.rnd = func() float64 { return 0.999999 }
	cases := []struct {
		attempt int
		step    time.Duration
	}{{0, time.Second}, {1, 2 * time.Second}, {4, 16 * time.Second}, {5, 30 * time.Second}, {62, 30 * time.Second}, {1 << 20, 30 * time.Second}}
	for _, c := range cases {
		must.Eq(t, c.step/2, low.delay(c.attempt), must.Sprintf("attempt %d: half the step at least", c.attempt))
		must.Between(t, c.step-time.Millisecond, high.delay(c.attempt), c.step, must.Sprintf("attempt %d: the step at most", c.attempt))
	}
}

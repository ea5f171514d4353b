package workersim

import (
	"testing"
	"time"

	"github.com/shoenig/test/must"
)

func TestBucket(t *testing.T) {
	t0 := time.Unix(100, 0)
	cases := []struct {
		name         string
		rate, burst  float64
		elapsed      time.Duration
		n            float64
		wantWait     time.Duration
		wantTokensAt float64
	}{
		{"a job within the earned tokens starts at once", 10, 100, 2 * time.Second, 15, 0, 5},
		{"a job beyond the earned tokens waits for the rest", 10, 100, time.Second, 15, 500 * time.Millisecond, 10},
		{"an idle fleet keeps at most the burst", 10, 20, time.Hour, 20, 0, 0},
		{"a fleet without workers never serves", 0, 0, time.Hour, 1, -1, 0},
		{"a job larger than the burst runs when the bucket is full", 10, 5, time.Second, 25, 0, -20},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := &bucket{}
			b.setRate(tc.rate, tc.burst, t0)
			got := b.take(tc.n, t0.Add(tc.elapsed))
			must.Eq(t, tc.wantWait, got)
			must.Eq(t, tc.wantTokensAt, b.tokens)
		})
	}
}

func TestBucketKeepsEarnedTokensAcrossARateChange(t *testing.T) {
	t0 := time.Unix(100, 0)
	b := &bucket{}
	b.setRate(10, 100, t0)
	b.setRate(0, 100, t0.Add(3*time.Second)) // the fleet went to zero
	must.Eq(t, time.Duration(0), b.take(30, t0.Add(time.Hour)))
	must.Eq(t, time.Duration(-1), b.take(1, t0.Add(2*time.Hour)))
}

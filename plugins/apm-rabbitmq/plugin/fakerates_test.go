package plugin

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/hashicorp/nomad-autoscaler/sdk"
)

// fakeRates is a hand-written rateSource over per-minute counts held in
// memory, per filter ("" for none, else "column=value"). It records every
// window read, and fails the read it is told to as the database would.
type fakeRates struct {
	mu     sync.Mutex
	counts map[string]map[time.Time]float64
	reads  []minuteWindow
	failIn int // fail the failIn-th read from now (1: the next one); 0: never
}

var _ rateSource = (*fakeRates)(nil)

func newFakeRates() *fakeRates { return &fakeRates{counts: map[string]map[time.Time]float64{}} }

func filterOf(column, value string) string {
	if column == "" {
		return ""
	}
	return column + "=" + value
}

// add counts n more requests in the minute m of filter.
func (f *fakeRates) add(filter string, m time.Time, n float64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.counts[filter] == nil {
		f.counts[filter] = map[time.Time]float64{}
	}
	f.counts[filter][m.Truncate(time.Minute).UTC()] += n
}

// answer is what the database says for w, without any cache.
func (f *fakeRates) answer(w minuteWindow, filter string) sdk.TimestampedMetrics {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.answerLocked(w, filter)
}

func (f *fakeRates) answerLocked(w minuteWindow, filter string) sdk.TimestampedMetrics {
	var out sdk.TimestampedMetrics
	for m := w.start; m.Before(w.end); m = m.Add(time.Minute) {
		out = append(out, sdk.TimestampedMetric{Timestamp: m, Value: f.counts[filter][m]})
	}
	return out
}

// RequestsPerMinute implements rateSource.
func (f *fakeRates) RequestsPerMinute(_ context.Context, w minuteWindow, column, value string) (sdk.TimestampedMetrics, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads = append(f.reads, w)
	if f.failIn > 0 {
		if f.failIn--; f.failIn == 0 {
			return nil, errors.New("postgresql 10.0.0.20:5432: timed out")
		}
	}
	return f.answerLocked(w, filterOf(column, value)), nil
}

// Series implements rateSource; the cache never calls it.
func (f *fakeRates) Series(context.Context, string, time.Time, time.Time) (sdk.TimestampedMetrics, error) {
	return nil, errors.New("fakeRates has no sql: queries")
}

// Close implements rateSource.
func (f *fakeRates) Close() {}

// takeReads returns the windows read since the last call.
func (f *fakeRates) takeReads() []minuteWindow {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.reads
	f.reads = nil
	return r
}

func (f *fakeRates) failRead(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failIn = n
}

// fakeClock is the plugin's clock, moved by the test.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *fakeClock) advance(d time.Duration) { c.set(c.now().Add(d)) }

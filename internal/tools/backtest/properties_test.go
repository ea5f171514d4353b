package backtest

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/shoenig/test/must"
)

// arrivalsFrom turns fuzz bytes into a trace of up to two days.
func arrivalsFrom(data []byte) []float64 {
	out := make([]float64, 0, len(data)/2)
	for i := 0; i+1 < len(data) && len(out) < 2*1440; i += 2 {
		out = append(out, float64(binary.LittleEndian.Uint16(data[i:])%5000))
	}
	return out
}

// FuzzReferenceFleetsAndMonotonicity checks invariants of the model on any
// traffic: the static-peak and oracle fleets never queue, nobody beats the
// physical limit, and one more worker in every minute never makes latency
// or availability worse.
func FuzzReferenceFleetsAndMonotonicity(f *testing.F) {
	f.Add([]byte{1, 0, 200, 3, 7, 0, 0, 0, 255, 255, 3, 1})
	f.Add(make([]byte, 600))
	f.Fuzz(func(t *testing.T, data []byte) {
		arrivals := arrivalsFrom(data)
		if len(arrivals) == 0 {
			return
		}
		const capacity = 100
		s := &scorer{
			arrivals: arrivals,
			cal:      newCalendar(time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), len(arrivals), time.UTC, businessHours{start: 0, end: 1440}),
			p:        slaParams{capacity: capacity, serviceTime: time.Second, requestTimeout: 30 * time.Second, slaP95: 3 * time.Second},
		}
		physical := physicalLimitHours(arrivals, capacity)
		for _, workers := range [][]int64{constant(len(arrivals), staticPeak(arrivals, capacity)), oracle(arrivals, capacity, 20)} {
			sc := s.score(workers)
			must.Eq(t, 100.0, sc.AvailabilityPct)
			must.Eq(t, sc.Days, sc.DaysMet)
			must.GreaterEq(t, physical-1e-9, sc.WorkerHours)
		}
		// Some fleet that queues at times, and the same plus one worker.
		low := make([]int64, len(arrivals))
		more := make([]int64, len(arrivals))
		for i, a := range arrivals {
			low[i] = int64(a/capacity) / 2
			more[i] = low[i] + 1
		}
		a, b := s.score(low), s.score(more)
		must.GreaterEq(t, a.AvailabilityPct, b.AvailabilityPct)
		for d := range a.PerDay {
			must.LessEq(t, a.PerDay[d].P95, b.PerDay[d].P95)
		}
	})
}

package demo

import (
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/backtest"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/loadgen"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/workersim"
)

// trackEvery is the real time between two readings of the fleet: 6
// simulated seconds at x300, fine enough to follow a fleet that changes a
// few times a simulated minute at most.
const trackEvery = 20 * time.Millisecond

// fleetTrack follows the run on the simulated clock: how many workers
// serve, for scoring every simulated minute as the backtest does, and
// copies of the measured queue waits at the edges of business hours, for
// the measured latency of each business-hours day.
type fleetTrack struct {
	clock   loadgen.Clock
	points  []fleetPoint
	windows []businessWindow
	// maxLag is how far the load generator fell behind the simulated
	// clock in business hours: requests it publishes late arrive in a
	// burst, which the measured waits show and the scored SLA (on the
	// trace's minutes) does not.
	maxLag time.Duration
}

type fleetPoint struct {
	sim     time.Time
	workers int
}

// businessWindow is one local day's business hours within the replay,
// with the waits recorded when the replay crossed each edge.
type businessWindow struct {
	date         string
	from, to     time.Time
	atFrom, atTo *workersim.Waits
}

// newFleetTrack prepares the business-hours windows of the replay
// [clock.SimStart, end) in loc.
func newFleetTrack(clock loadgen.Clock, end time.Time, loc *time.Location, r slaRule) *fleetTrack {
	f := &fleetTrack{clock: clock}
	start := clock.SimStart
	y, m, d := start.In(loc).Date()
	for day := d; time.Date(y, m, day, 0, 0, 0, 0, loc).Before(end); day++ {
		from := time.Date(y, m, day, r.from/60, r.from%60, 0, 0, loc)
		to := time.Date(y, m, day, r.to/60, r.to%60, 0, 0, loc)
		if from.Before(start) {
			from = start.In(loc)
		}
		if to.After(end) {
			to = end.In(loc)
		}
		if from.Before(to) {
			date := time.Date(y, m, day, 0, 0, 0, 0, loc).Format(time.DateOnly)
			f.windows = append(f.windows, businessWindow{date: date, from: from, to: to})
		}
	}
	return f
}

// observe records the fleet at the real time now; in business hours, how
// far behind the generator's last batch (generated, simulated time) is;
// and, when the replay has just crossed an edge of business hours, a copy
// of the waits so far.
func (f *fleetTrack) observe(now time.Time, workers int, generated time.Time, waits func() workersim.Waits) {
	sim := f.clock.Sim(now)
	f.points = append(f.points, fleetPoint{sim: sim, workers: workers})
	var snap *workersim.Waits
	take := func() *workersim.Waits {
		if snap == nil {
			w := waits()
			snap = &w
		}
		return snap
	}
	for i := range f.windows {
		w := &f.windows[i]
		if w.atFrom == nil && !sim.Before(w.from) {
			w.atFrom = take()
		}
		if w.atTo == nil && !sim.Before(w.to) {
			w.atTo = take()
		}
		if !sim.Before(w.from) && sim.Before(w.to) {
			f.maxLag = max(f.maxLag, sim.Sub(generated))
		}
	}
}

// finish closes a window the replay entered but did not leave (a run
// stopped early) with the waits at the end.
func (f *fleetTrack) finish(waits workersim.Waits) {
	for i := range f.windows {
		if w := &f.windows[i]; w.atFrom != nil && w.atTo == nil {
			w.atTo = &waits
		}
	}
}

// workersPerMinute returns, for n simulated minutes from start, the
// time-weighted mean of the workers serving, from the readings: each
// reading holds until the next, the first also before it.
func workersPerMinute(points []fleetPoint, start time.Time, n int) []float64 {
	out := make([]float64, n)
	if len(points) == 0 {
		return out
	}
	i := 0 // points[i] holds at t
	for m := range out {
		t := start.Add(time.Duration(m) * time.Minute)
		end := t.Add(time.Minute)
		for i+1 < len(points) && !points[i+1].sim.After(t) {
			i++
		}
		var workerSeconds float64
		for t.Before(end) {
			next := end
			if i+1 < len(points) && points[i+1].sim.Before(end) {
				next = points[i+1].sim
			}
			workerSeconds += float64(points[i].workers) * next.Sub(t).Seconds()
			if next.Before(end) {
				i++
			}
			t = next
		}
		out[m] = workerSeconds / 60
	}
	return out
}

// MeasuredDay is the latency measured through RabbitMQ over one day's
// business hours: 1 s of service plus the p95 of the simulated queue wait
// of the requests the workers took in that window.
type MeasuredDay struct {
	Date     string
	P95      backtest.Seconds
	Requests int64
}

// measuredDays computes the measured latency of every business-hours
// window the replay covered.
func (f *fleetTrack) measuredDays(serviceTime time.Duration) []MeasuredDay {
	var out []MeasuredDay
	for _, w := range f.windows {
		if w.atFrom == nil || w.atTo == nil {
			continue
		}
		wait, n := quantileBetween(*w.atFrom, *w.atTo, 0.95)
		out = append(out, MeasuredDay{Date: w.date, P95: backtest.Seconds((serviceTime + wait).Seconds()), Requests: n})
	}
	return out
}

// waitCounts is what quantileBetween reads of workersim.Waits.
type waitCounts interface {
	Requests() int64
	Within(d time.Duration) float64
	Max() time.Duration
}

// quantileBetween returns the wait below which a fraction q of the
// requests recorded after a and up to b fall, and how many there were. The
// waits are only ever appended to, so those of b are those of a and the
// later ones: the count within d of the later requests is the difference
// of the two counts, and the quantile is found by bisection on d.
func quantileBetween(a, b waitCounts, q float64) (time.Duration, int64) {
	n := b.Requests() - a.Requests()
	if n <= 0 {
		return 0, 0
	}
	within := func(d time.Duration) float64 {
		return b.Within(d)*float64(b.Requests()) - a.Within(d)*float64(a.Requests())
	}
	goal := q * float64(n) * (1 - 1e-9)
	lo, hi := time.Duration(0), b.Max()
	for lo < hi {
		mid := lo + (hi-lo)/2
		if within(mid) >= goal {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo, n
}

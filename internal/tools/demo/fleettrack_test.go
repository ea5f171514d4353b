package demo

import (
	"testing"
	"time"

	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/backtest"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/loadgen"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/workersim"
)

func TestWorkersPerMinuteIsTheTimeWeightedMean(t *testing.T) {
	t.Parallel()
	t0 := time.Date(1995, 7, 13, 9, 0, 0, 0, time.UTC)
	points := []fleetPoint{
		{sim: t0.Add(15 * time.Second), workers: 2}, // also before it: the fleet the run started with
		{sim: t0.Add(30 * time.Second), workers: 4},
		{sim: t0.Add(90 * time.Second), workers: 1},
		{sim: t0.Add(90 * time.Second), workers: 3}, // two readings at once: the later holds
	}
	got := workersPerMinute(points, t0, 4)
	must.Eq(t, []float64{(2*30 + 4*30) / 60.0, (4*30 + 3*30) / 60.0, 3, 3}, got)
	must.Eq(t, []float64{0, 0}, workersPerMinute(nil, t0, 2))
}

func TestTheFleetTrackHasOneBusinessWindowPerLocalDayOfTheReplay(t *testing.T) {
	t.Parallel()
	edt := time.FixedZone("", -4*3600)
	day := func(d, h int) time.Time { return time.Date(1995, 7, d, h, 0, 0, 0, edt) }
	type window struct {
		date     string
		from, to time.Time
	}
	for _, tc := range []struct {
		name       string
		start, end time.Time
		want       []window
	}{
		{"a whole day", day(13, 0), day(14, 0), []window{{"1995-07-13", day(13, 8), day(13, 22)}}},
		{"the launch hour", day(13, 9), day(13, 10), []window{{"1995-07-13", day(13, 9), day(13, 10)}}},
		{"a night", day(13, 22), day(14, 8), nil},
		{"an evening and a morning", day(13, 20), day(14, 10), []window{{"1995-07-13", day(13, 20), day(13, 22)}, {"1995-07-14", day(14, 8), day(14, 10)}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The replayed minutes may carry another zone than the SLA's.
			f := newFleetTrack(loadgen.Clock{SimStart: tc.start.UTC(), Compression: 300}, tc.end, edt, backtestSLA)
			var got []window
			for _, w := range f.windows {
				got = append(got, window{w.date, w.from, w.to})
			}
			must.Eq(t, tc.want, got)
		})
	}
}

func TestTheFleetTrackCopiesTheWaitsAtTheEdgesOfBusinessHours(t *testing.T) {
	t.Parallel()
	edt := time.FixedZone("", -4*3600)
	real0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := loadgen.Clock{RealStart: real0, SimStart: time.Date(1995, 7, 13, 7, 0, 0, 0, edt), Compression: 300}
	f := newFleetTrack(clock, clock.SimStart.Add(24*time.Hour), edt, backtestSLA)
	copies := 0
	waits := func() workersim.Waits { copies++; return workersim.Waits{} }
	at := func(simHour float64) time.Time { return real0.Add(time.Duration(simHour * float64(time.Hour) / 300)) }

	f.observe(at(0), 3, clock.Sim(at(0)).Add(-time.Hour), waits) // a lag out of business hours does not count
	must.Eq(t, 0, copies, must.Sprint("07:00 is before business hours"))
	f.observe(at(1.01), 5, clock.Sim(at(1.0)), waits)
	must.Eq(t, 1, copies)
	must.NotNil(t, f.windows[0].atFrom)
	f.observe(at(2), 6, clock.Sim(at(2)), waits)
	must.Eq(t, 1, copies, must.Sprint("no copy between the edges"))
	f.observe(at(15.5), 2, clock.Sim(at(15.5)), waits)
	must.Eq(t, 2, copies)
	must.NotNil(t, f.windows[0].atTo)
	must.Eq(t, 36*time.Second, f.maxLag.Round(time.Second), must.Sprint("the generator's batch was 0.01 h behind at 08:00:36"))
	must.Eq(t, []fleetPoint{{clock.Sim(at(0)), 3}, {clock.Sim(at(1.01)), 5}, {clock.Sim(at(2)), 6}, {clock.Sim(at(15.5)), 2}}, f.points)

	// A run stopped inside business hours ends its window with the last
	// waits.
	g := newFleetTrack(clock, clock.SimStart.Add(24*time.Hour), edt, backtestSLA)
	g.observe(at(2), 1, clock.Sim(at(2)), waits)
	g.finish(workersim.Waits{})
	must.NotNil(t, g.windows[0].atTo)
	must.Eq(t, []MeasuredDay{{Date: "1995-07-13", P95: 1}}, g.measuredDays(time.Second), must.Sprint("no request: the service time"))
}

// fakeWaits holds jobs' waits and request counts in the order they were
// served; a prefix of it is what an earlier copy would have held.
type fakeWaits struct {
	waits []time.Duration
	reqs  []int64
}

func (f fakeWaits) Requests() int64 {
	var n int64
	for _, r := range f.reqs {
		n += r
	}
	return n
}

func (f fakeWaits) Within(d time.Duration) float64 {
	var ok int64
	for i, w := range f.waits {
		if w <= d {
			ok += f.reqs[i]
		}
	}
	return float64(ok) / float64(max(f.Requests(), 1))
}

func (f fakeWaits) Max() time.Duration {
	var m time.Duration
	for _, w := range f.waits {
		m = max(m, w)
	}
	return m
}

func (f fakeWaits) prefix(n int) fakeWaits { return fakeWaits{waits: f.waits[:n], reqs: f.reqs[:n]} }

func TestQuantileBetweenCountsOnlyTheRequestsServedBetweenTheCopies(t *testing.T) {
	t.Parallel()
	// A night of long waits, then a window where 90 requests waited 1 s, 5
	// waited 2 s and 5 waited 50 s: the window's p95 is 2 s, whatever the
	// night's.
	all := fakeWaits{
		waits: []time.Duration{100 * time.Second, 90 * time.Second, time.Second, 2 * time.Second, 50 * time.Second},
		reqs:  []int64{1000, 500, 90, 5, 5},
	}
	q, n := quantileBetween(all.prefix(2), all, 0.95)
	must.Eq(t, 2*time.Second, q)
	must.Eq(t, int64(100), n)
	q, _ = quantileBetween(all.prefix(2), all, 0.96)
	must.Eq(t, 50*time.Second, q)
	q, n = quantileBetween(all, all, 0.95)
	must.Eq(t, time.Duration(0), q)
	must.Eq(t, int64(0), n)
	q, _ = quantileBetween(fakeWaits{}, all, 0.5)
	must.Eq(t, 100*time.Second, q, must.Sprint("from the start, the night counts"))
}

func TestMeasuredDaysAddTheServiceTime(t *testing.T) {
	t.Parallel()
	f := &fleetTrack{windows: []businessWindow{{date: "1995-07-13", atFrom: &workersim.Waits{}, atTo: &workersim.Waits{}}, {date: "1995-07-14"}}}
	must.Eq(t, []MeasuredDay{{Date: "1995-07-13", P95: backtest.Seconds(1)}}, f.measuredDays(time.Second), must.Sprint("a window the replay never reached is left out"))
}

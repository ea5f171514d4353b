package plugin

import (
	"math"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/nomad-autoscaler/sdk"
)

// benchValues is n per-minute points of a noisy business-hours series
// (a daily cycle with bursts), ending at benchNow.
func benchValues(n int) []float64 {
	values := make([]float64, n)
	for i := range values {
		minuteOfDay := float64((i + 11*60) % 1440)
		daily := 600 + 1400*math.Max(0, math.Sin(math.Pi*(minuteOfDay-7*60)/(14*60)))
		values[i] = daily + float64((i*7919)%300)
		if i%397 < 3 {
			values[i] *= 1.5
		}
	}
	return values
}

var benchNow = time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC)

// benchmarkRun measures one evaluation of the policy's rate check with n
// per-minute points. warm: the calibration of the window's whole hours is
// cached, as it is in every evaluation but the first of each hour (which
// starts the next one in the background: BenchmarkRun8DaysNewHour); cold:
// every Run calibrates, as the first after a restart does.
func benchmarkRun(b *testing.B, n int, warm bool) {
	e := evalOf(benchConfig, benchNow, benchValues(n)...)
	p := New(hclog.NewNullLogger())
	if err := p.SetConfig(map[string]string{}); err != nil {
		b.Fatal(err)
	}
	p.SetClock(func() time.Time { return benchNow })
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if !warm {
			p.margins = newMarginCache()
		}
		if _, err := p.Run(e, 20); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRun8DaysNewHour is the evaluation that first sees a new whole
// hour: it starts the hour's calibration in the background and decides
// with the last one (calcache.go). One plugin evaluates the window hour
// after hour; untimed, each iteration waits for the background
// calibration it started, and every hours iterations the plugin starts
// over from a first, calibrated window.
func BenchmarkRun8DaysNewHour(b *testing.B) {
	const hours = 48
	values := benchValues(8*1440 + 60*hours)
	at := func(k int) time.Time { return benchNow.Add(time.Duration(k-hours) * time.Hour) }
	evals := make([]*sdk.ScalingCheckEvaluation, hours+1)
	for k := range evals {
		evals[k] = evalOf(benchConfig, at(k), values[60*k:60*k+8*1440]...)
	}
	var p *Plugin
	k := hours
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		if k == hours {
			p, k = New(hclog.NewNullLogger()), 0
			p.SetClock(func() time.Time { return at(0) })
			if _, err := p.Run(evals[0], 20); err != nil {
				b.Fatal(err)
			}
		}
		k++
		now := at(k)
		p.SetClock(func() time.Time { return now })
		b.StartTimer()
		out, err := p.Run(evals[k], 20)
		b.StopTimer()
		if err != nil || out.Action.Meta["calibration_pending"] != true {
			b.Fatalf("not the evaluation that starts the hour's calibration: %v %v", err, out.Action.Meta["calibration_pending"])
		}
		p.margins.settle()
		b.StartTimer()
	}
}

func BenchmarkRun60(b *testing.B)          { benchmarkRun(b, 60, true) }
func BenchmarkRun1Day(b *testing.B)        { benchmarkRun(b, 1440, true) }
func BenchmarkRun8DaysWarm(b *testing.B)   { benchmarkRun(b, 8*1440, true) }
func BenchmarkRun8DaysCold(b *testing.B)   { benchmarkRun(b, 8*1440, false) }
func BenchmarkCalibrate8Days(b *testing.B) { benchmarkCalibrate(b, 8*1440) }

// The shipped policy's window: four weeks.
func BenchmarkRun28DaysWarm(b *testing.B)   { benchmarkRun(b, 28*1440, true) }
func BenchmarkRun28DaysCold(b *testing.B)   { benchmarkRun(b, 28*1440, false) }
func BenchmarkCalibrate28Days(b *testing.B) { benchmarkCalibrate(b, 28*1440) }

// BenchmarkCalibrate8DaysAnHourLater is the hourly calibration of a
// running check: the window an hour on, started from where the last
// calibration's searches ended (search.go).
func BenchmarkCalibrate8DaysAnHourLater(b *testing.B) {
	values := benchValues(8*1440 + 60)
	_, _, hints := benchCalibration(b, benchNow.Add(-time.Hour), values[:8*1440], searchHints{})
	calibrateOnce, replays, _ := benchCalibration(b, benchNow, values[60:], hints)
	b.ReportAllocs()
	for b.Loop() {
		calibrateOnce()
	}
	b.ReportMetric(float64(replays), "replays/op") // after Loop, which resets metrics
}

// benchmarkCalibrate measures one calibration of n minutes alone, from
// nothing (the first after a start).
func benchmarkCalibrate(b *testing.B, n int) {
	calibrateOnce, replays, _ := benchCalibration(b, benchNow, benchValues(n), searchHints{})
	b.ReportAllocs()
	for b.Loop() {
		calibrateOnce()
	}
	b.ReportMetric(float64(replays), "replays/op") // after Loop, which resets metrics
}

// benchCalibration prepares the calibration of values ending at now from
// hints, and runs it once: the replays it made and where it ended.
func benchCalibration(b *testing.B, now time.Time, values []float64, hints searchHints) (func(), int, searchHints) {
	m := evalOf(benchConfig, now, values...).Metrics
	pts, _, newest := cleanSeries(m, nil)
	c, err := parseConfig(benchConfig)
	if err != nil {
		b.Fatal(err)
	}
	g := new(grid)
	g.fill(pts, newest)
	fp, r := newForecasterParams(c, g), newReplayRules(c, g)
	lo, hi := blockRange(g)
	buf := new(replayBuffers)
	_, found := calibrateHinted(g, lo, hi, fp, r, buf, hints)
	return func() { calibrateHinted(g, lo, hi, fp, r, buf, hints) }, found.replays, found
}

// benchConfig is the strategy block of the policy's rate check.
var benchConfig = map[string]string{
	"capacity_per_worker": "100", "mode": "rate", "lead": "5m", "horizon": "8m",
	"max_wait": "2s", "slow_share": "0.02", "floor": "2", "floor_hours": "08:00-22:00",
	"floor_days": "Mon-Sun", "timezone": "America/New_York",
}

// BenchmarkParseConfig is what every Run paid before the config cache.
func BenchmarkParseConfig(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseConfig(benchConfig); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkConfigCacheHit is what a Run pays for its config now.
func BenchmarkConfigCacheHit(b *testing.B) {
	c := newConfigCache()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Parse(benchConfig); err != nil {
			b.Fatal(err)
		}
	}
}

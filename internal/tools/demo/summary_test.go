package demo

import (
	"math"
	"testing"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/loadgen"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/workersim"
	"github.com/shoenig/test/must"
)

func TestSummarizeBillsExistingVMsOverSimulatedTime(t *testing.T) {
	t0 := time.Date(1995, 7, 13, 4, 0, 0, 0, time.UTC)
	samples := []Sample{
		{Sim: t0, Instances: 2, Ready: map[string]int{"a": 1, "b": 1}},
		{Sim: t0.Add(time.Hour), Instances: 4, Ready: map[string]int{"a": 2, "b": 1}, Generated: 500, Served: 300},
		{Sim: t0.Add(3 * time.Hour), Instances: 1, Ready: map[string]int{"a": 1}, Generated: 900, Served: 900, Demand: math.NaN()},
	}
	minutes := []loadgen.Minute{{Start: t0, Requests: 150}, {Start: t0.Add(time.Minute), Requests: 450}, {Start: t0.Add(2 * time.Minute), Requests: 90}}
	s := summarize(samples, minutes, 100, workersim.Waits{})

	must.Eq(t, 3*time.Hour, s.Simulated)
	must.Eq(t, 2.0*1+4.0*2, s.WorkerHours, must.Sprint("2 VMs for an hour, then 4 for two hours"))
	must.Eq(t, 450.0, s.PeakRPM)
	must.Eq(t, t0.Add(time.Minute), s.PeakAt)
	must.Eq(t, 5, s.StaticWorkers, must.Sprint("ceil(450 / 100)"))
	must.Eq(t, 15.0, s.StaticHours)
	must.Eq(t, 3, s.MaxWorkers)
	must.Eq(t, 1, s.MinWorkers)
	must.Eq(t, int64(200), s.MaxBacklog)
	must.Eq(t, int64(900), s.Served)
	must.Eq(t, time.Duration(0), s.P95, must.Sprint("no request waited"))
	auto, static := Summary{WorkerHours: 10, StaticHours: 20, Price: 0.5}.Cost()
	must.Eq(t, 5.0, auto)
	must.Eq(t, 10.0, static)
}

func TestSummarizeOfNothingIsEmpty(t *testing.T) {
	must.Eq(t, Summary{}, summarize(nil, nil, 100, workersim.Waits{}))
}

func TestRateAveragesOverTheWindow(t *testing.T) {
	t0 := time.Date(1995, 7, 13, 4, 0, 0, 0, time.UTC)
	var s []Sample
	for i := range 10 {
		s = append(s, Sample{Sim: t0.Add(time.Duration(i) * 2500 * time.Millisecond * 60), Generated: int64(i * 250)})
	}
	must.Eq(t, 100.0, rate(s, 10*time.Minute), must.Sprint("250 requests per 2.5 minutes"))
	must.True(t, math.IsNaN(rate(s[:1], 10*time.Minute)))
}

func TestScoreRunScoresTheWholeMinutesReplayedAgainstTheTrace(t *testing.T) {
	t0 := time.Date(1995, 7, 13, 9, 0, 0, 0, time.UTC)
	minutes := []loadgen.Minute{{Start: t0, Requests: 100}, {Start: t0.Add(time.Minute), Requests: 300}, {Start: t0.Add(2 * time.Minute), Requests: 100}}
	track := newFleetTrack(loadgen.Clock{SimStart: t0, Compression: 300}, t0.Add(3*time.Minute), time.UTC, backtestSLA)
	track.points = []fleetPoint{{sim: t0, workers: 2}}
	// Stopped 30 s into the third minute: two minutes are scored. The
	// second leaves 100 requests for two workers, 30 s of wait.
	sla, measured := scoreRun(track, minutes, t0.Add(150*time.Second), 100, time.UTC)
	must.SliceLen(t, 1, sla.Days)
	must.Eq(t, 2, sla.Days[0].BusinessMinutes)
	must.Eq(t, 31.0, float64(sla.Days[0].P95))
	must.Eq(t, 100.0, sla.AvailabilityPct, must.Sprint("30 s is within the request timeout"))
	must.SliceEmpty(t, measured, must.Sprint("the track never observed the run"))
}

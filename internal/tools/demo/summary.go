package demo

import (
	"math"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/loadgen"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/workersim"
)

// Sample is the state of the run at one moment of the simulated day.
type Sample struct {
	Sim       time.Time
	Generated int64          // requests generated so far
	Served    int64          // requests served so far
	RPM       float64        // requests per simulated minute since the previous sample
	Demand    float64        // the strategy's last forecast (requests/min), NaN before the first
	Ready     map[string]int // workers serving, per zone
	Instances int            // VMs that exist (booting, serving or draining): what is billed
	// SpotInstances are those of Instances in the Spot tier's MIGs.
	SpotInstances int
}

// Backlog is the number of requests generated and not yet served.
func (s Sample) Backlog() int64 { return s.Generated - s.Served }

// ReadyTotal is the number of workers serving.
func (s Sample) ReadyTotal() int {
	n := 0
	for _, v := range s.Ready {
		n += v
	}
	return n
}

// Summary is the end-of-run report.
type Summary struct {
	Simulated, Real   time.Duration
	Generated, Served int64
	PeakRPM           float64
	PeakAt            time.Time
	StaticWorkers     int
	StaticHours       float64 // worker-hours of a fleet sized for the peak all day
	WorkerHours       float64 // worker-hours the autoscaled fleet was billed
	SpotHours         float64 // the part of WorkerHours on Spot VMs
	MaxWorkers        int
	MinWorkers        int
	MaxBacklog        int64
	// SLA is the SLA as cmd/backtest scores it: each simulated minute's
	// arrivals queued for the workers that served in it (measured).
	SLA SLAScore
	// Measured is the latency of each business-hours day measured through
	// RabbitMQ: the demo's own delays are in it, magnified by the
	// compression (see writeSummary).
	Measured []MeasuredDay
	// P95, P99 and MaxWait are the measured queue waits of the whole
	// replay, in simulated time.
	P95, P99, MaxWait time.Duration
	// GeneratorLag is the furthest the load generator fell behind the
	// simulated clock (simulated time): a busy machine's, not the fleet's.
	GeneratorLag   time.Duration
	ScalingActions int
	// WarmStarts counts workers started from the standby pool, and
	// StandbyAtEnd the pool's members when the replay ended.
	WarmStarts, StandbyAtEnd int
	// Preemptions counts Spot VMs preempted during the replay.
	Preemptions int
	Price       float64
}

// Cost returns the dollars of the autoscaled fleet and of the static one.
func (s Summary) Cost() (auto, static float64) {
	return s.WorkerHours * s.Price, s.StaticHours * s.Price
}

// summarize computes the report from the samples, the replayed minutes and
// the queue waits; the SLA is scored apart, at the end (scoreRun). Billing
// integrates the number of existing VMs over simulated time, sample to
// sample.
func summarize(samples []Sample, minutes []loadgen.Minute, capacity float64, waits workersim.Waits) Summary {
	var s Summary
	if len(samples) == 0 || len(minutes) == 0 {
		return s
	}
	s.Simulated = samples[len(samples)-1].Sim.Sub(samples[0].Sim)
	last := samples[len(samples)-1]
	s.Generated, s.Served = last.Generated, last.Served
	for _, m := range minutes {
		if m.Requests > s.PeakRPM {
			s.PeakRPM, s.PeakAt = m.Requests, m.Start
		}
	}
	s.StaticWorkers = int(math.Ceil(s.PeakRPM/capacity - 1e-9))
	s.StaticHours = float64(s.StaticWorkers) * s.Simulated.Hours()
	s.MinWorkers = math.MaxInt
	for i, x := range samples {
		if i+1 < len(samples) {
			dt := samples[i+1].Sim.Sub(x.Sim).Hours()
			s.WorkerHours += float64(x.Instances) * dt
			s.SpotHours += float64(x.SpotInstances) * dt
		}
		s.MaxWorkers = max(s.MaxWorkers, x.ReadyTotal())
		s.MinWorkers = min(s.MinWorkers, x.ReadyTotal())
		s.MaxBacklog = max(s.MaxBacklog, x.Backlog())
	}
	s.P95, s.P99, s.MaxWait = waits.Quantile(0.95), waits.Quantile(0.99), waits.Max()
	return s
}

// scoreRun scores the replay against the backtest's SLA: the trace's
// arrivals of every whole simulated minute replayed, against the workers
// the fleet track saw serving; and the measured latency of each
// business-hours day.
func scoreRun(track *fleetTrack, minutes []loadgen.Minute, last time.Time, capacity float64, loc *time.Location) (SLAScore, []MeasuredDay) {
	if len(minutes) == 0 {
		return SLAScore{}, nil
	}
	start := minutes[0].Start
	n := min(len(minutes), int(last.Sub(start)/time.Minute))
	arrivals := make([]float64, n)
	for i := range arrivals {
		arrivals[i] = minutes[i].Requests
	}
	workers := workersPerMinute(track.points, start, n)
	return scoreSLA(start, loc, arrivals, workers, capacity, backtestSLA), track.measuredDays(backtestSLA.serviceTime)
}

package backtest

import (
	"time"
)

// Defaults of the Spot flags. Sources and dates are in cmd/backtest/README.md
// ("Spot tier").
const (
	// DefaultSpotPrice is -price scaled by the Spot-to-standard ratio of
	// g2-standard-8 with its L4 in us-central1: $0.34058 against $0.85362
	// per hour (L4 $0.2231 Spot, $0.56004 standard; the VM's 8 vCPUs and
	// 32 GB $0.11748 Spot, $0.29358 standard).
	DefaultSpotPrice = 0.38
	// DefaultPreemptionRate is an assumption, not a measurement: Google
	// publishes no per-hour preemption rate for GPU Spot VMs. One
	// preemption per 100 Spot VM-hours is a mean Spot VM life of about
	// four days.
	DefaultPreemptionRate = 0.01
	// DefaultSeed seeds the preemption draws.
	DefaultSeed = 1
	// maxSpotOutage bounds -spot-outage: a longer daily outage overlaps
	// the next day's.
	maxSpotOutage = 24 * time.Hour
)

// newSpotModel derives the Spot capacity model of a run from its flags and
// its scored minutes.
func newSpotModel(cfg Config, res *Result, m *model) *spotModel {
	sm := &spotModel{
		perMinute: cfg.PreemptionRate / 60,
		seed:      uint64(cfg.Seed),
		outage:    ceilMinutes(cfg.SpotOutage),
		inflight:  m.capacity * cfg.ServiceTime.Minutes(),
	}
	if cfg.SpotOutage > 0 {
		sm.outageStarts = busiestBusinessHours(res.ScoredStart, res.Arrivals, res.cal, res.location())
		for i := range sm.outageStarts {
			sm.outageStarts[i] += m.warmup
		}
	}
	return sm
}

// busiestBusinessHours returns, for every local day, the first business
// minute (a scored-minute index) of the local clock hour of that day whose
// business minutes had the most arrivals; the earliest hour wins a tie.
func busiestBusinessHours(start time.Time, arrivals []float64, cal calendar, loc *time.Location) []int {
	var out []int
	bestDay, best, bestSum := int32(-1), -1, -1.0
	hourFirst, hourKey, hourSum := -1, int64(-1), 0.0
	closeHour := func(day int32) {
		if hourFirst < 0 {
			return
		}
		if day != bestDay {
			if best >= 0 {
				out = append(out, best)
			}
			bestDay, best, bestSum = day, -1, -1
		}
		if hourSum > bestSum {
			best, bestSum = hourFirst, hourSum
		}
		hourFirst = -1
	}
	var lastDay int32
	for i, a := range arrivals {
		if !cal.business[i] {
			continue
		}
		t := start.Add(time.Duration(i) * time.Minute).In(loc)
		// The local clock hour, also in zones whose offset is not whole hours.
		key := time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), 0, 0, 0, loc).Unix()
		if key != hourKey {
			closeHour(lastDay)
			hourFirst, hourKey, hourSum = i, key, 0
		}
		lastDay = cal.day[i]
		hourSum += a
	}
	closeHour(lastDay)
	if best >= 0 {
		out = append(out, best)
	}
	return out
}

package demo

import (
	"math"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/backtest"
)

// slaRule is the SLA of cmd/backtest with its defaults: on each local day,
// the arrival-weighted p95 latency of the business-hours minutes (1 s of
// service plus the queue wait) must be at most 3 s; a business minute
// whose wait exceeds the 30 s request timeout counts as unavailable.
type slaRule struct {
	serviceTime    time.Duration
	requestTimeout time.Duration
	p95            time.Duration
	// Business hours, minutes after local midnight, [from, to).
	from, to int
}

// backtestSLA is the rule `go run ./cmd/backtest` scores with, business
// hours 08:00-22:00 (backtest.DefaultBusinessHours, which a test keeps in
// step with these minutes).
var backtestSLA = slaRule{
	serviceTime:    backtest.DefaultServiceTime,
	requestTimeout: backtest.DefaultRequestTimeout,
	p95:            backtest.DefaultSLAP95,
	from:           8 * 60,
	to:             22 * 60,
}

// SLAScore is how the run did against the SLA, per local calendar day with
// business minutes, in the backtest's terms.
type SLAScore struct {
	Days            []backtest.DayScore
	DaysMet         int
	AvailabilityPct float64
	WorstDayP95     backtest.Seconds
}

// scoreSLA scores a replay the way internal/tools/backtest scores a strategy:
// minute m (from start) had arrivals[m] requests and workers[m] workers
// serving (a time-weighted mean: the demo's fleet changes within a
// minute), each serving capacity requests per minute. The queue carries
// what a minute could not serve into the next; a business minute's
// requests see 1 s of service plus the time the minute's workers need to
// clear that queue. Days and business hours are those of loc.
//
// internal/tools/backtest has the same arithmetic for integer worker counts but
// keeps it unexported; this copy takes the demo's fractional counts.
func scoreSLA(start time.Time, loc *time.Location, arrivals, workers []float64, capacity float64, r slaRule) SLAScore {
	var sc SLAScore
	var day []backtest.WeightedLatency
	var date string
	var okDay, okAll, businessAll int
	closeDay := func() {
		if len(day) > 0 {
			p95 := backtest.WeightedP95(day, r.serviceTime.Seconds())
			met := p95 <= r.p95.Seconds()
			if met {
				sc.DaysMet++
			}
			sc.WorstDayP95 = max(sc.WorstDayP95, backtest.Seconds(p95))
			sc.Days = append(sc.Days, backtest.DayScore{Date: date, P95: backtest.Seconds(p95), Met: met,
				AvailabilityPct: 100 * float64(okDay) / float64(len(day)), BusinessMinutes: len(day)})
		}
		day, okDay = day[:0], 0
	}
	var backlog float64
	for m, a := range arrivals {
		local := start.Add(time.Duration(m) * time.Minute).In(loc)
		if d := local.Format(time.DateOnly); d != date {
			closeDay()
			date = d
		}
		w := workers[m]
		backlog = max(0, backlog+a-w*capacity)
		h, mm, _ := local.Clock()
		if minute := h*60 + mm; minute < r.from || minute >= r.to {
			continue
		}
		wait := waitMinutes(backlog, w, capacity)
		businessAll++
		if wait <= r.requestTimeout.Minutes() {
			okDay++
			okAll++
		}
		day = append(day, backtest.WeightedLatency{Seconds: r.serviceTime.Seconds() + wait*60, Weight: a})
	}
	closeDay()
	sc.AvailabilityPct = 100
	if businessAll > 0 {
		sc.AvailabilityPct = 100 * float64(okAll) / float64(businessAll)
	}
	return sc
}

// waitMinutes is how long a backlog takes to clear at the workers' rate:
// unbounded when nobody serves a queue.
func waitMinutes(backlog, workers, capacity float64) float64 {
	if backlog == 0 {
		return 0
	}
	if workers <= 0 {
		return math.Inf(1)
	}
	return backlog / (workers * capacity)
}

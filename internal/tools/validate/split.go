package validate

import (
	"math"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/backtest"
)

// Figures is how one strategy did on one part of a run, computed as the
// backtest computes its totals but over the part's days and minutes only.
type Figures struct {
	Days    int `json:"days"`
	DaysMet int `json:"sla_days_met"`
	// AvailabilityPct is the share of the part's scored business minutes
	// whose wait was within the request timeout.
	AvailabilityPct float64          `json:"availability_pct"`
	WorstDayP95     backtest.Seconds `json:"worst_day_p95_s"`
	// WorkerHours are serving worker-hours; BilledWorkerHours add booting
	// and draining workers.
	WorkerHours       float64 `json:"worker_hours"`
	BilledWorkerHours float64 `json:"billed_worker_hours"`
	// RatioToOracle and RatioToPhysicalLimit are WorkerHours over the
	// oracle's and over the physical limit's on the same minutes.
	RatioToOracle        float64 `json:"ratio_to_oracle"`
	RatioToPhysicalLimit float64 `json:"ratio_to_physical_limit"`
}

// Part names.
const (
	PartAll     = "all"
	PartTrain   = "train"
	PartHeldOut = "held out"
)

// part is a contiguous stretch of a run's SLA days and of its scored
// minutes.
type part struct {
	name string
	// days are indices into a strategy's PerDay: [firstDay, endDay).
	firstDay, endDay int
	// minutes are scored minutes: [from, to).
	from, to int
}

// splitParts returns the parts of a run to report: all days, and with
// split also the first trainDays SLA days (train) and the remaining days
// (held out). A day's minutes are those of its local calendar date, from
// midnight to midnight, so the held-out part starts at local midnight of its
// first day. Every strategy of a run has the same days, so slope's list
// defines them.
func splitParts(res *backtest.Result, split bool, trainDays int) ([]part, error) {
	days := res.Strategy(backtest.NameSlope).PerDay
	all := part{name: PartAll, endDay: len(days), to: len(res.Arrivals)}
	if !split {
		return []part{all}, nil
	}
	train := part{name: PartTrain, endDay: min(trainDays, len(days)), to: len(res.Arrivals)}
	held := part{name: PartHeldOut, firstDay: train.endDay, endDay: len(days), from: len(res.Arrivals), to: len(res.Arrivals)}
	if held.firstDay < held.endDay {
		from, err := res.MinuteOfMidnight(days[held.firstDay].Date)
		if err != nil {
			return nil, err
		}
		train.to, held.from = from, from
	}
	return []part{all, train, held}, nil
}

// figures are a strategy's figures on a part of a run.
func figures(res *backtest.Result, name string, p part) Figures {
	return figuresOf(res, res.Strategy(name), p)
}

// figuresOf are the figures of a scored fleet on a part of a run: a
// strategy's, or the perfect-level reference's.
func figuresOf(res *backtest.Result, s *backtest.StrategyResult, p part) Figures {
	var f Figures
	var available, business float64
	for _, d := range s.PerDay[p.firstDay:p.endDay] {
		f.Days++
		if d.Met {
			f.DaysMet++
		}
		f.WorstDayP95 = max(f.WorstDayP95, d.P95)
		available += d.AvailabilityPct * float64(d.BusinessMinutes) / 100
		business += float64(d.BusinessMinutes)
	}
	// As the backtest's total: a stretch without business minutes had no
	// unavailable one.
	f.AvailabilityPct = 100
	if business > 0 {
		f.AvailabilityPct = 100 * available / business
	}
	f.WorkerHours = workerHours(s.Workers[p.from:p.to])
	f.BilledWorkerHours = workerHours(s.BilledWorkers[p.from:p.to])
	if o := workerHours(res.Strategy(backtest.NameOracle).Workers[p.from:p.to]); o > 0 {
		f.RatioToOracle = f.WorkerHours / o
	}
	if l := physicalLimitHours(res.Arrivals[p.from:p.to], res.Capacity); l > 0 {
		f.RatioToPhysicalLimit = f.WorkerHours / l
	}
	return f
}

func workerHours(workers []int64) float64 {
	var minutes int64
	for _, w := range workers {
		minutes += w
	}
	return float64(minutes) / 60
}

// physicalLimitHours is the backtest's physical limit on some minutes: a
// fleet resized every minute to exactly that minute's need.
func physicalLimitHours(arrivals []float64, capacity float64) float64 {
	var minutes int64
	for _, a := range arrivals {
		minutes += int64(math.Ceil(a / capacity))
	}
	return float64(minutes) / 60
}

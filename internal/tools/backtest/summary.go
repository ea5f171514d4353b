package backtest

import (
	"encoding/json"
	"io"
	"math"
	"strconv"
	"time"
)

// Seconds is a latency in seconds; an unbounded latency (a backlog with no
// worker serving it) is +Inf and is written to JSON as null.
type Seconds float64

// MarshalJSON implements json.Marshaler.
func (s Seconds) MarshalJSON() ([]byte, error) {
	if math.IsInf(float64(s), 0) || math.IsNaN(float64(s)) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, round(float64(s), 3), 'f', -1, 64), nil
}

// String formats for people: "1.25s", or "unbounded" for a backlog nobody
// serves.
func (s Seconds) String() string {
	if math.IsInf(float64(s), 0) {
		return "unbounded"
	}
	return strconv.FormatFloat(float64(s), 'f', 2, 64) + "s"
}

// Summary is the content of summary.json.
type Summary struct {
	Trace                    TraceSummary               `json:"trace"`
	Parameters               ParameterSummary           `json:"parameters"`
	PhysicalLimitWorkerHours float64                    `json:"physical_limit_worker_hours"`
	PerfectLevel             *LevelSummary              `json:"perfect_level,omitempty"`
	Strategies               map[string]StrategySummary `json:"strategies"`
	// TargetValueGrid is every configuration the target-value comparison
	// tried, in grid order; the one reported as target-value (and run
	// under predictive) has selected = true.
	TargetValueGrid []GridEntrySummary `json:"target_value_grid"`
	// Commitment is the committed use plan of -commit-discount.
	Commitment *CommitmentPlan `json:"commitment,omitempty"`
}

// GridEntrySummary is one configuration of the target-value grid.
type GridEntrySummary struct {
	Config            string  `json:"config"`
	TargetFraction    float64 `json:"target_fraction"`
	Target            float64 `json:"target"` // the strategy's target key: arrivals per worker per minute
	Cooldown          string  `json:"cooldown"`
	CooldownOnScaleUp string  `json:"cooldown_on_scale_up"`
	MetricWindow      string  `json:"metric_window"`
	Threshold         float64 `json:"threshold"`
	SLADaysMet        int     `json:"sla_days_met"`
	Days              int     `json:"days"`
	WorkerHours       float64 `json:"worker_hours"`
	BilledWorkerHours float64 `json:"billed_worker_hours"`
	Cost              float64 `json:"cost"`
	AvailabilityPct   float64 `json:"availability_pct"`
	ScaleUps          int     `json:"scale_ups"`
	ScaleDowns        int     `json:"scale_downs"`
	ClampedMinutes    int     `json:"clamped_minutes,omitempty"`
	Selected          bool    `json:"selected"`
	// SelectedSLO marks the configuration reported as target-value-slo
	// (-peer-availability).
	SelectedSLO bool `json:"selected_slo,omitempty"`
}

// TraceSummary describes the replayed history.
type TraceSummary struct {
	Source         string    `json:"source"`
	Start          time.Time `json:"start"`
	End            time.Time `json:"end"`
	Minutes        int       `json:"minutes"`
	ScaleFactor    float64   `json:"scale_factor"`
	ScoredStart    time.Time `json:"scored_start"`
	ScoredMinutes  int       `json:"scored_minutes"`
	ScoredRequests float64   `json:"scored_requests"`
}

// ParameterSummary records every input of the run, so a result can be
// reproduced and compared.
type ParameterSummary struct {
	Policy             string  `json:"policy"`
	Scaling            string  `json:"scaling"`
	Daily              float64 `json:"daily"`
	Capacity           float64 `json:"capacity"`
	Lead               string  `json:"lead"`
	ScaleUpWait        string  `json:"scale_up_wait"`
	ScaleDownWait      string  `json:"scale_down_wait"`
	ServiceTime        string  `json:"service_time"`
	RequestTimeout     string  `json:"request_timeout"`
	SLAP95             string  `json:"sla_p95"`
	BusinessHours      string  `json:"business_hours"`
	TimeZone           string  `json:"tz"`
	Price              float64 `json:"price"`
	Min                int64   `json:"min"`
	Max                int64   `json:"max"`
	EvaluationInterval string  `json:"evaluation_interval"`
	Cooldown           string  `json:"cooldown"`
	CooldownOnScaleUp  string  `json:"cooldown_on_scale_up"`
	WarmupMinutes      int     `json:"warmup_minutes"`
	StaticPeakWorkers  int64   `json:"static_peak_workers"`
	OracleBlock        string  `json:"oracle_block"`
	// The standby pool, only when the policy's target keeps one.
	StandbySize   int64   `json:"standby_size,omitempty"`
	StandbyMaxAge string  `json:"standby_max_age,omitempty"`
	RefillDelay   string  `json:"standby_refill_delay,omitempty"`
	WarmLead      string  `json:"warm_lead,omitempty"`
	StandbyPrice  float64 `json:"standby_price,omitempty"`
	// The Spot tier, only when the policy's target has spot_migs.
	Spot *SpotParameters `json:"spot,omitempty"`
	// PeerAvailability is -peer-availability, when set.
	PeerAvailability float64 `json:"peer_availability,omitempty"`
}

// StrategySummary is one strategy's line of summary.json.
type StrategySummary struct {
	// Config is the target-value configuration of target-value and
	// predictive, as the table prints it.
	Config string `json:"config,omitempty"`
	// WorkerHours are serving worker-hours (the timeline's column summed);
	// BilledWorkerHours add booting and draining workers, and Cost is
	// priced on them.
	WorkerHours          float64 `json:"worker_hours"`
	BilledWorkerHours    float64 `json:"billed_worker_hours"`
	Cost                 float64 `json:"cost"`
	RatioToOracle        float64 `json:"ratio_to_oracle"`
	RatioToPhysicalLimit float64 `json:"ratio_to_physical_limit"`
	SLADaysMet           int     `json:"sla_days_met"`
	Days                 int     `json:"days"`
	AvailabilityPct      float64 `json:"availability_pct"`
	WorstDayP95          Seconds `json:"worst_day_p95_s"`
	ScaleUps             int     `json:"scale_ups"`
	ScaleDowns           int     `json:"scale_downs"`
	BootingWorkerHours   float64 `json:"booting_worker_hours"`
	DrainingWorkerHours  float64 `json:"draining_worker_hours"`
	// ClampedMinutes: scored minutes in which the policy's max held the
	// count below what a check asked for (MaxWanted is the largest ask).
	ClampedMinutes     int    `json:"clamped_minutes,omitempty"`
	MaxWanted          int64  `json:"max_wanted,omitempty"`
	Evaluations        int    `json:"evaluations,omitempty"`
	AbortedEvaluations int    `json:"aborted_evaluations,omitempty"`
	StrategyErrors     int    `json:"strategy_errors,omitempty"`
	FirstStrategyError string `json:"first_strategy_error,omitempty"`
	// The standby pool (the policy's, when its target keeps one): stopped
	// VM-hours and their cost (included in cost), refill VM-hours
	// (included in billed_worker_hours), and how many workers scale-outs
	// started from the pool and created cold.
	StandbyVMHours    float64 `json:"standby_vm_hours,omitempty"`
	StandbyCost       float64 `json:"standby_cost,omitempty"`
	RefillWorkerHours float64 `json:"refill_worker_hours,omitempty"`
	WarmStarts        int64   `json:"warm_starts,omitempty"`
	ColdStarts        int64   `json:"cold_starts,omitempty"`
	// Spot: the cost by tier (standard, spot, the pool when present) and
	// the preemptions, only for a policy whose target has spot_migs.
	Spot   *SpotSummary `json:"spot,omitempty"`
	PerDay []DayScore   `json:"per_day"`
}

// LevelSummary is the perfect-level reference in summary.json.
type LevelSummary struct {
	Headroom             float64 `json:"headroom"`
	WorkerHours          float64 `json:"worker_hours"`
	RatioToOracle        float64 `json:"ratio_to_oracle"`
	RatioToPhysicalLimit float64 `json:"ratio_to_physical_limit"`
	SLADaysMet           int     `json:"sla_days_met"`
	Days                 int     `json:"days"`
	AvailabilityPct      float64 `json:"availability_pct"`
}

// Summary builds the summary.json content.
func (r *Result) Summary() Summary {
	c, p := r.Config, r.Policy
	s := Summary{
		Trace: TraceSummary{
			Source: r.Source, Start: r.TraceStart, End: r.TraceStart.Add(time.Duration(r.TraceMinutes) * time.Minute),
			Minutes: r.TraceMinutes, ScaleFactor: r.ScaleFactor, ScoredStart: r.ScoredStart,
			ScoredMinutes: len(r.Arrivals), ScoredRequests: round(sum(r.Arrivals), 1),
		},
		Parameters: ParameterSummary{
			Policy: c.PolicyPath, Scaling: p.ID, Daily: c.Daily, Capacity: r.Capacity,
			Lead: c.Lead.String(), ScaleUpWait: c.ScaleUpWait.String(), ScaleDownWait: c.ScaleDownWait.String(), ServiceTime: c.ServiceTime.String(), RequestTimeout: c.RequestTimeout.String(),
			SLAP95: c.SLAP95.String(), BusinessHours: c.BusinessHours, TimeZone: c.TimeZone, Price: c.Price,
			PeerAvailability: c.PeerAvailability,
			Min:              p.Min, Max: p.Max, EvaluationInterval: p.EvaluationInterval.String(),
			Cooldown: p.Cooldown.String(), CooldownOnScaleUp: p.CooldownOnScaleUp.String(),
			WarmupMinutes: r.WarmupMinutes, StaticPeakWorkers: r.StaticPeakWorkers, OracleBlock: oracleBlock.String(),
		},
		PhysicalLimitWorkerHours: round(r.PhysicalLimitWorkerHours, 2),
		Strategies:               make(map[string]StrategySummary, len(r.Strategies)),
	}
	if pl := r.PerfectLevel; pl.Workers != nil {
		s.PerfectLevel = &LevelSummary{
			Headroom: round(pl.Headroom, 2), WorkerHours: round(pl.WorkerHours, 2),
			RatioToOracle: round(r.ratioToOracle(pl.WorkerHours), 4), RatioToPhysicalLimit: round(pl.WorkerHours/max(r.PhysicalLimitWorkerHours, 1e-9), 4),
			SLADaysMet: pl.DaysMet, Days: pl.Days, AvailabilityPct: round(pl.AvailabilityPct, 3),
		}
	}
	for _, sr := range r.Strategies {
		s.Strategies[sr.Name] = StrategySummary{
			Config:      sr.Config,
			WorkerHours: round(sr.WorkerHours, 2), BilledWorkerHours: round(sr.BilledWorkerHours, 2), Cost: round(sr.Cost, 2),
			RatioToOracle: round(r.RatioToOracle(sr.Name), 4), RatioToPhysicalLimit: round(r.RatioToPhysicalLimit(sr.Name), 4),
			DrainingWorkerHours: round(sr.DrainingWorkerHours, 2), ClampedMinutes: sr.ClampedMinutes, MaxWanted: sr.MaxWanted,
			SLADaysMet: sr.DaysMet, Days: sr.Days, AvailabilityPct: round(sr.AvailabilityPct, 3),
			WorstDayP95: sr.WorstDayP95, ScaleUps: sr.ScaleUps, ScaleDowns: sr.ScaleDowns,
			BootingWorkerHours: round(sr.BootingWorkerHours, 2), Evaluations: sr.Evaluations,
			AbortedEvaluations: sr.AbortedEvaluations, StrategyErrors: sr.StrategyErrors,
			FirstStrategyError: sr.FirstStrategyError, PerDay: roundDays(sr.PerDay),
			StandbyVMHours: round(sr.StandbyVMHours, 2), StandbyCost: round(sr.StandbyCost, 2),
			RefillWorkerHours: round(sr.RefillWorkerHours, 2), WarmStarts: sr.WarmStarts, ColdStarts: sr.ColdStarts,
			Spot: sr.spotSummary(),
		}
	}
	if pc, err := parsePool(p); err == nil && pc.size > 0 {
		s.Parameters.StandbySize, s.Parameters.StandbyMaxAge = pc.size, pc.maxAge.String()
		s.Parameters.RefillDelay = pc.refillDelay.String()
		s.Parameters.WarmLead, s.Parameters.StandbyPrice = c.WarmLead.String(), c.StandbyPrice
	}
	s.Parameters.Spot = r.spotParameters()
	s.TargetValueGrid = make([]GridEntrySummary, len(r.TargetValueGrid))
	for i, e := range r.TargetValueGrid {
		c := e.Config
		s.TargetValueGrid[i] = GridEntrySummary{
			Config: c.String(), TargetFraction: c.TargetFraction, Target: round(c.TargetFraction*r.Capacity, 6),
			Cooldown: c.Cooldown.String(), CooldownOnScaleUp: c.CooldownOnScaleUp.String(),
			MetricWindow: c.MetricWindow.String(), Threshold: c.Threshold,
			SLADaysMet: e.DaysMet, Days: e.Days, WorkerHours: round(e.WorkerHours, 2),
			BilledWorkerHours: round(e.BilledWorkerHours, 2), Cost: round(e.BilledWorkerHours*r.Config.Price, 2),
			AvailabilityPct: round(e.AvailabilityPct, 3), ScaleUps: e.ScaleUps, ScaleDowns: e.ScaleDowns,
			ClampedMinutes: e.ClampedMinutes, Selected: e.Selected, SelectedSLO: e.SelectedSLO,
		}
	}
	if p := r.Commitment; p != nil {
		c := *p
		for _, f := range []*float64{&c.TrainSaving, &c.TrainSavingPct, &c.HeldOutSaving, &c.HeldOutSavingPct, &c.MonthlySaving} {
			*f = round(*f, 2)
		}
		s.Commitment = &c
	}
	return s
}

// roundDays copies per-day scores with availability rounded as the totals
// are; business_minutes keeps the count of available minutes exact.
func roundDays(days []DayScore) []DayScore {
	out := make([]DayScore, len(days))
	for i, d := range days {
		d.AvailabilityPct = round(d.AvailabilityPct, 3)
		out[i] = d
	}
	return out
}

// RatioToOracle is a strategy's worker-hours over the oracle's.
func (r *Result) RatioToOracle(name string) float64 {
	if r.Strategy(name) == nil {
		return 0
	}
	return r.ratioToOracle(r.Strategy(name).WorkerHours)
}

// ratioToOracle is worker-hours over the oracle's.
func (r *Result) ratioToOracle(workerHours float64) float64 {
	o := r.Strategy(NameOracle)
	if o == nil || o.WorkerHours == 0 {
		return 0
	}
	return workerHours / o.WorkerHours
}

// RatioToPhysicalLimit is a strategy's worker-hours over those of a fleet
// resized every minute to exactly that minute's need.
func (r *Result) RatioToPhysicalLimit(name string) float64 {
	s := r.Strategy(name)
	if s == nil || r.PhysicalLimitWorkerHours == 0 {
		return 0
	}
	return s.WorkerHours / r.PhysicalLimitWorkerHours
}

// WriteSummary writes summary.json.
func (r *Result) WriteSummary(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r.Summary())
}

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

func sum(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s
}

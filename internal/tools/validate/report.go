package validate

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/backtest"
)

// Report is a whole validation: what validate.json holds and what the
// tables print.
type Report struct {
	Command     string     `json:"command"`
	Commit      string     `json:"commit,omitempty"`
	Dirty       bool       `json:"uncommitted_changes,omitempty"`
	Machine     Machine    `json:"machine"`
	Started     time.Time  `json:"started"`
	WallSeconds float64    `json:"wall_seconds"`
	Parameters  Parameters `json:"parameters"`
	Goals       []Goals    `json:"goals"`
	Runs        []Run      `json:"runs"`
	Rows        []Row      `json:"rows"`
	Passing     int        `json:"rows_passing"`
	Total       int        `json:"rows_total"`
	// Warnings are the policy's clamped-max and strategy-error warnings
	// and a note when the max capped the peers too, per run that had them.
	Warnings []string `json:"warnings"`
}

// Parameters are every input of the runs besides the scenario's own.
type Parameters struct {
	Policy           string  `json:"policy"`
	PolicySHA256     string  `json:"policy_sha256,omitempty"`
	Trace            string  `json:"trace"`
	Quick            bool    `json:"quick"`
	Days             int     `json:"days,omitempty"`
	TrainDays        int     `json:"train_days"`
	SmoothingMinutes int     `json:"smoothing_minutes"`
	PoissonSeed      uint64  `json:"poisson_seed"`
	Capacity         float64 `json:"capacity"`
	Lead             string  `json:"lead"`
	ScaleUpWait      string  `json:"scale_up_wait"`
	ScaleDownWait    string  `json:"scale_down_wait"`
	ServiceTime      string  `json:"service_time"`
	RequestTimeout   string  `json:"request_timeout"`
	SLAP95           string  `json:"sla_p95"`
	BusinessHours    string  `json:"business_hours"`
	Price            float64 `json:"price"`
	Workers          int     `json:"workers"`
}

// Run is one replay of the matrix.
type Run struct {
	Scenario  string  `json:"scenario"`
	Kind      Kind    `json:"kind"`
	Volume    float64 `json:"volume"`
	Synthetic bool    `json:"synthetic"`
	TimeZone  string  `json:"tz"`
	Source    string  `json:"source"`
	// Profile is the synthetic trace's tracegen profile.
	Profile *ProfileSummary `json:"profile,omitempty"`
	// BacktestDaily is the backtest's -daily: the volume for the real
	// trace, 0 for the traces made at their volume.
	BacktestDaily float64   `json:"backtest_daily"`
	ScaleFactor   float64   `json:"scale_factor"`
	ScoredStart   time.Time `json:"scored_start"`
	ScoredMinutes int       `json:"scored_minutes"`
	// TargetValueConfig is the configuration the grid selected on this
	// trace (and that predictive ran).
	TargetValueConfig string `json:"target_value_config"`
	// TargetValueSLOConfig is the configuration of target-value-slo: of
	// the grid's configurations that met the goals' availability on this
	// trace, the one with the most SLA days, then the fewest billed
	// worker-hours; empty when none did.
	TargetValueSLOConfig string `json:"target_value_slo_config,omitempty"`
	PolicyMax            int64  `json:"policy_max"`
	// StaticPeakWorkers is the fleet the trace's busiest minute needs:
	// above PolicyMax, no strategy can serve that minute.
	StaticPeakWorkers int64 `json:"static_peak_workers"`
	// The policy's clamped minutes, largest ask and strategy errors, as
	// the backtest reports them.
	ClampedMinutes     int    `json:"clamped_minutes,omitempty"`
	MaxWanted          int64  `json:"max_wanted,omitempty"`
	Evaluations        int    `json:"evaluations"`
	StrategyErrors     int    `json:"strategy_errors,omitempty"`
	AbortedEvaluations int    `json:"aborted_evaluations,omitempty"`
	FirstStrategyError string `json:"first_strategy_error,omitempty"`
	// The peers take min and max from the policy, so its max caps them
	// too: their clamped minutes say when their figures are a capped
	// fleet's.
	TargetValueClampedMinutes int `json:"target_value_clamped_minutes,omitempty"`
	PredictiveClampedMinutes  int `json:"predictive_clamped_minutes,omitempty"`
}

// ProfileSummary is a tracegen profile as cmd/tracegen's flags give it.
type ProfileSummary struct {
	Profile string    `json:"profile"`
	Days    int       `json:"days"`
	Daily   float64   `json:"daily"`
	Start   time.Time `json:"start"`
	Tz      string    `json:"tz"`
	Seed    uint64    `json:"seed"`
	Growth  float64   `json:"growth,omitempty"`
}

// Row is one line of the table: a part of a run, the policy's figures,
// its peers' and the verdict.
type Row struct {
	Label     string  `json:"label"`
	Scenario  string  `json:"scenario"`
	Part      string  `json:"part"`
	Volume    float64 `json:"volume"`
	Synthetic bool    `json:"synthetic"`
	Goals     string  `json:"goals"`
	FirstDay  string  `json:"first_day,omitempty"`
	LastDay   string  `json:"last_day,omitempty"`
	// Slope is the policy under test (the backtest's "slope" row).
	Slope       Figures `json:"slope"`
	TargetValue Figures `json:"target_value"`
	// TargetValueConfig is the configuration the grid picked on this
	// run's whole trace ("0.15, 10m, mean 5m"): the hindsight the peer
	// gets, shown beside its figures.
	TargetValueConfig string  `json:"target_value_config"`
	Predictive        Figures `json:"predictive"`
	// TargetValueSLO is target-value held to the goals' availability
	// (TargetValueSLOConfig); nil when no configuration reached it.
	TargetValueSLO       *Figures `json:"target_value_slo,omitempty"`
	TargetValueSLOConfig string   `json:"target_value_slo_config,omitempty"`
	// PerfectLevel is the backtest's perfect-level reference: each 20
	// minutes' mean known, with the headroom (PerfectLevelHeadroom) chosen
	// on the run's whole trace. A reference for the cost goals, not a peer.
	PerfectLevel         Figures  `json:"perfect_level"`
	PerfectLevelHeadroom float64  `json:"perfect_level_headroom"`
	Verdict              string   `json:"verdict"`
	Pass                 bool     `json:"pass"`
	Failures             []string `json:"failures,omitempty"`
}

func newRun(sc Scenario, res *backtest.Result) Run {
	s := res.Strategy(backtest.NameSlope)
	r := Run{
		Scenario: sc.Name, Kind: sc.Kind, Volume: sc.Volume, Synthetic: sc.Synthetic(), TimeZone: sc.TimeZone,
		Source: res.Source, BacktestDaily: res.Config.Daily, ScaleFactor: roundTo(res.ScaleFactor, 4),
		ScoredStart: res.ScoredStart, ScoredMinutes: len(res.Arrivals),
		TargetValueConfig: res.Strategy(backtest.NameTargetValue).Config, PolicyMax: res.Policy.Max,
		TargetValueSLOConfig: configOf(res, backtest.NameTargetValueSLO),
		StaticPeakWorkers:    res.StaticPeakWorkers,
		ClampedMinutes:       s.ClampedMinutes, MaxWanted: s.MaxWanted, Evaluations: s.Evaluations,
		StrategyErrors: s.StrategyErrors, AbortedEvaluations: s.AbortedEvaluations, FirstStrategyError: s.FirstStrategyError,
		TargetValueClampedMinutes: res.Strategy(backtest.NameTargetValue).ClampedMinutes,
		PredictiveClampedMinutes:  res.Strategy(backtest.NamePredictive).ClampedMinutes,
	}
	if p := sc.Profile; p != nil {
		r.Profile = &ProfileSummary{Profile: p.Name, Days: p.Days, Daily: p.Daily, Start: p.Start, Tz: p.TimeZone, Seed: p.Seed, Growth: p.Growth}
	}
	return r
}

func newRow(sc Scenario, res *backtest.Result, p part) Row {
	row := Row{
		Label: label(sc, p), Scenario: sc.Name, Part: p.name, Volume: sc.Volume, Synthetic: sc.Synthetic(), Goals: sc.Goals.Name,
		Slope:             figures(res, backtest.NameSlope, p),
		TargetValue:       figures(res, backtest.NameTargetValue, p),
		TargetValueConfig: res.Strategy(backtest.NameTargetValue).Config,
		Predictive:        figures(res, backtest.NamePredictive, p),
	}
	if pl := &res.PerfectLevel; pl.Workers != nil {
		row.PerfectLevel, row.PerfectLevelHeadroom = figuresOf(res, &pl.StrategyResult, p).rounded(), pl.Headroom
	}
	if days := res.Strategy(backtest.NameSlope).PerDay[p.firstDay:p.endDay]; len(days) > 0 {
		row.FirstDay, row.LastDay = days[0].Date, days[len(days)-1].Date
	}
	peers := []Peer{{backtest.NameTargetValue, row.TargetValue}, {backtest.NamePredictive, row.Predictive}}
	if res.Strategy(backtest.NameTargetValueSLO) != nil {
		f := figures(res, backtest.NameTargetValueSLO, p)
		peers = append(peers, Peer{backtest.NameTargetValueSLO, f})
		f = f.rounded()
		row.TargetValueSLO, row.TargetValueSLOConfig = &f, configOf(res, backtest.NameTargetValueSLO)
	}
	v := judge(sc.Goals, row.Slope, peers)
	row.Verdict, row.Pass, row.Failures = v.String(), v.Pass(), v.Failures
	row.Slope, row.TargetValue, row.Predictive = row.Slope.rounded(), row.TargetValue.rounded(), row.Predictive.rounded()
	return row
}

// configOf is the target-value configuration a peer ran, "" when the run
// has no such peer.
func configOf(res *backtest.Result, name string) string {
	if s := res.Strategy(name); s != nil {
		return s.Config
	}
	return ""
}

// label names a row for people: "nasa", "nasa: held out (days 15-28)",
// "business-a (synthetic)", "business-c (synthetic, held out)".
func label(sc Scenario, p part) string {
	l := sc.Name
	switch {
	case sc.HeldOut:
		l += " (synthetic, held out)"
	case sc.Synthetic():
		l += " (synthetic)"
	}
	if p.name == PartAll {
		return l
	}
	if p.firstDay == p.endDay {
		return fmt.Sprintf("%s: %s (no days)", l, p.name)
	}
	return fmt.Sprintf("%s: %s (days %d-%d)", l, p.name, p.firstDay+1, p.endDay)
}

// rounded is the figures as validate.json writes them; the verdict is
// judged on the exact ones.
func (f Figures) rounded() Figures {
	f.AvailabilityPct = roundTo(f.AvailabilityPct, 3)
	f.WorkerHours = roundTo(f.WorkerHours, 2)
	f.BilledWorkerHours = roundTo(f.BilledWorkerHours, 2)
	f.RatioToOracle = roundTo(f.RatioToOracle, 4)
	f.RatioToPhysicalLimit = roundTo(f.RatioToPhysicalLimit, 4)
	return f
}

func newReport(o Options, matrix []Scenario, outcomes []outcome, started time.Time) *Report {
	c := backtestConfig(o, matrix[0])
	rep := &Report{
		Command: o.Command,
		Machine: machine(),
		Started: started.UTC().Truncate(time.Second),
		Parameters: Parameters{
			Policy: o.PolicyPath, PolicySHA256: fileSHA256(o.PolicyPath), Trace: o.TracePath, Quick: o.Quick, Days: o.Days,
			TrainDays: o.TrainDays, SmoothingMinutes: SmoothingMinutes, PoissonSeed: PoissonSeed,
			Capacity: c.Capacity, Lead: c.Lead.String(), ScaleUpWait: c.ScaleUpWait.String(), ScaleDownWait: c.ScaleDownWait.String(),
			ServiceTime: c.ServiceTime.String(), RequestTimeout: c.RequestTimeout.String(), SLAP95: c.SLAP95.String(),
			BusinessHours: c.BusinessHours, Price: c.Price, Workers: o.Workers,
		},
		Goals:    []Goals{BusinessHoursGoals, FlashCrowdGoals},
		Warnings: []string{},
	}
	rep.Commit, rep.Dirty = gitCommit()
	for _, out := range outcomes {
		rep.Runs = append(rep.Runs, out.run)
		rep.Rows = append(rep.Rows, out.rows...)
		rep.Warnings = append(rep.Warnings, warnings(out.run)...)
	}
	for _, r := range rep.Rows {
		rep.Total++
		if r.Pass {
			rep.Passing++
		}
	}
	rep.WallSeconds = roundTo(time.Since(started).Seconds(), 1)
	return rep
}

// warnings are the notes a reader needs to trust a run's figures: the
// policy's max holding the fleet below what a check asked for (the figures
// are those of a capped fleet), for slope and for the peers, and strategy
// errors.
func warnings(r Run) []string {
	var w []string
	name := r.Scenario + " " + formatVolume(r.Volume)
	if r.ClampedMinutes > 0 {
		raise := "raise max"
		if r.StaticPeakWorkers > r.PolicyMax {
			raise += fmt.Sprintf(" (the busiest minute needs %d workers)", r.StaticPeakWorkers)
		}
		w = append(w, fmt.Sprintf("warning: %s: slope: the policy's max = %d held the count below what a check asked for in %d of %d scored minutes (%.1f%%; up to %d asked): its figures are those of a capped fleet; %s",
			name, r.PolicyMax, r.ClampedMinutes, r.ScoredMinutes, 100*float64(r.ClampedMinutes)/float64(max(r.ScoredMinutes, 1)), r.MaxWanted, raise))
	}
	if r.TargetValueClampedMinutes > 0 || r.PredictiveClampedMinutes > 0 {
		w = append(w, fmt.Sprintf("note: %s: the same max held target-value's count in %d and predictive's in %d scored minutes: theirs are capped fleets too",
			name, r.TargetValueClampedMinutes, r.PredictiveClampedMinutes))
	}
	if r.StrategyErrors > 0 || r.AbortedEvaluations > 0 {
		w = append(w, fmt.Sprintf("warning: %s: slope: %d of %d evaluations had a strategy error, %d were dropped; first: %s",
			name, r.StrategyErrors, r.Evaluations, r.AbortedEvaluations, r.FirstStrategyError))
	}
	return w
}

// formatVolume prints requests per day as "0.5M/day", "60M/day".
func formatVolume(v float64) string {
	if v >= 1e5 {
		return strconv.FormatFloat(v/1e6, 'f', -1, 64) + "M/day"
	}
	return strconv.FormatFloat(v, 'f', -1, 64) + "/day"
}

func roundTo(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

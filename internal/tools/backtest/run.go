package backtest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/nomad-autoscaler/plugins/strategy"
	"github.com/hashicorp/nomad-autoscaler/sdk"
)

// Strategy names, in the order of the table and of timeline.csv.
const (
	NameSlope       = "slope"
	NameTargetValue = "target-value"
	NamePredictive  = "predictive"
	NameStaticPeak  = "static-peak"
	NameOracle      = "oracle"
)

// NamePerfectLevel is the perfect-level reference (LevelReference): not in
// StrategyNames, a line of the table and of summary.json after the oracle.
const NamePerfectLevel = "perfect level"

// NameTargetValueSLO is target-value held to Config.PeerAvailability. It is
// not in StrategyNames: only a run that asks for it has it, after the
// others, and timeline.csv has no column for it.
const NameTargetValueSLO = "target-value-slo"

// StrategyNames lists the compared strategies in report order.
var StrategyNames = []string{NameSlope, NameTargetValue, NamePredictive, NameStaticPeak, NameOracle}

// StrategyResult is one strategy's replay and score.
type StrategyResult struct {
	Name string
	// Config is the target-value configuration that target-value and
	// predictive ran (the grid's choice); empty for the others.
	Config  string
	Workers []int64 // serving in each scored minute
	// BilledWorkers is what the cloud bills in each scored minute:
	// serving, booting and draining; it sums to BilledWorkerHours, so that
	// any part of the trace can be priced.
	BilledWorkers []int64
	Score
	ScaleUps            int
	ScaleDowns          int
	BootingWorkerHours  float64 // ordered but not yet serving (not in WorkerHours)
	DrainingWorkerHours float64 // drained but not yet deleted (not in WorkerHours)
	// BilledWorkerHours is what the cloud bills: serving, booting and
	// draining; Cost is priced on it.
	BilledWorkerHours float64
	Cost              float64
	// ClampedMinutes counts the scored minutes in which the policy's max
	// held the count below what a check asked for; MaxWanted is the
	// largest count a check asked for.
	ClampedMinutes int
	MaxWanted      int64
	// The standby pool, when the policy's target keeps one (pool.go):
	// stopped VMs in each scored minute and their VM-hours, priced at
	// -standby-price into StandbyCost (part of Cost); the VM-hours of
	// refills (in BilledWorkerHours); workers started from the pool and
	// created cold by scale-outs.
	StandbyVMs        []int64
	StandbyVMHours    float64
	StandbyCost       float64
	RefillWorkerHours float64
	WarmStarts        int64
	ColdStarts        int64
	// Spot is what the Spot tier did, when the policy's target has
	// spot_migs (spot_report.go); nil otherwise.
	Spot               *SpotResult
	Evaluations        int
	AbortedEvaluations int
	StrategyErrors     int
	FirstStrategyError string
}

// Result is a complete backtest.
type Result struct {
	Config                   Config
	Source                   string // where the trace came from
	TraceStart               time.Time
	TraceMinutes             int
	ScaleFactor              float64
	Capacity                 float64
	Policy                   *sdk.ScalingPolicy
	WarmupMinutes            int
	StaticPeakWorkers        int64
	ScoredStart              time.Time
	Arrivals                 []float64 // scaled, per scored minute
	PhysicalLimitWorkerHours float64
	// PerfectLevel is the perfect-level reference on the same scorer.
	PerfectLevel LevelReference
	// Strategies are in StrategyNames order, then NameTargetValueSLO
	// when Config.PeerAvailability asked for it and a configuration of
	// the grid reached it.
	Strategies []StrategyResult
	// TargetValueGrid is every target-value configuration tried, in grid
	// order, the selected one marked.
	TargetValueGrid []GridEntry
	// Commitment is the committed use plan of -commit-discount, or nil.
	Commitment *CommitmentPlan

	cal calendar // business hours and local days of the scored minutes
}

// MinuteOfMidnight is the first scored minute of a local date (YYYY-MM-DD
// in the run's -tz), within [0, len(Arrivals)]: where a part of the run
// that starts with that SLA day starts.
func (r *Result) MinuteOfMidnight(date string) (int, error) {
	loc, err := time.LoadLocation(r.Config.TimeZone)
	if err != nil {
		return 0, fmt.Errorf("time zone %q: %w", r.Config.TimeZone, err)
	}
	d, err := time.ParseInLocation(time.DateOnly, date, loc)
	if err != nil {
		return 0, fmt.Errorf("day %q: %w", date, err)
	}
	m := int((d.Sub(r.ScoredStart) + time.Minute - 1) / time.Minute)
	return min(max(m, 0), len(r.Arrivals)), nil
}

// Strategy returns the named result.
func (r *Result) Strategy(name string) *StrategyResult {
	for i := range r.Strategies {
		if r.Strategies[i].Name == name {
			return &r.Strategies[i]
		}
	}
	return nil
}

// Preflight checks everything Run needs except the trace: the flags, the
// policy, its strategies and the capacity. Callers run it before reading a
// long history so that a typo fails in a second, not after the read.
func Preflight(cfg Config) error {
	p, err := preflightPolicy(cfg)
	if err != nil {
		return err
	}
	_, err = modelCapacity(cfg.Capacity, p)
	return err
}

// preflightPolicy checks the flags, loads the policy and checks that the
// backtest runs every strategy it names.
func preflightPolicy(cfg Config) (*sdk.ScalingPolicy, error) {
	if _, err := cfg.parse(); err != nil {
		return nil, err
	}
	p, err := LoadPolicy(cfg.PolicyPath, cfg.ScalingName)
	if err != nil {
		return nil, err
	}
	for _, c := range p.Checks {
		if !knownStrategy(c.Strategy.Name) {
			_, err := newStrategy(c.Strategy.Name, hclog.NewNullLogger(), time.Now)
			return nil, fmt.Errorf("check %q: %w", c.Name, err)
		}
	}
	return p, nil
}

// Run replays the trace through the policy and the comparisons and scores
// them all on the same model.
func Run(ctx context.Context, cfg Config, tr Trace, source string) (*Result, error) {
	return run(ctx, cfg, tr, source, newStrategy)
}

// strategyFactory builds a configured strategy instance for a check's
// strategy name on the simulated clock now.
type strategyFactory func(name string, log hclog.Logger, now func() time.Time) (strategy.Strategy, error)

func run(ctx context.Context, cfg Config, tr Trace, source string, factory strategyFactory) (*Result, error) {
	res, m, sc, err := prepare(cfg, tr, source)
	if err != nil {
		return nil, err
	}
	autoscaled, grid, err := replayAutoscalers(ctx, cfg, m, res.Policy, factory, sc)
	if err != nil {
		return nil, err
	}
	res.TargetValueGrid = grid
	res.scoreAll(cfg, m, sc, autoscaled)
	if res.Commitment, err = res.planCommitment(); err != nil {
		return nil, err
	}
	return res, nil
}

// prepare loads the policy, scales the trace and builds the model and the
// scorer that every replay of one run shares; the Result holds what they
// were built from, with no strategy yet.
func prepare(cfg Config, tr Trace, source string) (*Result, *model, *scorer, error) {
	pc, err := cfg.parse()
	if err != nil {
		return nil, nil, nil, err
	}
	p, err := LoadPolicy(cfg.PolicyPath, cfg.ScalingName)
	if err != nil {
		return nil, nil, nil, err
	}
	capacity, err := modelCapacity(cfg.Capacity, p)
	if err != nil {
		return nil, nil, nil, err
	}
	scaled, factor, err := tr.Scaled(cfg.Daily)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := checkFleetSize(scaled, capacity, factor); err != nil {
		return nil, nil, nil, err
	}
	warmup := warmupMinutes(p)
	if warmup >= scaled.Len() {
		return nil, nil, nil, fmt.Errorf("trace of %d minutes is too short: the first %d minutes are warm-up", scaled.Len(), warmup)
	}
	peak := staticPeak(scaled.Counts, capacity)
	if cfg.RaiseMax && p.Max < 2*peak {
		// A copy: the policy's own max stays in the summary's parameters.
		raised := *p
		raised.Max = 2 * peak
		p = &raised
	}
	m := newModel(scaled.Start, scaled.Counts, capacity, cfg.Lead, warmup, peak)
	m.upWait, m.downWait, m.settle = cfg.ScaleUpWait, cfg.ScaleDownWait, cfg.SettleDelay
	m.warmLead = cfg.WarmLead
	res := &Result{
		Config: cfg, Source: source, TraceStart: tr.Start, TraceMinutes: tr.Len(), ScaleFactor: factor,
		Capacity: capacity, Policy: p, WarmupMinutes: warmup, StaticPeakWorkers: m.initial,
		ScoredStart: scaled.MinuteStart(warmup), Arrivals: scaled.Counts[warmup:],
		PhysicalLimitWorkerHours: physicalLimitHours(scaled.Counts[warmup:], capacity),
	}
	res.cal = newCalendar(res.ScoredStart, len(res.Arrivals), pc.loc, pc.bh)
	m.spot = newSpotModel(cfg, res, m)
	sc := &scorer{
		arrivals: res.Arrivals,
		cal:      res.cal,
		p: slaParams{capacity: m.capacity, serviceTime: cfg.ServiceTime, requestTimeout: cfg.RequestTimeout,
			slaP95: cfg.SLAP95},
	}
	return res, m, sc, nil
}

// scoreAll puts every strategy's result in StrategyNames order: the
// autoscaled ones as replayed and scored, the reference fleets computed and
// scored here on the same scorer.
func (res *Result) scoreAll(cfg Config, m *model, sc *scorer, autoscaled map[string]StrategyResult) {
	for _, name := range StrategyNames {
		var sr StrategyResult
		switch name {
		case NameStaticPeak:
			sr = sc.result(name, &replayOutcome{workers: constant(len(res.Arrivals), m.initial)}, cfg.Price)
		case NameOracle:
			o := &replayOutcome{workers: oracle(res.Arrivals, m.capacity, int(oracleBlock/time.Minute))}
			o.scaleUps, o.scaleDowns = countChanges(o.workers)
			sr = sc.result(name, o, cfg.Price)
		default:
			sr = autoscaled[name]
		}
		res.Strategies = append(res.Strategies, sr)
	}
	if sr, ok := autoscaled[NameTargetValueSLO]; ok {
		res.Strategies = append(res.Strategies, sr)
	}
	res.PerfectLevel = perfectLevel(sc, m.capacity, int(oracleBlock/time.Minute), cfg.Price, cfg.PeerAvailability)
}

// result scores one strategy's worker series; booting and draining workers
// count in the bill only.
func (s *scorer) result(name string, o *replayOutcome, price float64) StrategyResult {
	sr := StrategyResult{
		Name: name, Workers: o.workers, BilledWorkers: o.billed, ScaleUps: o.scaleUps, ScaleDowns: o.scaleDowns,
		BootingWorkerHours:  float64(o.bootingMinutes) / 60,
		DrainingWorkerHours: float64(o.drainingMinutes) / 60,
		ClampedMinutes:      o.clampedMinutes, MaxWanted: o.maxWanted,
		Evaluations: o.evaluations, AbortedEvaluations: o.aborted,
		StrategyErrors: o.strategyErrors, FirstStrategyError: o.firstError,
	}
	if sr.BilledWorkers == nil {
		// The reference fleets never boot or drain.
		sr.BilledWorkers = sr.Workers
	}
	var requeued []float64
	if o.spot != nil {
		requeued = o.spot.requeued
	}
	sr.Score = s.scoreWith(sr.Workers, requeued)
	sr.BilledWorkerHours = sr.WorkerHours + sr.BootingWorkerHours + sr.DrainingWorkerHours
	sr.Cost = sr.BilledWorkerHours * price
	return sr
}

// peerOptions is what the peers' replays add to a policy's: nil for the
// policy under test.
type peerOptions struct {
	// sched answers predictive's forecast check.
	sched *capacitySchedule
	// stateless: every strategy of the policy keeps no state between
	// calls (the official target-value, the schedule's vote), so the
	// replay does not call them while Scale runs or the policy cools
	// down: the agent would discard what they say, and the grid's
	// replays spend most of their time in the official plugin.
	stateless bool
}

// replayOne binds a policy's checks to fresh strategy instances (one per
// strategy name, as the agent runs one plugin per strategy block) on a
// simulated clock, and replays it.
func replayOne(ctx context.Context, m *model, p *sdk.ScalingPolicy, log hclog.Logger, factory strategyFactory, peer *peerOptions) (*replayOutcome, error) {
	if peer == nil {
		peer = &peerOptions{}
	}
	clock := m.start
	now := func() time.Time { return clock }
	instances := map[string]strategy.Strategy{}
	checks := make([]*replayCheck, 0, len(p.Checks))
	for _, c := range p.Checks {
		rc := &replayCheck{check: c, window: max(1, int(c.QueryWindow/time.Minute))}
		rc.buf = make(sdk.TimestampedMetrics, 0, rc.window)
		switch c.Source {
		case targetValueSource:
			rc.kind = queryPerWorker
		case forecastSource:
			rc.kind, rc.strat, rc.sched = queryScheduled, scheduledCapacity{}, peer.sched
		default:
			var err error
			if rc.kind, err = classifyQuery(c); err != nil {
				return nil, fmt.Errorf("check %q: %w", c.Name, err)
			}
		}
		if rc.strat == nil {
			s, ok := instances[c.Strategy.Name]
			if !ok {
				var err error
				if s, err = factory(c.Strategy.Name, log, now); err != nil {
					return nil, fmt.Errorf("check %q: %w", c.Name, err)
				}
				instances[c.Strategy.Name] = s
			}
			rc.strat = s
		}
		checks = append(checks, rc)
	}
	return replay(ctx, m, p, checks, &clock, peer.stateless)
}

// modelCapacity is the -capacity flag, or else the policy's first
// capacity_per_worker.
func modelCapacity(flag float64, p *sdk.ScalingPolicy) (float64, error) {
	if flag > 0 {
		return flag, nil
	}
	for _, c := range p.Checks {
		s, ok := c.Strategy.Config[slopeKeyCapacity]
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || v <= 0 || math.IsInf(v, 0) || math.IsNaN(v) {
			return 0, fmt.Errorf("check %q: capacity_per_worker %q: want a number > 0 (or set -capacity)", c.Name, s)
		}
		return v, nil
	}
	return 0, errors.New("no -capacity and no check with capacity_per_worker in the policy")
}

// maxModelWorkers bounds the fleet any minute may need. Worker counts are
// int64 and the static-peak and oracle fleets are not capped by the
// policy's max, so a count near 1e19 wraps to a negative fleet and every
// figure after it is garbage; no real fleet comes near a billion workers.
const maxModelWorkers = 1e9

// checkFleetSize refuses a trace whose busiest minute would need more than
// maxModelWorkers workers: a typo in the trace, -daily or -capacity must
// fail with the minute that shows it, not print negative worker-hours.
func checkFleetSize(tr Trace, capacity, factor float64) error {
	peak, at := 0.0, 0
	for i, a := range tr.Counts {
		if a > peak {
			peak, at = a, i
		}
	}
	if peak/capacity <= maxModelWorkers {
		return nil
	}
	return fmt.Errorf("minute %s has %.4g requests (x%.4g after -daily), %.4g workers at capacity %g: more than the %.0g the model handles; check the trace, -daily and -capacity",
		tr.MinuteStart(at).Format(time.RFC3339), peak, factor, peak/capacity, capacity, float64(maxModelWorkers))
}

// warmupMinutes is the first hour, or the longest query window (plus its
// offset) when that is longer, but at most maxWarmup. A check whose window
// is longer (a week of history for a seasonal forecast) gets what the trace
// holds so far, as a new deployment reading a young table would: the
// strategy must cope with short history, and every day of a month-long
// trace is scored.
func warmupMinutes(p *sdk.ScalingPolicy) int {
	w := minWarmup
	for _, c := range p.Checks {
		w = max(w, c.QueryWindow+c.QueryWindowOffset)
	}
	w = min(w, maxWarmup)
	return int((w + time.Minute - 1) / time.Minute)
}

func constant(n int, v int64) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

package backtest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strconv"
	"time"

	slope "github.com/fleetslope/nomad-gpu-autoscaler/plugins/strategy-slope/plugin"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/nomad-autoscaler/sdk"
)

// monthDays is the month that costs are scaled to.
const monthDays = 30

// Keys of strategy-slope's check config that the backtest reads (the
// capacity, the business hours of zoneNotes) or that a shape sets.
const (
	slopeKeyCapacity   = "capacity_per_worker"
	slopeKeyLead       = "lead"
	slopeKeyHorizon    = "horizon"
	slopeKeyTimeZone   = "timezone"
	slopeKeyFloorHours = "floor_hours"
)

// ShapeResult is the policy and the oracle replayed on one shape. The unit
// of every count is the VM: target-gce-gpu scales MIG instances, one Nomad
// node each, so the count the policy sees is VMs and a VM serves
// Shape.CapacityPerVM requests per minute.
type ShapeResult struct {
	Shape Shape
	// Max is the policy's max in this replay (raised with RaiseMax).
	Max           int64
	StaticPeakVMs int64
	// Policy is the policy's replay; its WorkerHours are VM-hours and its
	// Cost is priced at the shape's price per VM-hour.
	Policy StrategyResult
	// Oracle is the 20-minute perfect-foresight fleet of this shape.
	Oracle               StrategyResult
	PhysicalLimitVMHours float64
	// CostPerMonth is the policy's billed VM-hours over the scored days,
	// scaled to a 30-day month, times the price; CostPerMillion is its cost
	// over the scored requests, per million.
	CostPerMonth         float64
	CostPerMillion       float64
	OracleCostPerMonth   float64
	OracleCostPerMillion float64
	LimitCostPerMonth    float64
	LimitCostPerMillion  float64
}

// MeetsSLA reports whether the policy met the SLA on every scored day.
func (s *ShapeResult) MeetsSLA() bool { return s.Policy.DaysMet == s.Policy.Days }

// ShapesResult is the policy replayed once per VM shape on one trace.
type ShapesResult struct {
	Config Config
	Source string // where the trace came from
	// ShapesSource names the shapes file; set by the caller.
	ShapesSource   string
	TraceStart     time.Time
	TraceMinutes   int
	ScaleFactor    float64
	Policy         *sdk.ScalingPolicy // as loaded, before any shape's changes
	WarmupMinutes  int
	ScoredStart    time.Time
	ScoredMinutes  int
	ScoredRequests float64
	// SpotLeftOut is true when the policy has a Spot tier: the shapes are
	// compared on demand (withoutSpot), and the table says so.
	SpotLeftOut bool
	// Shapes are sorted by the rule of sortShapes.
	Shapes []ShapeResult
}

// PreflightShapes checks what RunShapes needs except the trace: the
// flags, the policy and every shape's version of it.
func PreflightShapes(cfg Config, shapes []Shape) error {
	p, err := preflightPolicy(cfg)
	if err != nil {
		return err
	}
	return checkShapes(p, shapes)
}

// withoutSpot returns p without its Spot tier: -shapes prices every VM on
// demand, so a shape's cost is comparable with another's whatever Spot
// prices and preemptions would add. It reports whether there was one.
func withoutSpot(p *sdk.ScalingPolicy) (*sdk.ScalingPolicy, bool) {
	if p.Target == nil {
		return p, false
	}
	if sc, _ := parseSpot(p); !sc.on {
		return p, false
	}
	out, target := *p, *p.Target
	target.Config = maps.Clone(p.Target.Config)
	for _, k := range []string{spotKeyMIGs, spotKeyShare, spotKeyCooldown} {
		delete(target.Config, k)
	}
	out.Target = &target
	return &out, true
}

// checkShapes builds every shape's policy, so that a problem shows before
// any replay.
func checkShapes(p *sdk.ScalingPolicy, shapes []Shape) error {
	if len(shapes) == 0 {
		return errors.New("no shapes")
	}
	var errs []error
	for _, s := range shapes {
		if _, err := shapePolicy(p, s); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// RunShapes replays the policy once per shape on the same trace, with the
// policy's strategy-slope checks sized for the shape, and the oracle and
// the physical limit of each shape for reference. cfg's Capacity, Lead and
// Price are not used: each shape gives its own. The replays run
// concurrently on GOMAXPROCS workers; the result does not depend on which
// finishes first.
func RunShapes(ctx context.Context, cfg Config, tr Trace, source string, shapes []Shape) (*ShapesResult, error) {
	return runShapes(ctx, cfg, tr, source, shapes, newStrategy)
}

func runShapes(ctx context.Context, cfg Config, tr Trace, source string, shapes []Shape, factory strategyFactory) (*ShapesResult, error) {
	pc, err := cfg.parse()
	if err != nil {
		return nil, err
	}
	loaded, err := LoadPolicy(cfg.PolicyPath, cfg.ScalingName)
	if err != nil {
		return nil, err
	}
	p, spotLeftOut := withoutSpot(loaded)
	if err := checkShapes(p, shapes); err != nil {
		return nil, err
	}
	scaled, factor, err := tr.Scaled(cfg.Daily)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, s := range shapes {
		if err := checkFleetSize(scaled, s.CapacityPerVM(), factor); err != nil {
			errs = append(errs, fmt.Errorf("shape %q: %w", s.Name, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	warmup := warmupMinutes(p)
	if warmup >= scaled.Len() {
		return nil, fmt.Errorf("trace of %d minutes is too short: the first %d minutes are warm-up", scaled.Len(), warmup)
	}
	res := &ShapesResult{
		Config: cfg, Source: source, TraceStart: tr.Start, TraceMinutes: tr.Len(), ScaleFactor: factor,
		Policy: p, SpotLeftOut: spotLeftOut, WarmupMinutes: warmup, ScoredStart: scaled.MinuteStart(warmup),
		ScoredMinutes: scaled.Len() - warmup, ScoredRequests: sum(scaled.Counts[warmup:]),
	}
	cal := newCalendar(res.ScoredStart, res.ScoredMinutes, pc.loc, pc.bh)
	log := cfg.Logger
	if log == nil {
		log = hclog.NewNullLogger()
	}
	out := make([]ShapeResult, len(shapes))
	pool := newPool(ctx, runtime.GOMAXPROCS(0))
	defer pool.cancel()
	for i, s := range shapes {
		pool.Go(func(ctx context.Context) error {
			sr, err := replayShape(ctx, cfg, p, scaled, warmup, cal, s, log.Named(s.Name), factory)
			if err != nil {
				return fmt.Errorf("shape %q (line %d): %w", s.Name, s.Line, err)
			}
			out[i] = sr
			return nil
		})
	}
	if err := pool.Wait(); err != nil {
		return nil, err
	}
	for i := range out {
		res.price(&out[i])
	}
	sortShapes(out)
	res.Shapes = out
	return res, nil
}

// replayShape replays the shape's version of policy p and the shape's
// oracle, counting VMs.
func replayShape(ctx context.Context, cfg Config, p *sdk.ScalingPolicy, scaled Trace, warmup int, cal calendar,
	s Shape, log hclog.Logger, factory strategyFactory) (ShapeResult, error) {
	pol, err := shapePolicy(p, s)
	if err != nil {
		return ShapeResult{}, err
	}
	capacity := s.CapacityPerVM()
	peak := staticPeak(scaled.Counts, capacity)
	if cfg.RaiseMax && pol.Max < 2*peak {
		pol.Max = 2 * peak
	}
	m := newModel(scaled.Start, scaled.Counts, capacity, s.Lead, warmup, peak)
	m.upWait, m.downWait, m.warmLead = cfg.ScaleUpWait, cfg.ScaleDownWait, cfg.WarmLead
	arrivals := scaled.Counts[warmup:]
	sc := &scorer{arrivals: arrivals, cal: cal, p: slaParams{capacity: capacity, serviceTime: cfg.ServiceTime,
		requestTimeout: cfg.RequestTimeout, slaP95: cfg.SLAP95}}
	o, err := replayOne(ctx, m, pol, log, factory, nil)
	if err != nil {
		return ShapeResult{}, err
	}
	orc := &replayOutcome{workers: oracle(arrivals, capacity, int(oracleBlock/time.Minute))}
	orc.scaleUps, orc.scaleDowns = countChanges(orc.workers)
	policy := sc.result(NameSlope, o, s.PricePerHour)
	policy.addPool(o, s.PricePerHour, cfg.StandbyPrice)
	return ShapeResult{
		Shape: s, Max: pol.Max, StaticPeakVMs: peak,
		Policy:               policy,
		Oracle:               sc.result(NameOracle, orc, s.PricePerHour),
		PhysicalLimitVMHours: physicalLimitHours(arrivals, capacity),
	}, nil
}

// price fills in a shape's costs per month and per million requests.
func (r *ShapesResult) price(s *ShapeResult) {
	month := float64(monthDays*1440) / float64(max(r.ScoredMinutes, 1))
	perMillion := 1e6 / max(r.ScoredRequests, 1e-9)
	limit := s.PhysicalLimitVMHours * s.Shape.PricePerHour
	s.CostPerMonth, s.CostPerMillion = s.Policy.Cost*month, s.Policy.Cost*perMillion
	s.OracleCostPerMonth, s.OracleCostPerMillion = s.Oracle.Cost*month, s.Oracle.Cost*perMillion
	s.LimitCostPerMonth, s.LimitCostPerMillion = limit*month, limit*perMillion
}

// sortShapes orders the shapes that met the SLA on every day first,
// cheapest first; then the others, most days met first, then cheapest.
// Ties keep the file's order.
func sortShapes(shapes []ShapeResult) {
	slices.SortStableFunc(shapes, func(a, b ShapeResult) int {
		if am, bm := a.MeetsSLA(), b.MeetsSLA(); am != bm {
			if am {
				return -1
			}
			return 1
		}
		if !a.MeetsSLA() && a.Policy.DaysMet != b.Policy.DaysMet {
			return cmp.Compare(b.Policy.DaysMet, a.Policy.DaysMet)
		}
		return cmp.Compare(a.Policy.Cost, b.Policy.Cost)
	})
}

// isSlope reports whether a strategy name runs strategy-slope.
func isSlope(name string) bool { return name == "slope" || name == slope.PluginName }

// shapePolicy is a copy of policy p sized for shape s; p and its checks
// are shared by concurrent replays and are not changed. In every
// strategy-slope check, capacity_per_worker becomes the VM's capacity
// (the count is VMs); a check that sets lead gets the shape's lead, and
// its horizon, when set, moves by as much, so that what the policy adds
// beyond the lead (the evaluation interval and the time Scale blocks)
// stays. A policy without a strategy-slope check is refused: nothing in
// it would size for the shape.
func shapePolicy(p *sdk.ScalingPolicy, s Shape) (*sdk.ScalingPolicy, error) {
	out := *p
	out.Checks = make([]*sdk.ScalingPolicyCheck, len(p.Checks))
	sized := false
	var errs []error
	for i, c := range p.Checks {
		out.Checks[i] = c
		if c.Strategy == nil || !isSlope(c.Strategy.Name) {
			continue
		}
		sized = true
		cc := *c
		st := *c.Strategy
		st.Config = maps.Clone(c.Strategy.Config)
		if st.Config == nil {
			st.Config = map[string]string{}
		}
		st.Config[slopeKeyCapacity] = strconv.FormatFloat(s.CapacityPerVM(), 'f', -1, 64)
		if err := shiftLead(st.Config, s.Lead); err != nil {
			errs = append(errs, fmt.Errorf("shape %q: check %q: %w", s.Name, c.Name, err))
		}
		cc.Strategy = &st
		out.Checks[i] = &cc
	}
	if !sized {
		errs = append(errs, fmt.Errorf("policy %q has no strategy-slope check: nothing in it would size for a shape's capacity", p.ID))
	}
	return &out, errors.Join(errs...)
}

// shiftLead sets a strategy-slope config's lead to lead, moving its
// horizon by as much, when the config sets a lead.
func shiftLead(cfg map[string]string, lead time.Duration) error {
	v, ok := cfg[slopeKeyLead]
	if !ok {
		return nil
	}
	old, err := time.ParseDuration(v)
	if err != nil {
		return fmt.Errorf("%s %q: want a duration", slopeKeyLead, v)
	}
	cfg[slopeKeyLead] = lead.String()
	h, ok := cfg[slopeKeyHorizon]
	if !ok {
		return nil
	}
	horizon, err := time.ParseDuration(h)
	if err != nil {
		return fmt.Errorf("%s %q: want a duration", slopeKeyHorizon, h)
	}
	cfg[slopeKeyHorizon] = (horizon + lead - old).String()
	return nil
}

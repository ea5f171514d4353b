package backtest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/nomad-autoscaler/plugins/strategy"
	"github.com/hashicorp/nomad-autoscaler/sdk"
)

// queryPerWorker is the series the target-value comparison reads: the mean
// arrivals per minute over the check's window, ending with the last
// complete minute, divided by the current count, one point.
const queryPerWorker queryKind = 100

// model holds what every replay shares: the scaled arrivals of the whole
// trace (warm-up included) and the fixed cluster parameters.
type model struct {
	start    time.Time
	arrivals []float64
	capacity float64
	lead     time.Duration
	// warmLead is how long a VM started from the standby pool takes to
	// serve (a policy whose target keeps a pool).
	warmLead time.Duration
	// upWait and downWait: how long Scale takes to return, by direction.
	upWait, downWait time.Duration
	// settle is how long after its end a minute of the requests table
	// is complete.
	settle  time.Duration
	warmup  int   // minutes replayed at the initial count and not scored
	initial int64 // the count during warm-up (static peak)
	// series is arrivals as metrics, built once: rate queries are handed
	// their window of it (metrics).
	series sdk.TimestampedMetrics
	// spot is the Spot capacity model, for a policy whose target has
	// spot_migs; nil where Spot is not modelled (-shapes).
	spot *spotModel
}

func newModel(start time.Time, arrivals []float64, capacity float64, lead time.Duration, warmup int, initial int64) *model {
	m := &model{start: start, arrivals: arrivals, capacity: capacity, lead: lead, warmup: warmup, initial: initial,
		series: make(sdk.TimestampedMetrics, len(arrivals))}
	for i, a := range arrivals {
		m.series[i] = sdk.TimestampedMetric{Timestamp: start.Add(time.Duration(i) * time.Minute), Value: a}
	}
	return m
}

// replayCheck is one policy check bound to its strategy instance and to the
// simulated series that answers its query.
type replayCheck struct {
	check  *sdk.ScalingPolicyCheck
	kind   queryKind
	window int // points of a rate query
	strat  strategy.Strategy
	buf    sdk.TimestampedMetrics
	ev     evalBuffers
	// sched answers a queryScheduled check.
	sched *capacitySchedule
}

// replayOutcome is what an autoscaled replay produced over the scored minutes.
type replayOutcome struct {
	// pool is what the standby pool did; nil without one.
	pool *poolFigures
	// spot is what the Spot tier did; nil without one.
	spot            *spotFigures
	workers         []int64 // serving in each scored minute
	billed          []int64 // serving, booting and draining in each scored minute
	bootingMinutes  int64   // sum over scored minutes of workers ordered but not yet serving
	drainingMinutes int64   // sum over scored minutes of drained workers not yet deleted
	// clampedMinutes counts the scored minutes after an evaluation in which
	// a check asked for more than the policy's max.
	clampedMinutes int
	maxWanted      int64 // the largest count a check asked for
	scaleUps       int
	scaleDowns     int
	evaluations    int
	aborted        int // evaluations dropped because a check failed with on_error = fail
	strategyErrors int
	firstError     string
}

// replay runs policy p over the model: an evaluation every
// evaluation_interval from the end of the warm-up, the agent's winner
// selection, capping and cooldown, and the fleet and queue minute by minute.
// clock is set to the simulated time before every strategy call. With
// stateless, the strategies are not called while the agent could not act.
func replay(ctx context.Context, m *model, p *sdk.ScalingPolicy, checks []*replayCheck, clock *time.Time, stateless bool) (*replayOutcome, error) {
	n := len(m.arrivals)
	r := &replayState{
		m: m, p: p, checks: checks, clock: clock, stateless: stateless,
		f:       newFleet(m.initial),
		backlog: make([]float64, n-m.warmup),
		results: make([]checkResult, 0, len(checks)),
		out:     &replayOutcome{workers: make([]int64, n-m.warmup), billed: make([]int64, n-m.warmup)},
	}
	// The policy's target keeps a pool: validated when the policy loaded.
	if pc, err := parsePool(p); err != nil {
		return nil, err
	} else if pc.size > 0 {
		r.f.pool = newStandbyPool(pc, m.lead)
		r.out.pool = &poolFigures{standby: make([]int64, n-m.warmup)}
	}
	if sc, err := parseSpot(p); err != nil {
		return nil, err
	} else if sc.on {
		if m.spot == nil {
			return nil, fmt.Errorf("target %s: the Spot tier is not modelled here (with -shapes every VM is priced on demand)", spotKeyMIGs)
		}
		r.spot = newSpotTier(sc, m.spot, r.f, n-m.warmup)
		r.out.spot = &r.spot.fig
	}
	next := time.Duration(m.warmup) * time.Minute
	for mi := m.warmup; mi < n; mi++ {
		if mi%4096 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		// Evaluations at times in (mi-1, mi] act from minute mi on.
		for ; next <= time.Duration(mi)*time.Minute; next += p.EvaluationInterval {
			if err := r.evaluate(next); err != nil {
				at := m.start.Add(next).Format(time.RFC3339)
				return nil, fmt.Errorf("policy %q at %s: %w", p.ID, at, err)
			}
		}
		r.f.advance(mi)
		s := mi - m.warmup
		r.out.workers[s] = r.f.serving
		r.out.billed[s] = r.f.billed()
		var requeued float64
		if sp := r.spot; sp != nil {
			sp.f.advance(mi)
			sp.step(r.f, mi, s, ceilMinutes(m.lead))
			sp.record(s)
			requeued = sp.fig.requeued[s]
			r.out.workers[s] = r.f.serving + sp.f.serving
			r.out.billed[s] = r.f.billed() + sp.f.billed()
			r.out.bootingMinutes += sp.f.bootingCount()
			r.out.drainingMinutes += sp.f.drainingCount()
		}
		if pool := r.f.pool; pool != nil {
			refilling := count(pool.refilling)
			r.out.billed[s] += refilling
			r.out.pool.refillMinutes += refilling
			r.out.pool.standby[s] = count(pool.ready)
		}
		r.out.bootingMinutes += r.f.bootingCount()
		r.out.drainingMinutes += r.f.drainingCount()
		if r.clamped {
			r.out.clampedMinutes++
		}
		r.backlog[s] = stepBacklog(r.backlogAt(mi-1), m.arrivals[mi]+requeued, r.out.workers[s], m.capacity)
	}
	if pool := r.f.pool; pool != nil {
		r.out.pool.warmStarts, r.out.pool.coldStarts = pool.warmStarts, pool.coldStarts
	}
	return r.out, nil
}

type replayState struct {
	m       *model
	p       *sdk.ScalingPolicy
	checks  []*replayCheck
	clock   *time.Time
	f       *fleet
	cd      cooldown
	backlog []float64
	results []checkResult
	out     *replayOutcome
	// clamped: the last complete evaluation had a check asking for more
	// than the policy's max.
	clamped bool
	// stateless: skip the strategies while Scale runs or cooldown holds.
	stateless bool
	// scalingUntil is when the last Scale returns; until then Status is
	// not ready.
	scalingUntil time.Time
	// spot is the Spot half of the fleet (f is then the standard half);
	// nil without spot_migs.
	spot *spotTier
}

// target is the count the target's Status reports: both tiers' target sizes.
func (r *replayState) target() int64 {
	if r.spot != nil {
		return r.f.target + r.spot.f.target
	}
	return r.f.target
}

// backlogAt is the backlog at the end of minute mi; the queue is empty
// until scoring starts.
func (r *replayState) backlogAt(mi int) float64 {
	if mi < r.m.warmup {
		return 0
	}
	return r.backlog[mi-r.m.warmup]
}

// evaluate is one agent tick at offset t from the trace start.
func (r *replayState) evaluate(t time.Duration) error {
	now := r.m.start.Add(t)
	*r.clock = now
	if now.Before(r.scalingUntil) {
		// target-gce-gpu reports not ready while its Scale runs, and the
		// agent then skips the tick before any query or strategy call.
		return nil
	}
	r.out.evaluations++
	if r.stateless && r.cd.blocks(now) {
		// Nothing would come of the vote; clamped keeps the last one.
		return nil
	}
	count := r.target()
	r.results = r.results[:0]
	failed := false // an evaluation counts once, however many checks failed
	for _, c := range r.checks {
		ms := r.metrics(c, t, count)
		if len(ms) == 0 {
			// The agent drops the evaluation when a query returns nothing.
			r.out.aborted++
			return nil
		}
		a, stratErr, err := runCheck(r.p, c.check, c.strat, ms, count, &c.ev)
		if stratErr != nil {
			if !failed {
				r.out.strategyErrors++
				failed = true
			}
			if r.out.firstError == "" {
				msg := stratErr.Error()
				// strategy-slope names the check itself.
				if prefix := fmt.Sprintf("check %q: ", c.check.Name); !strings.HasPrefix(msg, prefix) {
					msg = prefix + msg
				}
				r.out.firstError = now.Format(time.RFC3339) + ": " + msg
			}
		}
		if errors.Is(err, errAbortEvaluation) {
			r.out.aborted++
			return nil
		}
		if err != nil {
			return err
		}
		r.results = append(r.results, checkResult{action: a, group: c.check.Group})
	}
	r.clamped = false
	for _, c := range r.checks {
		r.out.maxWanted = max(r.out.maxWanted, c.ev.uncapped)
		r.clamped = r.clamped || c.ev.uncapped > r.p.Max
	}
	winner, ok := pickWinner(r.results)
	if !ok || !scalingNeeded(winner, count) || r.cd.blocks(now) {
		return nil
	}
	readyAt := ceilMinutes(t + r.m.lead)
	deleteAt := ceilMinutes(t + r.m.downWait)
	scaleStd := func(n int64) int64 {
		if r.f.pool != nil {
			return r.f.scaleWithPool(n, readyAt, ceilMinutes(t+r.m.warmLead), deleteAt)
		}
		return r.f.scaleTo(n, readyAt, deleteAt)
	}
	var got int64
	if r.spot != nil {
		got = r.spot.scale(r.f, winner.Count, ceilMinutes(t), scaleStd, readyAt, deleteAt)
	} else {
		got = scaleStd(winner.Count)
	}
	if got == count {
		// No serving worker to drain: target-gce-gpu answers with a
		// no-op error, and the agent starts no cooldown.
		return nil
	}
	// While Scale runs (the MIGs become stable; the drain and delete) the
	// target reports not ready and the agent takes no action; the
	// cooldown starts when Scale returns.
	wait := r.m.downWait
	if winner.Count > count {
		r.out.scaleUps++
		wait = r.m.upWait
	} else {
		r.out.scaleDowns++
	}
	r.scalingUntil = now.Add(wait)
	r.cd.start(r.p, winner, r.scalingUntil)
	return nil
}

// ceilMinutes is the first minute index at or after offset d.
func ceilMinutes(d time.Duration) int { return int((d + time.Minute - 1) / time.Minute) }

// metrics answers a check's query at offset t, into the check's own buffer
// (the strategy must not keep it after Run returns; the agent hands each
// call a fresh copy, the backtest reuses one to stay allocation-free).
func (r *replayState) metrics(c *replayCheck, t time.Duration, count int64) sdk.TimestampedMetrics {
	// The last complete minute before the end of the query window; for
	// the requests table, complete means settled: ended settle delay ago
	// (apm-rabbitmq's settle_delay), so rows committed late are in.
	end := t - c.check.QueryWindowOffset
	if c.kind == queryRate || c.kind == queryPerWorker {
		end -= r.m.settle
	}
	last := int(end/time.Minute) - 1
	ms := c.buf[:0]
	if last < 0 {
		return ms
	}
	switch c.kind {
	case queryRate:
		// A view of the trace, not a copy: copying a four-week window
		// at every evaluation was a fifth of a long replay. Its capacity
		// ends with it, so an append cannot reach later minutes; the
		// strategies the backtest runs leave their input as they found
		// it (TestTheStrategiesLeaveTheTraceAsTheyFoundIt holds them to
		// it), which is all the agent's fresh copy would add.
		first := max(0, last-c.window+1)
		return r.m.series[first : last+1 : last+1]
	case queryBacklog:
		ms = append(ms, sdk.TimestampedMetric{Timestamp: r.m.start.Add(t), Value: r.backlogAt(last)})
	case queryPerWorker:
		first := max(0, last-c.window+1)
		var sum float64
		for _, a := range r.m.arrivals[first : last+1] {
			sum += a
		}
		ms = append(ms, sdk.TimestampedMetric{Timestamp: r.m.series[last].Timestamp,
			Value: sum / float64(last+1-first) / float64(max(count, 1))})
	case queryScheduled:
		now := r.m.start.Add(t)
		ms = append(ms, sdk.TimestampedMetric{Timestamp: now, Value: float64(c.sched.at(now))})
	}
	c.buf = ms
	return ms
}

package backtest

import (
	"context"
	"fmt"
	"runtime"
	"sync"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/nomad-autoscaler/sdk"
)

// replayAutoscalers replays and scores the autoscaled strategies: the
// policy as given (slope), every configuration of the target-value grid,
// and predictive on the configuration the grid selects. The replays share
// only read-only inputs and each has its own strategy instances, so they
// run concurrently on GOMAXPROCS workers; every result lands in its own
// slot and the selection is a total order, so the outcome does not depend
// on scheduling.
func replayAutoscalers(ctx context.Context, cfg Config, m *model, p *sdk.ScalingPolicy, factory strategyFactory,
	sc *scorer) (map[string]StrategyResult, []GridEntry, error) {
	r := &replays{cfg: cfg, m: m, factory: factory, sc: sc, log: cfg.Logger,
		pool: newPool(ctx, runtime.GOMAXPROCS(0)), out: make(map[string]StrategyResult, 3)}
	if r.log == nil {
		r.log = hclog.NewNullLogger()
	}
	defer r.pool.cancel()
	// The policy's replay is the longest: it goes first.
	r.pool.Go(func(ctx context.Context) error { return r.keep(r.replay(ctx, NameSlope, p, nil, "")) })

	configs := targetValueGrid()
	grid := newGridSelection(len(configs), 0)
	// slo selects among the configurations at least PeerAvailability
	// available (NameTargetValueSLO); unused when it is 0.
	slo := newGridSelection(len(configs), cfg.PeerAvailability)
	var best, bestSLO StrategyResult
	var gridDone sync.WaitGroup
	for i, c := range configs {
		gridDone.Add(1)
		r.pool.Go(func(ctx context.Context) error {
			defer gridDone.Done()
			sr, err := r.replay(ctx, NameTargetValue, targetValuePolicy(p, m.capacity, c), &peerOptions{stateless: true}, c.String())
			if err != nil {
				return err
			}
			r.mu.Lock()
			defer r.mu.Unlock()
			// Only the best replays' series are kept: the others are
			// summed up in their grid entries.
			e := gridEntry(c, &sr)
			if grid.offer(i, e) {
				best = sr
			}
			if cfg.PeerAvailability > 0 && slo.offer(i, e) {
				bestSLO = sr
			}
			return nil
		})
	}
	gridDone.Wait()
	if slo.best >= 0 && r.pool.ctx.Err() == nil {
		grid.entries[slo.best].SelectedSLO = true
		bestSLO.Name = NameTargetValueSLO
		r.out[NameTargetValueSLO] = bestSLO
	}

	if grid.best >= 0 && r.pool.ctx.Err() == nil {
		grid.entries[grid.best].Selected = true
		r.out[NameTargetValue] = best
		c := configs[grid.best]
		peer := &peerOptions{stateless: true,
			sched: newCapacitySchedule(m.start, m.arrivals, c.TargetFraction*m.capacity, m.lead)}
		r.pool.Go(func(ctx context.Context) error {
			return r.keep(r.replay(ctx, NamePredictive, predictivePolicy(p, m.capacity, c), peer, c.String()))
		})
	}
	if err := r.pool.Wait(); err != nil {
		return nil, nil, err
	}
	return r.out, grid.entries, nil
}

// replays is what the concurrent replays of one run share.
type replays struct {
	cfg     Config
	m       *model
	factory strategyFactory
	sc      *scorer
	log     hclog.Logger
	pool    *pool
	mu      sync.Mutex
	out     map[string]StrategyResult
}

// replay replays policy pol as the strategy called name and scores it;
// config names the target-value configuration it runs, if any.
func (r *replays) replay(ctx context.Context, name string, pol *sdk.ScalingPolicy, peer *peerOptions, config string) (StrategyResult, error) {
	o, err := replayOne(ctx, r.m, pol, r.log.Named(name), r.factory, peer)
	if err != nil {
		if config != "" {
			name += " (" + config + ")"
		}
		return StrategyResult{}, fmt.Errorf("%s: %w", name, err)
	}
	sr := r.sc.fresh().result(name, o, r.cfg.Price)
	sr.addPool(o, r.cfg.Price, r.cfg.StandbyPrice)
	sr.addSpot(o, r.cfg.Price, r.cfg.SpotPrice)
	sr.Config = config
	return sr, nil
}

// keep records a replayed strategy's result.
func (r *replays) keep(sr StrategyResult, err error) error {
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.out[sr.Name] = sr
	return nil
}

// fresh is a scorer on the same minutes with its own scratch space, for
// one goroutine.
func (s *scorer) fresh() *scorer { return &scorer{arrivals: s.arrivals, cal: s.cal, p: s.p} }

// pool runs functions on at most n goroutines at a time. The first error
// cancels the context the others run under, and is what Wait returns.
type pool struct {
	ctx    context.Context
	cancel context.CancelFunc
	slots  chan struct{}
	wg     sync.WaitGroup
	once   sync.Once
	err    error
}

func newPool(ctx context.Context, n int) *pool {
	ctx, cancel := context.WithCancel(ctx)
	return &pool{ctx: ctx, cancel: cancel, slots: make(chan struct{}, max(1, n))}
}

// Go runs f as soon as a slot is free; it blocks until then.
func (p *pool) Go(f func(context.Context) error) {
	p.slots <- struct{}{}
	p.wg.Go(func() {
		defer func() { <-p.slots }()
		if err := f(p.ctx); err != nil {
			p.once.Do(func() {
				p.err = err
				p.cancel()
			})
		}
	})
}

// Wait waits for every function and returns the first error.
func (p *pool) Wait() error {
	p.wg.Wait()
	return p.err
}

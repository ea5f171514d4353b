package backtest

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hashicorp/nomad-autoscaler/sdk"
)

// The target block's keys of target-gce-gpu's warm pool (issue 13) that the
// backtest reads, with the plugin's defaults.
const (
	poolKeySize   = "standby_size"
	poolKeyMaxAge = "standby_max_age"
	// poolKeyRefillDelay is how long the pool stays short before the target
	// creates VMs to refill it; meanwhile scale-ins refill it by stopping
	// drained workers, for free. Default 0: at once, as issue 13 words it.
	poolKeyRefillDelay = "standby_refill_delay"
	defaultPoolAge     = 7 * 24 * time.Hour
	// maxPoolSize is target-gce-gpu's bound on standby_size: a size the
	// target refuses must not be replayed, nor suggested by -standby-sizes.
	maxPoolSize      = 1000
	maxPoolAge       = 2160 * time.Hour // standby_max_age, target-gce-gpu's bound
	maxRefillDelay   = 24 * time.Hour
	DefaultWarmLead  = 90 * time.Second
	DefaultPoolPrice = 0.03 // a stopped VM's 200 GB pd-balanced disk, per hour
)

// poolConfig is the warm pool a policy's target keeps: size stopped VMs,
// each recycled (deleted and created again) after maxAge.
type poolConfig struct {
	size        int64
	maxAge      time.Duration
	refillDelay time.Duration
}

// parsePool reads standby_size and standby_max_age from the policy's
// target block; a policy without them, or without a target, has no pool.
// Errors name the key and the value, all together.
func parsePool(p *sdk.ScalingPolicy) (poolConfig, error) {
	pc := poolConfig{maxAge: defaultPoolAge}
	if p.Target == nil {
		return pc, nil
	}
	var errs []error
	if v, ok := p.Target.Config[poolKeySize]; ok {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 || n > maxPoolSize {
			errs = append(errs, fmt.Errorf("target %s %q: want a whole number of VMs from 0 to %d (target-gce-gpu's bounds)", poolKeySize, v, maxPoolSize))
		}
		pc.size = n
	}
	if v, ok := p.Target.Config[poolKeyMaxAge]; ok {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Minute || d > maxPoolAge {
			errs = append(errs, fmt.Errorf("target %s %q: want a duration from 1m to 2160h (target-gce-gpu's bounds), such as 168h", poolKeyMaxAge, v))
		}
		pc.maxAge = d
	}
	if v, ok := p.Target.Config[poolKeyRefillDelay]; ok {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > maxRefillDelay {
			errs = append(errs, fmt.Errorf("target %s %q: want a duration from 0s to 24h (target-gce-gpu's bounds), such as 2h", poolKeyRefillDelay, v))
		}
		pc.refillDelay = d
	}
	return pc, errors.Join(errs...)
}

// standbyPool is the fleet's pool of stopped VMs, in whole minutes. A
// scale-out starts pool VMs first (they serve after the warm lead) and
// creates the rest (after the lead); a scale-in stops drained workers into
// the pool while it is short and deletes the rest; a short pool refills in
// the background by creating VMs that are stopped once ready (a refill takes
// the lead and is billed as a running VM meanwhile). A stopped VM older than
// maxAge is recycled the same way.
type standbyPool struct {
	size   int64
	maxAge int // minutes
	refill int // minutes a refill takes
	// delay is how many minutes the pool stays short before refills are
	// created (0: at the scale-out that made it short); shortSince is the
	// minute it became short, -1 while it is not.
	delay, shortSince int
	// ready holds stopped VMs by the minute they entered the pool,
	// ascending; stopping holds drained workers being stopped into it and
	// refilling VMs created to refill it, each by the minute they join.
	ready, stopping, refilling []cohort
	warmStarts, coldStarts     int64
}

func newStandbyPool(pc poolConfig, lead time.Duration) *standbyPool {
	p := &standbyPool{size: pc.size, maxAge: max(1, int(pc.maxAge/time.Minute)), refill: ceilMinutes(lead),
		delay: ceilMinutes(pc.refillDelay), shortSince: -1}
	p.ready = []cohort{{at: 0, n: pc.size}}
	return p
}

func count(cs []cohort) int64 {
	var n int64
	for _, c := range cs {
		n += c.n
	}
	return n
}

// short is how many VMs the pool lacks, counting those on their way.
func (p *standbyPool) short() int64 {
	return max(0, p.size-count(p.ready)-count(p.stopping)-count(p.refilling))
}

// take removes up to n stopped VMs, the oldest first, and returns how many.
func (p *standbyPool) take(n int64) int64 {
	var got int64
	for len(p.ready) > 0 && got < n {
		k := min(p.ready[0].n, n-got)
		got += k
		if p.ready[0].n -= k; p.ready[0].n == 0 {
			p.ready = p.ready[1:]
		}
	}
	return got
}

// insertCohort adds n at minute at, keeping cs sorted by at.
func insertCohort(cs []cohort, at int, n int64) []cohort {
	i := len(cs)
	for i > 0 && cs[i-1].at > at {
		i--
	}
	if i > 0 && cs[i-1].at == at {
		cs[i-1].n += n
		return cs
	}
	cs = append(cs, cohort{})
	copy(cs[i+1:], cs[i:])
	cs[i] = cohort{at: at, n: n}
	return cs
}

// scaleWithPool is scaleTo for a fleet with a pool: more workers come from
// the pool first (serving at warmAt), then new VMs (at readyAt), and the
// pool refills (done at readyAt); fewer workers drain now, are deleted or
// stopped at deleteAt, the stopped ones filling the pool.
func (f *fleet) scaleWithPool(n int64, readyAt, warmAt, deleteAt int) int64 {
	p := f.pool
	switch {
	case n > f.target:
		k := n - f.target
		warm := p.take(k)
		if warm > 0 {
			f.booting = insertCohort(f.booting, warmAt, warm)
		}
		if cold := k - warm; cold > 0 {
			f.booting = insertCohort(f.booting, readyAt, cold)
		}
		p.warmStarts += warm
		p.coldStarts += k - warm
		f.target = n
		if s := p.short(); s > 0 && p.delay == 0 {
			p.refilling = insertCohort(p.refilling, readyAt, s)
		}
	case n < f.target:
		remove := min(f.target-n, f.serving)
		if remove > 0 {
			f.serving -= remove
			f.target -= remove
			f.draining = insertCohort(f.draining, deleteAt, remove)
			if s := min(remove, p.short()); s > 0 {
				p.stopping = insertCohort(p.stopping, deleteAt, s)
			}
		}
	}
	return f.target
}

// advance moves the VMs stopped or refilled by minute m into the pool and
// recycles the stopped VMs that reached maxAge.
func (p *standbyPool) advance(m int) {
	var n int64
	p.stopping, n = dueCohorts(p.stopping, m)
	if n > 0 {
		p.ready = insertCohort(p.ready, m, n)
	}
	p.refilling, n = dueCohorts(p.refilling, m)
	if n > 0 {
		p.ready = insertCohort(p.ready, m, n)
	}
	if len(p.ready) > 0 && p.ready[0].at+p.maxAge <= m {
		var old int64
		p.ready, old = dueCohorts(p.ready, m-p.maxAge)
		p.refilling = insertCohort(p.refilling, m+p.refill, old)
	}
	switch s := p.short(); {
	case s == 0 || p.delay == 0:
		p.shortSince = -1
	case p.shortSince < 0:
		p.shortSince = m
	}
	if p.shortSince >= 0 && m-p.shortSince >= p.delay {
		p.refilling = insertCohort(p.refilling, m+p.refill, p.short())
		p.shortSince = -1
	}
}

// poolFigures are what a replay's pool did over the scored minutes.
type poolFigures struct {
	standby       []int64 // stopped VMs in each scored minute
	refillMinutes int64   // sum over scored minutes of VMs refilling
	warmStarts    int64
	coldStarts    int64
}

// addPool adds a replay's pool to its result: the refills are billed as
// running VMs, the stopped VMs at standbyPrice per VM-hour.
func (sr *StrategyResult) addPool(o *replayOutcome, price, standbyPrice float64) {
	if o.pool == nil {
		return
	}
	sr.StandbyVMs = o.pool.standby
	var vmMinutes int64
	for _, n := range o.pool.standby {
		vmMinutes += n
	}
	sr.StandbyVMHours = float64(vmMinutes) / 60
	sr.RefillWorkerHours = float64(o.pool.refillMinutes) / 60
	sr.WarmStarts, sr.ColdStarts = o.pool.warmStarts, o.pool.coldStarts
	sr.BilledWorkerHours += sr.RefillWorkerHours
	sr.StandbyCost = sr.StandbyVMHours * standbyPrice
	sr.Cost = sr.BilledWorkerHours*price + sr.StandbyCost
}

package backtest

import (
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/hashicorp/nomad-autoscaler/sdk"
	"github.com/shoenig/test/must"
)

func poolPolicy(size string) *sdk.ScalingPolicy {
	p := testPolicy("")
	p.Cooldown, p.CooldownOnScaleUp = 0, 0
	p.Target = &sdk.ScalingPolicyTarget{Name: "gce-gpu", Config: map[string]string{poolKeySize: size}}
	return p
}

func TestParsePoolReadsTheTargetKeysAndNamesEveryBadValue(t *testing.T) {
	t.Parallel()
	pc, err := parsePool(testPolicy(""))
	must.NoError(t, err)
	must.Eq(t, poolConfig{maxAge: 7 * 24 * time.Hour}, pc)

	p := poolPolicy("4")
	p.Target.Config[poolKeyMaxAge] = "48h"
	pc, err = parsePool(p)
	must.NoError(t, err)
	must.Eq(t, poolConfig{size: 4, maxAge: 48 * time.Hour}, pc)

	p = poolPolicy("-1")
	p.Target.Config[poolKeyMaxAge] = "5s"
	_, err = parsePool(p)
	must.ErrorContains(t, err, `standby_size "-1"`)
	must.ErrorContains(t, err, `standby_max_age "5s"`)
	p = poolPolicy("2")
	p.Target.Config[poolKeyMaxAge] = "2161h"
	_, err = parsePool(p)
	must.ErrorContains(t, err, `standby_max_age "2161h": want a duration from 1m to 2160h (target-gce-gpu's bounds)`)
	_, err = parsePool(poolPolicy("1001"))
	must.ErrorContains(t, err, `standby_size "1001": want a whole number of VMs from 0 to 1000 (target-gce-gpu's bounds)`)
	_, err = parsePool(poolPolicy("two"))
	must.ErrorContains(t, err, `standby_size "two"`)
	p = poolPolicy("2")
	p.Target.Config[poolKeyRefillDelay] = "25h"
	_, err = parsePool(p)
	must.ErrorContains(t, err, `standby_refill_delay "25h"`, must.Sprint("target-gce-gpu refuses it too"))
	// The policy loader refuses it too.
	must.ErrorContains(t, validatePolicy(poolPolicy("two")), `standby_size "two"`)
}

// Pool of 2, lead 5m, warm lead 2m: a scale-out from 2 to 5 at minute 60
// takes both stopped VMs (serving at 62) and creates one (serving at 65);
// the pool refills with two VMs created at 60 and stopped at 65.
func TestReplayServesPoolWorkersAfterTheWarmLeadAndRefillsThePool(t *testing.T) {
	t.Parallel()
	m := tinyModel(2)
	m.warmLead = 2 * time.Minute
	out := replayFake(t, m, poolPolicy("2"), queryRate, 1, &fakeStrategy{decide: wants(5)})
	must.Eq(t, []int64{2, 2, 4, 4, 4, 5, 5, 5, 5, 5}, out.workers)
	must.Eq(t, []int64{0, 0, 0, 0, 0, 2, 2, 2, 2, 2}, out.pool.standby)
	// Booting: 3 at 60-61, the cold one alone at 62-64.
	must.Eq(t, int64(3+3+1+1+1), out.bootingMinutes)
	// Two refills run from 60 to 64, billed as running VMs.
	must.Eq(t, int64(2*5), out.pool.refillMinutes)
	must.Eq(t, []int64{7, 7, 7, 7, 7, 5, 5, 5, 5, 5}, out.billed)
	must.Eq(t, int64(2), out.pool.warmStarts)
	must.Eq(t, int64(1), out.pool.coldStarts)

	// Cost: (41 serving + 9 booting + 10 refill) worker-minutes = 1 h at
	// 0.95, plus 10 stopped VM-minutes at 0.03 per hour.
	sr := StrategyResult{BilledWorkerHours: float64(41+9) / 60}
	sr.addPool(out, 0.95, 0.03)
	must.Eq(t, 1.0, sr.BilledWorkerHours)
	must.True(t, math.Abs(sr.Cost-(0.95+0.005)) < 1e-12, must.Sprint(sr.Cost))
	must.True(t, math.Abs(sr.StandbyCost-0.005) < 1e-12)
	must.Eq(t, out.pool.standby, sr.StandbyVMs)
}

func TestAPoolOfZeroReplaysExactlyAsNoPool(t *testing.T) {
	t.Parallel()
	p := testPolicy("")
	p.Cooldown, p.CooldownOnScaleUp = 0, 0
	plain := replayFake(t, tinyModel(2), p, queryRate, 1, &fakeStrategy{decide: wants(5, 5, 1, 6)})
	zero := replayFake(t, tinyModel(2), poolPolicy("0"), queryRate, 1, &fakeStrategy{decide: wants(5, 5, 1, 6)})
	must.Nil(t, zero.pool)
	must.True(t, reflect.DeepEqual(plain, zero))
	sr := StrategyResult{Cost: 1, BilledWorkerHours: 2}
	sr.addPool(zero, 0.95, 0.03)
	must.Eq(t, StrategyResult{Cost: 1, BilledWorkerHours: 2}, sr)
}

// A scale-in stops drained workers while the pool is short, deletes the
// rest, and the stopped ones join the pool when their VMs stop.
func TestScaleInStopsDrainedWorkersIntoAShortPoolAndDeletesTheRest(t *testing.T) {
	t.Parallel()
	f := newFleet(5)
	f.pool = newStandbyPool(poolConfig{size: 3, maxAge: time.Hour}, 5*time.Minute)
	f.pool.ready = []cohort{{at: 0, n: 1}}
	must.Eq(t, int64(1), f.scaleWithPool(1, 15, 12, 12))
	must.Eq(t, int64(4), f.drainingCount())
	must.Eq(t, []cohort{{at: 12, n: 2}}, f.pool.stopping)
	f.advance(11)
	must.Eq(t, int64(1), count(f.pool.ready))
	f.advance(12)
	must.Eq(t, int64(0), f.drainingCount())
	must.Eq(t, int64(3), count(f.pool.ready))
	must.Eq(t, int64(0), f.pool.short())
	// The next scale-out is warm for 3 and cold for 1; 3 refills start.
	must.Eq(t, int64(5), f.scaleWithPool(5, 20, 17, 0))
	must.Eq(t, []cohort{{at: 17, n: 3}, {at: 20, n: 1}}, f.booting)
	must.Eq(t, []cohort{{at: 20, n: 3}}, f.pool.refilling)
}

// Booting cohorts stay sorted when a warm order is ready before an earlier
// cold one, so that every worker serves at its own minute.
func TestAWarmOrderReadyBeforeAnEarlierColdOneServesFirst(t *testing.T) {
	t.Parallel()
	f := newFleet(1)
	f.pool = newStandbyPool(poolConfig{size: 1, maxAge: time.Hour}, 5*time.Minute)
	f.pool.ready = nil
	f.scaleWithPool(2, 15, 12, 0) // cold, ready at 15
	f.pool.ready = []cohort{{at: 10, n: 1}}
	f.scaleWithPool(3, 16, 13, 0) // warm, ready at 13
	f.advance(13)
	must.Eq(t, int64(2), f.serving)
	f.advance(15)
	must.Eq(t, int64(3), f.serving)
}

// A stopped VM older than standby_max_age is recycled: deleted and created
// again, out of the pool for one lead.
func TestAStoppedVMOlderThanTheMaxAgeIsRecycled(t *testing.T) {
	t.Parallel()
	p := newStandbyPool(poolConfig{size: 2, maxAge: time.Hour}, 5*time.Minute)
	p.advance(59)
	must.Eq(t, int64(2), count(p.ready))
	p.advance(60)
	must.Eq(t, int64(0), count(p.ready))
	must.Eq(t, []cohort{{at: 65, n: 2}}, p.refilling)
	p.advance(65)
	must.Eq(t, []cohort{{at: 65, n: 2}}, p.ready)
}

func TestConfigNamesABadWarmLeadAndStandbyPrice(t *testing.T) {
	t.Parallel()
	c := DefaultConfig()
	c.WarmLead, c.StandbyPrice = -time.Second, -1
	err := c.Validate()
	must.ErrorContains(t, err, `-warm-lead "-1s"`)
	must.ErrorContains(t, err, `-standby-price "-1"`)
}

// With standby_refill_delay the pool waits for scale-ins to refill it by
// stopping drained workers, and creates VMs only for what is still short
// after the delay.
func TestARefillDelayLetsScaleInsRefillThePoolFirst(t *testing.T) {
	t.Parallel()
	p := poolPolicy("2")
	p.Target.Config[poolKeyRefillDelay] = "30m"
	pc, err := parsePool(p)
	must.NoError(t, err)
	f := newFleet(3)
	f.pool = newStandbyPool(pc, 5*time.Minute)
	f.scaleWithPool(5, 15, 12, 0) // both stopped VMs, no refill yet
	must.Nil(t, f.pool.refilling)
	for m := 10; m <= 19; m++ {
		f.advance(m)
	}
	f.scaleWithPool(4, 0, 0, 21) // one drained worker stopped into the pool
	must.Eq(t, []cohort{{at: 21, n: 1}}, f.pool.stopping)
	for m := 20; m <= 39; m++ {
		f.advance(m)
	}
	must.Nil(t, f.pool.refilling)
	f.advance(40) // short since minute 10: 30 minutes
	must.Eq(t, []cohort{{at: 45, n: 1}}, f.pool.refilling)
	f.advance(45)
	must.Eq(t, int64(2), count(f.pool.ready))

	p.Target.Config[poolKeyRefillDelay] = "-1m"
	_, err = parsePool(p)
	must.ErrorContains(t, err, `standby_refill_delay "-1m"`)
}

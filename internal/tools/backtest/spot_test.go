package backtest

import (
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/hashicorp/nomad-autoscaler/sdk"
	"github.com/shoenig/test/must"
)

// spotPolicy is testPolicy without cooldowns, its target keeping a Spot
// tier with the given keys.
func spotPolicy(kv ...string) *sdk.ScalingPolicy {
	p := testPolicy("")
	p.Cooldown, p.CooldownOnScaleUp = 0, 0
	cfg := map[string]string{spotKeyMIGs: "us-central1-a/gpu-spot-a,us-central1-b/gpu-spot-b"}
	for i := 0; i+1 < len(kv); i += 2 {
		cfg[kv[i]] = kv[i+1]
	}
	p.Target = &sdk.ScalingPolicyTarget{Name: "gce-gpu", Config: cfg}
	return p
}

func TestParseSpotReadsTheTargetKeysAndNamesEveryBadValue(t *testing.T) {
	t.Parallel()
	sc, err := parseSpot(testPolicy(""))
	must.NoError(t, err)
	must.Eq(t, spotConfig{share: 0.6, cooldown: 30 * time.Minute}, sc)

	sc, err = parseSpot(spotPolicy(spotKeyShare, "0.75", spotKeyCooldown, "10m"))
	must.NoError(t, err)
	must.Eq(t, spotConfig{on: true, share: 0.75, cooldown: 10 * time.Minute}, sc)

	// An empty list is no Spot tier: the keys beside it change nothing.
	sc, err = parseSpot(spotPolicy(spotKeyMIGs, "", spotKeyShare, "0.9"))
	must.NoError(t, err)
	must.False(t, sc.on)

	_, err = parseSpot(spotPolicy(spotKeyMIGs, "us-central1-a", spotKeyShare, "1.5", spotKeyCooldown, "-1m"))
	must.ErrorContains(t, err, `spot_migs "us-central1-a": item "us-central1-a": want zone/name`)
	must.ErrorContains(t, err, `spot_share "1.5"`)
	must.ErrorContains(t, err, `spot_cooldown "-1m"`)
	_, err = parseSpot(spotPolicy(spotKeyShare, "most"))
	must.ErrorContains(t, err, `spot_share "most"`)
	_, err = parseSpot(spotPolicy(spotKeyCooldown, "25h"))
	must.ErrorContains(t, err, `spot_cooldown "25h": want a duration from 0s to 24h (target-gce-gpu's bounds)`)
	// The policy loader refuses it too.
	must.ErrorContains(t, validatePolicy(spotPolicy(spotKeyShare, "most")), `spot_share "most"`)
}

func TestSpotFlagsAreParsedAndBadValuesNamed(t *testing.T) {
	t.Parallel()
	o, err := parseFlags([]string{"-trace", "t.csv", "-spot-price", "0.3", "-preemption-rate", "0.05",
		"-spot-outage", "30m", "-seed", "7"}, nil)
	must.NoError(t, err)
	must.Eq(t, 0.3, o.cfg.SpotPrice)
	must.Eq(t, 0.05, o.cfg.PreemptionRate)
	must.Eq(t, 30*time.Minute, o.cfg.SpotOutage)
	must.Eq(t, int64(7), o.cfg.Seed)

	c := DefaultConfig()
	c.SpotPrice, c.PreemptionRate, c.SpotOutage, c.Seed = -1, 61, 25*time.Hour, -2
	err = c.Validate()
	must.ErrorContains(t, err, `-spot-price "-1"`)
	must.ErrorContains(t, err, `-preemption-rate "61"`)
	must.ErrorContains(t, err, `-spot-outage "25h0m0s"`)
	must.ErrorContains(t, err, `-seed "-2"`)
}

// Share 0.6 of 10 is 6 on Spot. The fleet starts at 2 (1 standard, 1 Spot:
// floor(0.6 x 2) = 1); the scale-out to 10 at minute 60 fills standard up
// to 10 - 6 = 4 first (3 more), then puts 5 on Spot. All serve at 65.
func TestSpotScaleOutFillsTheStandardShareFirstThenSpot(t *testing.T) {
	t.Parallel()
	m := tinyModel(2)
	m.spot = &spotModel{}
	out := replayFake(t, m, spotPolicy(), queryRate, 1, &fakeStrategy{decide: wants(10)})
	must.Eq(t, []int64{2, 2, 2, 2, 2, 10, 10, 10, 10, 10}, out.workers)
	must.Eq(t, []int64{1, 1, 1, 1, 1, 6, 6, 6, 6, 6}, out.spot.serving)
	must.Eq(t, []int64{6, 6, 6, 6, 6, 6, 6, 6, 6, 6}, out.spot.billed)
	must.Eq(t, int64(0), out.spot.preempted)
	must.Eq(t, 0, out.spot.unavailableMinutes)
}

// Fleet 10 (4 standard, 6 Spot), 50 requests a minute at 10 per worker.
// The daily outage at minute 62 preempts the 6 Spot workers: the fleet
// serves 40 a minute until their standard replacements serve at 67, and
// their in-flight work (1.5 requests each) joins minute 62's arrivals:
//
//	backlog 62: 50 + 9 - 40 = 19; 63: 29; 64: 39; 65: 49; 66: 59;
//	67: 59 + 50 - 100 = 9; 68: 0.
//
// The strategy's backlog query sees each minute's backlog one minute later.
// Spot stays unavailable for max(outage 10m, cooldown 30m) from 62: all
// 8 minutes left.
func TestSpotOutagePreemptsEverySpotWorkerAndStandardReplacesThemAfterTheLead(t *testing.T) {
	t.Parallel()
	m := tinyModel(10, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50)
	m.spot = &spotModel{outageStarts: []int{62}, outage: 10, inflight: 1.5}
	s := &fakeStrategy{decide: wants(10)}
	out := replayFake(t, m, spotPolicy(), queryBacklog, 1, s)
	must.Eq(t, []int64{10, 10, 4, 4, 4, 4, 4, 10, 10, 10}, out.workers)
	must.Eq(t, []int64{6, 6, 0, 0, 0, 0, 0, 0, 0, 0}, out.spot.serving)
	must.Eq(t, []float64{0, 0, 9, 0, 0, 0, 0, 0, 0, 0}, out.spot.requeued)
	must.Eq(t, int64(6), out.spot.preempted)
	must.Eq(t, int64(6), out.spot.byOutage)
	must.Eq(t, 8, out.spot.unavailableMinutes)
	// Booting replacements are billed: the bill stays at 10.
	must.Eq(t, []int64{10, 10, 10, 10, 10, 10, 10, 10, 10, 10}, out.billed)
	must.Eq(t, []int64{6, 6, 0, 0, 0, 0, 0, 0, 0, 0}, out.spot.billed)
	var seen []float64
	for _, c := range s.calls {
		seen = append(seen, c.metrics[0].Value)
	}
	must.Eq(t, []float64{0, 0, 0, 19, 29, 39, 49, 59, 9, 0}, seen)
	// The target count never moved: replacements count as booting.
	for _, c := range s.calls {
		must.Eq(t, int64(10), c.count)
	}

	// 100 billed worker-minutes, 12 of them Spot: at 1.00 standard and
	// 0.50 Spot, (88 + 6) / 60.
	sr := StrategyResult{BilledWorkerHours: 100.0 / 60}
	sr.addSpot(out, 1, 0.5)
	must.True(t, math.Abs(sr.Cost-94.0/60) < 1e-12, must.Sprint(sr.Cost))
	must.True(t, math.Abs(sr.Spot.StandardCost-88.0/60) < 1e-12)
	must.True(t, math.Abs(sr.Spot.SpotCost-6.0/60) < 1e-12)
	must.Eq(t, 12.0/60, sr.Spot.WorkerHours)
	must.Eq(t, 9.0, sr.Spot.RequeuedRequests)
}

// Share 0.5, cooldown 3m, fleet 4 (2 standard, 2 Spot); the outage at 60
// lasts 2 minutes, so Spot is back at 63.
//
//	t=60 wants 4 (none); the outage preempts both Spot workers, whose
//	     standard replacements serve at 65.
//	t=61 wants 6: Spot is unavailable, both go to standard (serve at 66).
//	t=63 wants 8: Spot is back; standard already holds 6 >= 8 - 4, so both
//	     go to Spot (serve at 68): the fleet drifts back to the cheap tier.
//	t=67 wants 6: standard is removed first, down to 6 - 3 = 3 at most:
//	     2 standard workers, while the 2 Spot ones keep booting.
func TestSpotFallsBackToStandardThenScaleOutsPreferSpotAndScaleInsRemoveStandardFirst(t *testing.T) {
	t.Parallel()
	m := tinyModel(4)
	m.spot = &spotModel{outageStarts: []int{60}, outage: 2}
	s := &fakeStrategy{decide: wants(4, 6, 6, 8, 8, 8, 8, 6)}
	out := replayFake(t, m, spotPolicy(spotKeyShare, "0.5", spotKeyCooldown, "3m"), queryRate, 1, s)
	must.Eq(t, []int64{2, 2, 2, 2, 2, 4, 6, 4, 6, 6}, out.workers)
	must.Eq(t, []int64{0, 0, 0, 0, 0, 0, 0, 0, 2, 2}, out.spot.serving)
	must.Eq(t, []int64{4, 6, 6, 8, 8, 8, 8, 6, 6, 6}, out.billed)
	must.Eq(t, []int64{0, 0, 0, 2, 2, 2, 2, 2, 2, 2}, out.spot.billed)
	must.Eq(t, 3, out.spot.unavailableMinutes)
	must.Eq(t, int64(2), out.spot.preempted)
	var counts []int64
	for _, c := range s.calls {
		counts = append(counts, c.count)
	}
	must.Eq(t, []int64{4, 4, 6, 6, 8, 8, 8, 8, 6, 6}, counts)
}

// At spot_share 0.8 a fleet of 2 is 1 standard and 1 Spot. A surge to 10
// (standard floor 2) fills the floor with one stopped VM and starts the
// pool's other three on standard too, serving at the warm lead; only 4 new
// workers are Spot. An ordinary scale-out after it (10 -> 12, a quarter of
// the fleet or less) puts both on Spot and leaves the pool alone.
func TestSpotSurgeStartsTheStandardPoolBeforeCreatingSpotVMs(t *testing.T) {
	t.Parallel()
	std := newFleet(2)
	std.pool = newStandbyPool(poolConfig{size: 4, maxAge: time.Hour}, 5*time.Minute)
	s := newSpotTier(spotConfig{share: 0.8}, &spotModel{}, std, 10)
	scaleStd := func(n int64) int64 { return std.scaleWithPool(n, 5, 2, 1) }
	must.Eq(t, int64(10), s.scale(std, 10, 0, scaleStd, 5, 1))
	must.Eq(t, int64(5), std.target)
	must.Eq(t, int64(5), s.f.target)
	must.Eq(t, []cohort{{at: 2, n: 4}}, std.booting, must.Sprint("the four from the pool serve at the warm lead"))
	must.Eq(t, int64(0), count(std.pool.ready))
	std.pool.ready = []cohort{{at: 3, n: 4}} // refilled
	must.Eq(t, int64(12), s.scale(std, 12, 6, scaleStd, 11, 7))
	must.Eq(t, int64(5), std.target)
	must.Eq(t, int64(7), s.f.target)
	must.Eq(t, int64(4), count(std.pool.ready))
}

func TestSpotKeysWithoutSpotMIGsReplayExactlyAsNoSpot(t *testing.T) {
	t.Parallel()
	plain := replayFake(t, tinyModel(2), spotPolicy(spotKeyMIGs, ""), queryRate, 1, &fakeStrategy{decide: wants(5, 5, 1, 6)})
	p := testPolicy("")
	p.Cooldown, p.CooldownOnScaleUp = 0, 0
	none := replayFake(t, tinyModel(2), p, queryRate, 1, &fakeStrategy{decide: wants(5, 5, 1, 6)})
	must.Nil(t, plain.spot)
	must.True(t, reflect.DeepEqual(plain, none))
	sr := StrategyResult{Cost: 1, BilledWorkerHours: 2}
	sr.addSpot(plain, 0.95, 0.38)
	must.Eq(t, StrategyResult{Cost: 1, BilledWorkerHours: 2}, sr)
}

func TestSpotIsRefusedWhereItIsNotModelled(t *testing.T) {
	t.Parallel()
	m := tinyModel(2) // no spot model, as in -shapes
	clock := m.start
	_, err := replay(t.Context(), m, spotPolicy(), []*replayCheck{{check: testCheck(""), kind: queryRate, window: 1,
		strat: &fakeStrategy{decide: wants(2), clock: &clock}}}, &clock, false)
	must.ErrorContains(t, err, "spot_migs")
}

// Random preemptions: a binomial draw per minute, the same for the same
// seed, with the asked mean.
func TestSpotPreemptionDrawsAreSeededAndHaveTheAskedRate(t *testing.T) {
	t.Parallel()
	draws := func(seed uint64, p float64) []int64 {
		tier := newSpotTier(spotConfig{share: 1}, &spotModel{perMinute: p, seed: seed}, newFleet(0), 0)
		out := make([]int64, 2000)
		for i := range out {
			out[i] = tier.draw(500)
		}
		return out
	}
	a, b, c := draws(1, 0.01), draws(1, 0.01), draws(2, 0.01)
	must.Eq(t, a, b)
	must.NotEq(t, a, c)
	var sum int64
	for _, k := range a {
		must.Between(t, 0, k, 500)
		sum += k
	}
	// Expected 2000 x 500 x 0.01 = 10,000 (standard deviation about 100).
	must.Between(t, 9_600, sum, 10_400)
	must.Eq(t, []int64{500, 500}, draws(1, 1)[:2])
	must.Eq(t, []int64{0, 0}, draws(1, 0)[:2])
}

// Two local days of 08:00-12:00 business hours; every minute has one
// request, except day 1's 10:00 hour (two each). Day 2 is flat, so its
// first hour wins the tie. In Asia/Kolkata (UTC+05:30) the hours are local.
func TestBusiestBusinessHoursAreTheLocalClockHoursWithTheMostArrivals(t *testing.T) {
	t.Parallel()
	for _, tz := range []string{"UTC", "Asia/Kolkata"} {
		loc, err := time.LoadLocation(tz)
		must.NoError(t, err)
		start := time.Date(2026, 1, 5, 0, 0, 0, 0, loc)
		n := 2 * 1440
		arrivals := make([]float64, n)
		for i := range arrivals {
			arrivals[i] = 1
		}
		for i := 600; i < 660; i++ {
			arrivals[i] = 2
		}
		cal := newCalendar(start, n, loc, businessHours{start: 8 * 60, end: 12 * 60})
		must.Eq(t, []int{600, 1440 + 480}, busiestBusinessHours(start, arrivals, cal, loc), must.Sprint(tz))
	}
}

// The requeued work waits like any backlog but is not counted again in the
// p95: 3 workers serve 30 a minute; minute 1 gets 20 arrivals and 15
// requeued, leaving 5 waiting 10 s for minute 1's 20 requests.
func TestScoreWithRequeuedWorkDelaysTheQueueButWeighsOnlyArrivals(t *testing.T) {
	t.Parallel()
	arrivals := []float64{10, 20, 0, 0}
	s := &scorer{
		arrivals: arrivals,
		cal:      newCalendar(time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC), 4, time.UTC, businessHours{start: 8 * 60, end: 22 * 60}),
		p:        slaParams{capacity: 10, serviceTime: time.Second, requestTimeout: 30 * time.Second, slaP95: 3 * time.Second},
	}
	workers := []int64{3, 3, 3, 3}
	must.Eq(t, Seconds(1), s.scoreWith(workers, nil).WorstDayP95)
	sc := s.scoreWith(workers, []float64{0, 15, 0, 0})
	must.Eq(t, Seconds(11), sc.WorstDayP95)
	must.Eq(t, 0, sc.DaysMet)
	must.Eq(t, 100.0, sc.AvailabilityPct)
}

package backtest

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/nomad-autoscaler/sdk"
	"github.com/shoenig/test/must"
)

var t0 = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

// tinyModel is 60 warm-up minutes and 10 scored ones at 10 requests per
// worker-minute, lead 5 minutes, starting from initial workers.
func tinyModel(initial int64, arrivals ...float64) *model {
	a := make([]float64, 70)
	copy(a[60:], arrivals)
	return newModel(t0, a, 10, 5*time.Minute, 60, initial)
}

func replayFake(t *testing.T, m *model, p *sdk.ScalingPolicy, kind queryKind, window int, s *fakeStrategy) *replayOutcome {
	t.Helper()
	clock := m.start
	s.clock = &clock
	c := testCheck("")
	c.QueryWindow = time.Duration(window) * time.Minute
	out, err := replay(context.Background(), m, p, []*replayCheck{{check: c, kind: kind, window: window, strat: s}}, &clock, false)
	must.NoError(t, err)
	return out
}

func TestReplayServesAScaleUpAfterTheLeadTime(t *testing.T) {
	t.Parallel()
	s := &fakeStrategy{decide: wants(5)}
	out := replayFake(t, tinyModel(2), testPolicy(""), queryRate, 3, s)
	must.Eq(t, []int64{2, 2, 2, 2, 2, 5, 5, 5, 5, 5}, out.workers)
	must.Eq(t, 1, out.scaleUps)
	must.Eq(t, 10, out.evaluations)
	// 3 workers booting for 5 scored minutes.
	must.Eq(t, int64(15), out.bootingMinutes)
	// The strategy sees the target count, booting workers included.
	must.Eq(t, int64(2), s.calls[0].count)
	must.Eq(t, int64(5), s.calls[1].count)
}

func TestReplayGivesARateCheckItsWindowEndingWithTheLastCompleteMinute(t *testing.T) {
	t.Parallel()
	a := make([]float64, 70)
	a[58], a[59], a[60], a[61], a[62] = 3, 4, 7, 8, 9
	m := newModel(t0, a, 10, 5*time.Minute, 60, 2)
	s := &fakeStrategy{decide: wants(2)}
	replayFake(t, m, testPolicy(""), queryRate, 3, s)
	first := s.calls[0]
	must.Eq(t, t0.Add(60*time.Minute), first.now)
	must.Eq(t, sdk.TimestampedMetrics{
		{Timestamp: t0.Add(57 * time.Minute), Value: 0},
		{Timestamp: t0.Add(58 * time.Minute), Value: 3},
		{Timestamp: t0.Add(59 * time.Minute), Value: 4},
	}, first.metrics)
	must.Eq(t, sdk.TimestampedMetrics{
		{Timestamp: t0.Add(59 * time.Minute), Value: 4},
		{Timestamp: t0.Add(60 * time.Minute), Value: 7},
		{Timestamp: t0.Add(61 * time.Minute), Value: 8},
	}, s.calls[2].metrics)
}

func TestReplayGivesABacklogCheckTheSimulatedQueue(t *testing.T) {
	t.Parallel()
	// Two workers serve 20 a minute: 50 arrivals leave 30 waiting, then
	// 10 more leave 20.
	s := &fakeStrategy{decide: wants(2)}
	replayFake(t, tinyModel(2, 50, 10), testPolicy(""), queryBacklog, 1, s)
	must.Eq(t, sdk.TimestampedMetrics{{Timestamp: t0.Add(60 * time.Minute), Value: 0}}, s.calls[0].metrics)
	must.Eq(t, sdk.TimestampedMetrics{{Timestamp: t0.Add(61 * time.Minute), Value: 30}}, s.calls[1].metrics)
	must.Eq(t, 20.0, s.calls[2].metrics[0].Value)
}

func TestReplaySkipsActionsDuringCooldown(t *testing.T) {
	t.Parallel()
	p := testPolicy("")
	p.Cooldown = 3 * time.Minute
	s := &fakeStrategy{decide: func(_ int, _ sdk.TimestampedMetrics, count int64) (int64, error) { return count - 1, nil }}
	out := replayFake(t, tinyModel(4), p, queryRate, 1, s)
	// Down at 60 (cooldown to 63, which is not after 63), at 64, at 68; then min 1.
	must.Eq(t, []int64{3, 3, 3, 3, 2, 2, 2, 2, 1, 1}, out.workers)
	must.Eq(t, 3, out.scaleDowns)
	must.Eq(t, 10, len(s.calls), must.Sprint("the strategy still runs during cooldown"))
}

func TestReplayScaleInDrainsServingWorkersWhileBootingOnesKeepBooting(t *testing.T) {
	t.Parallel()
	p := testPolicy("")
	p.Cooldown, p.CooldownOnScaleUp = 0, 0
	m := tinyModel(2)
	m.downWait = 2 * time.Minute
	s := &fakeStrategy{decide: wants(6, 6, 3)}
	out := replayFake(t, m, p, queryRate, 1, s)
	// Up to 6 at 60 (4 booting until 65). Down to 3 at 62: target-gce-gpu
	// can only drain the two serving workers, so the target becomes 4 and
	// nobody serves until the booting four are ready at 65. Then the vote
	// for 3 drains one more at 66 (the evaluation at 65 comes before the
	// booting workers serve, with nothing to drain).
	must.Eq(t, []int64{2, 2, 0, 0, 0, 4, 3, 3, 3, 3}, out.workers)
	must.Eq(t, 1, out.scaleUps)
	// The two drained at 62 are billed until their VMs go at 64, the one
	// drained at 66 until 68.
	must.Eq(t, int64(2*2+1*2), out.drainingMinutes)
	must.Eq(t, int64(4*5), out.bootingMinutes)
}

func TestReplayMapsEvaluationsBetweenMinutesOntoTheNextMinute(t *testing.T) {
	t.Parallel()
	p := testPolicy("")
	p.EvaluationInterval = 90 * time.Second
	s := &fakeStrategy{decide: wants(2, 4)}
	out := replayFake(t, tinyModel(2), p, queryRate, 1, s)
	// The second evaluation at 61:30 sees minute 60 as the last complete
	// one and its workers serve from ceil(61.5 + 5) = minute 67.
	must.Eq(t, t0.Add(61*time.Minute+30*time.Second), s.calls[1].now)
	must.Eq(t, t0.Add(60*time.Minute), s.calls[1].metrics[0].Timestamp)
	must.Eq(t, []int64{2, 2, 2, 2, 2, 2, 2, 4, 4, 4}, out.workers)
}

func TestReplayDropsAnEvaluationWhenAFailingCheckAborts(t *testing.T) {
	t.Parallel()
	s := &fakeStrategy{decide: func(n int, _ sdk.TimestampedMetrics, _ int64) (int64, error) {
		if n < 3 {
			return 0, errFake
		}
		return 1, nil
	}}
	out := replayFake(t, tinyModel(2), testPolicy("fail"), queryRate, 1, s)
	must.Eq(t, 3, out.aborted)
	must.Eq(t, 3, out.strategyErrors)
	must.StrContains(t, out.firstError, "fake strategy failure")
	must.Eq(t, []int64{2, 2, 2, 1, 1, 1, 1, 1, 1, 1}, out.workers)
}

func TestReplayRunsTheOfficialTargetValueOnArrivalsPerWorker(t *testing.T) {
	t.Parallel()
	a := make([]float64, 70)
	for i := range a {
		a[i] = 100
	}
	m := newModel(t0, a, 10, 5*time.Minute, 60, 10)
	p := testPolicy("")
	p.Max = 100
	c := TargetValueConfig{TargetFraction: 0.8, Cooldown: time.Minute, CooldownOnScaleUp: time.Minute,
		MetricWindow: time.Minute, Threshold: defaultThreshold}
	out, err := replayOne(context.Background(), m, targetValuePolicy(p, m.capacity, c), hclog.NewNullLogger(), newStrategy, nil)
	must.NoError(t, err)
	// 100 a minute per 10 workers against a target of 8: ceil(10 x 1.25) = 13,
	// serving after the 5-minute lead.
	must.Eq(t, []int64{10, 10, 10, 10, 10, 13, 13, 13, 13, 13}, out.workers)
	must.Eq(t, 1, out.scaleUps)
}

func TestReplayTakesNoActionWhileScaleRunsAndCoolsDownAfter(t *testing.T) {
	t.Parallel()
	p := testPolicy("")
	p.Cooldown, p.CooldownOnScaleUp = time.Minute, time.Minute
	m := tinyModel(4)
	m.downWait = 3 * time.Minute
	s := &fakeStrategy{decide: func(_ int, _ sdk.TimestampedMetrics, count int64) (int64, error) { return count - 1, nil }}
	out := replayFake(t, m, p, queryRate, 1, s)
	// Down at 60; Scale returns at 63, cooldown to 64, next action at 65.
	must.Eq(t, []int64{3, 3, 3, 3, 3, 2, 2, 2, 2, 2}, out.workers)
	must.Eq(t, 2, out.scaleDowns)
}

func TestReplayCoolsDownByTheDirectionOfTheLastAction(t *testing.T) {
	t.Parallel()
	// testPolicy: cooldown_on_scale_up 1m, cooldown 5m.
	s := &fakeStrategy{decide: wants(3, 1, 1, 5)}
	out := replayFake(t, tinyModel(2), testPolicy(""), queryRate, 1, s)
	// Up to 3 at 60: cooled down until 61, so the down vote at 61 waits and
	// the one at 62 acts: it drains both serving workers (the booting one
	// keeps booting and serves from 65). Cooled down until 67 after it, so
	// the up votes at 63-67 wait; the one at 68 serves after the window.
	must.Eq(t, []int64{2, 2, 0, 0, 0, 1, 1, 1, 1, 1}, out.workers)
	must.Eq(t, 2, out.scaleUps)
	must.Eq(t, 1, out.scaleDowns)
	must.Eq(t, int64(5), s.calls[9].count, must.Sprint("the strategy sees the target count, booting included"))
}

func TestReplayLetsAGroupIgnoreAFailedCheckButNotAnUngroupedPolicy(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		group string
		want  []int64
	}{
		{"ungrouped, the failed check's empty vote blocks the scale-down", "", []int64{4, 4, 4, 4, 4, 4, 4, 4, 4, 4}},
		{"in a group, the failed check's none is ignored", "demand", []int64{3, 3, 3, 3, 3, 3, 2, 2, 2, 2}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := tinyModel(4)
			clock := m.start
			failing, shrinking := testCheck(""), testCheck("")
			failing.Name, failing.Group = "failing", tc.group
			shrinking.Name, shrinking.Group = "shrinking", tc.group
			checks := []*replayCheck{
				{check: failing, kind: queryRate, window: 1, strat: &fakeStrategy{decide: func(int, sdk.TimestampedMetrics, int64) (int64, error) { return 0, errFake }}},
				{check: shrinking, kind: queryRate, window: 1, strat: &fakeStrategy{decide: func(_ int, _ sdk.TimestampedMetrics, count int64) (int64, error) { return count - 1, nil }}},
			}
			out, err := replay(context.Background(), m, testPolicy(""), checks, &clock, false)
			must.NoError(t, err)
			must.Eq(t, tc.want, out.workers)
			must.Eq(t, 10, out.strategyErrors)
			must.Eq(t, 0, out.aborted)
		})
	}
}

func TestReplayCountsTheMinutesWhereThePolicysMaxClampedTheCount(t *testing.T) {
	t.Parallel()
	// testPolicy has max 10: the asks of 12 at 60-62 are clamped, then
	// 8 fits.
	s := &fakeStrategy{decide: wants(12, 12, 12, 8)}
	out := replayFake(t, tinyModel(2), testPolicy(""), queryRate, 1, s)
	must.Eq(t, 3, out.clampedMinutes)
	must.Eq(t, int64(12), out.maxWanted)
}

func TestReplayBillsBootingAndDrainingWorkersBesideTheServingOnes(t *testing.T) {
	t.Parallel()
	p := testPolicy("")
	p.Cooldown, p.CooldownOnScaleUp = 0, 0
	m := tinyModel(4)
	m.downWait = 3 * time.Minute
	s := &fakeStrategy{decide: wants(4, 1)}
	out := replayFake(t, m, p, queryRate, 1, s)
	// Three drained at 61 run until their VMs are deleted at 64.
	must.Eq(t, []int64{4, 1, 1, 1, 1, 1, 1, 1, 1, 1}, out.workers)
	must.Eq(t, int64(3*3), out.drainingMinutes)
	must.Eq(t, int64(0), out.bootingMinutes)
}

func TestReplayGivesTheTargetValueCheckTheMeanArrivalsPerWorkerOverItsWindow(t *testing.T) {
	t.Parallel()
	a := make([]float64, 70)
	a[57], a[58], a[59], a[60] = 3, 6, 9, 30
	m := newModel(t0, a, 10, 5*time.Minute, 60, 2)
	s := &fakeStrategy{decide: wants(2)}
	replayFake(t, m, testPolicy(""), queryPerWorker, 3, s)
	// At 60: the mean of minutes 57-59 over 2 workers; at 61, of 58-60.
	must.Eq(t, sdk.TimestampedMetrics{{Timestamp: t0.Add(59 * time.Minute), Value: 3}}, s.calls[0].metrics)
	must.Eq(t, 7.5, s.calls[1].metrics[0].Value)
}

func TestSkippingTheStatelessPeersWhileTheAgentCannotActChangesNoDecision(t *testing.T) {
	t.Parallel()
	tr := dailyWave(3)
	for i := range tr.Counts {
		tr.Counts[i] *= 1 + 0.3*math.Sin(float64(i*i%997)) // noise that makes target-value thrash
	}
	m := newModel(tr.Start, tr.Counts, 100, 5*time.Minute, 60, 19)
	m.upWait, m.downWait = DefaultScaleUpWait, DefaultScaleDownWait
	p := &sdk.ScalingPolicy{ID: "w", Type: "cluster", Min: 1, Max: 1000, EvaluationInterval: time.Minute}
	for _, c := range targetValueGrid() {
		sched := newCapacitySchedule(m.start, m.arrivals, c.TargetFraction*m.capacity, m.lead)
		for _, pol := range []*sdk.ScalingPolicy{targetValuePolicy(p, m.capacity, c), predictivePolicy(p, m.capacity, c)} {
			every, err := replayOne(context.Background(), m, pol, hclog.NewNullLogger(), newStrategy, &peerOptions{sched: sched})
			must.NoError(t, err)
			skipping, err := replayOne(context.Background(), m, pol, hclog.NewNullLogger(), newStrategy, &peerOptions{sched: sched, stateless: true})
			must.NoError(t, err)
			must.Positive(t, every.scaleUps)
			// Only the asks nobody acted on go unseen.
			must.LessEq(t, every.maxWanted, skipping.maxWanted)
			skipping.maxWanted = every.maxWanted
			must.True(t, reflect.DeepEqual(every, skipping), must.Sprint(pol.ID, " ", c, ": the same decisions"))
		}
	}
}

func TestReplayCallsNoStrategyWhileScaleRunsBecauseTheTargetIsNotReady(t *testing.T) {
	t.Parallel()
	m := tinyModel(2)
	m.upWait = 3 * time.Minute
	s := &fakeStrategy{decide: wants(5)}
	out := replayFake(t, m, testPolicy(""), queryRate, 1, s)
	// Scale from 60 returns at 63: the ticks at 61 and 62 see a target
	// that is not ready and run nothing.
	must.Eq(t, 8, len(s.calls))
	must.Eq(t, 8, out.evaluations)
	must.Eq(t, t0.Add(63*time.Minute), s.calls[1].now)
}

func TestReplayGivesARateCheckOnlySettledMinutes(t *testing.T) {
	t.Parallel()
	a := make([]float64, 70)
	a[58], a[59] = 3, 4
	m := newModel(t0, a, 10, 5*time.Minute, 60, 2)
	m.settle = 30 * time.Second
	s := &fakeStrategy{decide: wants(2)}
	replayFake(t, m, testPolicy(""), queryRate, 2, s)
	// At 60:00 minute 59 ended only now: not settled until 60:30.
	must.Eq(t, sdk.TimestampedMetrics{
		{Timestamp: t0.Add(57 * time.Minute), Value: 0},
		{Timestamp: t0.Add(58 * time.Minute), Value: 3},
	}, s.calls[0].metrics)
}

// Rate queries are handed a view of the trace (metrics): every strategy the
// backtest runs must leave it as it found it, and an append to the view
// must not reach the minutes after it.
func TestTheStrategiesLeaveTheTraceAsTheyFoundIt(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.PolicyPath, cfg.Daily, cfg.TimeZone = shippedPolicy, 2_000_000, "America/New_York"
	res, m, _, err := prepare(cfg, surgeTrace(), "surge")
	must.NoError(t, err)
	before := slices.Clone(m.series)
	policies := []*sdk.ScalingPolicy{res.Policy}
	for _, c := range targetValueGrid()[:3] {
		policies = append(policies, targetValuePolicy(res.Policy, m.capacity, c))
	}
	for _, p := range policies {
		_, err := replayOne(context.Background(), m, p, hclog.NewNullLogger(), newStrategy, nil)
		must.NoError(t, err)
	}
	must.Eq(t, before, m.series, must.Sprint("a strategy edited the metrics it was handed"))

	// A strategy that appends to its window writes into a new array.
	s := &fakeStrategy{decide: func(_ int, ms sdk.TimestampedMetrics, count int64) (int64, error) {
		if cap(ms) != len(ms) {
			return 0, fmt.Errorf("window of %d points with capacity %d", len(ms), cap(ms))
		}
		_ = append(ms, sdk.TimestampedMetric{Value: -1})
		return count, nil
	}}
	tiny := tinyModel(2, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100)
	want := slices.Clone(tiny.series)
	replayFake(t, tiny, testPolicy(""), queryRate, 3, s)
	must.Eq(t, want, tiny.series)
}

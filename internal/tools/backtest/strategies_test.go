package backtest

import (
	"context"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/nomad-autoscaler/sdk"
	"github.com/shoenig/test/must"
)

func TestNewStrategyMapsPolicyNamesToImplementations(t *testing.T) {
	t.Parallel()
	now := func() time.Time { return t0 }
	for _, name := range []string{"slope", "strategy-slope", "target-value"} {
		s, err := newStrategy(name, hclog.NewNullLogger(), now)
		must.NoError(t, err)
		must.NotNil(t, s)
	}
	_, err := newStrategy("pass-through", hclog.NewNullLogger(), now)
	must.ErrorContains(t, err, `strategy "pass-through"`)
}

// The business-hours floor of strategy-slope must follow the replayed
// time, not the wall clock: with almost no traffic the fleet sits at the
// floor in business hours and drops below it at night.
func TestSlopeRunsOnTheSimulatedClock(t *testing.T) {
	t.Parallel()
	a := make([]float64, 2*1440)
	for i := range a {
		a[i] = float64(1 + i%3)
	}
	m := newModel(t0, a, 100, 5*time.Minute, 60, 1)
	p := &sdk.ScalingPolicy{ID: "floor", Min: 1, Max: 20, EvaluationInterval: time.Minute,
		Cooldown: time.Minute, CooldownOnScaleUp: time.Minute,
		Checks: []*sdk.ScalingPolicyCheck{{
			Name: "rate", Source: "ekyc", Query: "postgres:requests_per_minute", QueryWindow: time.Hour,
			Strategy: &sdk.ScalingPolicyStrategy{Name: "slope", Config: map[string]string{
				"capacity_per_worker": "100", "floor": "5", "floor_hours": "08:00-22:00", "timezone": "UTC",
			}},
		}}}
	out, err := replayOne(context.Background(), m, p, hclog.NewNullLogger(), newStrategy, nil)
	must.NoError(t, err)
	must.Eq(t, 0, out.strategyErrors, must.Sprint(out.firstError))
	at := func(day, hour, minute int) int64 {
		return out.workers[day*1440+hour*60+minute-m.warmup]
	}
	must.Eq(t, int64(5), at(0, 12, 0))
	must.Eq(t, int64(5), at(1, 21, 30))
	must.Less(t, 5, at(1, 3, 0))
}

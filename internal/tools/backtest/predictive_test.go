package backtest

import (
	"context"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/nomad-autoscaler/plugins/strategy"
	"github.com/hashicorp/nomad-autoscaler/sdk"
	"github.com/shoenig/test/must"
)

func TestScheduledCapacityVotesTheCountItsMetricCarries(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		count int64
		dir   sdk.ScaleDirection
	}{
		{"up from below", 3, up},
		{"down from above, which alone never wins over a none", 7, down},
		{"none at the scheduled count", 5, none},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var ev evalBuffers
			eval := ev.reset(testPolicy(""), testCheck(""), sdk.TimestampedMetrics{{Timestamp: t0, Value: 5}})
			got, err := scheduledCapacity{}.Run(eval, tc.count)
			must.NoError(t, err)
			must.Eq(t, tc.dir, got.Action.Direction)
			must.Eq(t, int64(5), got.Action.Count)
		})
	}
}

// fixedSchedule schedules n workers at every time of the tiny model.
func fixedSchedule(n int64) *capacitySchedule {
	return &capacitySchedule{start: t0, count: []int64{n, n}}
}

func TestPredictiveGetsTheLargerOfTheScheduleAndTheReactiveVote(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		initial   int64
		reactive  int64
		scheduled int64
		want      int64
	}{
		{"a schedule above a reactive scale-up wins", 2, 3, 5, 5},
		{"a reactive scale-up above the schedule wins", 2, 8, 5, 8},
		{"a reactive scale-in stops at the schedule", 6, 2, 4, 4},
		{"a schedule below the count does not scale in by itself", 6, 6, 4, 6},
		{"without a forecast the reactive vote decides", 6, 3, 0, 3},
		{"a schedule above the count scales up while the reactive vote holds", 2, 2, 4, 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			factory := func(name string, _ hclog.Logger, _ func() time.Time) (strategy.Strategy, error) {
				must.Eq(t, "target-value", name, must.Sprint("the schedule is not a plugin of the policy"))
				return &fakeStrategy{quiet: true, decide: wants(tc.reactive)}, nil
			}
			c := TargetValueConfig{TargetFraction: 0.5, MetricWindow: time.Minute, Threshold: defaultThreshold}
			m := tinyModel(tc.initial)
			out, err := replayOne(context.Background(), m, predictivePolicy(testPolicy(""), m.capacity, c),
				hclog.NewNullLogger(), factory, &peerOptions{sched: fixedSchedule(tc.scheduled)})
			must.NoError(t, err)
			must.Eq(t, tc.want, out.workers[len(out.workers)-1])
		})
	}
}

func TestPredictiveCountsAScheduleAboveMaxAsClamped(t *testing.T) {
	t.Parallel()
	factory := func(string, hclog.Logger, func() time.Time) (strategy.Strategy, error) {
		return &fakeStrategy{quiet: true, decide: wants(2)}, nil
	}
	c := TargetValueConfig{TargetFraction: 0.5, MetricWindow: time.Minute, Threshold: defaultThreshold}
	m := tinyModel(2)
	out, err := replayOne(context.Background(), m, predictivePolicy(testPolicy(""), m.capacity, c),
		hclog.NewNullLogger(), factory, &peerOptions{sched: fixedSchedule(12)})
	must.NoError(t, err)
	// testPolicy's max is 10: AWS's default HonorMaxCapacity.
	must.Eq(t, int64(10), out.workers[len(out.workers)-1])
	must.Eq(t, 10, out.clampedMinutes)
	must.Eq(t, int64(12), out.maxWanted)
}

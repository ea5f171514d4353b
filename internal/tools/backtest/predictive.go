package backtest

import (
	"time"

	"github.com/hashicorp/nomad-autoscaler/plugins/base"
	"github.com/hashicorp/nomad-autoscaler/plugins/strategy"
	"github.com/hashicorp/nomad-autoscaler/sdk"
)

// forecastSource marks predictive's second check, answered from the
// capacity schedule.
const forecastSource = "forecast"

// queryScheduled is the series of predictive's second check: the capacity
// scheduled at the evaluation time, one point.
const queryScheduled queryKind = 101

// predictivePolicy is AWS predictive scaling paired with dynamic scaling,
// as the agent can run it: the tuned target-value policy c, plus an
// ungrouped check that votes the capacity the forecast scheduled. Ungrouped
// checks rank up over none over down, the larger count winning within a
// direction, so the fleet gets the larger of the two (AWS: "the desired
// capacity is set to the maximum of those"). The schedule never scales in
// by itself: below the count it votes down, which loses to the reactive
// check's none and, against its down, leaves the larger count. The agent's
// cooldown, Scale waits, min and max apply to both.
func predictivePolicy(p *sdk.ScalingPolicy, capacity float64, c TargetValueConfig) *sdk.ScalingPolicy {
	tv := targetValuePolicy(p, capacity, c)
	tv.ID = p.ID + "/predictive"
	tv.Checks = append(tv.Checks, &sdk.ScalingPolicyCheck{
		Name: "forecast-capacity", Source: forecastSource,
		Query: "capacity scheduled for the next hour", QueryWindow: time.Minute,
		Strategy: &sdk.ScalingPolicyStrategy{Name: "scheduled-capacity", Config: map[string]string{}},
	})
	return tv
}

// scheduledCapacity is the strategy of predictive's forecast check: it
// votes the count its metric carries (the capacity scheduled now). Zero,
// before any forecast exists, is capped to min by the agent and changes no
// decision.
type scheduledCapacity struct{}

var _ strategy.Strategy = scheduledCapacity{}

func (scheduledCapacity) PluginInfo() (*base.PluginInfo, error) {
	return &base.PluginInfo{Name: "scheduled-capacity", PluginType: sdk.PluginTypeStrategy}, nil
}

func (scheduledCapacity) SetConfig(map[string]string) error { return nil }

func (scheduledCapacity) Run(eval *sdk.ScalingCheckEvaluation, count int64) (*sdk.ScalingCheckEvaluation, error) {
	want := int64(eval.Metrics[len(eval.Metrics)-1].Value)
	eval.Action.Count = want
	switch {
	case want > count:
		eval.Action.Direction = sdk.ScaleDirectionUp
	case want < count:
		eval.Action.Direction = sdk.ScaleDirectionDown
	default:
		eval.Action.Direction = sdk.ScaleDirectionNone
	}
	eval.Action.Reason = "capacity scheduled by the forecast"
	return eval, nil
}

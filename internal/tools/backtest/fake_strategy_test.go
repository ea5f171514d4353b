package backtest

import (
	"errors"
	"time"

	"github.com/hashicorp/nomad-autoscaler/plugins/base"
	"github.com/hashicorp/nomad-autoscaler/plugins/strategy"
	"github.com/hashicorp/nomad-autoscaler/sdk"
)

// call is what a fake strategy saw in one Run.
type call struct {
	now     time.Time
	count   int64
	metrics sdk.TimestampedMetrics
}

// fakeStrategy answers Run with decide and records every call.
type fakeStrategy struct {
	clock  *time.Time
	decide func(n int, ms sdk.TimestampedMetrics, count int64) (int64, error)
	calls  []call
	n      int
	// quiet stops recording calls (benchmarks).
	quiet bool
}

var _ strategy.Strategy = (*fakeStrategy)(nil)

func (f *fakeStrategy) PluginInfo() (*base.PluginInfo, error) {
	return &base.PluginInfo{Name: "fake", PluginType: sdk.PluginTypeStrategy}, nil
}

func (f *fakeStrategy) SetConfig(map[string]string) error { return nil }

func (f *fakeStrategy) Run(eval *sdk.ScalingCheckEvaluation, count int64) (*sdk.ScalingCheckEvaluation, error) {
	if !f.quiet {
		c := call{count: count, metrics: append(sdk.TimestampedMetrics(nil), eval.Metrics...)}
		if f.clock != nil {
			c.now = *f.clock
		}
		f.calls = append(f.calls, c)
	}
	want, err := f.decide(f.n, eval.Metrics, count)
	f.n++
	if err != nil {
		return nil, err
	}
	eval.Action.Count = want
	switch {
	case want > count:
		eval.Action.Direction = sdk.ScaleDirectionUp
	case want < count:
		eval.Action.Direction = sdk.ScaleDirectionDown
	default:
		eval.Action.Direction = sdk.ScaleDirectionNone
	}
	return eval, nil
}

// wants returns a decide func that answers the n-th call with counts[n]
// (the last one after that).
func wants(counts ...int64) func(int, sdk.TimestampedMetrics, int64) (int64, error) {
	return func(n int, _ sdk.TimestampedMetrics, _ int64) (int64, error) {
		return counts[min(n, len(counts)-1)], nil
	}
}

var errFake = errors.New("fake strategy failure")

package demo

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/hashicorp/nomad-autoscaler/sdk"
	"github.com/shoenig/test/must"
)

// The live line's forecast comes from the strategy's Meta: if the strategy
// renames the key, the demo must not silently show "-" all day.
func TestTheForecasterReadsTheDemandFromTheStrategysMeta(t *testing.T) {
	t.Parallel()
	// The pool connects on first use: this test never queries it.
	f, err := newForecaster(context.Background(), "../../../policies/demo.hcl", "postgres://demo@127.0.0.1:1/none")
	must.NoError(t, err)
	defer f.close()
	// The demo's rate check: one point per real second, in requests per
	// simulated minute; a steady 1,000.
	now := time.Now().Truncate(time.Second)
	var metrics sdk.TimestampedMetrics
	for i := 15; i > 0; i-- {
		metrics = append(metrics, sdk.TimestampedMetric{Timestamp: now.Add(-time.Duration(i) * time.Second), Value: 1000})
	}
	d := f.forecast(metrics, 10)
	must.False(t, math.IsNaN(d), must.Sprintf("no %q in the strategy's Meta", demandKey))
	must.GreaterEq(t, 1000, d, must.Sprint("the demand is the forecast plus a margin"))
}

package backtest

import (
	"time"

	slope "github.com/fleetslope/nomad-gpu-autoscaler/plugins/strategy-slope/plugin"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/nomad-autoscaler/plugins/strategy"
)

// newSlope builds strategy-slope on the simulated clock.
func newSlope(log hclog.Logger, now func() time.Time) strategy.Strategy {
	_ = now // strategy-slope has no clock option yet: it reads the wall clock.
	return slope.New(log)
}

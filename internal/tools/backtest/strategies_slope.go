package backtest

import (
	"time"

	slope "github.com/fleetslope/nomad-gpu-autoscaler/plugins/strategy-slope/plugin"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/nomad-autoscaler/plugins/strategy"
)

// newSlope builds strategy-slope on the simulated clock, so that its
// business-hours floor and override expiry follow the replayed time, with
// its hourly recalibration inline, so that a run's figures do not depend
// on goroutine timing (it is taken at the next evaluation either way).
func newSlope(log hclog.Logger, now func() time.Time) strategy.Strategy {
	p := slope.New(log)
	p.SetClock(now)
	p.SetInlineCalibration()
	return p
}

// Command backtest replays a per-minute traffic history through a Nomad
// Autoscaler policy (running strategy-slope in process) and through fair
// peers (the official target-value strategy, tuned over a grid, and AWS-style
// predictive scaling paired with it), a static fleet and a perfect-foresight
// oracle, on one simulated cluster and queue, and compares cost and SLA.
// With -shapes FILE it replays the policy once per GPU VM shape instead and
// ranks the shapes by cost at the SLA.
//
// The model and the flags are documented in cmd/backtest/README.md; all the
// logic lives in internal/tools/backtest.
package main

import (
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/backtest"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/cli"
)

func main() { cli.Run("backtest", backtest.Main) }

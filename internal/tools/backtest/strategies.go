package backtest

import (
	"fmt"
	"time"

	slope "github.com/fleetslope/nomad-gpu-autoscaler/plugins/strategy-slope/plugin"
	"github.com/hashicorp/go-hclog"
	targetvalue "github.com/hashicorp/nomad-autoscaler/plugins/builtin/strategy/target-value/plugin"
	"github.com/hashicorp/nomad-autoscaler/plugins/strategy"
)

// knownStrategy reports whether newStrategy can build the named strategy.
func knownStrategy(name string) bool {
	switch name {
	case "slope", slope.PluginName, "target-value":
		return true
	}
	return false
}

// newStrategy returns a configured, in-process instance of the strategy a
// check names. Policies name the agent's strategy block label; the backtest
// knows the labels people use for our plugin and for the official
// target-value. now is the simulated clock the strategy must use for
// anything time-of-day (business-hours floor, override expiry).
func newStrategy(name string, log hclog.Logger, now func() time.Time) (strategy.Strategy, error) {
	var s strategy.Strategy
	switch name {
	case "slope", slope.PluginName:
		s = newSlope(log, now)
	case "target-value":
		s = targetvalue.NewTargetValuePlugin(log)
	default:
		return nil, fmt.Errorf("strategy %q: the backtest runs \"slope\" (strategy-slope) and \"target-value\"", name)
	}
	// The agent configures every plugin from its agent block; the strategies
	// take their settings per check, so an empty agent config is what a
	// minimal agent.hcl gives them.
	if err := s.SetConfig(map[string]string{}); err != nil {
		return nil, fmt.Errorf("strategy %q: set config: %w", name, err)
	}
	return s, nil
}

// Package plugin implements the strategy-slope strategy plugin.
package plugin

import (
	"errors"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/nomad-autoscaler/plugins/base"
	"github.com/hashicorp/nomad-autoscaler/plugins/strategy"
	"github.com/hashicorp/nomad-autoscaler/sdk"
)

// PluginName is the binary name, the agent driver and PluginInfo().Name.
const PluginName = "strategy-slope"

var _ strategy.Strategy = (*Plugin)(nil)

// Plugin is the strategy-slope strategy plugin.
type Plugin struct {
	logger hclog.Logger
}

// New returns an unconfigured plugin.
func New(log hclog.Logger) *Plugin { return &Plugin{logger: log} }

// PluginInfo implements base.Base.
func (p *Plugin) PluginInfo() (*base.PluginInfo, error) {
	return &base.PluginInfo{Name: PluginName, PluginType: sdk.PluginTypeStrategy}, nil
}

// SetConfig implements base.Base.
func (p *Plugin) SetConfig(map[string]string) error { return nil }

// Run implements strategy.Strategy.
func (p *Plugin) Run(eval *sdk.ScalingCheckEvaluation, count int64) (*sdk.ScalingCheckEvaluation, error) {
	return nil, errors.New("strategy-slope: not implemented")
}

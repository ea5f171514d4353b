// Package plugin implements the apm-rabbitmq APM plugin.
package plugin

import (
	"errors"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/nomad-autoscaler/plugins/apm"
	"github.com/hashicorp/nomad-autoscaler/plugins/base"
	"github.com/hashicorp/nomad-autoscaler/sdk"
)

// PluginName is the binary name, the agent driver and PluginInfo().Name.
const PluginName = "apm-rabbitmq"

var _ apm.APM = (*Plugin)(nil)

// Plugin is the apm-rabbitmq APM plugin.
type Plugin struct {
	logger hclog.Logger
}

// New returns an unconfigured plugin.
func New(log hclog.Logger) *Plugin { return &Plugin{logger: log} }

// PluginInfo implements base.Base.
func (p *Plugin) PluginInfo() (*base.PluginInfo, error) {
	return &base.PluginInfo{Name: PluginName, PluginType: sdk.PluginTypeAPM}, nil
}

// SetConfig implements base.Base.
func (p *Plugin) SetConfig(map[string]string) error { return nil }

// Query implements apm.APM.
func (p *Plugin) Query(string, sdk.TimeRange) (sdk.TimestampedMetrics, error) {
	return nil, errors.New("apm-rabbitmq: not implemented")
}

// QueryMultiple implements apm.APM.
func (p *Plugin) QueryMultiple(string, sdk.TimeRange) ([]sdk.TimestampedMetrics, error) {
	return nil, errors.New("apm-rabbitmq: not implemented")
}

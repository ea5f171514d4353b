// Package plugin implements the target-gce-gpu target plugin.
package plugin

import (
	"errors"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/nomad-autoscaler/plugins/base"
	"github.com/hashicorp/nomad-autoscaler/plugins/target"
	"github.com/hashicorp/nomad-autoscaler/sdk"
)

// PluginName is the binary name, the agent driver and PluginInfo().Name.
const PluginName = "target-gce-gpu"

var _ target.Target = (*Plugin)(nil)

// Plugin is the target-gce-gpu target plugin.
type Plugin struct {
	logger hclog.Logger
}

// New returns an unconfigured plugin.
func New(log hclog.Logger) *Plugin { return &Plugin{logger: log} }

// PluginInfo implements base.Base.
func (p *Plugin) PluginInfo() (*base.PluginInfo, error) {
	return &base.PluginInfo{Name: PluginName, PluginType: sdk.PluginTypeTarget}, nil
}

// SetConfig implements base.Base.
func (p *Plugin) SetConfig(map[string]string) error { return nil }

// Scale implements target.Target.
func (p *Plugin) Scale(sdk.ScalingAction, map[string]string) error {
	return errors.New("target-gce-gpu: not implemented")
}

// Status implements target.Target.
func (p *Plugin) Status(map[string]string) (*sdk.TargetStatus, error) {
	return nil, errors.New("target-gce-gpu: not implemented")
}

// Command strategy-slope is the strategy-slope plugin for the Nomad Autoscaler agent.
package main

import (
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/pluginkit"
	"github.com/fleetslope/nomad-gpu-autoscaler/plugins/strategy-slope/plugin"
	"github.com/hashicorp/go-hclog"
)

func main() {
	pluginkit.Run(pluginkit.Info{
		Name:    plugin.PluginName,
		Kind:    "strategy",
		Summary: "Sizes a GPU worker fleet ahead of demand from the request-rate trend and the queue backlog.",
	}, func(log hclog.Logger) interface{} { return plugin.New(log) })
}

// Command target-gce-gpu is the target-gce-gpu plugin for the Nomad Autoscaler agent.
package main

import (
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/pluginkit"
	"github.com/fleetslope/nomad-gpu-autoscaler/plugins/target-gce-gpu/plugin"
	"github.com/hashicorp/go-hclog"
)

func main() {
	pluginkit.Run(pluginkit.Info{
		Name:    plugin.PluginName,
		Kind:    "target",
		Summary: "Resizes zonal GPU managed instance groups on Google Compute Engine, draining Nomad nodes before scale-in.",
	}, func(log hclog.Logger) interface{} { return plugin.New(log) })
}

// Command target-gce-gpu is the target-gce-gpu plugin for the Nomad Autoscaler agent.
package main

import (
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/pluginmain"
	"github.com/fleetslope/nomad-gpu-autoscaler/plugins/target-gce-gpu/plugin"
	"github.com/hashicorp/go-hclog"
)

func main() {
	pluginmain.Run(pluginmain.Info{
		Name:    plugin.PluginName,
		Kind:    "target",
		Summary: "Resizes zonal GPU managed instance groups on Google Compute Engine, draining Nomad nodes before scale-in.",
	}, func(log hclog.Logger) interface{} { return plugin.New(log) })
}

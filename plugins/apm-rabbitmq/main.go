// Command apm-rabbitmq is the apm-rabbitmq plugin for the Nomad Autoscaler agent.
package main

import (
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/pluginkit"
	"github.com/fleetslope/nomad-gpu-autoscaler/plugins/apm-rabbitmq/plugin"
	"github.com/hashicorp/go-hclog"
)

func main() {
	pluginkit.Run(pluginkit.Info{
		Name:    plugin.PluginName,
		Kind:    "apm",
		Summary: "Reads RabbitMQ queue backlog and per-minute request counts from PostgreSQL.",
	}, func(log hclog.Logger) interface{} { return plugin.New(log) })
}

// Command demo is `make demo`: a compressed day of real traffic through the
// official nomad-autoscaler agent, our three plugins, RabbitMQ, PostgreSQL
// and a simulated GCE/Nomad cluster. See internal/tools/demo.
package main

import (
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/cli"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/demo"
)

func main() { cli.Run("demo", demo.Main) }

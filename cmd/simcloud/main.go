// Command simcloud serves a simulated GCE project and Nomad cluster on one
// address, for the end-to-end test and the demo. See internal/sim/simcloud.
package main

import (
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/simcloud"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/cli"
)

func main() { cli.Run("simcloud", simcloud.Main) }

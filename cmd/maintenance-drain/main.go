// Command maintenance-drain runs on every GPU node (deploy/
// maintenance-drain.nomad.hcl): on a GCE host-maintenance or Spot
// preemption notice it marks its Nomad node as leaving and drains it before
// the host goes away. See internal/tools/maintenance and the README here.
package main

import (
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/cli"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/maintenance"
)

func main() { cli.Run("maintenance-drain", maintenance.Main) }

// Command readmecheck reruns the commands that produce the READMEs'
// figures and fails when a README differs from them by more than 1%
// (`make readme-check`); -all includes the commands that take over a
// minute, -write regenerates the regions. See internal/tools/readmecheck.
package main

import (
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/cli"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/readmecheck"
)

func main() { cli.Run("readmecheck", readmecheck.Main) }

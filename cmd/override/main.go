// Command override pins the worker count of a strategy-slope scaling policy
// until a deadline, ends the override, or shows what every policy's
// strategy will do next:
//
//	override set -count 40 -until 18:00 -reason "launch day, INC-1234" -policy policies/gpu-workers.hcl
//	override clear -policy policies/gpu-workers.hcl
//	override status -policy-dir /etc/nomad-autoscaler/policies
//
// See internal/tools/override and deploy/README.md.
package main

import (
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/cli"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/override"
)

func main() { cli.Run("override", override.Main) }

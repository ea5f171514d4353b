// Command validate replays the scaling policy over a fixed matrix of traces
// and volumes (the NASA-HTTP trace at 0.5M to 60M requests/day, split into
// its train and held-out halves; the same trace smoothed and re-sampled
// with Poisson counts; seeded synthetic traces) and prints one table of
// cost and SLA against the tuned peers, with a verdict per row against the
// project's goals.
//
//	go run ./cmd/validate [-policy policies/gpu-workers.hcl] [-out run/validate] [-quick] [-strict]
//
// What it runs and how to read it is in cmd/validate/README.md; all the
// logic lives in internal/tools/validate.
package main

import (
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/cli"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/validate"
)

func main() { cli.Run("validate", validate.Main) }

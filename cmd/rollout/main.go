// Command rollout rolls a new instance template (golden image) over the
// GPU MIGs: a canary VM first, then one VM at a time, each checked in
// Nomad and RabbitMQ, rolled back on a failed check:
//
//	rollout -project P -migs zone/name,... -template TEMPLATE [-dry-run]
//
// See internal/tools/rollout and cmd/rollout/README.md.
package main

import (
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/cli"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/rollout"
)

func main() { cli.Run("rollout", rollout.Main) }

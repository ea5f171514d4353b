// Command tracegen writes a seeded, reproducible synthetic per-minute
// request trace for the backtest: a business-hours B2B API or a sports site
// with growth and flash crowds. The traces are held-out checks next to the
// real NASA-HTTP trace, never a replacement for it.
//
//	go run ./cmd/tracegen -profile business -days 28 -daily 2000000 \
//	    -start 2026-03-02T05:00:00Z -tz America/New_York -seed 1 -out /tmp/traces/business-a.csv.gz
//
// All the logic lives in internal/tools/tracegen; flags are parsed there too.
package main

import (
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/cli"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/tracegen"
)

func main() { cli.Run("tracegen", tracegen.Main) }

// Command loadgen replays a per-minute request trace with time compression
// into PostgreSQL (one row per request, COPY in batches) and RabbitMQ (jobs
// on ekyc.facematch and ekyc.ocr). See internal/tools/loadgen.
package main

import (
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/cli"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/loadgen"
)

func main() { cli.Run("loadgen", loadgen.Main) }

// Command workersim simulates the GPU workers: it serves the model queues
// at capacity_per_worker for every ready, non-draining node of simcloud.
// It stops as a worker of deploy/ml-worker.nomad.hcl does: on SIGTERM (or
// Ctrl-C) it cancels its consumers, finishes and acknowledges the jobs in
// flight and exits 0; a second signal or -stop-timeout exits at once. See
// internal/tools/workersim.
package main

import (
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/cli"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/workersim"
)

func main() { cli.Run("workersim", workersim.Main) }

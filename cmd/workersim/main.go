// Command workersim simulates the GPU workers: it serves the model queues
// at capacity_per_worker for every ready, non-draining node of simcloud.
// It stops as a worker of deploy/ml-worker.nomad.hcl does: on SIGTERM (or
// Ctrl-C) it cancels its consumers, finishes and acknowledges the jobs in
// flight and exits 0; a second signal or -stop-timeout exits at once. See
// internal/tools/workersim.
package main

import (
	"os"
	"os/signal"
	"syscall"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/workersim"
)

func main() {
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	os.Exit(workersim.Main(signals, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// Command workersim simulates the GPU workers: it serves the model queues
// at capacity_per_worker for every ready, non-draining node of simcloud.
// See internal/workersim.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/workersim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := workersim.Main(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

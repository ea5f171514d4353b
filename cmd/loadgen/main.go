// Command loadgen replays a per-minute request trace with time compression
// into PostgreSQL (one row per request, COPY in batches) and RabbitMQ (jobs
// on ekyc.facematch and ekyc.ocr). See internal/tools/loadgen.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/loadgen"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := loadgen.Main(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

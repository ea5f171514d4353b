// Command demo is `make demo`: a compressed day of real traffic through the
// official nomad-autoscaler agent, our three plugins, RabbitMQ, PostgreSQL
// and a simulated GCE/Nomad cluster. See internal/tools/demo.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/demo"
)

func main() {
	opts, err := demo.ParseFlags(os.Args[1:], os.Getenv, os.Stdout)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "demo: %v\n", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if _, err := demo.Run(ctx, opts); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintf(os.Stderr, "demo: %v\n", err)
		os.Exit(1)
	}
}

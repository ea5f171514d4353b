// Command readmecheck reruns the commands that produce the READMEs'
// figures and fails when a README differs from them by more than 1%
// (`make readme-check`); -all includes the commands that take over a
// minute, -write regenerates the regions. See internal/tools/readmecheck.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/readmecheck"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	err := readmecheck.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
	case err != nil:
		fmt.Fprintln(os.Stderr, "readmecheck:", err)
		os.Exit(1)
	}
}

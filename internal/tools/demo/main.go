package demo

import (
	"context"
	"errors"
	"flag"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/cli"
)

// Main is cmd/demo (see internal/tools/cli): it parses the flags and runs
// the demo. Ctrl-C stops it cleanly; that is not an error.
func Main(ctx context.Context, env cli.Env) error {
	opts, err := ParseFlags(env.Args, env.Getenv, env.Stdout)
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	if err != nil {
		return cli.Usage(err)
	}
	if _, err := Run(ctx, opts); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

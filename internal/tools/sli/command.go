package sli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/cli"
)

// Main is cmd/sli: it parses the flags, reads the requests table, prints
// the table to stdout and writes the -out files. Every flag problem is
// reported at once, before connecting, as a usage error (exit status 2).
func Main(ctx context.Context, env cli.Env) error {
	return mainAt(ctx, env, time.Now())
}

// mainAt is Main at the instant now, which decides which day is today and
// where the read ends.
func mainAt(ctx context.Context, env cli.Env, now time.Time) error {
	getenv := env.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	cfg, err := parseFlags(env.Args, getenv, env.Stderr, now)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return err
	case err != nil:
		return cli.Usage(err)
	}
	if cfg.Listen != "" {
		return watch(ctx, cfg, env.Stdout, env.Stderr, time.Now)
	}
	// An unusable -out must fail now, not after a long read.
	if cfg.Out != "" {
		if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
			return fmt.Errorf("-%s %q: %w", flagOut, cfg.Out, err)
		}
	}
	rep, err := Run(ctx, cfg, now)
	if err != nil {
		return err
	}
	if err := rep.WriteTable(env.Stdout); err != nil {
		return err
	}
	if cfg.Out != "" {
		if err := rep.WriteFiles(cfg.Out); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "wrote %s, %s and %s to %s\n", JSONFile, CSVFile, ChartFile, cfg.Out)
	}
	return nil
}

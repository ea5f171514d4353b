package readmecheck

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/cli"
	"text/tabwriter"
)

// ErrFiguresDiffer is returned by Main when a README figure differs from
// its command's.
var ErrFiguresDiffer = errors.New("README figures differ from their commands")

// Main is cmd/readmecheck: flags, the check, a line per block.
func Main(ctx context.Context, env cli.Env) error {
	args, stdout, stderr := env.Args, env.Stdout, env.Stderr
	o := Options{}
	fs := flag.NewFlagSet("readmecheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.Root, "root", ".", "the repository root")
	fs.BoolVar(&o.All, "all", false, "also rerun the commands that take over a minute")
	fs.BoolVar(&o.Write, "write", false, "rewrite each README region with its command's output instead of comparing")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	results := Check(ctx, o, Blocks())
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	failed := false
	for _, r := range results {
		line := fmt.Sprintf("%s\t%s\t%s", r.Block.File+" "+r.Block.ID, r.Status, r.Block.Command)
		if r.Detail != "" {
			line += "\n\t\t" + r.Detail
		}
		fmt.Fprintln(tw, line)
		failed = failed || r.Status == Differs || r.Status == Problems
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if failed {
		return ErrFiguresDiffer
	}
	return nil
}

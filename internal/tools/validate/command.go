package validate

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/cli"
	"io"
	"os"
	"strings"
)

// Main is cmd/validate: it parses the flags, runs the matrix, prints the
// table to stdout (progress to stderr) and writes the -out files. It
// returns an error when a flag is wrong or a run cannot execute, and, with
// -strict only, an error wrapping ErrGoalsFailed when a row fails its goals.
func Main(ctx context.Context, env cli.Env) error {
	args, stdout, stderr := env.Args, env.Stdout, env.Stderr
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	// An unusable -out must fail now, not after minutes of replays.
	if o.Out != "" {
		if err := os.MkdirAll(o.Out, 0o755); err != nil {
			return fmt.Errorf("-out %q: %w", o.Out, err)
		}
	}
	rep, err := Validate(ctx, o, stderr)
	if err != nil {
		return err
	}
	if err := rep.WriteTable(stdout); err != nil {
		return err
	}
	if o.Out != "" {
		if err := rep.WriteFiles(o.Out); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s and %s to %s\n", JSONFile, MarkdownFile, o.Out)
	}
	if o.Strict && rep.Passing < rep.Total {
		return cli.Exit(2, fmt.Errorf("-strict: %d of %d rows fail: %w", rep.Total-rep.Passing, rep.Total, ErrGoalsFailed))
	}
	return nil
}

// parseFlags reads the command line into Options, all problems together.
func parseFlags(args []string, stderr io.Writer) (Options, error) {
	o := DefaultOptions()
	o.Command = strings.Join(append([]string{"go run ./cmd/validate"}, args...), " ")
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.PolicyPath, "policy", DefaultPolicy, "policy `file` in the agent's file-policy format")
	fs.StringVar(&o.TracePath, "trace", DefaultTrace, "the shared NASA-HTTP trace `file`")
	fs.StringVar(&o.Out, "out", "", "write validate.json and validate.md to this `dir`")
	fs.BoolVar(&o.Quick, "quick", false, "run the reduced matrix: the NASA trace at 2M and 60M requests/day")
	fs.BoolVar(&o.Strict, "strict", false, "exit with status 2 when any row fails its goals")
	fs.IntVar(&o.Days, "days", 0, "replay only the first `N` days of every trace (a smoke test, not a validation; 0: whole traces)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	var errs []error
	if fs.NArg() > 0 {
		errs = append(errs, fmt.Errorf("unexpected arguments %q", fs.Args()))
	}
	if o.PolicyPath == "" {
		errs = append(errs, errors.New(`-policy "": a policy file is required`))
	}
	if o.TracePath == "" {
		errs = append(errs, errors.New(`-trace "": the NASA trace file is required`))
	}
	if o.Days < 0 {
		errs = append(errs, fmt.Errorf("-days %q: must be >= 0", fmt.Sprint(o.Days)))
	}
	return o, errors.Join(errs...)
}
